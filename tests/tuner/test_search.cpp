// Issue 17 without a GPU: the early-stop and tie rules over planted times, and the budgeted
// strategies replayed on the committed --keep-all tables (the claim of the issue, checked in CI).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "decide.hpp"
#include "search.hpp"
#include "table.hpp"

namespace dwt {
namespace {

std::filesystem::path source_dir() {
  const char* s = std::getenv("DWTUNE_SOURCE_DIR");
  return s ? s : ".";
}

TEST(Decide, StatsAndQuantiles) {
  const TimingStats t = stats_of({3, 1, 2, 4});
  EXPECT_DOUBLE_EQ(t.median_ms, 2.5);
  EXPECT_DOUBLE_EQ(t.min_ms, 1);
  EXPECT_DOUBLE_EQ(t.max_ms, 4);
  EXPECT_EQ(t.reps, 4);
  EXPECT_DOUBLE_EQ(quantile({1, 2, 3, 4, 5}, 0.25), 2);
  EXPECT_THROW(stats_of({}), std::invalid_argument);
}

TEST(Decide, StopsOnlyWhenEvenTheFastestScreeningRepIsOutsideTheSpread) {
  const StopRule rule;
  const TimingStats best{1.00, 0.99, 1.01, 25};
  // threshold: 1.01 + max(0.02, 2% of 1.00) = 1.03
  EXPECT_DOUBLE_EQ(stop_threshold(best, rule), 1.03);
  EXPECT_TRUE(clearly_slower({1.2, 1.1, 1.15}, best, rule));
  EXPECT_FALSE(clearly_slower({1.2, 1.02, 1.15}, best, rule)) << "one rep inside: keep timing";
  EXPECT_FALSE(clearly_slower({1.031, 1.03}, best, rule)) << "at the threshold: keep timing";
  EXPECT_FALSE(clearly_slower({}, best, rule));
  // A noisy best widens the threshold by its own range.
  const TimingStats noisy{1.00, 0.90, 1.10, 25};
  EXPECT_NEAR(stop_threshold(noisy, rule), 1.30, 1e-12);
  EXPECT_FALSE(clearly_slower({1.25}, noisy, rule));
}

TEST(Decide, FinalistsAreThoseWithinTheBestsSpread) {
  const StopRule rule;
  const TimingStats best{1.00, 0.99, 1.01, 25};
  EXPECT_TRUE(within_spread(best, {1.005, 1.0, 1.02, 25}, rule));
  EXPECT_TRUE(within_spread(best, {1.015, 1.005, 1.03, 25}, rule));  // within 2%
  EXPECT_FALSE(within_spread(best, {1.05, 1.04, 1.06, 25}, rule));
}

TEST(Decide, TieDeclaredWithinMeasuredNoiseAndNotBeyond) {
  StopRule rule;
  rule.tie_floor = 0;
  // b is 0.2% slower than a, but a's median moved 0.5% between rounds: a tie.
  std::vector<FinalistTimes> f{{{1.000, 1.000, 1.000}, {1.005, 1.005, 1.005}},
                               {{1.004, 1.004, 1.004}, {1.004, 1.004, 1.004}}};
  TieDecision d = decide_ties(f, rule);
  EXPECT_EQ(d.winner, 0u);
  EXPECT_EQ(d.tied, std::vector<std::size_t>{1});
  EXPECT_EQ(d.stats[0].reps, 6);
  // Stable measurements 5% apart: no tie.
  f = {{{1.0, 1.0, 1.0}, {1.0, 1.0, 1.0}}, {{1.05, 1.05, 1.05}, {1.05, 1.05, 1.05}}};
  d = decide_ties(f, rule);
  EXPECT_TRUE(d.tied.empty());
  // The winner is the smaller median of both rounds, whatever the order; equal medians: lower index.
  f = {{{2.0, 2.0}, {2.0, 2.0}}, {{1.0, 1.0}, {1.0, 1.0}}, {{1.0, 1.0}, {1.0, 1.0}}};
  d = decide_ties(f, rule);
  EXPECT_EQ(d.winner, 1u);
  EXPECT_EQ(d.tied, std::vector<std::size_t>{2});
  EXPECT_THROW(decide_ties({}, rule), std::invalid_argument);
}

TEST(Search, SignatureForgetsTheFilterSizeOnly) {
  const std::vector<KernelParam> a{{"kh", 3}, {"kw", 7}, {"rows", 16}}, b{{"kh", 3}, {"kw", 3}, {"rows", 16}},
      any{{"kh", 0}, {"kw", 0}, {"rows", 16}}, other{{"kh", 3}, {"kw", 3}, {"rows", 32}};
  EXPECT_EQ(tile_signature("staged", DType::f32, a), tile_signature("staged", DType::f32, b));
  EXPECT_NE(tile_signature("staged", DType::f32, a), tile_signature("staged", DType::f32, any));
  EXPECT_NE(tile_signature("staged", DType::f32, a), tile_signature("staged", DType::f16, a));
  EXPECT_NE(tile_signature("staged", DType::f32, b), tile_signature("staged", DType::f32, other));
  EXPECT_EQ(budget_for(25, 0.25), 6);
  EXPECT_EQ(budget_for(3, 0.25), 1);
  EXPECT_EQ(parse_strategy("model"), Strategy::model);
  EXPECT_THROW(parse_strategy("bayes"), std::invalid_argument);
}

// A recorded problem where tile "a" takes `a_ms` and tile "b" 1 ms.
RecordedProblem recorded(int k, double a_ms, const std::string& gpu) {
  RecordedProblem r;
  r.problem.name = fmt::format("k{}", k);
  r.problem.n = 1, r.problem.c = 128, r.problem.h = 56, r.problem.w = 56;
  r.problem.kh = r.problem.kw = k;
  r.problem.ph = r.problem.pw = k / 2;
  r.gpu = gpu;
  r.kernels = r.families = {"smem", "smem"};
  r.signatures = {"a", "b"};
  r.params = {{}, {}};
  r.ms = {a_ms, 1.0};
  return r;
}

TEST(CostModel, LargeFiltersLearnFromLargeFiltersAndTheSameGpu) {
  const Problem k31 = recorded(31, 1, "").problem;
  CostModel m("H200");
  m.add(recorded(29, 0.5, "H200"));  // "a" wins on a 29x29 filter
  m.add(recorded(3, 2.0, "H200"));   // "b" on a 3x3 one
  EXPECT_LT(m.predict(k31, "smem", "a"), m.predict(k31, "smem", "b"));
  const Problem k3 = recorded(3, 1, "").problem;
  EXPECT_GT(m.predict(k3, "smem", "a"), m.predict(k3, "smem", "b"));
  // One shape, two GPUs that disagree: each GPU's own record counts more.
  const Problem k7 = recorded(7, 1, "").problem;
  for (const char* gpu : {"H100", "H200"}) {
    CostModel g(gpu);
    g.add(recorded(7, 0.5, "H100"));
    g.add(recorded(7, 2.0, "H200"));
    EXPECT_EQ(g.predict(k7, "smem", "a") < g.predict(k7, "smem", "b"), std::string(gpu) == "H100") << gpu;
  }
}

// A problem of 64 channels at batch n whose best runs `best_over_floor` times its 1 ms floor, with
// candidates (family, signature, params, ms relative to the best).
struct Planted {
  std::string family, signature;
  std::vector<KernelParam> params;
  double rel;
};
RecordedProblem planted(int n, double best_over_floor, const std::vector<Planted>& cands) {
  RecordedProblem r;
  r.problem.name = fmt::format("n{}", n);
  r.problem.n = n, r.problem.c = 64, r.problem.h = r.problem.w = 56;
  r.problem.kh = r.problem.kw = 3;
  r.problem.ph = r.problem.pw = 1;
  r.floor_ms = 1;
  for (const Planted& c : cands) {
    r.kernels.push_back(c.signature);
    r.families.push_back(c.family);
    r.signatures.push_back(c.signature);
    r.params.push_back(c.params);
    r.ms.push_back(c.rel * best_over_floor);
  }
  return r;
}

// Three tiles of family x: a {s 0, t 1}, b {s 0, t 2} (t changed), c {s 1, t 1} (s changed). On
// the problems seen b always runs 1.1 times a (t's effect never changes), while c wins on one and
// loses on the other (s's effect changes from problem to problem). The model ranks a, then b, then c.
const std::vector<Planted> kSeenA{{"x", "a", {{"s", 0}, {"t", 1}}, 1.0},
                                  {"x", "b", {{"s", 0}, {"t", 2}}, 1.1},
                                  {"x", "c", {{"s", 1}, {"t", 1}}, 1.8}};
const std::vector<Planted> kSeenB{{"x", "a", {{"s", 0}, {"t", 1}}, 1.2},
                                  {"x", "b", {{"s", 0}, {"t", 2}}, 1.32},
                                  {"x", "c", {{"s", 1}, {"t", 1}}, 1.0}};

CostModel seen_ab() {
  CostModel m;
  m.add(planted(1, 1.0, kSeenA));
  m.add(planted(2, 1.0, kSeenB));
  return m;
}

// The candidates a model search asks for on p with `budget`, a measuring `a_ms`, the others 1 ms.
std::vector<std::size_t> model_picks(const CostModel& m, const RecordedProblem& p, int budget, double a_ms,
                                     double floor_ms) {
  Search s(Strategy::model, p.problem, p.search_candidates(), budget, 1, &m, floor_ms);
  while (auto i = s.next()) s.tell(*i, p.signatures[*i] == "a" ? a_ms : 1.0);
  return s.evaluated();
}

TEST(Search, LearnsFromTheProblemsSeenWhichParametersMatter) {
  const CostModel m = seen_ab();
  const RecordedProblem p = planted(4, 1.0, kSeenA);
  const Search s(Strategy::model, p.problem, p.search_candidates(), 2, 1, &m, p.floor_ms);
  EXPECT_NEAR(s.tile_correlation(0, 1), 1.0, 1e-6) << "t's effect is the same everywhere";
  EXPECT_NEAR(s.tile_correlation(0, 2), 0.0, 1e-6) << "s's effect changes";
  EXPECT_NEAR(s.tile_correlation(1, 2), 0.0, 1e-6) << "both changed: the product";
  EXPECT_DOUBLE_EQ(s.tile_correlation(0, 0), 1.0);
}

TEST(Search, AMeasurementMovesTheCandidatesItTellsAbout) {
  const CostModel m = seen_ab();
  const RecordedProblem p = planted(4, 1.0, kSeenA);
  // a far faster than predicted: b, which follows a, is expected faster still than c.
  EXPECT_EQ(model_picks(m, p, 2, 0.5, p.floor_ms), (std::vector<std::size_t>{0, 1}));
  // a far slower: b is expected as slow; c, which a tells nothing about, comes first.
  EXPECT_EQ(model_picks(m, p, 2, 3.0, p.floor_ms), (std::vector<std::size_t>{0, 2}));
  // Without a floor the level is unknown, but the differences still tell: the same picks.
  EXPECT_EQ(model_picks(m, p, 2, 3.0, 0), (std::vector<std::size_t>{0, 2}));
  // Never more than the budget, never twice the same, a failed one counting.
  Search all(Strategy::model, p.problem, p.search_candidates(), 10, 1, &m, p.floor_ms);
  while (auto i = all.next()) all.tell(*i, std::nullopt);
  EXPECT_EQ(all.evaluated().size(), 3u);
  EXPECT_EQ(all.evaluated().front(), 0u);
  CostModel none;
  EXPECT_THROW(Search(Strategy::model, p.problem, p.search_candidates(), 1, 1, nullptr), std::invalid_argument);
  EXPECT_EQ(model_picks(none, p, 1, 1.0, p.floor_ms).size(), 1u) << "an empty model still ranks (everything unknown)";
}

// The committed --keep-all tables of the shipped configs (results/<gpu>/*table*.json with every
// candidate recorded; random_table.json, of random shapes, is not one of them), read once.
const std::vector<std::pair<std::filesystem::path, Table>>& keep_all_tables() {
  static const auto tables = [] {
    std::vector<std::pair<std::filesystem::path, Table>> out;
    for (const char* gpu : {"h200", "h100"})
      for (const auto& f : std::filesystem::directory_iterator(source_dir() / "results" / gpu)) {
        const std::string name = f.path().filename().string();
        if (!(name.ends_with(".json") || name.ends_with(".json.gz")) || name.find("table") == std::string::npos ||
            name.starts_with("random"))
          continue;
        Table t = read_table(f.path());
        if (!recorded_problems(t).empty()) out.emplace_back(f.path(), std::move(t));
      }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  }();
  return tables;
}

// Issue 17's target: within 3% of the exhaustive winner on every problem of the shipped configs with
// at most 25% of the evaluations. Replayed on every committed --keep-all table (H200 KernelBench,
// networks and RepLKNet tables, H100 KernelBench), each problem scored by a model fitted on the
// table's other problems with every problem of its shape (any dtype) left out, never more than a
// quarter of any problem's candidates. A pick the table declared tied with the winner (the tuner's
// own tie rule: the measurements cannot tell them apart) counts as finding it.
// At 6cec10c on the tables of rev 5341144 (the search's values chosen on the random shapes below,
// these tables held out): networks 282 of 282 (1 by a declared tie), RepLKNet 23 of 24 (1 by a
// tie; miss replknet31b_c1024_h7_k13_n1_f16, 6.9%), H100 15 of 15, KernelBench 26 of 30: the four
// misses are kb83_nhwc/kb85_nhwc in f16 and bf16 (3 evaluations of 13; worst 14.0%,
// kb83_nhwc_bf16): the table holds three NHWC shapes, so with the shape left out the model knows
// two, and which of the four strip tiles wins changes with the channel count. Before (the ranking
// with a local step): networks 279, RepLKNet 21, KernelBench 26, H100 15. The tables are re-tuned
// as kernels change, so this holds the property rather than counts: every table at least 75%,
// all of them together at least 95%, the networks and H100 tables (no NHWC) every problem.
TEST(Replay, ModelOnTheShippedTablesWithAQuarterOfTheEvaluations) {
  ASSERT_GE(keep_all_tables().size(), 4u) << "the committed --keep-all tables";
  int problems = 0, within = 0, random_within = 0;
  std::string counts;
  for (const auto& [path, t] : keep_all_tables()) {
    ReplayOptions opt;
    opt.strategy = Strategy::model;
    opt.fraction = 0.25;
    const ReplayResult r = replay(t, opt);
    const std::string name = path.parent_path().filename().string() + "/" + path.filename().string();
    SCOPED_TRACE(name + "\n" + render_replay(r));
    // A quarter of each problem's candidates, but never less than one evaluation: a problem of
    // fewer than 4 candidates (RepLKNet's 31x31 in NHWC has only the run-time-size tiles) spends one.
    EXPECT_LE(r.eval_fraction(), 0.25);
    for (const ReplayRow& row : r.rows) EXPECT_LE(row.evaluated, budget_for(row.candidates, 0.25)) << row.problem;
    const double share = static_cast<double>(r.problems_within()) / static_cast<double>(r.rows.size());
    EXPECT_GE(share, 0.75) << name;
    if (name == "h200/networks-table.json.gz" || name == "h100/table.json")
      EXPECT_EQ(r.problems_within(), static_cast<int>(r.rows.size())) << name << ": worst miss " << r.worst_miss_gap();
    problems += static_cast<int>(r.rows.size());
    within += r.problems_within();
    counts += fmt::format("{} {}/{}; ", name, r.problems_within(), r.rows.size());
    opt.strategy = Strategy::random;
    opt.seeds = 20;
    const ReplayResult rnd = replay(t, opt);
    EXPECT_GT(r.within(), rnd.within() + 0.3) << "model against random sampling at the same budget";
    random_within += static_cast<int>(std::lround(rnd.within() * static_cast<double>(rnd.rows.size())));
  }
  EXPECT_GE(within, 0.95 * problems) << counts;
  RecordProperty("within_3pct", fmt::format("{} of {} (random: {}): {}", within, problems, random_within, counts));
}

// The tuner's --model takes every committed table; replayed that way, each problem's model fitted
// on every committed --keep-all table with its shape left out of all of them (the networks table
// holds RepLKNet's layers too). At 6cec10c: RepLKNet 24 of 24, networks 282 of 282, H100 15 of
// 15, KernelBench 26 of 30 (the same NHWC misses: no other table has NHWC problems), random
// shapes 197 of 200. Holds that more tables lose nothing on RepLKNet's and the networks' layers.
TEST(Replay, ModelFittedOnEveryCommittedTableWithTheShapeLeftOut) {
  const auto& all = keep_all_tables();
  for (const auto& [path, t] : all) {
    const std::string name = path.parent_path().filename().string() + "/" + path.filename().string();
    if (name != "h200/replknet-table.json" && name != "h200/networks-table.json.gz") continue;
    ReplayOptions opt;
    for (const auto& [other, o] : all)
      if (other != path) opt.also_tables.push_back(&o);
    const ReplayResult r = replay(t, opt);
    SCOPED_TRACE(name + "\n" + render_replay(r));
    EXPECT_LE(r.max_eval_fraction(), 0.25);
    EXPECT_EQ(r.problems_within(), static_cast<int>(r.rows.size())) << name;
  }
}

// The 200 random shapes of results/h200/random-table.json.gz (configs/random-fit.json: network-like
// and odd ones, odd filter sizes and asymmetric strides among them) are the set the search's values
// (SearchRule) were chosen on: 199 of 200 within 3% or on a declared tie (5 by the tie), the miss
// r1_78 at 8.4% (2 evaluations of 10). Neighbouring values reach 197 to 199 there (sd_min 0.15 to
// 0.45 with optimism 0.5, optimism 0.25 to 1 with sd_min 0.3) and the counts above on the shipped
// tables, but for sd_min 0.15 (networks 280 of 282); sd_min 0.6 loses ground everywhere (networks
// 275). The ranking with a local step it replaces: 191 (198 with ties).
TEST(Replay, ModelStrategyOnRandomShapes) {
  const Table t = read_table(source_dir() / "results/h200/random-table.json.gz");
  ReplayOptions opt;
  opt.strategy = Strategy::model;
  opt.fraction = 0.25;
  const ReplayResult r = replay(t, opt);
  SCOPED_TRACE(render_replay(r));
  ASSERT_EQ(r.rows.size(), 200u);
  EXPECT_LE(r.max_eval_fraction(), 0.25);
  EXPECT_GE(r.problems_within(), 196);
}

// Fitted on the H200's table, scored on the H100's (KernelBench in NCHW, which the H200 table
// covers). The other way round fails: the H100 table has no NHWC problems to learn from.
TEST(Replay, ModelFittedOnTheOtherGpusTable) {
  const Table h200 = read_table(source_dir() / "results/h200/table.json");
  const Table h100 = read_table(source_dir() / "results/h100/table.json");
  ReplayOptions opt;
  opt.model_tables = {&h200};
  const ReplayResult r = replay(h100, opt);
  SCOPED_TRACE(render_replay(r));
  EXPECT_LE(r.eval_fraction(), 0.25);
  EXPECT_LE(r.worst_gap(), 0.03);
}

// Random sampling at the same budget is the yardstick: reproducible per seed, and worse.
TEST(Replay, RandomAtTheSameBudgetIsReproducibleAndFallsShort) {
  const Table t = read_table(source_dir() / "results/h200/table.json");
  ReplayOptions opt;
  opt.strategy = Strategy::random;
  opt.seeds = 50;
  const ReplayResult a = replay(t, opt), b = replay(t, opt);
  EXPECT_EQ(render_replay(a), render_replay(b));
  EXPECT_LE(a.eval_fraction(), 0.25);
  EXPECT_GT(a.worst_gap(), 0.03);
  opt.strategy = Strategy::exhaustive;
  const ReplayResult all = replay(t, opt);
  EXPECT_DOUBLE_EQ(all.eval_fraction(), 1.0);
  EXPECT_DOUBLE_EQ(all.worst_gap(), 0.0);
}

// --trace lists a problem's evaluations in the order the search asked for them: the first is the
// prior's best-ranked, the best of them is the kernel found, and only traced problems are listed;
// --trace-misses lists those of every problem missed.
TEST(Replay, TraceListsTheEvaluationsInOrder) {
  const Table t = read_table(source_dir() / "results/h200/table.json");
  ReplayOptions opt;
  const std::string traced = t.entries.front().problem.name;
  opt.trace = {traced};
  const ReplayResult r = replay(t, opt);
  for (const ReplayRow& row : r.rows) {
    if (row.problem != traced) {
      EXPECT_TRUE(row.trace.empty()) << row.problem;
      continue;
    }
    ASSERT_EQ(static_cast<int>(row.trace.size()), row.evaluated);
    EXPECT_EQ(row.trace.front().prior_rank, 1);
    const auto best = std::min_element(row.trace.begin(), row.trace.end(), [](const auto& a, const auto& b) {
      return a.ms.value_or(1e300) < b.ms.value_or(1e300);
    });
    EXPECT_EQ(best->kernel, row.found_kernel);
    EXPECT_EQ(row.winner.rank, 1);
    EXPECT_GE(row.winner.prior_rank, 1);
    for (const ReplayRow::Step& s : row.trace) {
      EXPECT_GE(s.rank, 1);
      EXPECT_LE(s.rank, row.candidates);
    }
  }
  EXPECT_NE(render_replay(r).find(traced + ": the order of evaluations"), std::string::npos);
  // trace_misses: every problem missed, and only those.
  opt.trace.clear();
  opt.trace_misses = true;
  const ReplayResult m = replay(t, opt);
  for (const ReplayRow& row : m.rows) EXPECT_EQ(row.trace.empty(), row.within >= 1) << row.problem;
}

TEST(Replay, TableWithoutCandidatesIsRefused) {
  Table t;
  t.meta.config_name = "x";
  EXPECT_THROW(replay(t, {}), TableError);
}

TEST(Table, NewFieldsRoundTripAndOldTablesLoad) {
  Table t = read_table(source_dir() / "results/h100/table.json");  // written before issue 17
  ASSERT_FALSE(t.entries.empty());
  EXPECT_FALSE(t.meta.wall_s);
  EXPECT_TRUE(t.entries[0].tied_with.empty());
  t.meta.wall_s = 12.5;
  t.entries[0].tied_with = {"k_a"};
  t.entries[0].wall_s = 1.5;
  t.entries[0].phase_s = {{"verify", 0.25}};
  t.entries[0].candidates[0].status = Disposition::stopped_early;
  const nlohmann::json j = t;
  const Table back = j.get<Table>();
  EXPECT_EQ(*back.meta.wall_s, 12.5);
  EXPECT_EQ(back.entries[0].tied_with, std::vector<std::string>{"k_a"});
  EXPECT_EQ(*back.entries[0].wall_s, 1.5);
  EXPECT_EQ(back.entries[0].phase_s.at("verify"), 0.25);
  EXPECT_EQ(back.entries[0].candidates[0].status, Disposition::stopped_early);
  nlohmann::json bad = j;
  bad["entries"][0]["wall_s"] = -1;
  EXPECT_THROW(bad.get<Table>(), TableError);
}

}  // namespace
}  // namespace dwt
