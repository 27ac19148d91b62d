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

// A problem's inputs on the host (f16/bf16 already converted exactly to float); what a pass does not
// read may be null (ConvArgs says which pass reads what).
struct HostInputs {
  const float* x = nullptr;
  const float* w = nullptr;
  const float* bias = nullptr;  // forward, when s.bias
  const float* dy = nullptr;    // dgrad, wgrad
};

// The result of s.pass, s.result_elems() of them, indexed as the kernels write them: forward y and
// dgrad dx in s.layout; wgrad dw as [C*M, KH, KW] followed, when s.bias, by db [C*M]. For wgrad the
// magnitude is the sum of |x*dy| (of |dy| for db). threads = 0 uses every hardware thread.
Reference reference_cpu(const ConvShape& s, const HostInputs& in, unsigned threads = 0);
// The forward pass: reference_cpu(s, {x, w, bias}); s.pass must be forward.
Reference reference_cpu(const ConvShape& s, const float* x, const float* w, const float* bias,
                        unsigned threads = 0);

// verification_error(out, ref, magnitude, dtype) is in tolerance.hpp, shared with device code.
// The tolerance on verification_error for a dtype: float32 1e-5, f16/bf16 1e-2 (DESIGN.md).
double tolerance(DType d);

}  // namespace dwt
