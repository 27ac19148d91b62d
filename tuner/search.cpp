#include "search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>

#include "cost_model.hpp"
#include "format.hpp"
#include "rates.hpp"

namespace dwt {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// How unlike two problems are, for the model's weights: 0 for the same shape and dtype. The filter's
// area counts by its log, 1.5 per octave (a 31x31 filter is near a 29x29 one, far from a 3x3: which
// family wins changes most with the filter), the output by its total; stride, dilation, multiplier,
// dtype, layout and pass by equality. No term for the output plane: without it the random shapes'
// replay reaches more (1.25 to 1.75 per octave alike; 2 reaches two more shipped problems but loses
// the H100 table to a model fitted on the H200's, test_search.cpp).
double distance(const Problem& a, const Problem& b) {
  auto log_gap = [](double x, double y) { return std::abs(std::log2(std::max(x, 1.0) / std::max(y, 1.0))); };
  double d = 0;
  if (a.dtype != b.dtype) d += 2;
  if (a.layout != b.layout) d += 2;
  if (a.pass != b.pass) d += 2;
  if (a.sh != b.sh || a.sw != b.sw) d += 1;
  if (a.dh != b.dh || a.dw != b.dw) d += 1;
  if (a.m != b.m) d += 0.5;
  d += 1.5 * log_gap(static_cast<double>(a.kh * a.kw), static_cast<double>(b.kh * b.kw));
  d += 0.5 * log_gap(static_cast<double>(a.output_elems()), static_cast<double>(b.output_elems()));
  return d;
}

// How many template parameters two candidates of one family set differently.
int param_changes(const std::vector<KernelParam>& a, const std::vector<KernelParam>& b) {
  int n = 0;
  for (const KernelParam& x : a) {
    auto it = std::find_if(b.begin(), b.end(), [&](const KernelParam& y) { return y.name == x.name; });
    n += it == b.end() || it->value != x.value;
  }
  for (const KernelParam& y : b)
    n += std::none_of(a.begin(), a.end(), [&](const KernelParam& x) { return x.name == y.name; });
  return n;
}

}  // namespace

const char* to_string(Strategy s) {
  switch (s) {
    case Strategy::exhaustive: return "exhaustive";
    case Strategy::random: return "random";
    case Strategy::model: return "model";
  }
  return "?";
}

Strategy parse_strategy(const std::string& s) {
  for (auto v : {Strategy::exhaustive, Strategy::random, Strategy::model})
    if (s == to_string(v)) return v;
  throw std::invalid_argument(fmt::format("unknown strategy \"{}\" (exhaustive, random or model)", s));
}

std::string tile_signature(const std::string& family, DType dtype, const std::vector<KernelParam>& params) {
  // The dispatch model's signature (no dtype), with the dtype after the family.
  return fmt::format("{}/{}", family, dtype) + tile_signature(family, params).substr(family.size());
}

int budget_for(std::size_t n, double fraction) {
  const auto b = static_cast<int>(std::floor(fraction * static_cast<double>(n) + 1e-9));
  return std::max(1, b);
}

double RecordedProblem::best_ms() const {
  double best = kInf;
  for (const auto& m : ms)
    if (m) best = std::min(best, *m);
  return best;
}

std::vector<SearchCandidate> RecordedProblem::search_candidates() const {
  std::vector<SearchCandidate> out;
  for (std::size_t i = 0; i < signatures.size(); ++i) out.push_back({families[i], signatures[i], params[i]});
  return out;
}

std::vector<RecordedProblem> recorded_problems(const Table& t) {
  std::vector<RecordedProblem> out;
  for (const ProblemEntry& e : t.entries) {
    RecordedProblem r;
    r.problem = e.problem;
    r.gpu = t.meta.gpu_name;
    r.floor_ms = floor_ms(e.problem, t.meta.copy_bandwidth_gbps, t.meta.launch_floor_ms.value_or(0.0));
    for (const CandidateResult& c : e.candidates) {
      if (c.status == Disposition::not_supported) continue;
      r.kernels.push_back(c.kernel);
      r.families.push_back(c.family);
      r.signatures.push_back(tile_signature(c.family, e.problem.dtype, c.params));
      r.params.push_back(c.params);
      // A candidate stopped early has the median of its screening reps: measured, clearly slower
      // than the winner, good enough to rank it (and, if a strategy picks it, to score the pick).
      const bool timed = c.status == Disposition::passed || c.status == Disposition::stopped_early;
      r.ms.push_back(timed && c.time ? std::optional(c.time->median_ms) : std::nullopt);
    }
    if (std::isfinite(r.best_ms())) out.push_back(std::move(r));
  }
  return out;
}

