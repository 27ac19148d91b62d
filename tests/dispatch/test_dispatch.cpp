// The dispatch library: the choosing rules without a GPU (exact, nearest, default, tables of other
// GPUs), its slim table reader (tables the tuner wrote, unknown fields, malformed and unreadable
// files), then dwt::conv2d against the float64 reference on a GPU, with a table and without.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "check_dispatch.hpp"
#include "cost_model.hpp"
#include "cuda_check.hpp"
#include "device.hpp"
#include "dispatch.hpp"
#include "format.hpp"
#include "gpu_test.hpp"
#include "operation.hpp"
#include "problem_json.hpp"
#include "table.hpp"
#include "tuner/sample_table.hpp"
#include "verify.hpp"

namespace dwt {
namespace {

static_assert(kTuningTableSchema == kTableSchema, "dispatch reads the schema the tuner writes");

constexpr const char* kGpu = "Test GPU 80GB";

DeviceLimits test_limits() {
  DeviceLimits lim;
  lim.max_threads_per_block = 1024;
  lim.max_smem_per_block = 227 * 1024;
  lim.sm_count = 132;
  lim.cc = 90;
  return lim;
}

Problem make_problem(std::string name, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                     int kh, int kw, int stride = 1, int pad = 0, DType dt = DType::f32) {
  Problem p;
  p.name = std::move(name);
  p.n = n, p.c = c, p.h = h, p.w = w;
  p.kh = kh, p.kw = kw;
  p.sh = p.sw = stride;
  p.ph = p.pw = pad;
  p.dtype = dt;
  return p;
}

TunedEntry make_entry(const Problem& p, const std::string& winner, double ms = 1.0) {
  TunedEntry e;
  e.problem = p;
  e.ok = true;
  e.kernel = winner;
  e.median_ms = ms;
  return e;
}

TunedEntry with_baseline(TunedEntry e, double baseline_ms, double pytorch_ms = std::nan("")) {
  e.baseline_ms = baseline_ms;
  e.pytorch_ms = pytorch_ms;
  return e;
}

TuningTable make_table(std::string gpu, std::vector<TunedEntry> entries) {
  return {std::move(gpu), std::move(entries)};
}

// The same table in the tuner's full form, as `dwtune tune` writes it: for loading through files.
Table full_table(const TuningTable& slim) {
  Table t;
  t.meta.gpu_name = slim.gpu_name;
  t.meta.compute_capability = "9.0";
  t.meta.date = "2025-01-01T00:00:00Z";
  for (const TunedEntry& s : slim.entries) {
    ProblemEntry e;
    e.problem = s.problem;
    e.ok = s.ok;
    if (!s.ok) e.reason = "no candidate passed";
    CandidateResult c;
    c.kernel = s.kernel;
    c.family = s.kernel.substr(0, s.kernel.find('_'));
    c.status = Disposition::passed;
    c.time = TimingStats{s.median_ms, s.median_ms, s.median_ms, 10};
    e.winner = c;
    if (!std::isnan(s.baseline_ms)) {
      e.cudnn.available = true;
      e.cudnn.algo = "GEMM";
      e.cudnn.time = TimingStats{s.baseline_ms, s.baseline_ms, s.baseline_ms, 10};
      e.speedup_vs_cudnn = s.baseline_ms / s.median_ms;
    }
    if (!std::isnan(s.pytorch_ms))
      e.pytorch = PytorchTime{s.pytorch_ms, s.problem.layout == Layout::nhwc ? "channels_last" : "nchw"};
    e.candidates_total = 1;
    e.candidates_passed = s.ok ? 1 : 0;
    t.entries.push_back(std::move(e));
  }
  return t;
}

// Names of kernels the default build compiles; tests that use one skip where it is narrowed away.
#define REQUIRE_KERNEL(name)                                                      \
  do {                                                                            \
    if (!find_operation(name)) GTEST_SKIP() << (name) << " is not compiled in";   \
  } while (0)

const ConvShape& shape(const Problem& p) { return p; }

// ---- Exact hits ----

TEST(DispatchRules, ExactHitUsesTheTunedWinner) {
  const std::string winner = "regblock_f32_nchw_k3x7_t2x4_b32x4";
  REQUIRE_KERNEL(winner);
  const Problem kb85 = make_problem("kb85", 32, 128, 128, 256, 3, 7);
  const TuningTable t = make_table(kGpu, {make_entry(make_problem("kb82", 16, 64, 512, 512, 3, 3),
                                               "regblock_f32_nchw_k3x3_t1x4_b32x4"),
                                    make_entry(kb85, winner)});
  // Names play no part: a differently named problem of the same shape is the same problem.
  Problem same = kb85;
  same.name = "something else";
  const Choice c = choose_kernel(same, &t, kGpu, test_limits());
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.op->desc().name, winner);
  EXPECT_EQ(c.reason.rfind("exact: tuned entry kb85", 0), 0u) << c.reason;
}

TEST(DispatchRules, ExactEntryThatFailedIsNotUsed) {
  const Problem kb85 = make_problem("kb85", 32, 128, 128, 256, 3, 7);
  TunedEntry failed = make_entry(kb85, "regblock_f32_nchw_k3x7_t2x4_b32x4");
  failed.ok = false;
  const TuningTable t = make_table(kGpu, {failed});
  const Choice c = choose_kernel(kb85, &t, kGpu, test_limits());
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.reason.rfind("default:", 0), 0u) << c.reason;
}

TEST(DispatchRules, ExactWinnerNotCompiledFallsToNearestThenDefault) {
  const Problem kb85 = make_problem("kb85", 32, 128, 128, 256, 3, 7);
  const TuningTable t = make_table(kGpu, {make_entry(kb85, "vectorized_f32_nchw_k3x7_t9x9_b1x1")});
  const Choice c = choose_kernel(kb85, &t, kGpu, test_limits());
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.reason.rfind("default:", 0), 0u) << c.reason;
  EXPECT_NE(c.reason.find("not compiled"), std::string::npos) << c.reason;
}

// ---- The baseline beside the winner ----

TEST(DispatchRules, ExactEntryWhoseBaselineWasFasterSaysSo) {
  const std::string winner = "regblock_f32_nchw_k3x3_t2x4_b32x4";
  REQUIRE_KERNEL(winner);
  const Problem lost = make_problem("mbv2_960", 32, 960, 7, 7, 3, 3, 1, 1);
  const Problem won = make_problem("kb82", 16, 64, 512, 512, 3, 3);
  const Problem unmeasured = make_problem("nocudnn", 8, 64, 64, 64, 3, 3, 1, 1);
  const TuningTable t = make_table(kGpu, {with_baseline(make_entry(lost, winner, 0.061), 0.018),
                                          with_baseline(make_entry(won, winner, 0.56), 2.26),
                                          make_entry(unmeasured, winner, 0.01)});
  const Choice a = choose_kernel(lost, &t, kGpu, test_limits());
  ASSERT_NE(a.op, nullptr) << a.reason;
  EXPECT_EQ(a.op->desc().name, winner);  // dispatch still names the tuned winner
  EXPECT_TRUE(a.baseline_faster);
  EXPECT_EQ(a.reason.rfind("exact: tuned entry mbv2_960", 0), 0u) << a.reason;
  EXPECT_NE(a.reason.find("baseline faster: cuDNN 0.018 ms vs 0.061 ms"), std::string::npos) << a.reason;

  const Choice b = choose_kernel(won, &t, kGpu, test_limits());
  EXPECT_FALSE(b.baseline_faster) << b.reason;
  EXPECT_EQ(b.reason.find("baseline"), std::string::npos) << b.reason;
  const Choice c = choose_kernel(unmeasured, &t, kGpu, test_limits());
  EXPECT_FALSE(c.baseline_faster) << c.reason;
  // No table, no baseline: the default rule never claims one.
  const Choice d = choose_kernel(lost, nullptr, kGpu, test_limits());
  EXPECT_FALSE(d.baseline_faster) << d.reason;
}

