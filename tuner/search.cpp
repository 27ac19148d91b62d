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

// The template parameters two candidates of one family set differently: those of `a` that `b`
// lacks or sets to another value, then those only `b` has.
std::vector<std::string> differing_params(const std::vector<KernelParam>& a, const std::vector<KernelParam>& b) {
  std::vector<std::string> out;
  for (const KernelParam& x : a) {
    auto it = std::find_if(b.begin(), b.end(), [&](const KernelParam& y) { return y.name == x.name; });
    if (it == b.end() || it->value != x.value) out.push_back(x.name);
  }
  for (const KernelParam& y : b)
    if (std::none_of(a.begin(), a.end(), [&](const KernelParam& x) { return x.name == y.name; })) out.push_back(y.name);
  return out;
}

// The one template parameter two candidates set differently; empty when none or more than one.
std::string changed_param(const std::vector<KernelParam>& a, const std::vector<KernelParam>& b) {
  std::vector<std::string> d = differing_params(a, b);
  return d.size() == 1 ? std::move(d[0]) : std::string{};
}

// Candidate i of `rp` as a trace shows it: its time, its rank by time (a failed one last) and in the
// prior of `s` (equal values share the better rank).
ReplayRow::Step step_of(const Search& s, const RecordedProblem& rp, std::size_t i) {
  auto time = [&](std::size_t j) { return rp.ms[j].value_or(kInf); };
  ReplayRow::Step step{rp.kernels[i], rp.ms[i], 1, 1};
  for (std::size_t j = 0; j < rp.ms.size(); ++j) {
    step.rank += time(j) < time(i);
    step.prior_rank += s.predicted(j) < s.predicted(i);
  }
  return step;
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
      r.tied.push_back(timed && ((e.winner && c.kernel == e.winner->kernel) ||
                                 std::find(e.tied_with.begin(), e.tied_with.end(), c.kernel) != e.tied_with.end()));
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

double CostModel::log_weight(const Problem& p, const Seen& s) const {
  const bool other_gpu = !gpu_.empty() && !s.gpu.empty() && s.gpu != gpu_;
  return -distance(p, s.problem) - (other_gpu ? 2.0 : 0.0);
}

CostModel::Neighbours CostModel::neighbours(const Problem& p, const std::vector<std::string>& signatures) const {
  Neighbours out;
  for (const Seen& s : train_) {
    out.log_weight.push_back(log_weight(p, s));
    std::vector<double>& r = out.rel.emplace_back();
    for (const std::string& sig : signatures) {
      auto it = s.rel.find(sig);
      r.push_back(it == s.rel.end() ? std::numeric_limits<double>::quiet_NaN() : it->second);
    }
  }
  return out;
}

double CostModel::predict(const Problem& p, const std::string& family, const std::string& signature) const {
  return predict_spread(p, family, signature).mean;
}

CostModel::Prediction CostModel::predict_spread(const Problem& p, const std::string& family,
                                                const std::string& signature) const {
  double num = 0, den = 0, fnum = 0, fden = 0, sq = 0, fsq = 0;
  for (const Seen& s : train_) {
    const double w = weight(p, s);
    if (auto it = s.rel.find(signature); it != s.rel.end()) {
      num += w * it->second;
      sq += w * it->second * it->second;
      den += w;
    }
    if (auto it = s.family_rel.find(family); it != s.family_rel.end()) {
      fnum += w * it->second;
      fsq += w * it->second * it->second;
      fden += w;
    }
  }
  auto sd = [](double sum, double sum_sq, double w) {
    const double m = sum / w;
    return std::sqrt(std::max(0.0, sum_sq / w - m * m));
  };
  if (den > 0) return {num / den, sd(num, sq, den)};
  if (fden > 0) return {fnum / fden, std::max(sd(fnum, fsq, fden), 0.5)};
  return {std::log(100.0), 1.0};  // nothing known: after everything the model has seen
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
      for (const SearchCandidate& c : cand_) {
        const CostModel::Prediction pr = model->predict_spread(p, c.family, c.signature);
        predicted_.push_back(pr.mean);
        spread_.push_back(std::max(pr.sd, rule_.sd_min));
      }
      if (floor_ms_ > 0) expected_ = model->expected_best(p);
      learn_correlations(*model, p);
      break;
  }
  budget_ = std::min(budget_, static_cast<int>(cand_.size()));
}

