// Device-side helpers shared by every kernel family: element conversion, indexing, launch plumbing.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <sstream>
#include <string>

#include "cuda_check.hpp"
#include "operation.hpp"

namespace dwt {

// Concatenates its arguments. Kernel headers stay free of fmt: nvcc in C++20 mode cannot compile
// fmt 9's consteval format-string checks.
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::f32; };
template <> struct DTypeOf<__half> { static constexpr DType value = DType::f16; };
template <> struct DTypeOf<__nv_bfloat16> { static constexpr DType value = DType::bf16; };

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// Read-only cached load, converted to float.
template <class T> __device__ __forceinline__ float ldg_f(const T* p) { return to_float(__ldg(p)); }

// Bias of output channel oc, or 0.
template <class T>
__device__ __forceinline__ float bias_of(const ConvArgs& a, std::int64_t oc) {
  return a.bias ? ldg_f(static_cast<const T*>(a.bias) + oc) : 0.0f;
}

inline constexpr unsigned kMaxGridYZ = 65535;

inline unsigned clamp_grid_yz(std::int64_t v) {
  return static_cast<unsigned>(v < 1 ? 1 : (v > kMaxGridYZ ? kMaxGridYZ : v));
}

// Checks every family shares: dtype, layout, threads per block, shared memory.
inline Support common_support(const KernelDesc& d, const ConvShape& s, const DeviceLimits& lim,
                              std::size_t smem) {
  if (s.dtype != d.dtype)
    return Support::no(cat("dtype ", to_string(s.dtype), " != kernel dtype ", to_string(d.dtype)));
  if (s.layout != d.layout) return Support::no("layout not supported");
  if (d.threads > lim.max_threads_per_block)
    return Support::no(cat(d.threads, " threads per block > device limit ", lim.max_threads_per_block));
  if (smem > lim.max_smem_per_block)
    return Support::no(cat(smem, " bytes of shared memory > device limit ", lim.max_smem_per_block));
  return Support::yes();
}

// Type-erased Operation over a family template K with static desc/supports/config/launch.
template <class K>
class OperationOf final : public Operation {
 public:
  OperationOf() : desc_(K::describe()) {}
  const KernelDesc& desc() const override { return desc_; }
  Support supports(const ConvShape& s, const DeviceLimits& lim) const override {
    const LaunchConfig cfg = K::config(s);
    Support c = common_support(desc_, s, lim, cfg.smem_bytes);
    if (!c) return c;
    if constexpr (requires { K::supports(s, lim); })
      return K::supports(s, lim);  // families with device requirements beyond the common ones
    else
      return K::supports(s);
  }
  LaunchConfig config(const ConvShape& s) const override { return K::config(s); }
  void run(const ConvArgs& a, cudaStream_t stream) const override { K::launch(a, K::config(a.s), stream); }

 private:
  KernelDesc desc_;
};

template <class... Ks>
void add_operations(std::vector<std::unique_ptr<Operation>>& out) {
  (out.push_back(std::make_unique<OperationOf<Ks>>()), ...);
}

}  // namespace dwt