// Issue 15: where the table has PyTorch's time (pytorch_baseline.py --merge), it is what the winner
// is weighed against, since F.conv2d is what a caller falls back to; cuDNN's decides only where
// PyTorch was not timed (tables from before the merge).
TEST(DispatchRules, PytorchTimeDecidesWhereTheTableHasIt) {
  const std::string winner = "regblock_f32_nchw_k3x3_t2x4_b32x4";
  REQUIRE_KERNEL(winner);
  const Problem py_faster = make_problem("f16_b32", 32, 384, 14, 14, 3, 3, 1, 1);
  const Problem only_cudnn_faster = make_problem("cudnn_only", 32, 960, 7, 7, 3, 3, 1, 1);
  const Problem old_table = make_problem("old", 32, 576, 14, 14, 3, 3, 1, 1);
  const Problem neither = make_problem("neither", 1, 32, 112, 112, 3, 3, 1, 1);
  const Problem py_only = make_problem("py_only", 1, 96, 56, 56, 3, 3, 1, 1);
  const TuningTable t = make_table(kGpu, {with_baseline(make_entry(py_faster, winner, 0.0148), 0.02, 0.0097),
                                          with_baseline(make_entry(only_cudnn_faster, winner, 0.010), 0.008, 0.012),
                                          with_baseline(make_entry(old_table, winner, 0.010), 0.005),
                                          with_baseline(make_entry(neither, winner, 0.010), 0.02, 0.03),
                                          with_baseline(make_entry(py_only, winner, 0.010), std::nan(""), 0.004)});
  const Choice a = choose_kernel(py_faster, &t, kGpu, test_limits());
  ASSERT_NE(a.op, nullptr) << a.reason;
  EXPECT_EQ(a.op->desc().name, winner);
  EXPECT_TRUE(a.baseline_faster) << a.reason;
  EXPECT_NE(a.reason.find("; baseline faster: PyTorch 0.0097 ms vs 0.0148 ms on entry f16_b32"), std::string::npos)
      << a.reason;
  // cuDNN as the tuner calls it beat the winner, PyTorch did not: F.conv2d would be slower.
  const Choice b = choose_kernel(only_cudnn_faster, &t, kGpu, test_limits());
  EXPECT_FALSE(b.baseline_faster) << b.reason;
  EXPECT_EQ(b.reason.find("baseline"), std::string::npos) << b.reason;
  const Choice c = choose_kernel(old_table, &t, kGpu, test_limits());
  EXPECT_TRUE(c.baseline_faster) << c.reason;
  EXPECT_NE(c.reason.find("baseline faster: cuDNN 0.005 ms vs 0.01 ms"), std::string::npos) << c.reason;
  EXPECT_FALSE(choose_kernel(neither, &t, kGpu, test_limits()).baseline_faster);
  const Choice e = choose_kernel(py_only, &t, kGpu, test_limits());
  EXPECT_TRUE(e.baseline_faster) << e.reason;
  EXPECT_NE(e.reason.find("baseline faster: PyTorch 0.004 ms"), std::string::npos) << e.reason;

  EXPECT_EQ(t.entries[0].framework_ms(), 0.0097);
  EXPECT_STREQ(t.entries[0].framework(), "PyTorch");
  EXPECT_EQ(t.entries[2].framework_ms(), 0.005);
  EXPECT_STREQ(t.entries[2].framework(), "cuDNN");
  EXPECT_TRUE(std::isnan(make_entry(neither, winner).framework_ms()));
  EXPECT_FALSE(make_entry(neither, winner).baseline_faster());
}

TEST(DispatchRules, NearestEntryCarriesItsBaselineVerdict) {
  const std::string winner = "regblock_f32_nchw_k3x3_t2x4_b32x4";
  REQUIRE_KERNEL(winner);
  const TuningTable t = make_table(
      kGpu, {with_baseline(make_entry(make_problem("small", 32, 960, 7, 7, 3, 3, 1, 1), winner, 0.06), 0.02)});
  const Choice c = choose_kernel(make_problem("q", 32, 1024, 7, 7, 3, 3, 1, 1), &t, kGpu, test_limits());
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.reason.rfind("nearest: tuned entry small", 0), 0u) << c.reason;
  EXPECT_TRUE(c.baseline_faster) << c.reason;
  EXPECT_NE(c.reason.find("on entry small"), std::string::npos) << c.reason;
}

// ---- Nearest hits ----

TEST(DispatchRules, NearestPicksTheClosestOutputCount) {
  const std::string small = "regblock_f32_nchw_k3x3_t1x4_b32x4";
  const std::string large = "regblock_f32_nchw_k3x3_t2x4_b32x4";
  REQUIRE_KERNEL(small);
  REQUIRE_KERNEL(large);
  const TuningTable t = make_table(
      kGpu, {make_entry(make_problem("small", 1, 32, 56, 56, 3, 3, 1, 1), small),
             make_entry(make_problem("large", 16, 64, 512, 512, 3, 3), large),
             // Another filter size and another stride: never candidates for a 3x3 stride-1 shape.
             make_entry(make_problem("k5", 16, 64, 512, 512, 5, 5), "regblock_f32_nchw_k5x5_t1x4_b32x4"),
             make_entry(make_problem("s2", 16, 64, 512, 512, 3, 3, 2), small)});
  const Choice a = choose_kernel(make_problem("q", 8, 64, 512, 512, 3, 3), &t, kGpu, test_limits());
  ASSERT_NE(a.op, nullptr) << a.reason;
  EXPECT_EQ(a.op->desc().name, large);
  EXPECT_EQ(a.reason.rfind("nearest: tuned entry large", 0), 0u) << a.reason;

  const Choice b = choose_kernel(make_problem("q", 2, 32, 64, 64, 3, 3), &t, kGpu, test_limits());
  ASSERT_NE(b.op, nullptr) << b.reason;
  EXPECT_EQ(b.op->desc().name, small);
  EXPECT_EQ(b.reason.rfind("nearest: tuned entry small", 0), 0u) << b.reason;
}

TEST(DispatchRules, NearestTiesBrokenByChannels) {
  const std::string a = "regblock_f32_nchw_k3x3_t1x4_b32x4";
  const std::string b = "regblock_f32_nchw_k3x3_t4x4_b32x4";
  REQUIRE_KERNEL(a);
  REQUIRE_KERNEL(b);
  // Both entries have as many outputs as the query; the second has its channel count.
  const TuningTable t = make_table(kGpu, {make_entry(make_problem("c16", 8, 16, 130, 130, 3, 3), a),
                                    make_entry(make_problem("c64", 2, 64, 130, 130, 3, 3), b)});
  const Choice c = choose_kernel(make_problem("q", 4, 64, 92, 130, 3, 3, 1, 0), &t, kGpu,
                                 test_limits());
  ASSERT_NE(c.op, nullptr) << c.reason;
  // outputs: c16 and c64 have 8*16*128*128 = 2*64*128*128; the query 4*64*90*128 differs from both
  // equally, so channels decide.
  EXPECT_EQ(c.op->desc().name, b) << c.reason;
}