bool same_shape(const Problem& a, const Problem& b) {
  Problem x = a, y = b;
  x.dtype = y.dtype = DType::f32;
  return x.key() == y.key();
}

void CostModel::add(const RecordedProblem& p) {
  const double best = p.best_ms();
  if (!std::isfinite(best)) return;
  Seen s;
  s.problem = p.problem;
  s.gpu = p.gpu;
  if (p.floor_ms > 0) s.best_over_floor = std::log(best / p.floor_ms);
  std::map<std::string, std::pair<double, int>> fam;
  for (std::size_t i = 0; i < p.signatures.size(); ++i) {
    // A failed candidate counts as 10x slower than the best: it is to be tried last.
    const double rel = p.ms[i] ? std::log(*p.ms[i] / best) : std::log(10.0);
    s.rel[p.signatures[i]] = rel;
    auto& f = fam[p.families[i]];
    f.first += rel;
    ++f.second;
  }
  for (const auto& [name, sum] : fam) s.family_rel[name] = sum.first / sum.second;
  train_.push_back(std::move(s));
}

double CostModel::weight(const Problem& p, const Seen& s) const {
  const bool other_gpu = !gpu_.empty() && !s.gpu.empty() && s.gpu != gpu_;
  return std::exp(-distance(p, s.problem) - (other_gpu ? 2.0 : 0.0));
}

double CostModel::predict(const Problem& p, const std::string& family, const std::string& signature) const {
  double num = 0, den = 0, fnum = 0, fden = 0;
  for (const Seen& s : train_) {
    const double w = weight(p, s);
    if (auto it = s.rel.find(signature); it != s.rel.end()) {
      num += w * it->second;
      den += w;
    }
    if (auto it = s.family_rel.find(family); it != s.family_rel.end()) {
      fnum += w * it->second;
      fden += w;
    }
  }
  if (den > 0) return num / den;
  if (fden > 0) return fnum / fden;
  return std::log(100.0);  // nothing known: after everything the model has seen
}

std::optional<CostModel::Expectation> CostModel::expected_best(const Problem& p) const {
  double sw = 0, sx = 0, sxx = 0;
  for (const Seen& s : train_) {
    if (!s.best_over_floor) continue;
    const double w = weight(p, s);
    sw += w;
    sx += w * *s.best_over_floor;
    sxx += w * *s.best_over_floor * *s.best_over_floor;
  }
  if (!(sw > 0)) return std::nullopt;
  Expectation e;
  e.mean = sx / sw;
  e.sd = std::sqrt(std::max(0.0, sxx / sw - e.mean * e.mean));
  return e;
}

std::vector<std::size_t> sample_order(std::size_t n, std::uint64_t seed, const std::string& problem_key) {
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::mt19937_64 rng(seed ^ std::hash<std::string>{}(problem_key));
  std::shuffle(idx.begin(), idx.end(), rng);
  return idx;
}

Search::Search(Strategy s, const Problem& p, std::vector<SearchCandidate> candidates, int budget,
               std::uint64_t seed, const CostModel* model, double floor_ms, SearchRule rule)
    : strategy_(s), cand_(std::move(candidates)), budget_(std::max(budget, 0)), floor_ms_(floor_ms), rule_(rule),
      ms_(cand_.size()) {
  switch (s) {
    case Strategy::exhaustive:
      budget_ = static_cast<int>(cand_.size());
      order_.resize(cand_.size());
      std::iota(order_.begin(), order_.end(), std::size_t{0});
      break;
    case Strategy::random: order_ = sample_order(cand_.size(), seed, p.key()); break;
    case Strategy::model:
      if (!model) throw std::invalid_argument("the model strategy needs a cost model (tables to fit it on)");
      for (const SearchCandidate& c : cand_) predicted_.push_back(model->predict(p, c.family, c.signature));
      if (floor_ms_ > 0) expected_ = model->expected_best(p);
      break;
  }
  budget_ = std::min(budget_, static_cast<int>(cand_.size()));
}

