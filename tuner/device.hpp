// Device memory and the device-side steps of verification: random inputs, NaN poison, the float64
// reference check kernel. Everything throws CudaError on failure.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "operation.hpp"
#include "problem.hpp"

namespace dwt {

// Whether a usable CUDA device exists; `why` gets the reason in plain words when not. Any failure
// (no driver, a driver older than the runtime, no device, ...) counts as "no GPU".
bool gpu_available(std::string* why = nullptr);
// Throws NoGpu (errors.hpp), "no CUDA device: <why>", when gpu_available says no.
void require_gpu();

// A CUDA version number as the driver and runtime report it (13000) in words ("13.0").
std::string cuda_version_text(int version);

// After a CUDA error: whether it left the context unusable (a sticky error such as an illegal
// address), so that nothing later can run. A recoverable error is cleared.
bool context_lost();

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes);  // throws CudaError (cudaErrorMemoryAllocation on OOM)
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return p_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void release() noexcept;
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};

// The tensors of one problem on the device, inputs filled with seeded uniform values in [-1, 1).
// Four buffers serve every pass (ConvArgs): x is the input or dx, y the output or dy, w the weights
// or dw, b the bias or db; which are inputs and which the result depends on shape.pass.
struct ProblemBuffers {
  ConvShape shape;
  DeviceBuffer x, w, b, y;
  DeviceBuffer workspace;  // Operation::workspace_bytes, grown by reserve_workspace

  static ProblemBuffers allocate(const ConvShape& s);
  void fill_inputs(std::uint64_t seed, cudaStream_t st);  // the pass's inputs
  void poison_output(cudaStream_t st);  // the pass's result, all bytes 0xFF: NaN in f32, f16 and bf16
  // Makes the workspace at least `bytes` (never shrinks it).
  void reserve_workspace(std::size_t bytes);
  ConvArgs args() const;  // the pointers shape.pass uses, the others null
};

// The device result of a pass, as one sequence of result_elems() values: `first` holds the first
// `first_elems`, `second` (wgrad's db) the rest.
struct ResultView {
  const void* first = nullptr;
  std::int64_t first_elems = 0;
  const void* second = nullptr;
};
ResultView result_of(const ConvArgs& a);
// The result downloaded as float, in that order (exact for f16/bf16).
std::vector<float> download_result(const ConvArgs& a, cudaStream_t st);

// Bytes a problem needs on the device (input, output, weights, bias).
std::size_t problem_device_bytes(const ConvShape& s);

// ProblemBuffers::allocate after checking the free memory. When the problem does not fit (or its
// allocation runs out of memory): nullopt, and `why` gives both sizes. CudaError on other failures.
std::optional<ProblemBuffers> allocate_if_fits(const ConvShape& s, std::string& why);

void fill_uniform(void* p, std::int64_t n, DType d, std::uint64_t seed, cudaStream_t st);
// Enqueues a kernel that does nothing (one block of 32 threads): the launch floor's measure.
void launch_empty_kernel(cudaStream_t st);
// Copies n elements of dtype d to the host as float (exact for f16/bf16).
std::vector<float> download_as_float(const void* p, std::int64_t n, DType d, cudaStream_t st);

struct GpuCheck {
  std::int64_t bad = 0;        // outputs over the tolerance, NaN or never written
  double max_error = 0;        // largest verification_error seen (inf if any NaN)
  std::int64_t first_bad = -1; // lowest bad index, -1 if none
};

// Compares a's result (ResultView) with a float64 reference computed on the device, element by element.
GpuCheck check_on_gpu(const ConvArgs& a, double tol, cudaStream_t st);
// The device reference itself (value and magnitude per result element, s.result_elems() of them,
// indexed as reference_cpu indexes them), for testing it against the CPU.
void reference_on_gpu(const ConvArgs& a, double* value, double* magnitude, cudaStream_t st);
// The same with the magnitude in float32, as the verifier keeps it: 12 bytes per output.
void reference_on_gpu(const ConvArgs& a, double* value, float* magnitude, cudaStream_t st);
// Compares a's output with a reference reference_on_gpu computed earlier (value, magnitude: one
// per output), element by element, with verification_error.
GpuCheck compare_on_gpu(const ConvArgs& a, const double* value, const float* magnitude, double tol,
                        cudaStream_t st);

}  // namespace dwt