// An operation that serves only narrow images: lets a test make the nearest winner refuse a shape.
class NarrowOnly final : public Operation {
 public:
  NarrowOnly() {
    d_.name = "narrowonly_f32_nchw_k3x3";
    d_.family = "narrowonly";
    d_.params = {{"kh", 3}, {"kw", 3}};
    d_.threads = 128;
  }
  const KernelDesc& desc() const override { return d_; }
  Support supports(const ConvShape& s, const DeviceLimits&) const override {
    if (s.w > 256) return Support::no("width above 256");
    return Support::yes();
  }
  LaunchConfig config(const ConvShape&) const override { return {}; }
  void run(const ConvArgs&, cudaStream_t) const override {}

 private:
  KernelDesc d_;
};

TEST(DispatchRules, NearestRefusedWhenItsWinnerDoesNotSupportTheShape) {
  static const NarrowOnly narrow;
  std::vector<const Operation*> ops = registry();
  ops.push_back(&narrow);
  const TuningTable t = make_table(kGpu, {make_entry(make_problem("near", 4, 64, 256, 256, 3, 3), narrow.desc().name)});

  const Choice ok = choose_kernel(make_problem("q", 4, 64, 200, 200, 3, 3), &t, kGpu, test_limits(), ops);
  EXPECT_EQ(ok.op, &narrow) << ok.reason;
  EXPECT_EQ(ok.reason.rfind("nearest:", 0), 0u) << ok.reason;

  const Choice refused = choose_kernel(make_problem("q", 4, 64, 300, 300, 3, 3), &t, kGpu, test_limits(), ops);
  ASSERT_NE(refused.op, nullptr) << refused.reason;
  EXPECT_NE(refused.op, &narrow);
  EXPECT_EQ(refused.reason.rfind("default:", 0), 0u) << refused.reason;
  EXPECT_NE(refused.reason.find("width above 256"), std::string::npos) << refused.reason;
}

// ---- Default rules ----

// The first registered kernel of a family for a dtype and filter size (kh = -1: any), or null.
const Operation* first_of(const std::string& family, DType dt, int kh = -1, int kw = -1) {
  for (const Operation* op : registry()) {
    const KernelDesc& d = op->desc();
    if (d.family != family || d.dtype != dt) continue;
    if (kh < 0) return op;
    int k[2] = {-1, -1};
    for (const auto& p : d.params) {
      if (p.name == "kh") k[0] = p.value;
      if (p.name == "kw") k[1] = p.value;
    }
    if (k[0] == kh && k[1] == kw) return op;
  }
  return nullptr;
}

TEST(DispatchRules, DefaultWithoutTablePrefersStagedForTheFilterSize) {
  const Operation* want = first_of("staged", DType::f32, 3, 7);
  if (!want) GTEST_SKIP() << "no staged f32 3x7 kernel compiled";
  const Choice c = choose_kernel(make_problem("q", 32, 128, 128, 256, 3, 7), nullptr, kGpu, test_limits());
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.op, want) << c.op->desc().name;
  EXPECT_EQ(c.reason.rfind("default: no tuning table loaded; staged kernel for the 3x7 filter: ", 0), 0u)
      << c.reason;
}

TEST(DispatchRules, DefaultBeforeSm90TakesVectorized) {
  const Operation* want = first_of("vectorized", DType::f32, 3, 7);
  if (!want) GTEST_SKIP() << "no vectorized f32 3x7 kernel compiled";
  DeviceLimits a100 = test_limits();
  a100.cc = 80;
  const Choice c = choose_kernel(make_problem("q", 32, 128, 128, 256, 3, 7), nullptr, kGpu, a100);
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.op, want) << c.op->desc().name;
  EXPECT_NE(c.reason.find("vectorized kernel for the 3x7 filter"), std::string::npos) << c.reason;
}

TEST(DispatchRules, DefaultSixteenBitTakesStagedToo) {
  for (DType dt : {DType::f16, DType::bf16}) {
    const Operation* want = first_of("staged", dt, 3, 3);
    if (!want) continue;
    const Choice c = choose_kernel(make_problem("q", 2, 8, 64, 64, 3, 3, 1, 1, dt), nullptr, kGpu,
                                   test_limits());
    EXPECT_EQ(c.op, want) << c.reason;
  }
}

TEST(DispatchRules, DefaultStrideTwoTakesBandForTheFilterSize) {
  const Operation* want = first_of("band", DType::f32, 3, 3);
  for (const Operation* op : registry())  // band's first 3x3 kernel compiled for stride 2
    if (op->desc().family == "band" && op->desc().dtype == DType::f32 && op->desc().needs.kh == 3 &&
        op->desc().name.find("_s2d1_") != std::string::npos) {
      want = op;
      break;
    }
  if (!want) GTEST_SKIP() << "no band f32 3x3 kernel compiled";
  const Choice c = choose_kernel(make_problem("q", 2, 8, 64, 64, 3, 3, 2, 1), nullptr, kGpu, test_limits());
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.op, want) << c.reason;
  EXPECT_NE(c.reason.find("band kernel for the 3x3 filter"), std::string::npos) << c.reason;
}

TEST(DispatchRules, DefaultRegblockPrefersItsDefaultTile) {
  const std::string want = "regblock_f32_nchw_k3x3_t4x4_b32x4";
  REQUIRE_KERNEL(want);
  std::vector<const Operation*> regblock;
  for (const Operation* op : registry())
    if (op->desc().family == "regblock") regblock.push_back(op);
  const Choice c = choose_kernel(make_problem("q", 2, 8, 64, 64, 3, 3, 2, 1), nullptr, kGpu, test_limits(), regblock);
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.op->desc().name, want);
}

TEST(DispatchRules, DefaultOddFilterTakesARuntimeSizeKernel) {
  const Choice c = choose_kernel(make_problem("q", 2, 8, 64, 64, 11, 2), nullptr, kGpu, test_limits());
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.op->desc().needs.kh, 0) << c.op->desc().name;
  EXPECT_NE(c.reason.find("kernel for any filter size"), std::string::npos) << c.reason;
  std::vector<const Operation*> regblock;
  for (const Operation* op : registry())
    if (op->desc().family == "regblock") regblock.push_back(op);
  const std::string want = "regblock_f32_nchw_kany_t4x4_b32x4";
  REQUIRE_KERNEL(want);
  EXPECT_EQ(choose_kernel(make_problem("q", 2, 8, 64, 64, 11, 2), nullptr, kGpu, test_limits(), regblock).op->desc().name,
            want);
}

TEST(DispatchRules, DefaultEndsWithNaiveAndSaysWhenNothingFits) {
  std::vector<const Operation*> naive_only;
  for (const Operation* op : registry())
    if (op->desc().family == "naive") naive_only.push_back(op);
  if (naive_only.empty()) GTEST_SKIP() << "no naive kernel compiled";
  const Choice c = choose_kernel(make_problem("q", 2, 8, 64, 64, 3, 3, 1, 0, naive_only[0]->desc().dtype),
                                 nullptr, kGpu, test_limits(), naive_only);
  EXPECT_EQ(c.op, naive_only[0]) << c.reason;

  DeviceLimits tiny = test_limits();
  tiny.max_threads_per_block = 16;  // no compiled kernel has so few threads
  const Choice none = choose_kernel(make_problem("q", 2, 8, 64, 64, 3, 3), nullptr, kGpu, tiny);
  EXPECT_EQ(none.op, nullptr);
  EXPECT_NE(none.reason.find("no compiled f32 nchw kernel supports"), std::string::npos) << none.reason;
}

