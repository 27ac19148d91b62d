// The verification error of one output, shared by the CPU and the GPU reference checks (host and
// device code): the same formula in both, or a kernel passes on one path and fails on the other.
#pragma once

#include <limits>

#include "problem.hpp"

namespace dwt {

// The smallest normal number of the output type. Below it the type's relative precision is gone:
// its absolute resolution is the subnormal step, smallest_normal * epsilon, whatever the value.
DWT_HD constexpr double smallest_normal(DType d) {
  return d == DType::f16 ? 0x1p-14 : 0x1p-126;  // f32 and bf16 share float's exponent range
}

// |out - ref| relative to the summed magnitude of the terms (sum |x*w| + |bias|), which bounds a
// float32 accumulation's error where the value itself may cancel to near zero; NaN and infinities
// give +inf. The magnitude counts as at least the output type's smallest normal: an output near
// zero is still rounded to the type, and f16 rounds values below 2^-14 to steps of 2^-24, an error
// of up to 2^-25, i.e. a relative error up to 1 when the terms are that small. With the floor the
// check allows tolerance * 2^-14 = 6.1e-7 absolute for f16 at 1e-2 (about 10 subnormal steps, 20x
// the rounding), 1.2e-40 for bf16 (1.3 of its subnormal steps 2^-133, above the half step) and
// 1.2e-43 for f32 (83 of its steps 2^-149); above the floor nothing changes.
DWT_HD constexpr double verification_error(double out, double ref, double magnitude, DType d) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double a = out < 0 ? -out : out;
  if (!(a <= std::numeric_limits<double>::max())) return inf;  // NaN or infinite
  const double diff = out > ref ? out - ref : ref - out;
  if (diff == 0.0) return 0.0;
  const double floor = smallest_normal(d);
  return diff / (magnitude > floor ? magnitude : floor);
}

}  // namespace dwt
