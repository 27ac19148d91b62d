// The host-side questions about the device that the tuner, verify and the benchmarks all ask.
#include <fmt/format.h>

#include "cuda_check.hpp"
#include "device.hpp"
#include "errors.hpp"

namespace dwt {

namespace {

std::string no_gpu_reason(cudaError_t err) {
  if (err == cudaErrorInsufficientDriver) {
    // The runtime reports a missing driver as one too old; the driver version 0 tells them apart.
    int driver = 0, runtime = 0;
    if (cudaDriverGetVersion(&driver) != cudaSuccess || driver == 0)
      return "no CUDA driver found (this machine has no NVIDIA GPU, or its driver is not installed)";
    cudaRuntimeGetVersion(&runtime);
    return fmt::format("the CUDA driver ({}) is older than the CUDA runtime dwtune was built with ({})",
                       cuda_version_text(driver), cuda_version_text(runtime));
  }
  if (err == cudaErrorNoDevice)
    return "no CUDA GPU found (the driver sees none; check CUDA_VISIBLE_DEVICES)";
  return fmt::format("{}: {}", cudaGetErrorName(err), cudaGetErrorString(err));
}

}  // namespace

bool gpu_available(std::string* why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the error state
    if (why) *why = no_gpu_reason(err);
    return false;
  }
  if (count == 0) {
    if (why) *why = no_gpu_reason(cudaErrorNoDevice);
    return false;
  }
  return true;
}

void require_gpu() {
  std::string why;
  if (!gpu_available(&why)) throw NoGpu("no CUDA device: " + why);
}

std::string cuda_version_text(int version) {
  return fmt::format("{}.{}", version / 1000, (version % 1000) / 10);
}

bool context_lost() {
  if (cudaDeviceSynchronize() == cudaSuccess) return false;
  cudaGetLastError();
  return cudaDeviceSynchronize() != cudaSuccess;
}

std::optional<ProblemBuffers> allocate_if_fits(const ConvShape& s, std::string& why) {
  std::size_t free_b = 0, total_b = 0;
  DWT_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  const std::size_t need = problem_device_bytes(s);
  auto too_large = [&](std::string_view detail) {
    why = fmt::format("problem needs {:.2f} GiB on the device, {:.2f} GiB free{}",
                      static_cast<double>(need) / (1 << 30), static_cast<double>(free_b) / (1 << 30), detail);
    return std::nullopt;
  };
  if (need > free_b) return too_large("");
  try {
    return ProblemBuffers::allocate(s);
  } catch (const CudaError& e) {
    if (e.code != cudaErrorMemoryAllocation) throw;
    cudaGetLastError();
    return too_large(": allocation failed");
  }
}

}  // namespace dwt