TEST(DispatchRules, EveryDefaultChoiceSupportsItsShape) {
  const DeviceLimits lim = test_limits();
  for (DType dt : {DType::f32, DType::f16, DType::bf16}) {
    const auto& reg = registry();
    if (std::none_of(reg.begin(), reg.end(), [dt](const Operation* op) { return op->desc().dtype == dt; }))
      continue;  // dtype narrowed away by DWTUNE_DTYPES
    for (int k : {1, 3, 5, 7, 9})
      for (int stride : {1, 2})
        for (std::int64_t w : {1, 7, 250, 510}) {
          Problem p = make_problem("q", 1, 3, 9, w, k, 3, stride, k / 2, dt);
          p.pw = 1;
          p.bias = stride == 2;
          p.m = 1 + (k == 5);
          const Choice c = choose_kernel(p, nullptr, kGpu, lim);
          ASSERT_NE(c.op, nullptr) << fmt::format("{}", p) << ": " << c.reason;
          EXPECT_TRUE(c.op->supports(p, lim)) << c.op->desc().name;
        }
  }
}

TEST(DispatchRules, InvalidShapeIsAnError) {
  Problem p = make_problem("q", 1, 3, 2, 2, 3, 3);  // empty output
  EXPECT_THROW(choose_kernel(p, nullptr, kGpu, test_limits()), ProblemError);
}

// ---- Tables of other GPUs ----

TEST(DispatchRules, TableOfAnotherGpuIsNotUsed) {
  const std::string winner = "regblock_f32_nchw_k3x7_t2x4_b32x4";
  REQUIRE_KERNEL(winner);
  const Problem kb85 = make_problem("kb85", 32, 128, 128, 256, 3, 7);
  const TuningTable t = make_table("NVIDIA H200", {make_entry(kb85, winner)});
  const Choice c = choose_kernel(kb85, &t, "NVIDIA H100 80GB HBM3", test_limits());
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_NE(c.op->desc().name, winner);
  EXPECT_EQ(c.reason.rfind("default: the table is for \"NVIDIA H200\", this device is \"NVIDIA H100 80GB HBM3\"", 0), 0u)
      << c.reason;
}

// ---- Loading tables ----

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() / ("dwtune_test_dispatch_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

// ---- Issue 13: shipped tables and the learned model ----

std::filesystem::path source_dir();  // below

// A model of one sample: `p` timed with each kernel's time relative to the best as given.
DispatchModel model_of(const Problem& p, const std::vector<std::pair<std::string, double>>& rel,
                       const std::string& gpu = kGpu) {
  std::vector<std::string> sigs;
  ModelSample m;
  m.problem = p;
  m.key = p.key();
  m.gpu_name = gpu;
  for (const auto& [kernel, r] : rel) {
    const Operation* op = find_operation(kernel);
    sigs.push_back(tile_signature(op->desc().family, op->desc().params));
    m.rel.emplace_back(static_cast<std::uint32_t>(sigs.size() - 1), static_cast<float>(std::log(r)));
  }
  return DispatchModel(sigs, {m});
}

TEST(DispatchModel, PicksTheSmallestPredictionAndSaysWhy) {
  const std::string slow = "regblock_f32_nchw_k3x3_t1x4_b32x4", fast = "regblock_f32_nchw_k3x3_t2x4_b32x4";
  REQUIRE_KERNEL(slow);
  REQUIRE_KERNEL(fast);
  const Problem seen = make_problem("seen", 8, 96, 56, 56, 3, 3, 1, 1);
  const DispatchModel m = model_of(seen, {{slow, 1.6}, {fast, 1.0}});
  Problem other = seen;  // a similar shape no table holds
  other.c = 128;
  Knowledge k;
  k.model = &m;
  const Choice c = choose_kernel(other, k, kGpu, test_limits(), registry());
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.op->desc().name, fast);
  EXPECT_EQ(c.reason.rfind("model: " + fast + " predicted 1.0", 0), 0u) << c.reason;
  // Its own sample excluded, the model knows nothing of the shape: the default rule decides.
  k.exclude_key = other.key();
  EXPECT_EQ(choose_kernel(other, k, kGpu, test_limits(), registry()).reason.rfind("model: ", 0), 0u);
  const std::string seen_key = seen.key();
  k.exclude_key = seen_key;
  const Choice d = choose_kernel(other, k, kGpu, test_limits(), registry());
  EXPECT_EQ(d.reason.rfind("default: ", 0), 0u) << d.reason;
}

TEST(DispatchModel, NeverPicksAKernelTheDeviceCannotRun) {
  const std::string staged = "staged_f32_nchw_k3x3_r16x4_b32x4_s4x3", reg = "regblock_f32_nchw_k3x3_t2x4_b32x4";
  REQUIRE_KERNEL(staged);
  REQUIRE_KERNEL(reg);
  const Problem p = make_problem("p", 16, 64, 512, 512, 3, 3);
  const DispatchModel m = model_of(p, {{staged, 1.0}, {reg, 1.4}});
  Knowledge k;
  k.model = &m;
  DeviceLimits sm80 = test_limits();
  sm80.cc = 80;  // staged kernels need sm_90
  EXPECT_EQ(choose_kernel(p, k, kGpu, test_limits(), registry()).op->desc().name, staged);
  const Choice c = choose_kernel(p, k, kGpu, sm80, registry());
  ASSERT_NE(c.op, nullptr) << c.reason;
  EXPECT_EQ(c.op->desc().name, reg) << c.reason;
  // A stride the staged family refuses: never chosen, however good the model thinks it is.
  Problem s2 = p;
  s2.sh = s2.sw = 2;
  const Choice c2 = choose_kernel(s2, k, kGpu, test_limits(), registry());
  ASSERT_NE(c2.op, nullptr) << c2.reason;
  EXPECT_TRUE(c2.op->supports(s2, test_limits())) << c2.reason;
  EXPECT_NE(c2.op->desc().family, "staged") << c2.reason;
}

// The C++ model against scripts/fit_model.py's replica: the expected predictions of the fixture
// were written by the replica (tests/python/test_fit_model.py --write), which the Python test holds
// to them too; the fixture's samples lend compiled-filter twins and one is from another GPU.
TEST(DispatchModel, MatchesTheFitScriptReplica) {
  std::ifstream in(source_dir() / "tests" / "dispatch" / "model_fixture.json");
  ASSERT_TRUE(in) << "tests/dispatch/model_fixture.json";
  const nlohmann::json fx = nlohmann::json::parse(in);
  const nlohmann::json& jw = fx.at("weights");
  ModelWeights w;
  for (auto [name, field] : std::initializer_list<std::pair<const char*, double ModelWeights::*>>{
           {"dtype", &ModelWeights::dtype}, {"layout", &ModelWeights::layout}, {"filter", &ModelWeights::filter},
           {"filter_area", &ModelWeights::filter_area}, {"stride", &ModelWeights::stride},
           {"dilation", &ModelWeights::dilation}, {"multiplier", &ModelWeights::multiplier},
           {"out_w", &ModelWeights::out_w}, {"out_h", &ModelWeights::out_h}, {"planes", &ModelWeights::planes},
           {"size", &ModelWeights::size}, {"gpu", &ModelWeights::gpu}, {"prior", &ModelWeights::prior},
           {"prior_weight", &ModelWeights::prior_weight}})
    w.*field = jw.at(name).get<double>();
  std::vector<std::string> sigs;
  std::map<std::string, std::uint32_t> index;
  std::vector<ModelSample> samples;
  for (const nlohmann::json& js : fx.at("samples")) {
    ModelSample m;
    m.problem = js.at("problem").get<Problem>();
    m.key = m.problem.key();
    m.gpu_name = js.at("gpu").get<std::string>();
    for (const auto& [sig, r] : js.at("rel").items()) {
      auto [it, added] = index.emplace(sig, static_cast<std::uint32_t>(sigs.size()));
      if (added) sigs.push_back(sig);
      m.rel.emplace_back(it->second, r.get<float>());
    }
    samples.push_back(std::move(m));
  }
  const DispatchModel model(sigs, samples, w);
  int compared = 0;
  for (const nlohmann::json& q : fx.at("queries")) {
    const Problem p = q.at("problem").get<Problem>();
    const std::vector<Prediction> pred =
        model.predict_all(p, q.at("gpu").get<std::string>(), q.value("exclude", std::string()));
    for (const auto& [sig, want] : q.at("expected").items()) {
      const int i = model.signature_index(sig);
      ASSERT_GE(i, 0) << sig;
      EXPECT_NEAR(pred[static_cast<std::size_t>(i)].log_rel, want.get<double>(), 1e-6) << p.key() << ": " << sig;
      ++compared;
    }
  }
  EXPECT_GT(compared, 100);
}