std::optional<std::size_t> Search::next() {
  if (static_cast<int>(evaluated_.size()) >= budget_) return std::nullopt;
  const std::size_t i = strategy_ == Strategy::model ? next_model() : order_[evaluated_.size()];
  evaluated_.push_back(i);
  return i;
}

void Search::tell(std::size_t i, std::optional<double> ms) {
  if (i < ms_.size()) ms_[i] = ms;
}

std::size_t Search::next_model() const {
  const std::size_t n = cand_.size();
  std::vector<bool> done(n, false);
  std::set<std::string> families;
  std::optional<std::size_t> best;
  for (std::size_t i : evaluated_) {
    done[i] = true;
    families.insert(cand_[i].family);
    if (ms_[i] && (!best || *ms_[i] < *ms_[*best])) best = i;
  }
  // Local when the best so far is far slower than this problem's best was expected to be.
  bool local = false;
  if (best && expected_ && floor_ms_ > 0 && *ms_[*best] > 0) {
    const double above = std::log(*ms_[*best] / floor_ms_) - expected_->mean - predicted_[*best];
    local = above > rule_.surprise * std::max(expected_->sd, 1e-3);
  }
  auto pool = [&](bool neighbours_only) {
    std::optional<std::size_t> pick;
    double pick_score = kInf;
    for (std::size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      if (neighbours_only && (cand_[i].family != cand_[*best].family ||
                              param_changes(cand_[i].params, cand_[*best].params) != 1))
        continue;
      const double score = predicted_[i] - (families.count(cand_[i].family) ? 0.0 : std::log(rule_.new_family));
      if (!pick || score < pick_score) pick = i, pick_score = score;
    }
    return pick;
  };
  if (local)
    if (auto i = pool(true)) return *i;
  return *pool(false);  // next() keeps the budget within the candidates: one is left
}

double ReplayResult::mean_eval_fraction() const {
  double s = 0;
  for (const ReplayRow& r : rows) s += r.eval_fraction();
  return rows.empty() ? 0 : s / static_cast<double>(rows.size());
}

double ReplayResult::max_eval_fraction() const {
  double m = 0;
  for (const ReplayRow& r : rows) m = std::max(m, r.eval_fraction());
  return m;
}

const ReplayRow* ReplayResult::worst_row() const {
  const ReplayRow* w = nullptr;
  for (const ReplayRow& r : rows)
    if (!w || r.worst_gap > w->worst_gap) w = &r;
  return w;
}

double ReplayResult::worst_gap() const {
  const ReplayRow* w = worst_row();
  return w ? w->worst_gap : 0;
}

double ReplayResult::median_gap() const {
  std::vector<double> g;
  for (const ReplayRow& r : rows) g.push_back(r.mean_gap);
  if (g.empty()) return 0;
  std::sort(g.begin(), g.end());
  const std::size_t h = g.size() / 2;
  return g.size() % 2 ? g[h] : (g[h - 1] + g[h]) / 2;
}

int ReplayResult::problems_within() const {
  return static_cast<int>(std::count_if(rows.begin(), rows.end(), [](const ReplayRow& r) { return r.within >= 1; }));
}

double ReplayResult::within() const {
  if (rows.empty()) return 0;
  double s = 0;
  for (const ReplayRow& r : rows) s += r.within;
  return s / static_cast<double>(rows.size());
}

