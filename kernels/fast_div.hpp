// Integer division by a run-time divisor through a precomputed magic number, for kernels whose
// index arithmetic sits on the critical path (plain C++ on the host, so tests check it without a GPU).
#pragma once

#include "problem.hpp"  // DWT_HD

namespace dwt {

// Division of a non-negative int below 2^31 by a run-time divisor d >= 1 through a multiply-high, an
// add and a shift (the divisor's magic number and shift computed on the host): the quotient in three
// instructions where a plain division takes some twenty, on the path every load's address waits for.
struct FastDiv {
  unsigned d = 1, magic = 0, shift = 0;
  FastDiv() = default;
  explicit FastDiv(unsigned d_) : d(d_) {
    while (shift < 32 && (1ull << shift) < d) ++shift;
    magic = static_cast<unsigned>(((1ull << 32) * ((1ull << shift) - d)) / d + 1);
  }
  DWT_HD inline unsigned operator()(unsigned n) const {
#ifdef __CUDA_ARCH__
    const unsigned t = __umulhi(n, magic);
#else
    const unsigned t = static_cast<unsigned>((static_cast<unsigned long long>(n) * magic) >> 32);
#endif
    return (t + n) >> shift;
  }
};

}  // namespace dwt
