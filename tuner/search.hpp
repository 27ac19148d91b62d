// Budgeted search over the candidates of a problem, and its replay from a --keep-all table without a
// GPU (as Kernel Tuner's simulation runner replays its cache): which candidates a strategy would
// have evaluated, and how far the best of them lands from the exhaustive winner.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel_desc.hpp"
#include "problem.hpp"
#include "table.hpp"

namespace dwt {

enum class Strategy { exhaustive, random, model };
const char* to_string(Strategy s);
// "exhaustive", "random" or "model"; std::invalid_argument otherwise.
Strategy parse_strategy(const std::string& s);

// What a candidate is across problems: family, dtype and template parameters, with a compile-time
// filter size reduced to "fixed" (k3x7 on one problem and k3x3 on another are the same tile).
std::string tile_signature(const std::string& family, DType dtype, const std::vector<KernelParam>& params);

// Evaluations a strategy may spend on a problem of n candidates: floor(fraction * n), at least 1.
int budget_for(std::size_t n, double fraction);

// A candidate as a search sees it: its family, its tile signature and its template parameters (to
// find its neighbours in tile space).
struct SearchCandidate {
  std::string family, signature;
  std::vector<KernelParam> params;
};

// One problem of a --keep-all table: its candidates that cost an evaluation (not_supported ones
// do not), with the median of those that passed.
struct RecordedProblem {
  Problem problem;
  std::string gpu;      // the table's GPU
  double floor_ms = 0;  // the problem's floor on it (rates.hpp); 0: the table has no copy bandwidth
  std::vector<std::string> kernels, families, signatures;
  std::vector<std::vector<KernelParam>> params;
  std::vector<std::optional<double>> ms;  // median (screening median if stopped early); nullopt: failed
  // The winner and the candidates the table declared tied with it (decide.hpp's tie rule): the
  // measurements could not tell them apart, so finding any of them finds the winner.
  std::vector<bool> tied;
  double best_ms() const;                 // the exhaustive winner's median (+inf: none passed)
  std::vector<SearchCandidate> search_candidates() const;
};
// The entries of `t` that recorded their candidates (--keep-all) and have at least one passed.
std::vector<RecordedProblem> recorded_problems(const Table& t);

// A cost model fitted on recorded problems: per tile signature, its time relative to each
// training problem's best (log ratio), averaged with weights exp(-distance) that favour similar
// problems: same dtype, layout, pass, stride, dilation and multiplier; near in log2 of the filter's
// area (1.5 per octave) and of the output's size. A signature never seen is predicted
// by its family's average, an unseen family last. Problems recorded on another GPU than the one
// predicted for count as further away. It also expects, with the same weights, how far above its
// floor a problem's best lands (for a search to tell when a problem is unlike what it has seen).
class CostModel {
 public:
  // `gpu`: the GPU the predictions are for (a table's gpu_name); empty: any, no GPU term.
  explicit CostModel(std::string gpu = {}) : gpu_(std::move(gpu)) {}
  void add(const RecordedProblem& p);
  std::size_t size() const { return train_.size(); }
  // Predicted log(time / best) on p; smaller is better.
  double predict(const Problem& p, const std::string& family, const std::string& signature) const;
  // The same with its spread: the weighted standard deviation of log(time / best) over the
  // problems seen (for a signature never seen: over the family's means, at least 0.5; 1 when
  // nothing is known).
  struct Prediction {
    double mean = 0, sd = 0;
  };
  Prediction predict_spread(const Problem& p, const std::string& family, const std::string& signature) const;
  // log(best / floor) expected on p: the weighted mean and spread over the problems seen with a
  // floor; nullopt when none had one.
  struct Expectation {
    double mean = 0, sd = 0;
  };
  std::optional<Expectation> expected_best(const Problem& p) const;
  // The problems seen, as a search conditions on them: each one's log weight for p and, per
  // signature asked for, its log(time / best) there (NaN where it was not a candidate).
  struct Neighbours {
    std::vector<double> log_weight;
    std::vector<std::vector<double>> rel;  // [problem seen][signature asked for]
  };
  Neighbours neighbours(const Problem& p, const std::vector<std::string>& signatures) const;