void Search::learn_correlations(const CostModel& model, const Problem& p) {
  // For each family and template parameter: over the problems seen (weighted as the model weighs
  // them), how far apart two candidates that set only that parameter differently move from their
  // predictions (D = E[(e_c - e_d)^2]) against how far each moves (V = E[(e_c^2 + e_d^2) / 2]).
  // Their correlation is 1 - D / 2V: near 1 when the parameter's effect is the same on every
  // problem (a measurement of one tells the other), near 0 when it changes from problem to problem.
  std::vector<std::string> sigs;
  for (const SearchCandidate& c : cand_) sigs.push_back(c.signature);
  const CostModel::Neighbours nb = model.neighbours(p, sigs);
  double top = -kInf;
  for (double l : nb.log_weight) top = std::max(top, l);
  std::map<std::string, std::pair<double, double>> dv;
  for (std::size_t c = 0; c < cand_.size(); ++c)
    for (std::size_t d = c + 1; d < cand_.size(); ++d) {
      if (cand_[c].family != cand_[d].family) continue;
      const std::string name = changed_param(cand_[c].params, cand_[d].params);
      if (name.empty()) continue;
      auto& acc = dv[cand_[c].family + "/" + name];
      for (std::size_t j = 0; j < nb.rel.size(); ++j) {
        if (std::isnan(nb.rel[j][c]) || std::isnan(nb.rel[j][d])) continue;
        const double w = std::exp(nb.log_weight[j] - top);
        const double ec = nb.rel[j][c] - predicted_[c], ed = nb.rel[j][d] - predicted_[d];
        acc.first += w * (ec - ed) * (ec - ed);
        acc.second += w * (ec * ec + ed * ed) / 2;
      }
    }
  for (const auto& [key, v] : dv)
    if (v.second > 1e-12) correlation_[key] = std::clamp(1 - v.first / (2 * v.second), 0.0, 1.0);
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

double Search::tile_correlation(std::size_t c, std::size_t d) const {
  if (cand_[c].family != cand_[d].family) return 0;
  auto rho = [&](const std::string& name) {
    auto it = correlation_.find(cand_[c].family + "/" + name);
    return it == correlation_.end() ? rule_.unknown_correlation : it->second;
  };
  double k = 1;
  for (const std::string& name : differing_params(cand_[c].params, cand_[d].params)) k *= rho(name);
  return k;
}

std::size_t Search::next_model() const {
  const std::size_t n = cand_.size();
  std::vector<bool> done(n, false);
  std::vector<std::size_t> meas;  // evaluated and timed
  for (std::size_t i : evaluated_) {
    done[i] = true;
    if (ms_[i] && *ms_[i] > 0) meas.push_back(i);
  }
  // Nothing timed yet: the model's best-ranked candidate.
  if (meas.empty()) {
    std::size_t pick = n;
    for (std::size_t c = 0; c < n; ++c)
      if (!done[c] && (pick == n || predicted_[c] < predicted_[pick])) pick = c;
    return pick;  // next() keeps the budget within the candidates: one is left
  }
  // The prior over log time: level + predicted_c + g_c. The level is the problem's own (its floor
  // times the best over floor the model expects, with that spread; unknown without a floor), g a
  // Gaussian process over tile space: spread_c * spread_d * the product of the learned
  // correlations of the parameters c and d set differently, within one family; 0 across families.
  const bool anchored = expected_ && floor_ms_ > 0;
  const double level = anchored ? std::log(floor_ms_) + expected_->mean : 0;
  const double level_sd = anchored ? std::max(expected_->sd, rule_.level_sd_min) : 10.0;
  auto cov = [&](std::size_t c, std::size_t d) {
    double k = level_sd * level_sd + spread_[c] * spread_[d] * tile_correlation(c, d);
    if (c == d) k += rule_.noise * rule_.noise;
    return k;
  };
  // Conditioned on what this problem measured (Cholesky of the measured block).
  const std::size_t m = meas.size();
  std::vector<double> L(m * m, 0.0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double s = cov(meas[i], meas[j]);
      for (std::size_t k = 0; k < j; ++k) s -= L[i * m + k] * L[j * m + k];
      L[i * m + j] = i == j ? std::sqrt(std::max(s, 1e-12)) : s / L[j * m + j];
    }
  auto solve_lower = [&](std::vector<double> b) {  // L x = b
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t k = 0; k < i; ++k) b[i] -= L[i * m + k] * b[k];
      b[i] /= L[i * m + i];
    }
    return b;
  };
  std::vector<double> resid(m), k(m);
  for (std::size_t i = 0; i < m; ++i) resid[i] = std::log(*ms_[meas[i]]) - level - predicted_[meas[i]];
  const std::vector<double> alpha = solve_lower(resid);
  // The lowest optimistic bound: posterior mean less `optimism` posterior spreads.
  std::size_t pick = n;
  double pick_score = kInf;
  for (std::size_t c = 0; c < n; ++c) {
    if (done[c]) continue;
    for (std::size_t i = 0; i < m; ++i) k[i] = cov(c, meas[i]);
    const std::vector<double> v = solve_lower(k);
    double mean = level + predicted_[c], var = cov(c, c);
    for (std::size_t i = 0; i < m; ++i) mean += v[i] * alpha[i], var -= v[i] * v[i];
    const double score = mean - rule_.optimism * std::sqrt(std::max(var, 0.0));
    if (pick == n || score < pick_score) pick = c, pick_score = score;
  }
  return pick;
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

