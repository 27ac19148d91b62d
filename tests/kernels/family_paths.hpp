// Shared by the GPU kernel tests: one verification of an instantiation on a problem, and the frame
// of the targeted path tests that run a family's instantiations over hand-picked problems.
#pragma once

#include <gtest/gtest.h>
#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "cuda_check.hpp"
#include "device.hpp"
#include "format.hpp"
#include "operation.hpp"
#include "verify.hpp"

namespace dwt {

// `op` on `p` with fresh inputs (seeded), checked against the reference; on_cpu: which reference.
struct Checked {
  VerifyResult r;
  bool on_cpu;
};
inline Checked verify_on(const Operation& op, const Problem& p, std::uint64_t seed, cudaStream_t st) {
  ProblemBuffers buf = ProblemBuffers::allocate(p);
  buf.fill_inputs(seed, st);
  Verifier v(buf, st);
  return {v.check(op), v.on_cpu()};
}

// The frame of the targeted path tests: cases(op, lim, check) for every instantiation of `family`,
// where check(p, what) verifies op on p when op supports it (fresh inputs from seed0 on, counting up
// per problem checked; the case named on failure) and says whether it did. Fails when no problem of
// the family was checked at all.
template <class Cases>
void check_family_paths(const std::string& family, std::uint64_t seed0, Cases cases) {
  const DeviceLimits lim = query_device_limits(0);
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  int checked = 0;
  for (const Operation* op : registry()) {
    const KernelDesc& d = op->desc();
    if (d.family != family) continue;
    std::uint64_t seed = seed0;
    auto check = [&](const Problem& p, const char* what) {
      if (p.out_w() <= 0 || p.out_h() <= 0 || !op->supports(p, lim)) return false;
      const VerifyResult r = verify_on(*op, p, seed++, st).r;
      EXPECT_TRUE(r.ok) << d.name << ", " << what << ", " << fmt::format("{}", static_cast<const ConvShape&>(p))
                        << ": " << r.reason;
      ++checked;
      return true;
    };
    cases(*op, lim, check);
  }
  EXPECT_GT(checked, 0) << family;
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
}

}  // namespace dwt
