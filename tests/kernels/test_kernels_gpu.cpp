// Every compiled instantiation against the float64 reference on random problems: odd widths (1, 7,
// 4k+3), stride 1-3, dilation 1-2, filters up to 7 (up to 31 for kernels that take only large ones),
// padding up to the kernel size, multiplier 2, bias on and off,
// N = 1 and 2, every dtype, in the kernel's layout (NHWC: channel counts with and without vector
// tails), in the kernel's pass (forward, dgrad, wgrad), results poisoned with NaN before each run.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "device.hpp"
#include "family_paths.hpp"
#include "format.hpp"
#include "gpu_test.hpp"
#include "operation.hpp"
#include "reference_cpu.hpp"
#include "verify.hpp"

namespace dwt {
namespace {

// A random problem this instantiation supports, small enough for the CPU reference.
ConvShape random_problem(const Operation& op, std::mt19937& rng, const DeviceLimits& lim) {
  const KernelDesc& d = op.desc();
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int attempt = 0; attempt < 1000; ++attempt) {
    ConvShape s;
    s.dtype = d.dtype;
    s.layout = d.layout;
    s.pass = d.pass;
    // Run-time filter sizes up to 7; kernels for large filters only (they refuse the small ones) get
    // up to 31 after the first 500 attempts.
    const int kmax = attempt < 500 ? 7 : 31;
    s.kh = d.param("kh") ? d.param("kh") : pick(1, kmax);
    s.kw = d.param("kw") ? d.param("kw") : pick(1, kmax);
    s.n = pick(1, 2);
    s.c = pick(1, 4);
    // Channels are the vector axis in NHWC: whole vectors, tails (17, 3) and several blocks of them.
    if (s.layout == Layout::nhwc) {
      const int cs[] = {1, 3, 8, 16, 17, 24, 64, 144, 200, 520};
      s.c = cs[pick(0, 9)];
    }
    s.m = pick(1, 2);
    s.bias = s.pass != Pass::dgrad && pick(0, 1) == 1;  // dgrad has no bias
    s.sh = pick(0, 3) == 0 ? pick(2, 3) : 1;
    s.sw = pick(0, 3) == 0 ? pick(2, 3) : 1;
    s.dh = pick(0, 4) == 0 ? 2 : 1;
    s.dw = pick(0, 4) == 0 ? 2 : 1;
    if (d.param("stride") > 0) s.sh = s.sw = d.param("stride");  // compiled for one stride
    if (d.param("dilation") > 0) s.dh = s.dw = d.param("dilation");
    s.ph = pick(0, 2) == 0 ? pick(0, s.kh) : 0;
    s.pw = pick(0, 2) == 0 ? pick(0, s.kw) : 0;
    const int widths[] = {1, 7, 4 * pick(1, 20) + 3, pick(1, 140), 4 * pick(1, 32), 8 * pick(1, 16) + 1};
    s.w = widths[pick(0, 5)];
    s.h = pick(1, 40);
    if (s.c > 64) {  // keep the CPU reference quick
      s.w = s.w > 33 ? pick(1, 33) : s.w;
      s.h = pick(1, 12);
    }
    if (s.out_h() <= 0 || s.out_w() <= 0) continue;
    if (!op.supports(s, lim)) continue;
    return s;
  }
  ADD_FAILURE() << "no supported random problem found for " << d.name;
  return {};
}

class EveryKernel : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryKernel, MatchesReferenceOnRandomProblems) {
  DWT_REQUIRE_GPU();
  const Operation* op = find_operation(GetParam());
  ASSERT_NE(op, nullptr);
  const DeviceLimits lim = query_device_limits(0);
  std::mt19937 rng(static_cast<unsigned>(std::hash<std::string>{}(GetParam())));
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  constexpr int kProblems = 6;  // x ~290 instantiations: well over a thousand problems in all
  for (int i = 0; i < kProblems; ++i) {
    Problem p;
    static_cast<ConvShape&>(p) = random_problem(*op, rng, lim);
    const auto [r, on_cpu] = verify_on(*op, p, 1000 + i, st);
    ASSERT_TRUE(on_cpu);
    EXPECT_TRUE(r.ok) << op->desc().name << " on " << fmt::format("{}", static_cast<const ConvShape&>(p))
                      << ": " << r.reason;
  }
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
}

