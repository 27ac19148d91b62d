// Verification: a candidate's whole output, poisoned with NaN before the run, against a float64
// reference computed once per problem on the device and shared by every candidate (and cuDNN). On
// small problems that device reference is itself checked against the CPU's before anything uses it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
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

// Thrown when the device reference and the CPU reference disagree: nothing can be verified.
struct ReferenceMismatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The CPU reference of the pass's inputs now in `buf` (downloaded; f16/bf16 exactly as float).
Reference cpu_reference(const ProblemBuffers& buf, cudaStream_t st);

class Verifier {
 public:
  // Problems of up to this many reference terms (results; for wgrad, batch x output positions x
  // channels) also get the CPU reference, which checks the device one.
  static constexpr std::int64_t kCpuLimit = std::int64_t{1} << 22;

  // Computes the reference now; `buffers` must hold the inputs. Where the device reference does not
  // fit in free memory (12 bytes per output, at most half of what is free), small problems are
  // compared on the host and large ones recompute the reference on the device per check.
  Verifier(ProblemBuffers& buffers, cudaStream_t stream);
  // Poisons the output, runs `op`, compares the whole output. CUDA errors propagate as CudaError.
  VerifyResult check(const Operation& op);
  // Compares whatever is in the output buffer now (for baselines run outside the registry).
  VerifyResult compare_output();
  // Whether the CPU reference took part (it checked the device reference, or stands in for it).
  bool on_cpu() const { return cpu_checked_ || host_ref_.has_value(); }
  // Whether one device reference is shared by every check (false: a fallback, see the constructor).
  bool shared_on_device() const { return ref_value_.bytes() != 0; }
  // In words, for messages: "GPU, checked against CPU", "GPU", "CPU" or "GPU, recomputed per check".
  std::string reference_kind() const;

 private:
  ProblemBuffers& buf_;
  cudaStream_t st_;
  DeviceBuffer ref_value_, ref_mag_;   // the shared device reference (empty: did not fit)
  std::optional<Reference> host_ref_;  // fallback for small problems
  bool cpu_checked_ = false;
};

}  // namespace dwt
