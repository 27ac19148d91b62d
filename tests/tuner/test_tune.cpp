// The sweep's logic without a GPU (recorded results replayed through summarize), and on a GPU a
// real sweep of a small config, interrupted and resumed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "config.hpp"
#include "gpu_test.hpp"
#include "tune.hpp"

namespace dwt {
namespace {

Problem kb85() {
  Problem p;
  p.name = "kb85";
  p.n = 32;
  p.c = 128;
  p.h = 128;
  p.w = 256;
  p.kh = 3;
  p.kw = 7;
  return p;
}

CandidateResult result(const std::string& kernel, const std::string& family, Disposition d, double ms) {
  CandidateResult r;
  r.kernel = kernel;
  r.family = family;
  r.status = d;
  if (d == Disposition::passed) r.time = TimingStats{ms, ms * 0.9, ms * 1.1, 10};
  else r.reason = "planted";
  return r;
}

TEST(Summarize, FastestPassedWinsAndFailuresNeverWin) {
  std::vector<CandidateResult> rs{
      result("naive_a", "naive", Disposition::passed, 2.0),
      result("vec_fast_but_wrong", "vectorized", Disposition::incorrect, 0.01),
      result("vec_a", "vectorized", Disposition::passed, 0.30),
      result("vec_b", "vectorized", Disposition::passed, 0.25),
      result("reg_a", "regblock", Disposition::passed, 0.40),
      result("smem_oom", "smem", Disposition::out_of_memory, 0.0),
  };
  BaselineResult cudnn;
  cudnn.available = true;
  cudnn.time = TimingStats{1.0, 0.9, 1.2, 10};
  const Problem p = kb85();
  const ProblemEntry e = summarize(p, rs, cudnn, 3000.0, true);
  ASSERT_TRUE(e.ok);
  EXPECT_EQ(e.winner->kernel, "vec_b");
  EXPECT_EQ(e.candidates_total, 6);
  EXPECT_EQ(e.candidates_passed, 4);
  EXPECT_EQ(e.family_best.at("vectorized").kernel, "vec_b");
  EXPECT_EQ(e.family_best.at("naive").kernel, "naive_a");
  EXPECT_EQ(e.family_best.count("smem"), 0u);
  ASSERT_TRUE(e.speedup_vs_cudnn);
  EXPECT_DOUBLE_EQ(*e.speedup_vs_cudnn, 4.0);
  EXPECT_NEAR(e.winner->gbps, p.bytes() / 0.25e-3 / 1e9, 1e-9);
  EXPECT_NEAR(e.winner->bw_share, e.winner->gbps / 3000.0, 1e-12);
  EXPECT_NEAR(e.winner->gflops, p.flops() / 0.25e-3 / 1e9, 1e-6);
  EXPECT_EQ(e.candidates.size(), rs.size());
  EXPECT_FALSE(summarize(p, rs, cudnn, 3000.0, false).candidates.size());
}

TEST(Summarize, NoPassingCandidateMarksTheProblemFailed) {
  const ProblemEntry e = summarize(kb85(), {result("a", "naive", Disposition::incorrect, 0), result("b", "smem", Disposition::launch_failed, 0)},
                                   BaselineResult{}, 3000.0, false);
  EXPECT_FALSE(e.ok);
  EXPECT_FALSE(e.winner);
  EXPECT_NE(e.reason.find("incorrect"), std::string::npos);
  EXPECT_NE(e.reason.find("launch_failed"), std::string::npos);
  EXPECT_FALSE(e.speedup_vs_cudnn);
}

TEST(Candidates, Kb85GetsItsFixedSizeKernelsAndNoOthers) {
  DeviceLimits lim;
  lim.max_smem_per_block = 227 * 1024;
  lim.cc = 90;
  std::vector<CandidateResult> refused;
  const auto ops = candidates_for(kb85(), lim, {}, &refused);
  std::set<std::string> fams;
  for (const Operation* op : ops) {
    fams.insert(op->desc().family);
    EXPECT_EQ(op->desc().dtype, DType::f32);
    EXPECT_EQ(op->desc().name.find("k3x3"), std::string::npos) << op->desc().name;
  }
  std::set<std::string> all;  // the families with an instantiation that serves kb85
  for (const Operation* op : registry())
    if (op->supports(kb85(), lim)) all.insert(op->desc().family);
  EXPECT_EQ(fams, all);
  EXPECT_GE(fams.size(), 5u);  // naive, smem, regblock, vectorized, band, ... (3x7: not large)
  ASSERT_FALSE(refused.empty());
  for (const auto& r : refused) {
    EXPECT_EQ(r.status, Disposition::not_supported);
    EXPECT_FALSE(r.reason.empty());
  }
}

TEST(Candidates, VectorizedRefusesWidthStrideWithAReason) {
  Problem p = kb85();
  p.sw = 2;
  DeviceLimits lim;
  std::vector<CandidateResult> refused;
  const auto ops = candidates_for(p, lim, {"vectorized"}, &refused);
  EXPECT_TRUE(ops.empty());
  bool said = false;
  for (const auto& r : refused) said |= r.reason.find("stride") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_FALSE(candidates_for(p, lim, {"regblock"}, nullptr).empty());
}

TEST(Candidates, StagedNeedsSm90AndSaysSo) {
  DeviceLimits lim;
  lim.max_smem_per_block = 227 * 1024;
  for (int cc : {0, 80}) {
    lim.cc = cc;
    std::vector<CandidateResult> refused;
    EXPECT_TRUE(candidates_for(kb85(), lim, {"staged"}, &refused).empty()) << "sm_" << cc;
    ASSERT_FALSE(refused.empty());
    EXPECT_NE(refused[0].reason.find("sm_90"), std::string::npos) << refused[0].reason;
  }
  lim.cc = 90;
  EXPECT_FALSE(candidates_for(kb85(), lim, {"staged"}, nullptr).empty());
  lim.max_smem_per_block = 8 * 1024;  // below every staged ring
  std::vector<CandidateResult> refused;
  EXPECT_TRUE(candidates_for(kb85(), lim, {"staged"}, &refused).empty());
  ASSERT_FALSE(refused.empty());
  EXPECT_NE(refused[0].reason.find("shared memory"), std::string::npos) << refused[0].reason;
}

TEST(Candidates, SmemRefusesTilesOverTheSharedMemoryLimit) {
  Problem p = kb85();
  p.kh = 31;
  p.kw = 31;
  p.dh = p.dw = 4;
  DeviceLimits lim;
  lim.max_smem_per_block = 48 * 1024;
  std::vector<CandidateResult> refused;
  candidates_for(p, lim, {"smem"}, &refused);
  ASSERT_FALSE(refused.empty());
  EXPECT_NE(refused[0].reason.find("shared memory"), std::string::npos);
}

// What a search asks for when every candidate is told nothing (no GPU): the evaluation order.
std::vector<std::size_t> asked(Search s) {
  while (auto i = s.next()) s.tell(*i, std::nullopt);
  return s.evaluated();
}

TEST(Sampling, RandomStrategyIsSeededAndReproducible) {
  DeviceLimits lim;
  const auto ops = candidates_for(kb85(), lim, {}, nullptr);
  ASSERT_GT(ops.size(), 4u);
  TuneOptions opt;
  opt.strategy = Strategy::random;
  opt.budget = 3;
  opt.seed = 42;
  const auto a = asked(search_for(ops, kb85(), opt, nullptr, 0));
  EXPECT_EQ(a, asked(search_for(ops, kb85(), opt, nullptr, 0)));
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(std::set<std::size_t>(a.begin(), a.end()).size(), 3u);
  bool differs = false;
  for (opt.seed = 0; opt.seed < 10 && !differs; ++opt.seed) differs = asked(search_for(ops, kb85(), opt, nullptr, 0)) != a;
  EXPECT_TRUE(differs);
  opt.budget = 1000;
  EXPECT_EQ(asked(search_for(ops, kb85(), opt, nullptr, 0)).size(), ops.size());
  opt.budget = 0;  // none given: all of them
  EXPECT_EQ(asked(search_for(ops, kb85(), opt, nullptr, 0)).size(), ops.size());
  opt.budget_fraction = 0.25;
  EXPECT_EQ(asked(search_for(ops, kb85(), opt, nullptr, 0)).size(), static_cast<std::size_t>(budget_for(ops.size(), 0.25)));
}

// The tuner's model search over the registry's candidates: the tile the model ranks first is asked
// first, and no more than the budget.
TEST(Sampling, ModelStrategyAsksTheModelsFirstPickFirstWithinTheBudget) {
  DeviceLimits lim;
  const auto ops = candidates_for(kb85(), lim, {}, nullptr);
  ASSERT_GT(ops.size(), 4u);
  RecordedProblem seen;  // kb85 at another batch, where the last candidate was fastest
  seen.problem = kb85();
  seen.problem.n = 8;
  seen.floor_ms = 1;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const KernelDesc& d = ops[i]->desc();
    seen.kernels.push_back(d.name);
    seen.families.push_back(d.family);
    seen.signatures.push_back(tile_signature(d.family, d.dtype, d.params));
    seen.params.push_back(d.params);
    seen.ms.push_back(i + 1 == ops.size() ? 1.0 : 2.0);
  }
  CostModel model;
  model.add(seen);
  TuneOptions opt;
  opt.strategy = Strategy::model;
  opt.budget_fraction = 0.25;
  const auto a = asked(search_for(ops, kb85(), opt, &model, 1.0));
  ASSERT_EQ(a.size(), static_cast<std::size_t>(budget_for(ops.size(), 0.25)));
  EXPECT_EQ(a.front(), ops.size() - 1);
  EXPECT_THROW(search_for(ops, kb85(), opt, nullptr, 1.0), std::invalid_argument);
}

TEST(Pending, ShardsPartitionTheProblemsAndResumeSkipsDoneOnes) {
  ShapeSet set;
  for (int i = 0; i < 7; ++i) {
    Problem p = kb85();
    p.name = "p" + std::to_string(i);
    p.n = i + 1;
    set.problems.push_back(p);
  }
  std::set<std::size_t> all;
  for (int s = 0; s < 3; ++s)
    for (std::size_t i : pending_problems(set, nullptr, s, 3)) EXPECT_TRUE(all.insert(i).second);
  EXPECT_EQ(all.size(), 7u);
  EXPECT_EQ(pending_problems(set, nullptr, 1, 3), (std::vector<std::size_t>{1, 4}));
  Table done;
  ProblemEntry e;
  e.problem = set.problems[4];
  done.entries.push_back(e);
  EXPECT_EQ(pending_problems(set, &done, 1, 3), (std::vector<std::size_t>{1}));
}

const char* kSmallConfig = R"({"name": "small", "problems": [
  {"name": "a", "n": 1, "c": 8, "h": 33, "w": 70, "kernel": [3, 3], "padding": 1},
  {"name": "b", "n": 2, "c": 4, "h": 20, "w": 31, "kernel": [3, 7], "stride": [1, 2], "bias": true},
  {"name": "c", "n": 1, "c": 8, "h": 64, "w": 64, "kernel": 5, "dtype": "f16"}]})";

