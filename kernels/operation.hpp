// The tuner's view of a kernel: a type-erased Operation over one template instantiation.
// The tuner never names a template parameter; it sees a description, a support check and run().
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernel_desc.hpp"
#include "problem.hpp"

namespace dwt {

// Device pointers and the shape, passed by value to every kernel. Which pointers a kernel reads and
// writes depends on s.pass (null where the pass does not use them):
//   forward  x, w, bias -> y
//   dgrad    dy, w -> dx
//   wgrad    x, dy -> dw, and db when s.bias
// Shapes, in s.layout for the activations: x and dx [N, C, H, W]; y and dy [N, C*M, OH, OW];
// w and dw [C*M, 1, KH, KW]; bias and db [C*M].
struct ConvArgs {
  ConvShape s;
  const void* x = nullptr;
  const void* w = nullptr;
  const void* bias = nullptr;  // null when !s.bias
  void* y = nullptr;
  const void* dy = nullptr;
  void* dx = nullptr;
  void* dw = nullptr;
  void* db = nullptr;  // null when !s.bias
  // Scratch of at least Operation::workspace_bytes(s) bytes (null when that is 0); its contents on
  // entry are undefined and the kernel may leave anything there.
  void* workspace = nullptr;
};

struct DeviceLimits {
  int max_threads_per_block = 1024;
  std::size_t max_smem_per_block = 48 * 1024;  // opt-in limit (cudaDevAttrMaxSharedMemoryPerBlockOptin)
  int sm_count = 0;
  int cc = 0;  // compute capability, major * 10 + minor; 0: unknown
};

// Whether an instantiation can serve a problem; `reason` says why not.
struct Support {
  bool ok = true;
  std::string reason;
  static Support yes() { return {}; }
  static Support no(std::string why) { return {false, std::move(why)}; }
  explicit operator bool() const { return ok; }
};

struct LaunchConfig {
  dim3 grid{1, 1, 1};
  dim3 block{1, 1, 1};
  std::size_t smem_bytes = 0;  // dynamic shared memory
};

class Operation {
 public:
  virtual ~Operation() = default;
  virtual const KernelDesc& desc() const = 0;
  // Can this instantiation compute `s` correctly within `lim`? Never approximate: say no instead.
  virtual Support supports(const ConvShape& s, const DeviceLimits& lim) const = 0;
  virtual LaunchConfig config(const ConvShape& s) const = 0;
  // Device scratch run() needs for `s` (ConvArgs::workspace), e.g. a weight gradient's per-block
  // partial sums; 0: none.
  virtual std::size_t workspace_bytes(const ConvShape& s) const {
    (void)s;
    return 0;
  }
  // Launches on `stream`; throws CudaError if the launch fails.
  virtual void run(const ConvArgs& a, cudaStream_t stream) const = 0;
};

// Every compiled instantiation, in a stable order.
const std::vector<const Operation*>& registry();
// nullptr when no instantiation has that name.
const Operation* find_operation(std::string_view name);
// The families in registry order, without duplicates.
std::vector<std::string> families();
DeviceLimits query_device_limits(int device);

}  // namespace dwt