std::vector<std::string> all_names() {
  std::vector<std::string> v;
  for (const Operation* op : registry()) v.push_back(op->desc().name);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryKernel, ::testing::ValuesIn(all_names()),
                         [](const auto& info) { return info.param; });

// The staged family's copy paths, which random widths (at most 140) do not all reach: several
// column blocks per row with and without padding (one bulk copy per row, zero cells at the edges,
// unaligned windows), whole rows in one copy per stage with padding rows above and below, and
// strips that end part-way through a stage.
TEST(StagedPaths, EveryInstantiationMatchesTheReference) {
  DWT_REQUIRE_GPU();
  check_family_paths("staged", 50, [](const Operation& op, const DeviceLimits&, auto& check) {
    const KernelDesc& d = op.desc();
    const int v = d.dtype == DType::f32 ? 4 : 8;
    const int seg = d.param("bx") * d.param("tw"), rows = d.param("rows");
    struct Case {
      const char* what;
      int w, h, ph, pw, m;
    };
    const Case cases[] = {
        {"column blocks", 2 * seg + 3 * v, 2 * rows + 3, 0, 0, 1},
        {"column blocks, padded", 2 * seg + 3 * v, rows + 5, d.param("kh") - 1, 1, 2},
        {"column blocks, vector padding", seg + 2 * v, rows + 1, 1, v, 1},
        {"whole rows, padded rows", seg - v, 2 * rows + 1, 1, 0, 1},
    };
    for (const Case& c : cases) {
      Problem p;
      p.dtype = d.dtype;
      p.kh = d.param("kh");
      p.kw = d.param("kw");
      p.n = 1;
      p.c = 2;
      p.m = c.m;
      p.h = c.h;
      p.w = c.w;
      p.ph = c.ph;
      p.pw = c.pw;
      p.bias = true;
      check(p, c.what);
    }
  });
}

// One case of the band and direct path tests: n x c x h x w planes, depth multiplier m, padded to keep
// the size or not.
struct PathCase {
  const char* what;
  int n, c, h, w, m;
  bool pad;
};

// Every case on an instantiation of `d`'s family: its compile-time filter, stride and dilation, or
// for run-time tiles a 3x5 filter with stride 2x1 and dilation 1x2; bias on every other case checked.
template <std::size_t N, class Check>
void check_path_cases(const KernelDesc& d, const PathCase (&cases)[N], Check& check) {
  int done = 0;
  for (const PathCase& c : cases) {
    Problem p;
    p.dtype = d.dtype;
    const bool fixed = d.param("stride") > 0;
    p.kh = fixed ? d.param("kh") : 3;
    p.kw = fixed ? d.param("kw") : 5;
    p.sh = fixed ? d.param("stride") : 2;
    p.sw = fixed ? d.param("stride") : 1;
    p.dh = fixed ? d.param("dilation") : 1;
    p.dw = fixed ? d.param("dilation") : 2;
    p.n = c.n;
    p.c = c.c;
    p.m = c.m;
    p.h = c.h;
    p.w = c.w;
    p.ph = c.pad ? p.kh / 2 * p.dh : 0;
    p.pw = c.pad ? p.kw / 2 * p.dw : 0;
    p.bias = done % 2 == 0;
    done += check(p, c.what);
  }
}

// The band family's block shapes, which small random problems do not reach: many planes per block
// (more than a thousand planes) with plane starts off 16 bytes (7x7, 5x9), depth multiplier 2, bands
// of rows with halo rows (tall planes), bands wholly or partly in padding, rows so wide that a band
// is a single row group. Run-time tiles take an uneven stride, dilation and filter.
TEST(BandPaths, EveryInstantiationMatchesTheReference) {
  DWT_REQUIRE_GPU();
  check_family_paths("band", 70, [](const Operation& op, const DeviceLimits&, auto& check) {
    const PathCase cases[] = {
        {"many 7x7 planes", 2, 700, 7, 7, 1, true},
        {"many 5x9 planes, m2", 1, 1100, 5, 9, 2, true},
        {"many 14x14 planes, unpadded", 1, 1030, 14, 14, 1, false},
        {"bands with halo", 1, 2, 150, 61, 1, true},
        {"bands, m2, unpadded", 2, 3, 90, 100, 2, false},
        {"one-row-group bands", 1, 1, 20, 1500, 1, true},
    };
    check_path_cases(op.desc(), cases, check);
  });
}