TEST(DispatchModel, UserTableThenShippedTableThenModel) {
  const std::string a = "regblock_f32_nchw_k3x3_t1x4_b32x4", b = "regblock_f32_nchw_k3x3_t2x4_b32x4";
  REQUIRE_KERNEL(a);
  REQUIRE_KERNEL(b);
  const Problem p = make_problem("p", 1, 32, 112, 112, 3, 3, 1, 1);
  const TuningTable user = make_table(kGpu, {make_entry(p, a)});
  const TuningTable shipped = make_table(kGpu, {make_entry(p, b)});
  const DispatchModel m = model_of(p, {{a, 1.5}, {b, 1.0}});
  Knowledge k{&user, &shipped, &m, {}};
  Choice c = choose_kernel(p, k, kGpu, test_limits(), registry());
  EXPECT_EQ(c.op->desc().name, a);
  EXPECT_EQ(c.reason.rfind("exact: tuned entry p", 0), 0u) << c.reason;
  k.table = nullptr;
  c = choose_kernel(p, k, kGpu, test_limits(), registry());
  EXPECT_EQ(c.op->desc().name, b);
  EXPECT_EQ(c.reason.rfind("exact: shipped entry p", 0), 0u) << c.reason;
  // Shipped tables of another GPU model are not used; the model still is.
  c = choose_kernel(p, k, "Another GPU", test_limits(), registry());
  EXPECT_EQ(c.reason.rfind("model: ", 0), 0u) << c.reason;
  // A shipped winner this build does not have falls through to the model.
  const TuningTable missing = make_table(kGpu, {make_entry(p, "vectorized_f32_nchw_k3x3_t9x9_b1x1")});
  k.shipped = &missing;
  c = choose_kernel(p, k, kGpu, test_limits(), registry());
  EXPECT_EQ(c.reason.rfind("model: " + b, 0), 0u) << c.reason;
}

// The acceptance rule on the committed tables: with the shipped tables, every shape of
// kernelbench.json and networks.json gets its tuned winner on the GPU it was tuned on.
TEST(DispatchShipped, EveryCommittedEntryGivesItsTunedWinner) {
  int checked = 0, with_pytorch = 0, pytorch_faster = 0;
  for (const char* gpu : {"h200", "h100"})
    for (const char* file : {"table.json", "networks-table.json"}) {
      auto path = source_dir() / "results" / gpu / file;
      if (!std::filesystem::exists(path)) path += ".gz";  // the large keep-all tables are compressed
      if (!std::filesystem::exists(path)) continue;
      const Table full = read_table(path);
      const auto shipped = shipped_table(full.meta.gpu_name);
      ASSERT_NE(shipped, nullptr) << path << " is not built in";
      Knowledge k;
      k.shipped = shipped.get();
      k.model = &builtin_model();
      const DeviceLimits lim = limits_of(full.meta);
      for (const ProblemEntry& e : full.entries) {
        if (!e.ok || !e.winner || !find_operation(e.winner->kernel)) continue;
        const Choice c = choose_kernel(e.problem, k, full.meta.gpu_name, lim, registry());
        ASSERT_NE(c.op, nullptr) << e.problem.name << ": " << c.reason;
        // Of one shape in two tables the faster winner ships: equal, or the other table's.
        const TunedEntry* s = nullptr;
        for (const TunedEntry& t : shipped->entries)
          if (t.problem.key() == e.problem.key()) s = &t;
        ASSERT_NE(s, nullptr);
        EXPECT_EQ(c.op->desc().name, s->kernel) << path << " " << e.problem.name << ": " << c.reason;
        EXPECT_EQ(c.reason.rfind("exact: shipped entry", 0), 0u) << c.reason;
        if (s->median_ms == e.winner->time->median_ms) {
          EXPECT_EQ(c.op->desc().name, e.winner->kernel);
        }
        // PyTorch's time merged into the table ships with its entry, and decides the baseline flag.
        if (s->kernel == e.winner->kernel && std::abs(s->median_ms / e.winner->time->median_ms - 1) < 1e-8) {
          if (e.pytorch) {
            EXPECT_NEAR(s->pytorch_ms, e.pytorch->median_ms, 1e-8 * e.pytorch->median_ms) << e.problem.name;
            EXPECT_EQ(c.baseline_faster, e.pytorch->median_ms < e.winner->time->median_ms) << c.reason;
            pytorch_faster += e.pytorch->median_ms < e.winner->time->median_ms;
            with_pytorch += c.baseline_faster && c.reason.find("baseline faster: PyTorch") != std::string::npos;
          } else {
            EXPECT_TRUE(std::isnan(s->pytorch_ms)) << e.problem.name;
          }
        }
        ++checked;
      }
    }
  EXPECT_GT(checked, 0);
  // Every entry PyTorch beat routes to it and says so (in a build of every dtype: the committed
  // tables' f16 and bf16 batch-1 layers; RepLKNet's shipped entries come from its own, faster table).
  EXPECT_EQ(with_pytorch, pytorch_faster) << "results/h200/table.json and networks-table.json hold PyTorch's times";
}

// check-dispatch replayed on the committed --keep-all table: every choice was timed there.
TEST(DispatchShipped, CheckDispatchReplaysTheCommittedTable) {
  const Table t = read_table(source_dir() / "results" / "h200" / "table.json");
  const auto shipped = shipped_table(t.meta.gpu_name);
  Knowledge k;
  k.shipped = shipped.get();
  k.model = &builtin_model();
  const DispatchCheck c = check_dispatch(t, k, limits_of(t.meta), registry());
  ASSERT_FALSE(c.rows.empty());
  for (const DispatchCheckRow& r : c.rows) {
    EXPECT_FALSE(r.chosen.empty()) << r.problem << ": " << r.reason;
    EXPECT_TRUE(std::isfinite(r.ratio())) << r.problem << " chose " << r.chosen << " (" << r.status << ")";
    EXPECT_GE(r.ratio(), 1.0);
    EXPECT_EQ(r.reason.find("exact:"), std::string::npos) << "its own entry was not excluded: " << r.reason;
  }
  const std::string md = render_dispatch_check(c);
  EXPECT_NE(md.find("geometric mean"), std::string::npos);
}

