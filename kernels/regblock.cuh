// Family "regblock": each thread computes a TH x TW block of outputs, sliding its input window
// through registers. KH/KW are compile-time (fully unrolled, weights in registers); KH = KW = 0 is the
// run-time-size fallback. Every stride, padding, dilation, multiplier and bias is served; stride 1 and
// dilation 1 (the common case) take the sliding-window paths, others load per tap.
#pragma once

#include "common.cuh"

namespace dwt {

// Scalar window loader: xr[i] = row[iw0 + i], zero outside [0, W).
struct ScalarIO {
  template <class T, int WW>
  __device__ __forceinline__ static void load(float (&xr)[WW], const T* __restrict__ row,
                                              std::int64_t iw0, std::int64_t W) {
    if (iw0 >= 0 && iw0 + WW <= W) {
#pragma unroll
      for (int i = 0; i < WW; ++i) xr[i] = ldg_f(row + iw0 + i);
    } else {
#pragma unroll
      for (int i = 0; i < WW; ++i) {
        const std::int64_t iw = iw0 + i;
        xr[i] = (iw >= 0 && iw < W) ? ldg_f(row + iw) : 0.0f;
      }
    }
  }
  template <class T, int TW>
  __device__ __forceinline__ static void store(T* __restrict__ out, const float (&acc)[TW],
                                               std::int64_t ow0, std::int64_t OW) {
    if (ow0 + TW <= OW) {
#pragma unroll
      for (int j = 0; j < TW; ++j) out[ow0 + j] = from_float<T>(acc[j]);
    } else {
#pragma unroll
      for (int j = 0; j < TW; ++j)
        if (ow0 + j < OW) out[ow0 + j] = from_float<T>(acc[j]);
    }
  }
};

// One thread's TH x TW tile. UNIT_W: stride and dilation along the width are 1, so each input row is
// one contiguous window held in registers; otherwise every tap is loaded on its own.
template <class T, int KH, int KW, int TH, int TW, bool UNIT_W>
__device__ __forceinline__ void regblock_tile(const ConvArgs& a, std::int64_t plane, std::int64_t oh0,
                                              std::int64_t ow0) {
  const ConvShape& s = a.s;
  const std::int64_t OH = s.out_h(), OW = s.out_w(), OC = s.out_c();
  const std::int64_t oc = plane % OC;
  const std::int64_t n = plane / OC;
  const std::int64_t ic = oc / s.m;
  const T* __restrict__ xp = static_cast<const T*>(a.x) + (n * s.c + ic) * s.h * s.w;
  const T* __restrict__ wp = static_cast<const T*>(a.w) + oc * (KH * KW);

  float wr[KH][KW];
#pragma unroll
  for (int i = 0; i < KH; ++i)
#pragma unroll
    for (int j = 0; j < KW; ++j) wr[i][j] = ldg_f(wp + i * KW + j);

  const float b = bias_of<T>(a, oc);
  float acc[TH][TW];
#pragma unroll
  for (int r = 0; r < TH; ++r)
#pragma unroll
    for (int j = 0; j < TW; ++j) acc[r][j] = b;

  const std::int64_t iw0 = ow0 * s.sw - s.pw;
  constexpr int WW = TW + KW - 1;
  T* __restrict__ yp = static_cast<T*>(a.y) + plane * OH * OW;

  if constexpr (UNIT_W) {
    // Interior tile with stride and dilation 1: the whole input window lies inside the plane, so
    // nothing is bounds-checked and the unrolled body is straight-line code in which the compiler
    // can issue every row's loads before the first FMA (memory-level parallelism is what a
    // memory-bound kernel lives on).
    const std::int64_t ih0 = oh0 - s.ph;
    if (s.sh == 1 && s.dh == 1 && ih0 >= 0 && ih0 + TH + KH - 1 <= s.h && iw0 >= 0 &&
        iw0 + WW <= s.w) {
      const T* __restrict__ base = xp + ih0 * s.w + iw0;
#pragma unroll
      for (int t = 0; t < TH + KH - 1; ++t) {
        float xt[WW];
#pragma unroll
        for (int i = 0; i < WW; ++i) xt[i] = ldg_f(base + t * s.w + i);
#pragma unroll
        for (int r = 0; r < TH; ++r) {
          const int kh = t - r;
          if (kh >= 0 && kh < KH) {
#pragma unroll
            for (int j = 0; j < TW; ++j)
#pragma unroll
              for (int kw = 0; kw < KW; ++kw) acc[r][j] = fmaf(wr[kh][kw], xt[j + kw], acc[r][j]);
          }
        }
      }
#pragma unroll
      for (int r = 0; r < TH; ++r)
        if (oh0 + r < OH) ScalarIO::store<T, TW>(yp + (oh0 + r) * OW, acc[r], ow0, OW);
      return;
    }
  }

  float xr[WW];

  // Input row `row` meets filter row `wk` for one output row.
  auto accumulate = [&](float(&accr)[TW], const T* __restrict__ row, const float(&wk)[KW]) {
    if constexpr (UNIT_W) {
#pragma unroll
      for (int j = 0; j < TW; ++j)
#pragma unroll
        for (int kw = 0; kw < KW; ++kw) accr[j] = fmaf(wk[kw], xr[j + kw], accr[j]);
    } else {
#pragma unroll
      for (int j = 0; j < TW; ++j)
#pragma unroll
        for (int kw = 0; kw < KW; ++kw) {
          const std::int64_t iw = iw0 + j * s.sw + std::int64_t{kw} * s.dw;
          if (iw >= 0 && iw < s.w) accr[j] = fmaf(wk[kw], ldg_f(row + iw), accr[j]);
        }
    }
  };

  if (UNIT_W && s.sh == 1 && s.dh == 1) {
    // Sliding window: each input row is loaded once and feeds up to KH output rows.
#pragma unroll
    for (int t = 0; t < TH + KH - 1; ++t) {
      const std::int64_t ih = oh0 - s.ph + t;
      if (ih < 0 || ih >= s.h) continue;
      const T* row = xp + ih * s.w;
      ScalarIO::load<T, WW>(xr, row, iw0, s.w);
#pragma unroll
      for (int r = 0; r < TH; ++r) {
        const int kh = t - r;
        if (kh >= 0 && kh < KH) accumulate(acc[r], row, wr[kh]);
      }
    }
  } else {
#pragma unroll
    for (int r = 0; r < TH; ++r)
#pragma unroll
      for (int kh = 0; kh < KH; ++kh) {
        const std::int64_t ih = (oh0 + r) * s.sh - s.ph + std::int64_t{kh} * s.dh;
        if (ih < 0 || ih >= s.h) continue;
        const T* row = xp + ih * s.w;
        if constexpr (UNIT_W) ScalarIO::load<T, WW>(xr, row, iw0, s.w);
        accumulate(acc[r], row, wr[kh]);
      }
  }

#pragma unroll
  for (int r = 0; r < TH; ++r)
    if (oh0 + r < OH) ScalarIO::store<T, TW>(yp + (oh0 + r) * OW, acc[r], ow0, OW);
}

// Run-time filter size: accumulators stay in registers, taps are looped.
template <class T, int TH, int TW>
__device__ __forceinline__ void regblock_tile_rt(const ConvArgs& a, std::int64_t plane,
                                                 std::int64_t oh0, std::int64_t ow0) {
  const ConvShape& s = a.s;
  const std::int64_t OH = s.out_h(), OW = s.out_w(), OC = s.out_c();
  const std::int64_t oc = plane % OC;
  const std::int64_t n = plane / OC;
  const std::int64_t ic = oc / s.m;
  const T* __restrict__ xp = static_cast<const T*>(a.x) + (n * s.c + ic) * s.h * s.w;
  const T* __restrict__ wp = static_cast<const T*>(a.w) + oc * s.kh * s.kw;
  const float b = bias_of<T>(a, oc);
  float acc[TH][TW];
#pragma unroll
  for (int r = 0; r < TH; ++r)
#pragma unroll
    for (int j = 0; j < TW; ++j) acc[r][j] = b;
  const std::int64_t iw0 = ow0 * s.sw - s.pw;
  for (int kh = 0; kh < s.kh; ++kh) {
    for (int kw = 0; kw < s.kw; ++kw) {
      const float wv = ldg_f(wp + kh * s.kw + kw);
#pragma unroll
      for (int r = 0; r < TH; ++r) {
        const std::int64_t ih = (oh0 + r) * s.sh - s.ph + std::int64_t{kh} * s.dh;
        if (ih < 0 || ih >= s.h) continue;
        const T* row = xp + ih * s.w;
#pragma unroll
        for (int j = 0; j < TW; ++j) {
          const std::int64_t iw = iw0 + j * s.sw + std::int64_t{kw} * s.dw;
          if (iw >= 0 && iw < s.w) acc[r][j] = fmaf(wv, ldg_f(row + iw), acc[r][j]);
        }
      }
    }
  }
  T* __restrict__ yp = static_cast<T*>(a.y) + plane * OH * OW;
#pragma unroll
  for (int r = 0; r < TH; ++r)
    if (oh0 + r < OH) ScalarIO::store<T, TW>(yp + (oh0 + r) * OW, acc[r], ow0, OW);
}

// Grid: x over column tiles, y over row tiles, z over (n, out channel) planes; y and z loop past
// the grid limit.
template <class T, int KH, int KW, int TH, int TW, int BX, int BY>
__global__ void __launch_bounds__(BX* BY) regblock_kernel(ConvArgs a) {
  const std::int64_t OH = a.s.out_h(), OW = a.s.out_w();
  const std::int64_t planes = a.s.n * a.s.out_c();
  const std::int64_t row_blocks = (OH + BY * TH - 1) / (BY * TH);
  const std::int64_t ow0 = (std::int64_t{blockIdx.x} * BX + threadIdx.x) * TW;
  if (ow0 >= OW) return;
  const bool unit_w = a.s.sw == 1 && a.s.dw == 1;
  for (std::int64_t plane = blockIdx.z; plane < planes; plane += gridDim.z)
    for (std::int64_t rb = blockIdx.y; rb < row_blocks; rb += gridDim.y) {
      const std::int64_t oh0 = (rb * BY + threadIdx.y) * TH;
      if (oh0 >= OH) continue;
      if constexpr (KH == 0)
        regblock_tile_rt<T, TH, TW>(a, plane, oh0, ow0);
      else if (unit_w)
        regblock_tile<T, KH, KW, TH, TW, true>(a, plane, oh0, ow0);
      else
        regblock_tile<T, KH, KW, TH, TW, false>(a, plane, oh0, ow0);
    }
}

template <int TH, int TW, int BX, int BY>
inline LaunchConfig tiled_grid(const ConvShape& s) {
  LaunchConfig c;
  const std::int64_t gx = (s.out_w() + BX * TW - 1) / (BX * TW);
  c.grid = dim3(static_cast<unsigned>(gx), clamp_grid_yz((s.out_h() + BY * TH - 1) / (BY * TH)),
                clamp_grid_yz(s.n * s.out_c()));
  c.block = dim3(BX, BY, 1);
  return c;
}

inline std::string ksize_tag(int kh, int kw) {
  return kh == 0 ? std::string("kany") : cat("k", kh, "x", kw);
}

inline Support fixed_ksize_support(int KH, int KW, const ConvShape& s) {
  if (KH != 0 && (s.kh != KH || s.kw != KW))
    return Support::no(cat("compiled for a ", KH, "x", KW, " filter, problem has ", s.kh, "x", s.kw));
  return Support::yes();
}

template <class T, int KH, int KW, int TH, int TW, int BX, int BY>
struct RegBlock {
  static KernelDesc describe() {
    KernelDesc d;
    d.family = "regblock";
    d.dtype = DTypeOf<T>::value;
    d.params = {{"kh", KH}, {"kw", KW}, {"th", TH}, {"tw", TW}, {"bx", BX}, {"by", BY}};
    d.threads = BX * BY;
    d.name = cat("regblock_", to_string(d.dtype), "_nchw_", ksize_tag(KH, KW), "_t", TH, "x", TW,
                    "_b", BX, "x", BY);
    return d;
  }
  static Support supports(const ConvShape& s) { return fixed_ksize_support(KH, KW, s); }
  static LaunchConfig config(const ConvShape& s) { return tiled_grid<TH, TW, BX, BY>(s); }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    regblock_kernel<T, KH, KW, TH, TW, BX, BY><<<c.grid, c.block, 0, st>>>(a);
    DWT_CUDA_CHECK_LAUNCH();
  }
};

}  // namespace dwt