// The direct family's vector windows, which the small random problems (a few channels, so most
// threads sit next to an end of the tensor and load element by element) seldom reach: many planes of
// network widths (7, 14, 28) and odd ones, padded and not, tensors that are not a whole number of
// vectors, depth multiplier 2, so that windows start at every alignment, cross rows and planes and
// meet both ends of the tensor.
TEST(DirectPaths, EveryInstantiationMatchesTheReference) {
  DWT_REQUIRE_GPU();
  check_family_paths("direct", 110, [](const Operation& op, const DeviceLimits&, auto& check) {
    const PathCase cases[] = {
        {"7x7 planes", 2, 96, 7, 7, 1, true},
        {"14x14 planes, m2", 1, 40, 14, 14, 2, true},
        {"28x28 planes, unpadded", 2, 16, 28, 28, 1, false},
        {"13x11 planes, odd tensor", 1, 37, 13, 11, 1, true},
        {"5x3 planes, m2, odd tensor", 3, 21, 5, 3, 2, true},
    };
    check_path_cases(op.desc(), cases, check);
  });
}

// The large family's block shapes, which small random problems do not reach: many small planes per
// block (RepLKNet's 7x7 with 13x13 and 14x14 with 27x27, where most taps meet padding only), bands of
// rows with halo on tall and on wide planes (several rounds of tiles per row), an asymmetric filter
// with uneven padding, padding wider than the filter (outputs that see no input at all), no padding,
// depth multiplier 2, bias on and off; filters under 9x9 refused.
TEST(LargePaths, EveryInstantiationMatchesTheReference) {
  DWT_REQUIRE_GPU();
  check_family_paths("large", 90, [](const Operation& op, const DeviceLimits& lim, auto& check) {
    const KernelDesc& d = op.desc();
    struct Case {
      const char* what;
      int n, c, h, w, kh, kw, ph, pw, m;
    };
    const Case cases[] = {
        {"many 7x7 planes, 13x13", 2, 2100, 7, 7, 13, 13, 6, 6, 1},
        {"14x14 planes, 27x27, m2", 1, 40, 14, 14, 27, 27, 13, 13, 2},
        {"bands of a 56x56 plane, 31x31", 1, 2, 56, 56, 31, 31, 15, 15, 1},
        {"tall bands, 9x9", 1, 1, 301, 23, 9, 9, 4, 4, 1},
        {"wide rows, 11x11", 1, 2, 19, 1100, 11, 11, 5, 5, 1},
        {"odd plane, 9x17 filter, uneven padding", 2, 3, 37, 53, 9, 17, 2, 8, 2},
        {"padding wider than the filter", 1, 3, 5, 6, 9, 9, 12, 10, 1},
        {"no padding, 1x21 strip", 1, 5, 9, 77, 1, 21, 0, 0, 1},
    };
    int done = 0, refused = 0;
    for (const Case& c : cases) {
      Problem p;
      p.dtype = d.dtype;
      p.n = c.n;
      p.c = c.c;
      p.m = c.m;
      p.h = c.h;
      p.w = c.w;
      p.kh = c.kh;
      p.kw = c.kw;
      p.ph = c.ph;
      p.pw = c.pw;
      p.bias = done % 2 == 0;
      ++done;
      const Support sup = op.supports(p, lim);
      if (d.param("swap") != 0 && !sup && sup.reason.find("shared memory") != std::string::npos) {
        ++refused;  // the swapped form stages the whole padded plane: refused where that does not fit
        continue;
      }
      EXPECT_TRUE(check(p, c.what)) << d.name << ", " << c.what << ": " << sup.reason;
    }
    EXPECT_LE(refused, 1) << d.name << ": only the wide rows may exceed shared memory";
    Problem small;  // compile-time sizes serve it
    small.dtype = d.dtype;
    small.h = small.w = 20;
    small.kh = small.kw = 7;
    EXPECT_FALSE(op.supports(small, lim)) << d.name;
  });
}

