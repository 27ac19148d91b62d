// Random problems through every supporting candidate and the verification path the tuner uses:
// 0 wrong results, and at least one passing candidate per problem. DWTUNE_FUZZ_N problems (default
// 200), seed DWTUNE_FUZZ_SEED (default 1); scripts/gpu-check.sh's fuzz step runs many more.
// Only dtypes and passes (forward, dgrad, wgrad) with compiled kernels are drawn (DWTUNE_DTYPES and
// DWTUNE_ONLY_FAMILIES may narrow the build).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <set>
#include <string>

#include "cuda_check.hpp"
#include "device.hpp"
#include "format.hpp"
#include "gpu_test.hpp"
#include "operation.hpp"
#include "random_problems.hpp"
#include "verify.hpp"

namespace dwt {
namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 10);
}

TEST(Fuzz, EveryCandidateIsRightAndEveryProblemHasOne) {
  DWT_REQUIRE_GPU();
  const std::uint64_t n = env_or("DWTUNE_FUZZ_N", 200), seed = env_or("DWTUNE_FUZZ_SEED", 1);
  RandomProblemOptions opt;
  std::set<DType> compiled;
  std::set<Pass> passes;
  for (const Operation* op : registry()) compiled.insert(op->desc().dtype), passes.insert(op->desc().pass);
  opt.dtypes.assign(compiled.begin(), compiled.end());
  opt.passes.assign(passes.begin(), passes.end());
  ASSERT_FALSE(opt.dtypes.empty()) << "no kernels compiled";
  const DeviceLimits lim = query_device_limits(0);
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  std::int64_t runs = 0, wrong = 0, unserved = 0;
  for (const Problem& p : random_problems(seed, n, opt)) {
    const std::string shape = fmt::format("{} {}", p.name, static_cast<const ConvShape&>(p));
    ProblemBuffers buf = ProblemBuffers::allocate(p);
    buf.fill_inputs(seed * 1000003 + runs, st);
    Verifier v(buf, st);
    int passed = 0;
    for (const Operation* op : registry()) {
      if (op->desc().dtype != p.dtype || op->desc().pass != p.pass || !op->supports(p, lim)) continue;
      const VerifyResult r = v.check(*op);
      ++runs;
      if (r.ok) {
        ++passed;
      } else if (++wrong <= 20) {
        ADD_FAILURE() << op->desc().name << " on " << shape << " (seed " << seed << "): " << r.reason;
      }
    }
    if (passed == 0 && ++unserved <= 20) ADD_FAILURE() << "no candidate passed on " << shape;
  }
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
  EXPECT_EQ(wrong, 0) << "wrong results in " << runs << " runs";
  EXPECT_EQ(unserved, 0) << "problems without a passing candidate";
  std::printf("fuzz: %llu problems (seed %llu, %zu passes), %lld candidate runs, %lld wrong, %lld unserved\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(seed), opt.passes.size(),
              static_cast<long long>(runs), static_cast<long long>(wrong),
              static_cast<long long>(unserved));
}

// f16 outputs of 1x1 filters are often products below f16's normal range (2^-14), which the output
// rounding alone gets wrong by up to 100% of the magnitude: the tolerance's floor must accept them
// on the CPU path (small problem) and the GPU path (over Verifier::kCpuLimit outputs) alike.
TEST(Fuzz, TinyF16MagnitudesPassOnBothReferencePaths) {
  DWT_REQUIRE_GPU();
  const DeviceLimits lim = query_device_limits(0);
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  int checked = 0;
  for (const std::int64_t hw : {64, 300}) {
    Problem p;
    p.name = fmt::format("tiny_f16_{}", hw);
    p.dtype = DType::f16;
    p.c = 64;
    p.h = p.w = hw;
    p.kh = hw == 64 ? 1 : 3;  // 1x1 and Kx1 filters, as in the issue
    p.kw = 1;
    ProblemBuffers buf = ProblemBuffers::allocate(p);
    buf.fill_inputs(7, st);
    Verifier v(buf, st);
    EXPECT_EQ(v.on_cpu(), hw == 64);
    for (const Operation* op : registry()) {
      if (op->desc().dtype != p.dtype || !op->supports(p, lim)) continue;
      const VerifyResult r = v.check(*op);
      EXPECT_TRUE(r.ok) << op->desc().name << " on " << p.name << ": " << r.reason;
      ++checked;
    }
  }
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
  if (checked == 0) GTEST_SKIP() << "no f16 kernels compiled (DWTUNE_DTYPES)";
}

}  // namespace
}  // namespace dwt
