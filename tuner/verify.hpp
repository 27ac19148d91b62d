// Verification: a candidate's whole output, poisoned with NaN before the run, against a float64
// reference — on the CPU for small problems, on the device (itself tested against the CPU) for
// large ones.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <optional>
#include <string>

#include "device.hpp"
#include "operation.hpp"
#include "reference_cpu.hpp"

namespace dwt {

struct VerifyResult {
  bool ok = false;
  double max_error = 0;
  std::int64_t bad = 0;  // outputs over the tolerance (NaN and unwritten included)
  std::string reason;    // when !ok
};

class Verifier {
 public:
  // Outputs up to this many are checked against the CPU reference.
  static constexpr std::int64_t kCpuLimit = std::int64_t{1} << 22;

  // Computes the CPU reference now when the problem is small; `buffers` must hold the inputs.
  Verifier(ProblemBuffers& buffers, cudaStream_t stream);
  // Poisons the output, runs `op`, compares the whole output. CUDA errors propagate as CudaError.
  VerifyResult check(const Operation& op);
  // Compares whatever is in the output buffer now (for baselines run outside the registry).
  VerifyResult compare_output();
  bool on_cpu() const { return ref_.has_value(); }

 private:
  ProblemBuffers& buf_;
  cudaStream_t st_;
  std::optional<Reference> ref_;
};

}  // namespace dwt