TEST(TuneGpu, SmallSweepWritesAVerifiedTableAndResumes) {
  DWT_REQUIRE_GPU();
  const ShapeSet set = parse_config_text(kSmallConfig, "small.json");
  const auto out = std::filesystem::temp_directory_path() / "dwtune-test-tune.json";
  std::filesystem::remove(out);
  TuneOptions opt;
  opt.out = out;
  opt.progress = Progress::quiet;
  opt.timing.warmup = 1;
  opt.timing.reps = 3;
  opt.keep_all = true;
  // Shard 0/2 first: problems a and c; then resume the whole set: only b is left to do.
  opt.shard_index = 0;
  opt.shard_count = 2;
  ASSERT_EQ(run_tune(set, opt), 0);
  Table t = read_table(out);
  ASSERT_EQ(t.entries.size(), 2u);
  EXPECT_GT(t.meta.copy_bandwidth_gbps, 100.0);
  EXPECT_FALSE(t.meta.gpu_name.empty());
  const std::string first_winner = t.entries[0].winner->kernel;
  opt.shard_count = 1;
  opt.resume = true;
  ASSERT_EQ(run_tune(set, opt), 0);
  t = read_table(out);
  ASSERT_EQ(t.entries.size(), 3u);
  EXPECT_EQ(t.entries[0].problem.name, "a");
  EXPECT_EQ(t.entries[1].problem.name, "b");
  EXPECT_EQ(t.entries[0].winner->kernel, first_winner);  // kept, not re-tuned
  for (const ProblemEntry& e : t.entries) {
    ASSERT_TRUE(e.ok) << e.problem.name << ": " << e.reason;
    EXPECT_EQ(e.winner->status, Disposition::passed);
    EXPECT_LE(*e.winner->max_error, e.problem.dtype == DType::f32 ? 1e-5 : 1e-2);
    EXPECT_GT(e.candidates_passed, 1);
    // Issue 17: the winner was confirmed (a second interleaved round), times are recorded.
    EXPECT_EQ(e.winner->time->reps, 2 * opt.timing.reps) << e.problem.name;
    ASSERT_TRUE(e.wall_s) << e.problem.name;
    EXPECT_GT(*e.wall_s, 0.0);
    EXPECT_EQ(e.phase_s.count("reference"), 1u);
    EXPECT_EQ(e.phase_s.count("confirm"), 1u);
    for (const CandidateResult& c : e.candidates) {
      if (c.status == Disposition::passed) EXPECT_GE(c.time->median_ms, e.winner->time->median_ms);
      if (c.status == Disposition::stopped_early) {
        EXPECT_EQ(c.time->reps, opt.stop.screen_reps);
        EXPECT_GT(c.time->min_ms, e.winner->time->median_ms) << c.kernel << ": stopped, yet faster";
      }
    }
  }
  ASSERT_TRUE(t.meta.wall_s);
  EXPECT_GT(*t.meta.wall_s, 0.0);
  std::filesystem::remove(out);
}

}  // namespace
}  // namespace dwt
