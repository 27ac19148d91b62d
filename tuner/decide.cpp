#include "decide.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dwt {

TimingStats stats_of(std::vector<double> ms) {
  if (ms.empty()) throw std::invalid_argument("stats_of: no repetitions");
  std::sort(ms.begin(), ms.end());
  TimingStats t;
  t.reps = static_cast<int>(ms.size());
  t.min_ms = ms.front();
  t.max_ms = ms.back();
  const std::size_t n = ms.size();
  t.median_ms = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  return t;
}

double quantile(std::vector<double> ms, double q) {
  if (ms.empty()) throw std::invalid_argument("quantile: no repetitions");
  std::sort(ms.begin(), ms.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(ms.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, ms.size() - 1);
  return ms[lo] + (pos - static_cast<double>(lo)) * (ms[hi] - ms[lo]);
}

double stop_threshold(const TimingStats& best, const StopRule& rule) {
  return best.max_ms + std::max(best.max_ms - best.min_ms, rule.margin * best.median_ms);
}

bool clearly_slower(const std::vector<double>& screen_ms, const TimingStats& best, const StopRule& rule) {
  if (screen_ms.empty()) return false;
  return *std::min_element(screen_ms.begin(), screen_ms.end()) > stop_threshold(best, rule);
}

bool within_spread(const TimingStats& best, const TimingStats& other, const StopRule& rule) {
  return other.median_ms <= best.max_ms || other.min_ms <= best.max_ms ||
         other.median_ms <= best.median_ms * (1 + rule.margin);
}

TieDecision decide_ties(const std::vector<FinalistTimes>& f, const StopRule& rule) {
  if (f.empty()) throw std::invalid_argument("decide_ties: no finalists");
  TieDecision d;
  for (const FinalistTimes& t : f) {
    if (t.first.empty() || t.confirm.empty()) throw std::invalid_argument("decide_ties: an empty round");
    std::vector<double> all = t.first;
    all.insert(all.end(), t.confirm.begin(), t.confirm.end());
    const double drift = std::abs(stats_of(t.first).median_ms - stats_of(t.confirm).median_ms);
    const double iqr = quantile(all, 0.75) - quantile(all, 0.25);
    d.noise_ms.push_back(std::max(drift, 0.5 * iqr));
    d.stats.push_back(stats_of(std::move(all)));
  }
  for (std::size_t i = 1; i < f.size(); ++i)
    if (d.stats[i].median_ms < d.stats[d.winner].median_ms) d.winner = i;
  const double mw = d.stats[d.winner].median_ms;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (i == d.winner) continue;
    if (d.stats[i].median_ms - mw <= d.noise_ms[d.winner] + d.noise_ms[i] + rule.tie_floor * mw)
      d.tied.push_back(i);
  }
  return d;
}

std::string describe(const StopRule& rule) {
  return fmt::format(
      "every verified candidate screened with 1 warm-up + {} reps; stopped early when its fastest "
      "screening rep exceeds the best's slowest rep by max(best's range, {:g}% of its median); the "
      "best and candidates within its spread get the full count, then a confirmation round "
      "interleaved; ties declared within the measured noise (round-to-round drift or IQR/2, summed) "
      "+ {:g}%",
      rule.screen_reps, rule.margin * 100, rule.tie_floor * 100);
}

}  // namespace dwt