 private:
  struct Seen {
    Problem problem;
    std::string gpu;
    std::optional<double> best_over_floor;     // log(best / floor)
    std::map<std::string, double> rel;         // signature -> log(ms / best)
    std::map<std::string, double> family_rel;  // family -> mean over its signatures
  };
  double log_weight(const Problem& p, const Seen& s) const;
  double weight(const Problem& p, const Seen& s) const { return std::exp(log_weight(p, s)); }
  std::string gpu_;
  std::vector<Seen> train_;
};

// Two problems of one shape (every field but the dtype and the name equal).
bool same_shape(const Problem& a, const Problem& b);

// A seeded, reproducible order of n candidates (random sampling takes its first `budget`).
std::vector<std::size_t> sample_order(std::size_t n, std::uint64_t seed, const std::string& problem_key);

// The model strategy: one candidate at a time, each chosen with what this problem has measured so
// far (Bayesian optimisation with the cost model as its prior). The first is the model's
// best-ranked. Then the log time of every candidate c not yet evaluated is a Gaussian: the
// problem's level (its floor times the best over floor the model expects, CostModel::expected_best,
// with that spread but at least `level_sd_min`) + the model's prediction for c + a tile-space term
// of standard deviation max(the prediction's spread over the problems seen, `sd_min`), correlated
// between two candidates of one family by the product, over the template parameters they set
// differently, of each parameter's correlation learned from the problems seen (Search's
// learn_correlations; `unknown_correlation` for a parameter no pair shows), uncorrelated across
// families. Conditioned on the times measured (each with `noise`), the next candidate is the one of
// the lowest posterior mean less `optimism` posterior spreads. What this does that the ranking
// alone cannot: a candidate far slower than its prediction lowers the hopes of its tile-space
// neighbours through the parameters that matter on this problem and hands the budget to the others
// (RepLKNet's 31x31 layer at 56x56, where unlike every other large filter the unswapped tiles win).
// The values were chosen on results/h200/random-table.json.gz (random shapes, none of the shipped
// configs'), the shipped tables then replayed as a held-out check (test_search.cpp).
struct SearchRule {
  double sd_min = 0.3;         // the model errs more than its neighbours disagree
  double level_sd_min = 0.05;
  double unknown_correlation = 0.5;
  double noise = 0.01;         // a median's own spread, log
  double optimism = 0.5;
};

// One problem's budgeted search, asked for the next candidate and told what it measured, so that
// the replay of a table and the real tuner run the same code. exhaustive: every candidate in order;
// random: the first `budget` of sample_order; model: the rounds above (needs `model`; without the
// problem's floor, rates.hpp, the level is unknown and only the measured candidates' differences
// inform the others).
class Search {
 public:
  Search(Strategy s, const Problem& p, std::vector<SearchCandidate> candidates, int budget, std::uint64_t seed,
         const CostModel* model, double floor_ms = 0, SearchRule rule = {});
  // The candidate to evaluate next (an index into the candidates); nullopt when the budget is spent
  // or none is left. It counts as evaluated from now on.
  std::optional<std::size_t> next();
  // What candidate i (returned by next()) measured: its median; nullopt when it failed.
  void tell(std::size_t i, std::optional<double> ms);
  int budget() const { return budget_; }
  const std::vector<std::size_t>& evaluated() const { return evaluated_; }
  // The learned correlation of two candidates' deviations from the model (0 across families).
  double tile_correlation(std::size_t c, std::size_t d) const;
  // model: the prior's log(time / best) for candidate i; 0 for the other strategies.
  double predicted(std::size_t i) const { return i < predicted_.size() ? predicted_[i] : 0; }

