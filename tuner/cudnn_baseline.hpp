// The cuDNN baseline, run in the same process on the same buffers and timed the same way:
// cudnnConvolutionForward with groups = C, every parameter, best algorithm by measurement.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <string>

#include "device.hpp"
#include "problem.hpp"
#include "table.hpp"
#include "timing.hpp"
#include "verify.hpp"

namespace dwt {

// "9.14.0", or "none" when built without cuDNN.
std::string cudnn_version_string();

class CudnnBaseline {
 public:
  explicit CudnnBaseline(cudaStream_t stream);  // creates the handle lazily
  ~CudnnBaseline();
  CudnnBaseline(const CudnnBaseline&) = delete;
  CudnnBaseline& operator=(const CudnnBaseline&) = delete;

  // Finds the best algorithm, verifies its output against the reference, then times it. Any cuDNN
  // refusal comes back as available = false with the reason; CUDA errors propagate.
  BaselineResult run(const Problem& p, ProblemBuffers& buf, Verifier& verifier, Timer& timer,
                     const TimerSettings& ts);

 private:
  cudaStream_t st_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dwt