// check-dispatch per pass: a backward entry is compared only when kernels of its pass are compiled
// in; without them it is skipped, never handed to a forward kernel.
TEST(DispatchShipped, CheckDispatchSkipsAPassWithoutKernels) {
  Table t = read_table(source_dir() / "results" / "h200" / "table.json");
  std::vector<const Operation*> forward;
  for (const Operation* op : registry())
    if (op->desc().pass == Pass::forward) forward.push_back(op);
  Knowledge k;
  k.model = &builtin_model();
  const DispatchCheck before = check_dispatch(t, k, limits_of(t.meta), forward);
  const auto timed = std::find_if(t.entries.begin(), t.entries.end(), [](const ProblemEntry& e) {
    return std::any_of(e.candidates.begin(), e.candidates.end(), [](const CandidateResult& c) { return c.time.has_value(); });
  });
  ASSERT_NE(timed, t.entries.end());
  ProblemEntry wgrad = *timed;
  wgrad.problem.pass = Pass::wgrad;
  wgrad.problem.name += "_wgrad";
  t.entries.push_back(wgrad);
  const DispatchCheck after = check_dispatch(t, k, limits_of(t.meta), forward);
  EXPECT_EQ(after.rows.size(), before.rows.size());
  EXPECT_EQ(after.skipped, before.skipped + 1);
  for (const DispatchCheckRow& r : after.rows) EXPECT_NE(r.problem, wgrad.problem.name);
  EXPECT_NE(render_dispatch_check(after).find("no kernel of their dtype, layout and pass"), std::string::npos);
}

TEST(DispatchTable, MissingOrGarbledFilesAreErrorsAndKeepThePreviousTable) {
  TempDir dir;
  const TuningTable good = make_table(kGpu, {make_entry(make_problem("kb85", 32, 128, 128, 256, 3, 7),
                                                  "regblock_f32_nchw_k3x7_t2x4_b32x4")});
  write_table_atomic(full_table(good), dir / "good.json");
  load_tuning_table(dir / "good.json");
  ASSERT_NE(tuning_table(), nullptr);
  EXPECT_EQ(tuning_table()->gpu_name, kGpu);

  try {
    load_tuning_table(dir / "missing.json");
    FAIL() << "a missing file loaded";
  } catch (const TableError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.json"), std::string::npos) << e.what();
  }
  write_text(dir / "garbled.json", "{\"schema\": 1, \"meta\": ");
  try {
    load_tuning_table(dir / "garbled.json");
    FAIL() << "a garbled file loaded";
  } catch (const TableError& e) {
    EXPECT_NE(std::string(e.what()).find("garbled.json"), std::string::npos) << e.what();
  }
  write_text(dir / "schema.json", "{\"schema\": 99, \"meta\": {}, \"entries\": []}");
  EXPECT_THROW(load_tuning_table(dir / "schema.json"), TableError);

  ASSERT_NE(tuning_table(), nullptr);
  EXPECT_EQ(tuning_table()->entries.size(), 1u);
  unload_tuning_table();
  EXPECT_EQ(tuning_table(), nullptr);
}

// What dispatch must keep of a table the tuner wrote: the GPU, and per entry the key, the name,
// ok, the winner's kernel and median time, in file order.
void expect_slim_view_of(const Table& full, const TuningTable& slim, const std::string& what) {
  EXPECT_EQ(slim.gpu_name, full.meta.gpu_name) << what;
  ASSERT_EQ(slim.entries.size(), full.entries.size()) << what;
  for (std::size_t i = 0; i < full.entries.size(); ++i) {
    const ProblemEntry& f = full.entries[i];
    const TunedEntry& s = slim.entries[i];
    const std::string at = fmt::format("{} entry {} ({})", what, i, f.problem.name);
    EXPECT_EQ(s.problem.key(), f.problem.key()) << at;
    EXPECT_EQ(s.problem.name, f.problem.name) << at;
    EXPECT_EQ(s.ok, f.ok) << at;
    EXPECT_EQ(s.kernel, f.winner ? f.winner->kernel : "") << at;
    const double want = f.winner && f.winner->time ? f.winner->time->median_ms : std::nan("");
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(s.median_ms)) << at;
    else
      EXPECT_EQ(s.median_ms, want) << at;
    const double base = f.cudnn.time ? f.cudnn.time->median_ms : std::nan("");
    if (std::isnan(base))
      EXPECT_TRUE(std::isnan(s.baseline_ms)) << at;
    else
      EXPECT_EQ(s.baseline_ms, base) << at;
    if (f.pytorch) {
      EXPECT_EQ(s.pytorch_ms, f.pytorch->median_ms) << at;
      EXPECT_EQ(s.baseline_faster(), f.winner && f.winner->time && f.pytorch->median_ms < f.winner->time->median_ms)
          << at;
    } else {
      EXPECT_TRUE(std::isnan(s.pytorch_ms)) << at;
      EXPECT_EQ(s.baseline_faster(), f.speedup_vs_cudnn && *f.speedup_vs_cudnn < 1) << at;
    }
  }
}

std::filesystem::path source_dir() {
  if (const char* dir = std::getenv("DWTUNE_SOURCE_DIR")) return dir;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

TEST(DispatchTable, TablesTheTunerWroteLoad) {
  std::vector<std::filesystem::path> files;
  for (const char* gpu : {"h200", "h100"})
    for (const auto& f : std::filesystem::directory_iterator(source_dir() / "results" / gpu))
      if (const std::string n = f.path().filename().string(); n.ends_with("table.json") || n.ends_with("table.json.gz"))
        files.push_back(f.path());
  EXPECT_GE(files.size(), 4u) << "results/h200 and results/h100 each hold table.json and networks-table.json(.gz)";
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    expect_slim_view_of(read_table(f), read_tuning_table(f), f.filename().string());
  }
  TempDir dir;
  write_table_atomic(sample::table(), dir / "sample.json");
  expect_slim_view_of(sample::table(), read_tuning_table(dir / "sample.json"), "sample table");
}