ReplayResult replay(const Table& t, const ReplayOptions& opt) {
  const std::vector<RecordedProblem> probs = recorded_problems(t);
  if (probs.empty())
    throw TableError(fmt::format(
        "replay: table \"{}\" recorded no candidates (tune it with --keep-all)", t.meta.config_name));
  ReplayResult res;
  res.strategy = opt.strategy;
  res.fraction = opt.fraction;
  res.seeds = opt.strategy == Strategy::random ? std::max(1, opt.seeds) : 1;
  res.gap_limit = opt.gap_limit;
  CostModel shared(t.meta.gpu_name);
  if (!opt.model_tables.empty()) {
    for (const Table* m : opt.model_tables)
      for (const RecordedProblem& r : recorded_problems(*m)) shared.add(r);
    res.model_source = fmt::format("fitted on {} other table(s), {} problems", opt.model_tables.size(), shared.size());
  } else {
    res.model_source = "fitted per problem on this table's other problems, every problem of the same shape (any dtype) left out";
  }
  for (const RecordedProblem& rp : probs) {
    CostModel own(t.meta.gpu_name);
    const CostModel* model = &shared;
    if (opt.strategy == Strategy::model && opt.model_tables.empty()) {
      for (const RecordedProblem& other : probs)
        if (!same_shape(other.problem, rp.problem)) own.add(other);
      model = &own;
    }
    ReplayRow row;
    row.problem = rp.problem.name;
    row.candidates = static_cast<int>(rp.signatures.size());
    const int budget = opt.strategy == Strategy::exhaustive ? row.candidates
                                                            : budget_for(rp.signatures.size(), opt.fraction);
    row.best_ms = rp.best_ms();
    int within = 0;
    double sum = 0;
    for (int seed = 1; seed <= res.seeds; ++seed) {
      Search search(opt.strategy, rp.problem, rp.search_candidates(), budget, static_cast<std::uint64_t>(seed), model,
                    rp.floor_ms);
      while (auto i = search.next()) search.tell(*i, rp.ms[*i]);
      const std::vector<std::size_t>& pick = search.evaluated();
      row.evaluated = static_cast<int>(pick.size());
      double found = kInf;
      std::size_t at = 0;
      for (std::size_t i : pick)
        if (rp.ms[i] && *rp.ms[i] < found) found = *rp.ms[i], at = i;
      const double gap = found / row.best_ms - 1;
      row.worst_gap = std::max(row.worst_gap, gap);
      sum += gap;
      within += gap <= opt.gap_limit;
      if (res.seeds == 1) row.found_ms = found;
      if (res.seeds == 1 && std::isfinite(found)) row.found_kernel = rp.kernels[at];
    }
    row.mean_gap = sum / res.seeds;
    row.within = static_cast<double>(within) / res.seeds;
    res.candidates += row.candidates;
    res.evaluated += row.evaluated;
    res.rows.push_back(std::move(row));
  }
  return res;
}

std::string render_replay(const ReplayResult& r) {
  std::string out = fmt::format(
      "Replay: strategy {}, budget {:g} of each problem's candidates{}{}\n\n", to_string(r.strategy),
      r.fraction, r.seeds > 1 ? fmt::format(", {} seeds", r.seeds) : "",
      r.strategy == Strategy::model ? fmt::format("; model {}", r.model_source) : "");
  const std::string limit = fmt::format("{:g}%", r.gap_limit * 100);
  out += fmt::format(
      "| problem | evaluated / candidates | exhaustive best (ms) | found (ms) | worst gap | mean gap | "
      "within {} | found |\n|---|---|---|---|---|---|---|---|\n",
      limit);
  for (const ReplayRow& row : r.rows)
    out += fmt::format("| {} | {} / {} | {:.4f} | {} | {:.2f}% | {:.2f}% | {:.0f}% | {} |\n", row.problem,
                       row.evaluated, row.candidates, row.best_ms,
                       r.seeds > 1 || !std::isfinite(row.found_ms) ? "-" : fmt::format("{:.4f}", row.found_ms),
                       row.worst_gap * 100, row.mean_gap * 100, row.within * 100,
                       row.found_kernel.empty() ? "-" : row.found_kernel);
  const ReplayRow* worst = r.worst_row();
  out += fmt::format(
      "\n{} problems: {} of {} candidates evaluated ({:.1f}%; per problem mean {:.1f}%, at most {:.1f}%); "
      "within {} of the exhaustive winner: {} of {} problems ({:.1f}%){}; worst gap to the exhaustive winner "
      "{:.2f}%{}, median {:.2f}%\n",
      r.rows.size(), r.evaluated, r.candidates, r.eval_fraction() * 100, r.mean_eval_fraction() * 100,
      r.max_eval_fraction() * 100, limit, r.problems_within(), r.rows.size(),
      r.rows.empty() ? 0.0 : 100.0 * r.problems_within() / static_cast<double>(r.rows.size()),
      r.seeds > 1 ? fmt::format(" on every seed, {:.1f}% of runs", r.within() * 100) : "", r.worst_gap() * 100,
      worst && worst->worst_gap > 0 ? fmt::format(" ({})", worst->problem) : "", r.median_gap() * 100);
  return out;
}

}  // namespace dwt
