// Family "smem": a block stages its input tile, halo included (sized from kernel, stride and
// dilation), in shared memory once, then every thread computes TH outputs of one column from it.
// Filter size, stride and dilation are run-time values, so one instantiation serves every problem
// whose tile fits in shared memory.
#pragma once

#include "family.cuh"

namespace dwt {

struct SmemExtent {
  std::int64_t in_w, in_h;  // staged input tile, halo included
  std::size_t bytes;        // tile + filter, as floats
};

template <int BX, int BY, int TH>
DWT_HD inline SmemExtent smem_tile(const ConvShape& s) {
  SmemExtent t;
  t.in_w = std::int64_t{BX - 1} * s.sw + std::int64_t{s.kw - 1} * s.dw + 1;
  t.in_h = std::int64_t{BY * TH - 1} * s.sh + std::int64_t{s.kh - 1} * s.dh + 1;
  t.bytes = static_cast<std::size_t>(t.in_w * t.in_h + std::int64_t{s.kh} * s.kw) * sizeof(float);
  return t;
}

template <class T, int BX, int BY, int TH>
__global__ void __launch_bounds__(BX* BY) smem_kernel(ConvArgs a) {
  extern __shared__ float smem[];
  const ConvShape s = a.s;
  const std::int64_t OH = s.out_h(), OW = s.out_w(), OC = s.out_c();
  const std::int64_t planes = s.n * OC;
  const std::int64_t row_blocks = (OH + BY * TH - 1) / (BY * TH);
  const SmemExtent tile = smem_tile<BX, BY, TH>(s);
  float* xs = smem;
  float* ws = smem + tile.in_w * tile.in_h;
  const int tid = threadIdx.y * BX + threadIdx.x;
  const int kk = s.kh * s.kw;
  const std::int64_t ow0_blk = std::int64_t{blockIdx.x} * BX;
  const std::int64_t iw_base = ow0_blk * s.sw - s.pw;
  const T* __restrict__ x = static_cast<const T*>(a.x);
  const T* __restrict__ w = static_cast<const T*>(a.w);
  T* __restrict__ y = static_cast<T*>(a.y);

  for (std::int64_t plane = blockIdx.z; plane < planes; plane += gridDim.z) {
    const std::int64_t oc = plane % OC, n = plane / OC, ic = oc / s.m;
    const T* xp = x + (n * s.c + ic) * s.h * s.w;
    const float b = bias_of<T>(a, oc);
    for (std::int64_t rb = blockIdx.y; rb < row_blocks; rb += gridDim.y) {
      const std::int64_t oh0_blk = rb * BY * TH;
      const std::int64_t ih_base = oh0_blk * s.sh - s.ph;
      __syncthreads();  // the previous tile is no longer read
      for (int i = tid; i < kk; i += BX * BY) ws[i] = ldg_f(w + oc * kk + i);
      for (std::int64_t i = tid; i < tile.in_w * tile.in_h; i += BX * BY) {
        const std::int64_t ty = i / tile.in_w, tx = i - ty * tile.in_w;
        const std::int64_t ih = ih_base + ty, iw = iw_base + tx;
        xs[i] = (ih >= 0 && ih < s.h && iw >= 0 && iw < s.w) ? ldg_f(xp + ih * s.w + iw) : 0.0f;
      }
      __syncthreads();
      const std::int64_t ow = ow0_blk + threadIdx.x;
      if (ow >= OW) continue;
      float acc[TH];
#pragma unroll
      for (int r = 0; r < TH; ++r) acc[r] = b;
      for (int kh = 0; kh < s.kh; ++kh)
        for (int kw = 0; kw < s.kw; ++kw) {
          const float wv = ws[kh * s.kw + kw];
          const float* col = xs + std::int64_t{kh} * s.dh * tile.in_w + threadIdx.x * s.sw + kw * s.dw;
#pragma unroll
          for (int r = 0; r < TH; ++r)
            acc[r] = fmaf(wv, col[(std::int64_t{threadIdx.y} * TH + r) * s.sh * tile.in_w], acc[r]);
        }
#pragma unroll
      for (int r = 0; r < TH; ++r) {
        const std::int64_t oh = oh0_blk + threadIdx.y * TH + r;
        if (oh < OH) y[(plane * OH + oh) * OW + ow] = from_float<T>(acc[r]);
      }
    }
  }
}

struct SmemTile {
  int bx, by, th;  // BX x BY threads, TH output rows per thread
  constexpr int block_threads() const { return bx * by; }
  static constexpr auto fields() {
    using F = Field<SmemTile>;
    return std::array{F{"bx", "_b", &SmemTile::bx}, F{"by", "x", &SmemTile::by}, F{"th", "_t", &SmemTile::th}};
  }
  friend constexpr bool operator==(const SmemTile&, const SmemTile&) = default;
};

template <class T, KSize K, SmemTile P>
struct SmemTiled {
  static constexpr FamilyInfo family{.name = "smem", .filter_param = false};
  static constexpr KSize ksize = K;
  static constexpr SmemTile tile = P;
  static LaunchConfig config(const ConvShape& s) {
    LaunchConfig c;
    c.grid = dim3(static_cast<unsigned>((s.out_w() + P.bx - 1) / P.bx),
                  clamp_grid_yz((s.out_h() + P.by * P.th - 1) / (P.by * P.th)), clamp_grid_yz(s.n * s.out_c()));
    c.block = dim3(P.bx, P.by, 1);
    c.smem_bytes = smem_tile<P.bx, P.by, P.th>(s).bytes;
    return c;
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    launch_kernel(smem_kernel<T, P.bx, P.by, P.th>, c, st, a);
  }
};

inline constexpr SmemTile kSmemTiles[] = {
    {.bx = 32, .by = 8, .th = 2}, {.bx = 32, .by = 4, .th = 4}, {.bx = 64, .by = 4, .th = 4}};

template <class T>
void add_smem(OpList& ops) {
  add_grid<T, kAnySize, kSmemTiles>(ops, [&]<KSize K, SmemTile P> { return SmemTiled<T, K, P>{}; });
}

}  // namespace dwt
