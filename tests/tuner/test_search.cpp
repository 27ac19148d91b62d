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

// The model ranks x1 first, then x2, then x3 (x3 one parameter away from x1, x2 two).
const std::vector<Planted> kTiles{{"x", "x1", {{"t", 1}, {"u", 1}}, 1.0},
                                  {"x", "x2", {{"t", 2}, {"u", 2}}, 1.1},
                                  {"x", "x3", {{"t", 1}, {"u", 2}}, 1.5}};

// The candidates a model search asks for on p with `budget`, x1 measuring `x1_ms`, the others 1 ms.
std::vector<std::size_t> model_picks(const CostModel& m, const RecordedProblem& p, int budget, double x1_ms) {
  Search s(Strategy::model, p.problem, p.search_candidates(), budget, 1, &m, p.floor_ms);
  while (auto i = s.next()) s.tell(*i, p.signatures[*i] == "x1" ? x1_ms : 1.0);
  return s.evaluated();
}

TEST(Search, ModelTurnsToTheNeighboursOfTheBestWhenItIsFarSlowerThanExpected) {
  CostModel m;
  m.add(planted(1, 1.0, kTiles));  // best 1.0 and 1.2 times the floor: expected about 1.1
  m.add(planted(2, 1.2, kTiles));
  const RecordedProblem p = planted(4, 1.0, kTiles);
  // x1 as fast as expected: the model's next (x2).
  EXPECT_EQ(model_picks(m, p, 2, 1.1), (std::vector<std::size_t>{0, 1}));
  // x1 three times slower than expected: its neighbour (x3) before the model's next.
  EXPECT_EQ(model_picks(m, p, 2, 3.0), (std::vector<std::size_t>{0, 2}));
  // Without a floor, the search cannot tell: the model's order.
  Search blind(Strategy::model, p.problem, p.search_candidates(), 2, 1, &m, 0);
  while (auto i = blind.next()) blind.tell(*i, 3.0);
  EXPECT_EQ(blind.evaluated(), (std::vector<std::size_t>{0, 1}));
  // Never more than the budget, never twice the same, a failed one counting.
  Search all(Strategy::model, p.problem, p.search_candidates(), 10, 1, &m, p.floor_ms);
  while (auto i = all.next()) all.tell(*i, std::nullopt);
  EXPECT_EQ(all.evaluated(), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Search, AFamilyNotYetEvaluatedIsRankedAsIfFifteenPercentFaster) {
  auto with_y = [](double y_rel) {
    std::vector<Planted> c = kTiles;
    c.push_back({"y", "y1", {{"v", 1}}, y_rel});
    return c;
  };
  for (const auto& [y_rel, second] : {std::pair{1.12, 3u}, std::pair{1.3, 1u}}) {
    CostModel m;
    m.add(planted(1, 1.0, with_y(y_rel)));
    const RecordedProblem p = planted(4, 1.0, with_y(y_rel));
    EXPECT_EQ(model_picks(m, p, 2, 1.0), (std::vector<std::size_t>{0, second})) << y_rel;
  }
  CostModel none;
  const RecordedProblem p = planted(4, 1.0, kTiles);
  EXPECT_THROW(Search(Strategy::model, p.problem, p.search_candidates(), 1, 1, nullptr), std::invalid_argument);
  EXPECT_EQ(model_picks(none, p, 1, 1.0).size(), 1u) << "an empty model still ranks (everything unknown)";
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
// quarter of any problem's candidates. On the tables before the direct and large families (327
// problems) the search in rounds reached all 327 (the model's ranking alone 324). On the tables
// measured with them (rev 264d500 and 05283d7, 351 problems) it reaches 341: the misses are
// RepLKNet's large filters (10 to 17 candidates, so 2 to 4 evaluations, and the other large-filter
// layers, their only neighbours, disagree on the winner: worst 18.0%) and kb85_nhwc_f16/bf16
// (3.4%). Re-measured at rev 5341144 (the nhwc family's strips and staged strips, direct's 16-bit
// vector loads): networks 279 of 282 (worst 8.2%, RepLKNet 31x31), KernelBench 26 of 30: the new
// NHWC 16-bit strip tiles of kb83/kb85 (3 evaluations of 13; worst 14.0%, kb83_nhwc_bf16). The target
// is not met; this holds what is reached, per table, so a change that loses ground fails.
TEST(Replay, ModelOnTheShippedTablesWithAQuarterOfTheEvaluations) {
  ASSERT_GE(keep_all_tables().size(), 4u) << "the committed --keep-all tables";
  struct Reached {
    const char* table;
    int within;
    double worst;
  };
  const Reached reached[] = {{"h200/table.json", 26, 0.141},
                             {"h200/networks-table.json.gz", 279, 0.083},
                             {"h200/replknet-table.json", 21, 0.08},
                             {"h100/table.json", 15, 0.0}};
  int problems = 0, within = 0, random_within = 0;
  for (const auto& [path, t] : keep_all_tables()) {
    ReplayOptions opt;
    opt.strategy = Strategy::model;
    opt.fraction = 0.25;
    const ReplayResult r = replay(t, opt);
    SCOPED_TRACE(path.string() + "\n" + render_replay(r));
    EXPECT_LE(r.max_eval_fraction(), 0.25);
    for (const ReplayRow& row : r.rows) EXPECT_LE(row.evaluated * 4, row.candidates) << row.problem;
    const std::string name = path.parent_path().filename().string() + "/" + path.filename().string();
    const auto it = std::find_if(std::begin(reached), std::end(reached), [&](const Reached& x) { return name == x.table; });
    ASSERT_NE(it, std::end(reached)) << name << ": a new committed table; add what the search reaches on it";
    EXPECT_GE(r.problems_within(), it->within) << name;
    EXPECT_LE(r.worst_gap(), it->worst + 1e-9) << name;
    problems += static_cast<int>(r.rows.size());
    within += r.problems_within();
    opt.strategy = Strategy::random;
    opt.seeds = 20;
    const ReplayResult rnd = replay(t, opt);
    EXPECT_GT(r.within(), rnd.within() + 0.3) << "model against random sampling at the same budget";
    random_within += static_cast<int>(std::lround(rnd.within() * static_cast<double>(rnd.rows.size())));
  }
  EXPECT_EQ(problems, 351) << "the committed tables changed: update the numbers above";
  EXPECT_GE(within, 341);
  RecordProperty("within_3pct", fmt::format("{} of {} (random: {})", within, problems, random_within));
}

// The 200 random shapes of results/h200/random-table.json.gz (configs/random-fit.json: network-like
// and odd ones, odd filter sizes and asymmetric strides among them; re-measured with the direct and
// large families) are harder: 191 of 200 within 3%, worst 11.8% (r1_124: 3 evaluations of 15), at a
// quarter of the evaluations (188, worst 17.6%, with the filter's area at 1 per octave and the output
// plane as a term of the model's distance; the weights were chosen on these shapes, the shipped
// tables and the H100-from-H200 replay together). Holds what is reached there.
TEST(Replay, ModelStrategyOnRandomShapes) {
  const Table t = read_table(source_dir() / "results/h200/random-table.json.gz");
  ReplayOptions opt;
  opt.strategy = Strategy::model;
  opt.fraction = 0.25;
  const ReplayResult r = replay(t, opt);
  SCOPED_TRACE(render_replay(r));
  ASSERT_EQ(r.rows.size(), 200u);
  EXPECT_LE(r.max_eval_fraction(), 0.25);
  EXPECT_GE(r.problems_within(), 191);
  EXPECT_LE(r.worst_gap(), 0.12);
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