 private:
  std::size_t next_model() const;
  void learn_correlations(const CostModel& model, const Problem& p);
  Strategy strategy_;
  std::vector<SearchCandidate> cand_;
  int budget_;
  double floor_ms_;
  SearchRule rule_;
  std::vector<std::size_t> order_;  // exhaustive and random
  std::vector<double> predicted_;   // model: log(time / best)
  std::vector<double> spread_;      // model: its spread, at least sd_min
  std::map<std::string, double> correlation_;  // model: "family/parameter" -> learned correlation
  std::optional<CostModel::Expectation> expected_;
  std::vector<std::size_t> evaluated_;
  std::vector<std::optional<double>> ms_;
};

struct ReplayRow {
  std::string problem;
  int candidates = 0, evaluated = 0;  // per run (random: the same budget every seed)
  double best_ms = 0;                 // exhaustive winner
  double worst_gap = 0;               // over seeds: found / best - 1 (+inf: nothing passed)
  double mean_gap = 0;
  double within = 0;                  // share of seeds within the gap limit or on a declared tie
  double by_tie = 0;                  // share of seeds that counted only by a declared tie
  double found_ms = 0;                // with one seed: the best time among the evaluated (+inf: none passed)
  std::string found_kernel;           // with one seed: the kernel the strategy picked
  // With one seed, for a problem traced (ReplayOptions::trace): each evaluation in order, with its rank
  // among the candidates by time (a failed one last) and in the model's prior.
  struct Step {
    std::string kernel;
    std::optional<double> ms;
    int rank = 0, prior_rank = 0;
  };
  std::vector<Step> trace;
  Step winner;  // with a trace: the exhaustive winner
  double eval_fraction() const { return candidates ? static_cast<double>(evaluated) / candidates : 0; }
};
struct ReplayResult {
  Strategy strategy = Strategy::model;
  double fraction = 0;          // requested budget fraction
  int seeds = 1;
  double gap_limit = 0.03;
  std::string model_source;     // what the model was fitted on
  std::vector<ReplayRow> rows;
  int candidates = 0, evaluated = 0;  // summed over problems (one seed)
  double eval_fraction() const { return candidates ? static_cast<double>(evaluated) / candidates : 0; }
  double mean_eval_fraction() const;  // mean over problems of evaluated / candidates
  double max_eval_fraction() const;   // the largest share any one problem spent
  double worst_gap() const;
  double median_gap() const;          // the median over problems of each one's mean gap
  const ReplayRow* worst_row() const;  // the problem of the worst gap (nullptr: no rows)
  // The worst gap among the problems not within the limit on every seed (declared ties count as
  // within), and its problem (0 and nullptr when every problem is within).
  double worst_miss_gap() const;
  const ReplayRow* worst_miss_row() const;
  double within() const;        // share of (problem, seed) runs within gap_limit or on a declared tie
  int problems_within() const;  // problems whose every seed landed within gap_limit or on a declared tie
  int problems_by_tie() const;  // of those, the problems where some seed counted only by the tie
};
struct ReplayOptions {
  Strategy strategy = Strategy::model;
  double fraction = 0.25;
  int seeds = 100;  // random only
  double gap_limit = 0.03;
  // Tables the model is fitted on. Empty: each problem's model is fitted on the replayed table's
  // other problems, leaving out every problem of its shape (any dtype), so that nothing it is
  // scored on, not even the same shape in another dtype, was seen.
  std::vector<const Table*> model_tables;
  // With model_tables empty: each problem's model is also fitted on these tables' problems, every
  // problem of its shape left out there too (the tuner's --model takes every committed table).
  std::vector<const Table*> also_tables;
  // Problems (by name) whose evaluations render_replay lists in order, to see why one was missed;
  // with trace_misses, every problem missed too (one seed).
  std::vector<std::string> trace;
  bool trace_misses = false;
};
// Replays `t` (a --keep-all table). TableError when it recorded no candidates.
ReplayResult replay(const Table& t, const ReplayOptions& opt);
// A Markdown table, one row per problem: evaluated / candidates, the exhaustive winner's time and the
// best time found (one seed), worst and mean gap, share of seeds within the limit, the kernel found;
// then the totals: evaluations (overall, mean and largest share per problem), problems within the
// limit, the worst gap and its problem, the median gap; then the traced problems' evaluations.
std::string render_replay(const ReplayResult& r);

}  // namespace dwt