// Weight-gradient kernels sum partials in a fixed order: two runs on the same inputs, with different
// garbage in the workspace, give the same bytes (and both match the reference). The problem spans
// several blocks per channel and a bias, so both kernels and the reduction take part.
TEST(WgradDeterminism, TwoRunsGiveTheSameBytes) {
  DWT_REQUIRE_GPU();
  const DeviceLimits lim = query_device_limits(0);
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  int checked = 0;
  for (const Operation* op : registry()) {
    const KernelDesc& d = op->desc();
    if (d.pass != Pass::wgrad) continue;
    // Shape 1: x rows of whole quads (width 72, no column padding): the fixed 16-bit tiles' quad loads.
    for (int shape = 0; shape < 2; ++shape) {
      Problem p;
      p.pass = Pass::wgrad;
      p.dtype = d.dtype;
      p.layout = d.layout;
      p.kh = d.param("kh") ? d.param("kh") : 3;
      p.kw = d.param("kw") ? d.param("kw") : 5;
      p.sh = p.sw = d.param("stride") ? d.param("stride") : 2;
      p.dh = p.dw = d.param("dilation") ? d.param("dilation") : 1;
      p.n = 4;
      p.c = 24;
      p.h = 66;
      p.w = shape == 0 ? 70 : 72;
      p.ph = p.kh / 2;
      p.pw = shape == 0 ? p.kw / 2 : 0;
      p.bias = true;
      ASSERT_TRUE(op->supports(p, lim)) << d.name << ": " << op->supports(p, lim).reason;
      ProblemBuffers buf = ProblemBuffers::allocate(p);
      buf.fill_inputs(91, st);
      Verifier v(buf, st);
      std::vector<float> runs[2];
      for (int run = 0; run < 2; ++run) {
        const VerifyResult r = v.check(*op);  // reserves the workspace, poisons the result, runs
        EXPECT_TRUE(r.ok) << d.name << " run " << run << ": " << r.reason;
        runs[run] = download_result(buf.args(), st);
        DWT_CUDA_CHECK(cudaMemsetAsync(buf.workspace.get(), run == 0 ? 0x5a : 0, buf.workspace.bytes(), st));
      }
      ASSERT_EQ(runs[0].size(), static_cast<std::size_t>(p.result_elems()));
      EXPECT_EQ(std::memcmp(runs[0].data(), runs[1].data(), runs[0].size() * sizeof(float)), 0) << d.name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
}

// The device reference used for large problems, checked against the CPU reference, in every pass.
TEST(GpuReference, EqualsCpuReference) {
  DWT_REQUIRE_GPU();
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  int checked[3] = {};
  for (int i = 0; i < 72; ++i) {
    ConvShape s;
    s.pass = static_cast<Pass>(i / 24);
    s.dtype = static_cast<DType>(i % 3);
    s.n = 1 + i % 2;
    s.c = 3;
    s.m = 1 + i % 2;
    s.h = 17 + i;
    s.w = 23 + 2 * i;
    s.kh = 1 + i % 5;
    s.kw = 1 + (i * 3) % 7;
    s.sh = 1 + i % 3;
    s.sw = 1 + (i / 3) % 3;
    s.dh = 1 + i % 2;
    s.dw = 1 + (i / 2) % 2;
    s.ph = i % 3;
    s.pw = (i / 2) % 4;
    s.bias = s.pass != Pass::dgrad && i % 4 == 1;
    ASSERT_GT(s.out_h(), 0);
    ASSERT_GT(s.out_w(), 0);
    ProblemBuffers buf = ProblemBuffers::allocate(s);
    buf.fill_inputs(i, st);
    const Reference cpu = cpu_reference(buf, st);
    const std::size_t n = cpu.value.size();
    ASSERT_EQ(n, static_cast<std::size_t>(s.result_elems()));
    DeviceBuffer v(n * sizeof(double)), m(n * sizeof(double));
    reference_on_gpu(buf.args(), static_cast<double*>(v.get()), static_cast<double*>(m.get()), st);
    std::vector<double> gv(n), gm(n);
    DWT_CUDA_CHECK(cudaMemcpy(gv.data(), v.get(), n * sizeof(double), cudaMemcpyDeviceToHost));
    DWT_CUDA_CHECK(cudaMemcpy(gm.data(), m.get(), n * sizeof(double), cudaMemcpyDeviceToHost));
    for (std::size_t k = 0; k < n; ++k) {
      ASSERT_NEAR(gv[k], cpu.value[k], 1e-12 * (1 + cpu.magnitude[k])) << fmt::format("{}, result {}", s, k);
      ASSERT_NEAR(gm[k], cpu.magnitude[k], 1e-12 * (1 + cpu.magnitude[k])) << fmt::format("{}, result {}", s, k);
    }
    ++checked[static_cast<int>(s.pass)];
  }
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
  for (int c : checked) EXPECT_EQ(c, 24);
}

// A stand-in kernel for any pass (f32): the CPU reference, computed on the host and written where a
// kernel writes the pass's result (ResultView), with one mistake planted. It checks that the
// verifier hands it the workspace it asks for.
enum class Flaw { none, one_wrong, last_nan, unwritten, last_unwritten };

class HostPass final : public Operation {
 public:
  HostPass(Pass p, Flaw f) : flaw_(f) {
    d_.name = fmt::format("host_{}", to_string(p));
    d_.family = "host";
    d_.pass = p;
    d_.threads = 1;
  }
  const KernelDesc& desc() const override { return d_; }
  Support supports(const ConvShape& s, const DeviceLimits&) const override {
    return s.pass == d_.pass && s.dtype == DType::f32 ? Support::yes() : Support::no("f32, own pass");
  }
  LaunchConfig config(const ConvShape&) const override { return {}; }
  std::size_t workspace_bytes(const ConvShape&) const override { return 4096; }
  void run(const ConvArgs& a, cudaStream_t st) const override {
    EXPECT_NE(a.workspace, nullptr) << d_.name;
    const ConvShape& s = a.s;
    auto get = [&](const void* p, std::int64_t n) {
      return p ? download_as_float(p, n, s.dtype, st) : std::vector<float>();
    };
    const auto x = get(a.x, s.input_elems()), w = get(a.w, s.weight_elems()),
               b = get(a.bias, s.bias_elems()), dy = get(a.dy, s.output_elems());
    auto ptr = [](const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); };
    const Reference r = reference_cpu(s, HostInputs{.x = ptr(x), .w = ptr(w), .bias = ptr(b), .dy = ptr(dy)});
    if (flaw_ == Flaw::unwritten) return;
    std::vector<float> out(r.value.begin(), r.value.end());
    const std::size_t k = out.size() / 3, last = out.size() - 1;
    if (flaw_ == Flaw::one_wrong) out[k] += static_cast<float>(1e-3 * (1 + r.magnitude[k]));
    if (flaw_ == Flaw::last_nan) out[last] = std::nanf("");
    const std::size_t n = flaw_ == Flaw::last_unwritten ? last : out.size();
    const ResultView v = result_of(a);
    const std::size_t first = std::min(n, static_cast<std::size_t>(v.first_elems));
    DWT_CUDA_CHECK(cudaMemcpyAsync(const_cast<void*>(v.first), out.data(), first * sizeof(float),
                                   cudaMemcpyHostToDevice, st));
    if (n > first)
      DWT_CUDA_CHECK(cudaMemcpyAsync(const_cast<void*>(v.second), out.data() + first, (n - first) * sizeof(float),
                                     cudaMemcpyHostToDevice, st));
    DWT_CUDA_CHECK(cudaStreamSynchronize(st));
  }

 private:
  KernelDesc d_;
  Flaw flaw_;
};

// The verifier of each backward pass passes a right result and catches a wrong value, a NaN (in
// wgrad: in db), a result left unwritten and one element left unwritten (wgrad: the last db), on
// the CPU path (small problems) and the device path (above Verifier::kCpuLimit).
TEST(Verifier, EveryPassCatchesWrongAndUnwrittenResults) {
  DWT_REQUIRE_GPU();
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  for (const Pass pass : {Pass::dgrad, Pass::wgrad})
    for (const bool large : {false, true}) {
      Problem p;
      p.pass = pass;
      p.n = 2;
      p.c = large ? 16 : 3;
      p.m = large ? 1 : 2;
      p.h = large ? 300 : 17;
      p.w = large ? 510 : 23;
      p.kh = 3;
      p.kw = large ? 7 : 5;
      p.sh = large ? 1 : 2;
      p.ph = 1;
      p.bias = pass == Pass::wgrad;
      const std::string where = fmt::format("{}", static_cast<const ConvShape&>(p));
      ProblemBuffers buf = ProblemBuffers::allocate(p);
      buf.fill_inputs(11, st);
      Verifier v(buf, st);
      ASSERT_EQ(v.on_cpu(), !large) << where << ": " << v.reference_kind();
      const VerifyResult good = v.check(HostPass(pass, Flaw::none));
      EXPECT_TRUE(good.ok) << where << ": " << good.reason;
      EXPECT_LT(good.max_error, 1e-6) << where;

      const VerifyResult wrong = v.check(HostPass(pass, Flaw::one_wrong));
      EXPECT_FALSE(wrong.ok) << where;
      EXPECT_EQ(wrong.bad, 1) << where << ": " << wrong.reason;
      EXPECT_NE(wrong.reason.find(fmt::format("1 of {} {} results wrong", p.result_elems(), to_string(pass))),
                std::string::npos)
          << wrong.reason;
      EXPECT_NE(wrong.reason.find(pass == Pass::dgrad ? "first at dx at n=" : "first at dw[c="), std::string::npos)
          << wrong.reason;

      const VerifyResult nan = v.check(HostPass(pass, Flaw::last_nan));
      EXPECT_EQ(nan.bad, 1) << where << ": " << nan.reason;
      EXPECT_TRUE(std::isinf(nan.max_error)) << where;
      if (pass == Pass::wgrad)
        EXPECT_NE(nan.reason.find(fmt::format("db[c={}]", p.out_c() - 1)), std::string::npos) << nan.reason;

      const VerifyResult none = v.check(HostPass(pass, Flaw::unwritten));
      EXPECT_EQ(none.bad, p.result_elems()) << where << ": " << none.reason;
      const VerifyResult tail = v.check(HostPass(pass, Flaw::last_unwritten));
      EXPECT_EQ(tail.bad, 1) << where << ": " << tail.reason;
      // Right again after the failures: every check poisons and compares afresh.
      EXPECT_TRUE(v.check(HostPass(pass, Flaw::none)).ok) << where;
    }
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
}

// The device check catches a single wrong value, a NaN and an unwritten output on a problem large
// enough to take the device path.
TEST(GpuReference, CheckCatchesPlantedErrorsOnLargeProblems) {
  DWT_REQUIRE_GPU();
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  Problem p;
  p.n = 2;
  p.c = 16;
  p.h = 300;
  p.w = 510;
  p.kh = 3;
  p.kw = 7;
  p.bias = true;
  ASSERT_GT(p.output_elems(), Verifier::kCpuLimit);
  const Operation* naive = find_operation("naive_f32_nchw_b256");
  ASSERT_NE(naive, nullptr);
  ProblemBuffers buf = ProblemBuffers::allocate(p);
  buf.fill_inputs(3, st);
  Verifier v(buf, st);
  ASSERT_FALSE(v.on_cpu());
  const VerifyResult good = v.check(*naive);
  ASSERT_TRUE(good.ok) << good.reason;
  EXPECT_LT(good.max_error, 1e-6);

  float* y = static_cast<float*>(buf.y.get());
  const std::int64_t at = p.output_elems() / 3;
  float val = 0;
  DWT_CUDA_CHECK(cudaMemcpy(&val, y + at, sizeof val, cudaMemcpyDeviceToHost));
  const float wrong = val + 1e-3f;
  DWT_CUDA_CHECK(cudaMemcpy(y + at, &wrong, sizeof wrong, cudaMemcpyHostToDevice));
  VerifyResult r = v.compare_output();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad, 1);
  const float nan = std::nanf("");
  DWT_CUDA_CHECK(cudaMemcpy(y + 5, &nan, sizeof nan, cudaMemcpyHostToDevice));
  r = v.compare_output();
  EXPECT_EQ(r.bad, 2);
  EXPECT_TRUE(std::isinf(r.max_error));
  buf.poison_output(st);  // nothing written at all
  DWT_CUDA_CHECK(cudaStreamSynchronize(st));
  r = v.compare_output();
  EXPECT_EQ(r.bad, p.output_elems());
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
}

}  // namespace
}  // namespace dwt
