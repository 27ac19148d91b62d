// Family "vectorized": the register-blocked core with 128-bit loads and stores (4 floats or 8 halves).
// A row whose window starts on a 16-byte boundary and lies inside the row is loaded with vector loads;
// any other row (unaligned widths such as 250 or 510, padding, the last tile of a row) is peeled onto
// scalar loads. Width stride and dilation must be 1 (the register-blocked family serves the rest). TW must be a multiple of the vector width.
#pragma once

#include "regblock.cuh"

namespace dwt {

template <class T>
inline constexpr int kVecElems = 16 / static_cast<int>(sizeof(T));

union Vec16 {
  uint4 u;
  float f[4];
  __half h[8];
  __nv_bfloat16 b[8];
};

template <class T> __device__ __forceinline__ T vec_elem(const Vec16& v, int i);
template <> __device__ __forceinline__ float vec_elem<float>(const Vec16& v, int i) { return v.f[i]; }
template <> __device__ __forceinline__ __half vec_elem<__half>(const Vec16& v, int i) { return v.h[i]; }
template <> __device__ __forceinline__ __nv_bfloat16 vec_elem<__nv_bfloat16>(const Vec16& v, int i) {
  return v.b[i];
}
__device__ __forceinline__ void set_vec_elem(Vec16& v, int i, float x) { v.f[i] = x; }
__device__ __forceinline__ void set_vec_elem(Vec16& v, int i, __half x) { v.h[i] = x; }
__device__ __forceinline__ void set_vec_elem(Vec16& v, int i, __nv_bfloat16 x) { v.b[i] = x; }

__device__ __forceinline__ bool aligned16(const void* p) {
  return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0;
}

struct VectorIO {
  static constexpr const char* tag = "v";
  template <class T, int WW>
  __device__ __forceinline__ static void load(float (&xr)[WW], const T* __restrict__ row,
                                              std::int64_t iw0, std::int64_t W) {
    constexpr int V = kVecElems<T>;
    constexpr int NV = (WW + V - 1) / V;
    if (iw0 >= 0 && iw0 + NV * V <= W && aligned16(row + iw0)) {
      const uint4* p = reinterpret_cast<const uint4*>(row + iw0);
      Vec16 v[NV];
#pragma unroll
      for (int k = 0; k < NV; ++k) v[k].u = __ldg(p + k);
#pragma unroll
      for (int i = 0; i < WW; ++i) xr[i] = to_float(vec_elem<T>(v[i / V], i % V));
    } else {
      ScalarIO::load<T, WW>(xr, row, iw0, W);
    }
  }
  template <class T, int WW>
  static constexpr int span() {
    return (WW + kVecElems<T> - 1) / kVecElems<T> * kVecElems<T>;
  }
  // Every row of an interior tile starts on a 16-byte boundary when the first does and rows are
  // whole vectors long.
  template <class T>
  __device__ __forceinline__ static bool rows_aligned(const T* p, std::int64_t W) {
    return aligned16(p) && W % kVecElems<T> == 0;
  }
  template <class T, int WW, bool VEC>
  __device__ __forceinline__ static void load_inside(float (&xr)[WW], const T* __restrict__ p) {
    if constexpr (VEC) {
      constexpr int V = kVecElems<T>;
      constexpr int NV = (WW + V - 1) / V;
      const uint4* q = reinterpret_cast<const uint4*>(p);
      Vec16 v[NV];
#pragma unroll
      for (int k = 0; k < NV; ++k) v[k].u = __ldg(q + k);
#pragma unroll
      for (int i = 0; i < WW; ++i) xr[i] = to_float(vec_elem<T>(v[i / V], i % V));
    } else {
      ScalarIO::load_inside<T, WW, false>(xr, p);
    }
  }
  template <class T, int TW>
  __device__ __forceinline__ static void store(T* __restrict__ out, const float (&acc)[TW],
                                               std::int64_t ow0, std::int64_t OW) {
    constexpr int V = kVecElems<T>;
    static_assert(TW % V == 0, "vectorized tiles are whole vectors wide");
    if (ow0 + TW <= OW && aligned16(out + ow0)) {
      uint4* p = reinterpret_cast<uint4*>(out + ow0);
#pragma unroll
      for (int k = 0; k < TW / V; ++k) {
        Vec16 v;
#pragma unroll
        for (int i = 0; i < V; ++i) set_vec_elem(v, i, from_float<T>(acc[k * V + i]));
        p[k] = v.u;
      }
    } else if (ow0 + TW <= OW && (reinterpret_cast<std::uintptr_t>(out + ow0) & 7u) == 0) {
      // Rows whose width is not a whole number of vectors (OW = 510, 250) start on 8 bytes.
      constexpr int H = V / 2;
      uint2* p = reinterpret_cast<uint2*>(out + ow0);
#pragma unroll
      for (int k = 0; k < TW / H; ++k) {
        Vec16 v;
#pragma unroll
        for (int i = 0; i < H; ++i) set_vec_elem(v, i, from_float<T>(acc[k * H + i]));
        p[k] = make_uint2(v.u.x, v.u.y);
      }
    } else {
      ScalarIO::store<T, TW>(out, acc, ow0, OW);
    }
  }
};

template <class T, int KH, int KW, int TH, int TW, int BX, int BY>
struct Vectorized {
  static_assert(KH > 0 && KW > 0, "vectorized kernels have a compile-time filter size");
  static KernelDesc describe() {
    KernelDesc d;
    d.family = "vectorized";
    d.dtype = DTypeOf<T>::value;
    d.params = {{"kh", KH}, {"kw", KW}, {"th", TH}, {"tw", TW}, {"bx", BX}, {"by", BY}};
    d.threads = BX * BY;
    d.name = cat("vectorized_", to_string(d.dtype), "_nchw_", ksize_tag(KH, KW), "_t", TH, "x", TW,
                    "_b", BX, "x", BY);
    return d;
  }
  static Support supports(const ConvShape& s) {
    if (s.sw != 1 || s.dw != 1)
      return Support::no("vectorized rows need stride 1 and dilation 1 along the width");
    return fixed_ksize_support(KH, KW, s);
  }
  static LaunchConfig config(const ConvShape& s) { return tiled_grid<TH, TW, BX, BY>(s); }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    regblock_kernel<T, KH, KW, TH, TW, BX, BY, VectorIO, false><<<c.grid, c.block, 0, st>>>(a);
    DWT_CUDA_CHECK_LAUNCH();
  }
};

}  // namespace dwt
