// Family "regblock": each thread computes a TH x TW block of outputs, sliding its input window
// through registers. KH/KW are compile-time (fully unrolled, weights in registers); KH = KW = 0 is the
// run-time-size fallback. Every stride, padding, dilation, multiplier and bias is served; stride 1 and
// dilation 1 (the common case) take the sliding-window paths, others load per tap.
#pragma once

#include "family.cuh"

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
  const std::int64_t OH = s.out_h(), OW = s.out_w();
  const Plane<T> pl(a, plane);
  const T* __restrict__ xp = pl.x;
  float wr[KH][KW];
  pl.template load_filter<KH, KW>(wr);
  const float b = pl.bias;
  float acc[TH][TW];
#pragma unroll
  for (int r = 0; r < TH; ++r)
#pragma unroll
    for (int j = 0; j < TW; ++j) acc[r][j] = b;

  const std::int64_t iw0 = ow0 * s.sw - s.pw;
  constexpr int WW = TW + KW - 1;
  T* __restrict__ yp = pl.y;

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
  const std::int64_t OH = s.out_h(), OW = s.out_w();
  const Plane<T> pl(a, plane);
  const T* __restrict__ xp = pl.x;
  const T* __restrict__ wp = pl.w;
  const float b = pl.bias;
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
#pragma unroll
  for (int r = 0; r < TH; ++r)
    if (oh0 + r < OH) ScalarIO::store<T, TW>(pl.y + (oh0 + r) * OW, acc[r], ow0, OW);
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

struct RegBlockTile {
  int th, tw, bx, by;  // TH x TW outputs per thread, BX x BY threads
  constexpr int block_threads() const { return bx * by; }
  static constexpr auto fields() {
    using F = Field<RegBlockTile>;
    return std::array{F{"th", "_t", &RegBlockTile::th}, F{"tw", "x", &RegBlockTile::tw},
                      F{"bx", "_b", &RegBlockTile::bx}, F{"by", "x", &RegBlockTile::by}};
  }
  friend constexpr bool operator==(const RegBlockTile&, const RegBlockTile&) = default;
};

template <class T, KSize K, RegBlockTile P>
struct RegBlock {
  static constexpr FamilyInfo family{.name = "regblock", .preference = 3};
  static constexpr KSize ksize = K;
  static constexpr RegBlockTile tile = P;
  static constexpr RegBlockTile default_tile{.th = 4, .tw = 4, .bx = 32, .by = 4};
  static LaunchConfig config(const ConvShape& s) { return tiled_grid<P.th, P.tw, P.bx, P.by>(s); }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    launch_kernel(regblock_kernel<T, K.kh, K.kw, P.th, P.tw, P.bx, P.by>, c, st, a);
  }
};

// Filter sizes with compile-time kernels: KernelBench's 3x3, 3x1 and 3x7, and the common 5x5, 7x7,
// 1x3 (separable halves).
inline constexpr KSize kRegBlockSizes[] = {{3, 3}, {3, 1}, {3, 7}, {5, 5}, {7, 7}, {1, 3}};
// Scalar register blocking: small tiles that suit any width, plus the run-time filter size.
inline constexpr RegBlockTile kRegBlockTiles[] = {
    {.th = 1, .tw = 4, .bx = 32, .by = 4}, {.th = 2, .tw = 4, .bx = 32, .by = 4}, {.th = 4, .tw = 4, .bx = 32, .by = 4}};
inline constexpr RegBlockTile kRegBlockAnySizeTiles[] = {{.th = 2, .tw = 2, .bx = 32, .by = 4},
                                                         {.th = 4, .tw = 4, .bx = 32, .by = 4}};

template <class T>
void add_regblock(OpList& ops) {
  auto make = [&]<KSize K, RegBlockTile P> { return RegBlock<T, K, P>{}; };
  add_grid<T, kRegBlockSizes, kRegBlockTiles>(ops, make);
  add_grid<T, kAnySize, kRegBlockAnySizeTiles>(ops, make);
}

}  // namespace dwt