TEST(DispatchTable, UnknownFieldsAndFieldsDispatchDoesNotUseAreIgnored) {
  const std::string winner = "regblock_f32_nchw_k3x7_t2x4_b32x4";
  const Problem kb85 = make_problem("kb85", 32, 128, 128, 256, 3, 7);
  nlohmann::json j = full_table(make_table(kGpu, {make_entry(kb85, winner, 0.25)}));
  j["report_only"] = {{"roofline", true}};
  j["meta"]["new_metadata"] = {1, 2, 3};
  nlohmann::json& e = j["entries"][0];
  e["floor_ms"] = 0.2;
  e["winner"]["occupancy"] = {{"blocks_per_sm", 4}};
  e["problem"]["pass"] = "forward";
  // Fields the tuner requires but dispatch never reads.
  e.erase("family_best");
  e.erase("cudnn");
  e["winner"].erase("launch");
  j["meta"].erase("sm_count");
  TempDir dir;
  write_text(dir / "extra.json", j.dump(2));
  const TuningTable t = read_tuning_table(dir / "extra.json");
  EXPECT_EQ(t.gpu_name, kGpu);
  ASSERT_EQ(t.entries.size(), 1u);
  EXPECT_EQ(t.entries[0].problem.key(), kb85.key());
  EXPECT_EQ(t.entries[0].problem.name, "kb85");
  EXPECT_TRUE(t.entries[0].ok);
  EXPECT_EQ(t.entries[0].kernel, winner);
  EXPECT_EQ(t.entries[0].median_ms, 0.25);
  EXPECT_TRUE(std::isnan(t.entries[0].baseline_ms));  // "cudnn" erased above
  EXPECT_FALSE(t.entries[0].baseline_faster());
  if (find_operation(winner)) {
    load_tuning_table(dir / "extra.json");
    const Choice c = choose_kernel(kb85, tuning_table().get(), kGpu, test_limits());
    EXPECT_EQ(c.reason.rfind("exact: tuned entry kb85", 0), 0u) << c.reason;
    unload_tuning_table();
  }

  // The fewest fields a table may have: no problem object (no name), no winner.
  write_text(dir / "minimal.json",
             R"({"schema": 1, "meta": {"gpu_name": "G"}, "entries": [)"
             R"({"key": "n1_c8_h16_w16_k3x3_s1x1_p1x1_d1x1_m1_nobias_f32_nchw", "ok": false}]})");
  const TuningTable m = read_tuning_table(dir / "minimal.json");
  ASSERT_EQ(m.entries.size(), 1u);
  EXPECT_FALSE(m.entries[0].ok);
  EXPECT_EQ(m.entries[0].kernel, "");
  EXPECT_EQ(m.entries[0].problem.name, "");
  EXPECT_EQ(m.entries[0].problem.w, 16);

  // The baseline: read from "cudnn"."time"."median_ms"; null or absent time is unknown.
  write_text(dir / "baseline.json",
             R"({"schema": 1, "meta": {"gpu_name": "G"}, "entries": [)"
             R"({"key": "n1_c8_h16_w16_k3x3_s1x1_p1x1_d1x1_m1_nobias_f32_nchw", "ok": true,)"
             R"( "winner": {"kernel": "k", "time": {"median_ms": 0.5}}, "cudnn": {"time": {"median_ms": 0.25}}},)"
             R"({"key": "n2_c8_h16_w16_k3x3_s1x1_p1x1_d1x1_m1_nobias_f32_nchw", "ok": true,)"
             R"( "winner": {"kernel": "k", "time": {"median_ms": 0.5}}, "cudnn": {"available": false, "time": null}}]})");
  const TuningTable b = read_tuning_table(dir / "baseline.json");
  ASSERT_EQ(b.entries.size(), 2u);
  EXPECT_EQ(b.entries[0].baseline_ms, 0.25);
  EXPECT_TRUE(b.entries[0].baseline_faster());
  EXPECT_TRUE(std::isnan(b.entries[1].baseline_ms));
  EXPECT_FALSE(b.entries[1].baseline_faster());
  EXPECT_TRUE(std::isnan(b.entries[0].pytorch_ms));  // a table without PyTorch's times: unknown
}

// Issue 15: PyTorch's time as scripts/pytorch_baseline.py --merge writes it: read where present,
// unknown where absent or null at any level, and the one a table rule weighs the winner against.
TEST(DispatchTable, PytorchTimeIsReadWhereMerged) {
  const std::string key = "_c8_h16_w16_k3x3_s1x1_p1x1_d1x1_m1_nobias_f32_nchw";
  auto entry = [&](int n, const std::string& pytorch) {
    return fmt::format(R"({{"key": "n{}{}", "ok": true, "winner": {{"kernel": "k", "time": {{"median_ms": 0.0148}}}},)"
                       R"( "cudnn": {{"time": {{"median_ms": 0.02}}}}{}}})",
                       n, key, pytorch.empty() ? "" : ", \"pytorch\": " + pytorch);
  };
  TempDir dir;
  write_text(dir / "pytorch.json",
             R"({"schema": 1, "meta": {"gpu_name": "G", "pytorch": [{"file": "p.json", "torch": "2.11"}]}, "entries": [)" +
                 entry(1, R"({"time": {"median_ms": 0.0097}, "layout_run": "nchw"})") + ", " +
                 entry(2, R"({"time": {"median_ms": 0.03}, "layout_run": "nchw"})") + ", " + entry(3, "null") + ", " +
                 entry(4, R"({"time": null})") + ", " + entry(5, "") + "]}");
  const TuningTable t = read_tuning_table(dir / "pytorch.json");
  ASSERT_EQ(t.entries.size(), 5u);
  EXPECT_EQ(t.entries[0].pytorch_ms, 0.0097);
  EXPECT_EQ(t.entries[0].baseline_ms, 0.02);
  EXPECT_TRUE(t.entries[0].baseline_faster());
  EXPECT_EQ(t.entries[1].pytorch_ms, 0.03);
  EXPECT_FALSE(t.entries[1].baseline_faster());
  for (std::size_t i = 2; i < 5; ++i) {
    EXPECT_TRUE(std::isnan(t.entries[i].pytorch_ms)) << i;
    EXPECT_FALSE(t.entries[i].baseline_faster()) << i;  // cuDNN's 0.02 is slower too
  }
  write_text(dir / "bad.json", R"({"schema": 1, "meta": {"gpu_name": "G"}, "entries": [)" +
                                   entry(1, R"({"time": {"median_ms": "fast"}})") + "]}");
  try {
    read_tuning_table(dir / "bad.json");
    FAIL() << "a PyTorch time that is not a number was read";
  } catch (const TableError& e) {
    EXPECT_NE(std::string(e.what()).find("/entries/0/pytorch/time/median_ms"), std::string::npos) << e.what();
  }
}

TEST(DispatchTable, MalformedTablesAreRefusedNamingFileAndField) {
  const nlohmann::json good = full_table(make_table(
      kGpu, {make_entry(make_problem("kb85", 32, 128, 128, 256, 3, 7), "regblock_f32_nchw_k3x7_t2x4_b32x4")}));
  struct Case {
    std::string field;  // the JSON path the message must name
    void (*spoil)(nlohmann::json&);
  };
  const std::vector<Case> cases = {
      {"/schema", [](nlohmann::json& j) { j["schema"] = 99; }},
      {"/meta/gpu_name", [](nlohmann::json& j) { j["meta"]["gpu_name"] = 5; }},
      {"/entries", [](nlohmann::json& j) { j.erase("entries"); }},
      {"/entries/0/key", [](nlohmann::json& j) { j["entries"][0]["key"] = "n32_c128"; }},
      {"/entries/0/key",  // a key of an empty output
       [](nlohmann::json& j) { j["entries"][0]["key"] = "n1_c1_h2_w2_k3x3_s1x1_p0x0_d1x1_m1_nobias_f32_nchw"; }},
      {"/entries/0/ok", [](nlohmann::json& j) { j["entries"][0]["ok"] = "yes"; }},
      {"/entries/0/winner", [](nlohmann::json& j) { j["entries"][0]["winner"] = nullptr; }},
      {"/entries/0/winner/kernel", [](nlohmann::json& j) { j["entries"][0]["winner"].erase("kernel"); }},
      {"/entries/0/winner/time/median_ms",
       [](nlohmann::json& j) { j["entries"][0]["winner"]["time"]["median_ms"] = "fast"; }},
  };
  TempDir dir;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    nlohmann::json j = good;
    cases[i].spoil(j);
    const std::string file = fmt::format("bad{}.json", i);
    write_text(dir / file, j.dump());
    try {
      read_tuning_table(dir / file);
      ADD_FAILURE() << file << " loaded; expected an error naming " << cases[i].field;
    } catch (const TableError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(file), std::string::npos) << what;
      EXPECT_NE(what.find(cases[i].field + ":"), std::string::npos) << what;
    }
  }
}

// ---- On the GPU: conv2d equals the reference ----

std::string device_name(int dev) {
  cudaDeviceProp prop{};
  DWT_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  return prop.name;
}

