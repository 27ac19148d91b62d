// CPU reference: float64 accumulation, every parameter, threaded over (n, out channel) planes.
#pragma once

#include <vector>

#include "problem.hpp"
#include "tolerance.hpp"

namespace dwt {

// Each output's exact value and the magnitude of what was summed (sum of |x*w| + |bias|): the error
// of a float32 accumulation is bounded relative to that magnitude, not to the (possibly cancelled)
// value, so verification measures error against it.
struct Reference {
  std::vector<double> value;
  std::vector<double> magnitude;
};

// Outputs are indexed in s.layout, as the kernels write them. x, w, bias hold the problem's values (f16/bf16 already converted exactly to float); bias may be
// null when !s.bias. threads = 0 uses every hardware thread.
Reference reference_cpu(const ConvShape& s, const float* x, const float* w, const float* bias,
                        unsigned threads = 0);

// verification_error(out, ref, magnitude, dtype) is in tolerance.hpp, shared with device code.
// The tolerance on verification_error for a dtype: float32 1e-5, f16/bf16 1e-2 (DESIGN.md).
double tolerance(DType d);

}  // namespace dwt