const ReplayRow* ReplayResult::worst_miss_row() const {
  const ReplayRow* w = nullptr;
  for (const ReplayRow& r : rows)
    if (r.within < 1 && (!w || r.worst_gap > w->worst_gap)) w = &r;
  return w;
}

double ReplayResult::worst_miss_gap() const {
  const ReplayRow* w = worst_miss_row();
  return w ? w->worst_gap : 0;
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

int ReplayResult::problems_by_tie() const {
  return static_cast<int>(
      std::count_if(rows.begin(), rows.end(), [](const ReplayRow& r) { return r.within >= 1 && r.by_tie > 0; }));
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
  } else if (opt.also_tables.empty()) {
    res.model_source = "fitted per problem on this table's other problems, every problem of the same shape (any dtype) left out";
  }
  // The problems a per-problem model is fitted on: this table's and those of also_tables.
  std::vector<RecordedProblem> pool = probs;
  for (const Table* a : opt.also_tables)
    for (RecordedProblem& r : recorded_problems(*a)) pool.push_back(std::move(r));
  if (opt.model_tables.empty() && !opt.also_tables.empty())
    res.model_source = fmt::format(
        "fitted per problem on this table's other problems and {} more table(s) ({} problems in all), every "
        "problem of the same shape (any dtype, any table) left out",
        opt.also_tables.size(), pool.size());
  for (const RecordedProblem& rp : probs) {
    CostModel own(t.meta.gpu_name);
    const CostModel* model = &shared;
    if (opt.strategy == Strategy::model && opt.model_tables.empty()) {
      for (const RecordedProblem& other : pool)
        if (!same_shape(other.problem, rp.problem)) own.add(other);
      model = &own;
    }
    ReplayRow row;
    row.problem = rp.problem.name;
    row.candidates = static_cast<int>(rp.signatures.size());
    const int budget = opt.strategy == Strategy::exhaustive ? row.candidates
                                                            : budget_for(rp.signatures.size(), opt.fraction);
    row.best_ms = rp.best_ms();
    int within = 0, by_tie = 0;
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
      const bool tie = std::any_of(pick.begin(), pick.end(), [&](std::size_t i) { return i < rp.tied.size() && rp.tied[i]; });
      const bool hit = gap <= opt.gap_limit || tie;
      within += hit;
      by_tie += gap > opt.gap_limit && tie;
      if (res.seeds == 1) row.found_ms = found;
      if (res.seeds == 1 && std::isfinite(found)) row.found_kernel = rp.kernels[at];
      const bool listed = std::find(opt.trace.begin(), opt.trace.end(), rp.problem.name) != opt.trace.end();
      if (res.seeds == 1 && (listed || (opt.trace_misses && !hit))) {
        for (std::size_t i : pick) row.trace.push_back(step_of(search, rp, i));
        const auto winner = std::min_element(rp.ms.begin(), rp.ms.end(), [](const auto& a, const auto& b) {
          return a.value_or(kInf) < b.value_or(kInf);
        });
        row.winner = step_of(search, rp, static_cast<std::size_t>(winner - rp.ms.begin()));
      }
    }
    row.mean_gap = sum / res.seeds;
    row.within = static_cast<double>(within) / res.seeds;
    row.by_tie = static_cast<double>(by_tie) / res.seeds;
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
      "within {} or tie | found |\n|---|---|---|---|---|---|---|---|\n",
      limit);
  for (const ReplayRow& row : r.rows)
    out += fmt::format("| {} | {} / {} | {:.4f} | {} | {:.2f}% | {:.2f}% | {:.0f}% | {}{} |\n", row.problem,
                       row.evaluated, row.candidates, row.best_ms,
                       r.seeds > 1 || !std::isfinite(row.found_ms) ? "-" : fmt::format("{:.4f}", row.found_ms),
                       row.worst_gap * 100, row.mean_gap * 100, row.within * 100,
                       row.found_kernel.empty() ? "-" : row.found_kernel,
                       r.seeds == 1 && row.by_tie > 0 ? " (declared tie)" : "");
  const ReplayRow* worst = r.worst_row();
  const ReplayRow* miss = r.worst_miss_row();
  out += fmt::format(
      "\n{} problems: {} of {} candidates evaluated ({:.1f}%; per problem mean {:.1f}%, at most {:.1f}%); "
      "within {} of the exhaustive winner or on a tie declared with it: {} of {} problems ({:.1f}%{}){}; worst "
      "gap to the exhaustive winner {:.2f}%{}, median {:.2f}%; worst gap of a problem missed {:.2f}%{}\n",
      r.rows.size(), r.evaluated, r.candidates, r.eval_fraction() * 100, r.mean_eval_fraction() * 100,
      r.max_eval_fraction() * 100, limit, r.problems_within(), r.rows.size(),
      r.rows.empty() ? 0.0 : 100.0 * r.problems_within() / static_cast<double>(r.rows.size()),
      r.problems_by_tie() ? fmt::format("; {} of them by a declared tie", r.problems_by_tie()) : "",
      r.seeds > 1 ? fmt::format(" on every seed, {:.1f}% of runs", r.within() * 100) : "", r.worst_gap() * 100,
      worst && worst->worst_gap > 0 ? fmt::format(" ({})", worst->problem) : "", r.median_gap() * 100,
      r.worst_miss_gap() * 100, miss ? fmt::format(" ({})", miss->problem) : "");
  for (const ReplayRow& row : r.rows) {
    if (row.trace.empty()) continue;
    out += fmt::format("\n{}: the order of evaluations ({} candidates; the winner {}, {} in the prior)\n",
                       row.problem, row.candidates, row.winner.kernel, row.winner.prior_rank);
    for (std::size_t k = 0; k < row.trace.size(); ++k) {
      const ReplayRow::Step& s = row.trace[k];
      out += fmt::format("{}. {} {}: rank {} by time, {} in the prior\n", k + 1, s.kernel,
                         s.ms ? fmt::format("{:.4f} ms", *s.ms) : "failed", s.rank, s.prior_rank);
    }
  }
  return out;
}

}  // namespace dwt