// Problems that take different default rules: staged 3x7, regblock with width stride and bias,
// run-time filter size with multiplier 2 and dilation, f16 and bf16.
std::vector<Problem> gpu_problems() {
  std::vector<Problem> v;
  v.push_back(make_problem("kb85_small", 2, 8, 33, 70, 3, 7));
  Problem s2 = make_problem("s2_bias", 2, 6, 41, 53, 3, 3, 2, 1);
  s2.bias = true;
  v.push_back(s2);
  Problem rt = make_problem("k4x2_m2", 1, 5, 30, 31, 4, 2, 1, 1);
  rt.m = 2;
  rt.dh = rt.dw = 2;
  v.push_back(rt);
  v.push_back(make_problem("f16_5x5", 2, 4, 37, 250, 5, 5, 1, 2, DType::f16));
  Problem bf = make_problem("bf16_3x1", 3, 4, 64, 129, 3, 1, 1, 0, DType::bf16);
  bf.bias = true;
  v.push_back(bf);
  return v;
}

// Runs dwt::conv2d on p and checks the whole output against the float64 reference.
void expect_conv2d_matches_reference(const Problem& p, cudaStream_t st) {
  ProblemBuffers buf = ProblemBuffers::allocate(p);
  buf.fill_inputs(42, st);
  Verifier v(buf, st);
  buf.poison_output(st);
  conv2d(p, buf.x.get(), buf.w.get(), p.bias ? buf.b.get() : nullptr, buf.y.get(), st);
  const VerifyResult r = v.compare_output();
  int dev = 0;
  DWT_CUDA_CHECK(cudaGetDevice(&dev));
  EXPECT_TRUE(r.ok) << p.name << " with " << choose(p, dev).reason << ": " << r.reason;
}

TEST(DispatchGpu, Conv2dWithoutTableMatchesReference) {
  DWT_REQUIRE_GPU();
  unload_tuning_table();
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  for (const Problem& p : gpu_problems()) {
    EXPECT_EQ(choose(p, 0).reason.rfind("exact: tuned entry", 0), std::string::npos) << choose(p, 0).reason;
    expect_conv2d_matches_reference(p, st);
  }
  DWT_CUDA_CHECK(cudaStreamSynchronize(st));
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
}

TEST(DispatchGpu, Conv2dWithTableMatchesReference) {
  DWT_REQUIRE_GPU();
  DWT_CUDA_CHECK(cudaSetDevice(0));
  const std::vector<Problem> ps = gpu_problems();
  // Winners the default rule would not pick: the tuned entry must be what runs.
  std::vector<TunedEntry> entries;
  entries.push_back(make_entry(ps[0], "regblock_f32_nchw_k3x7_t1x4_b32x4"));
  entries.push_back(make_entry(ps[1], "smem_f32_nchw_b32x8_t2"));
  entries.push_back(make_entry(ps[2], "naive_f32_nchw_b256"));
  entries.push_back(make_entry(ps[3], "regblock_f16_nchw_k5x5_t2x4_b32x4"));
  // The last vectorized bf16 3x1 tile: the default takes the first.
  std::string last_vec;
  for (const Operation* op : registry())
    if (op->desc().family == "vectorized" && op->desc().dtype == DType::bf16 &&
        op->desc().name.find("_k3x1_") != std::string::npos)
      last_vec = op->desc().name;
  entries.push_back(make_entry(ps[4], last_vec.empty() ? "naive_bf16_nchw_b256" : last_vec));
  for (const auto& e : entries) REQUIRE_KERNEL(e.kernel);
  TempDir dir;
  write_table_atomic(full_table(make_table(device_name(0), entries)), dir / "table.json");
  load_tuning_table(dir / "table.json");

  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const Choice c = choose(ps[i], 0);
    ASSERT_NE(c.op, nullptr) << c.reason;
    EXPECT_EQ(c.op->desc().name, entries[i].kernel) << c.reason;
    EXPECT_EQ(c.reason.rfind("exact:", 0), 0u) << c.reason;
    expect_conv2d_matches_reference(ps[i], st);
  }
  // A shape near kb85_small takes its winner.
  Problem near = ps[0];
  near.n = 3;
  near.h = 40;
  const Choice c = choose(near, 0);
  // The model comes before the nearest entry (the built-in model may know the shape's class).
  EXPECT_TRUE(c.reason.starts_with("nearest: tuned entry kb85_small") || c.reason.starts_with("model: "))
      << c.reason;
  expect_conv2d_matches_reference(near, st);

  DWT_CUDA_CHECK(cudaStreamSynchronize(st));
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
  unload_tuning_table();
}

TEST(DispatchGpu, TableOfAnotherGpuFallsBackToDefaults) {
  DWT_REQUIRE_GPU();
  const Problem p = gpu_problems()[0];
  TempDir dir;
  write_table_atomic(full_table(make_table("Some Other GPU", {make_entry(p, "naive_f32_nchw_b256")})),
                     dir / "t.json");
  testing::internal::CaptureStderr();
  load_tuning_table(dir / "t.json");
  const Choice c = choose(p, 0);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Some Other GPU"), std::string::npos) << err;
  EXPECT_EQ(c.reason.rfind("exact: tuned entry", 0), std::string::npos) << c.reason;
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  expect_conv2d_matches_reference(p, st);
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
  unload_tuning_table();
}

// The per-call path answers what choose answers, for a shape whose table entry measured cuDNN
// faster and one whose did not, repeatedly (the thread's last shape, then the cache), and follows a
// table change.
TEST(DispatchGpu, QuickChoiceFollowsChooseAndTableChanges) {
  DWT_REQUIRE_GPU();
  DWT_CUDA_CHECK(cudaSetDevice(0));
  const std::vector<Problem> ps = gpu_problems();
  const std::string winner = "naive_f32_nchw_b256";
  REQUIRE_KERNEL(winner);
  TempDir dir;
  write_table_atomic(full_table(make_table(device_name(0), {with_baseline(make_entry(ps[0], winner, 0.5), 0.1),
                                                             with_baseline(make_entry(ps[1], winner, 0.1), 0.5)})),
                     dir / "table.json");
  auto expect_same = [](const Problem& p, const char* when) {
    const Choice c = choose(p, 0);
    for (int i = 0; i < 3; ++i) {
      const QuickChoice q = choose_quick(p, 0);
      EXPECT_EQ(q.op, c.op) << when << ", " << p.name << ": " << c.reason;
      EXPECT_EQ(q.baseline_faster, c.baseline_faster) << when << ", " << p.name << ": " << c.reason;
    }
  };
  unload_tuning_table();
  for (const Problem& p : ps) expect_same(p, "without a table");
  load_tuning_table(dir / "table.json");
  EXPECT_TRUE(choose_quick(ps[0], 0).baseline_faster);
  EXPECT_EQ(choose_quick(ps[0], 0).op, find_operation(winner));
  EXPECT_FALSE(choose_quick(ps[1], 0).baseline_faster);
  EXPECT_EQ(choose_quick(ps[1], 0).op, find_operation(winner));
  for (const Problem& p : ps) expect_same(p, "with the table");
  unload_tuning_table();
  for (const Problem& p : ps) expect_same(p, "after unloading");
}

TEST(DispatchGpu, BadArgumentsAreErrors) {
  DWT_REQUIRE_GPU();
  Problem p = gpu_problems()[0];
  float dummy = 0;
  EXPECT_THROW(conv2d(p, nullptr, &dummy, nullptr, &dummy, nullptr), std::invalid_argument);
  EXPECT_THROW(conv2d(p, &dummy, &dummy, &dummy, &dummy, nullptr), std::invalid_argument);
  p.w = 1;  // empty output
  EXPECT_THROW(conv2d(p, &dummy, &dummy, nullptr, &dummy, nullptr), ProblemError);
}

}  // namespace
}  // namespace dwt
