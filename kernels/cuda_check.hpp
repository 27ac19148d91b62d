// The one CUDA error check: every runtime call and every launch goes through DWT_CUDA_CHECK.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace dwt {

struct CudaError : std::runtime_error {
  cudaError_t code;
  CudaError(cudaError_t c, const std::string& what) : std::runtime_error(what), code(c) {}
};

inline void cuda_check(cudaError_t err, const char* call, const char* file, int line) {
  if (err != cudaSuccess) {
    throw CudaError(err, std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " +
                             cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
  }
}

}  // namespace dwt

#define DWT_CUDA_CHECK(call)                                     \
  do {                                                           \
    ::dwt::cuda_check((call), #call, __FILE__, __LINE__);        \
  } while (0)

// After a <<<...>>> launch: surfaces configuration errors at once.
#define DWT_CUDA_CHECK_LAUNCH() DWT_CUDA_CHECK(cudaGetLastError())
