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

}  // namespace dwt
