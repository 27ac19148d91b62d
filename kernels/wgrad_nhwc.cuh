// Family "wgrad_nhwc": the weight gradient (see wgrad.cuh) in channels_last ([N, H, W, C]), vectorized
// across channels like the nhwc family: each thread owns one vector of V adjacent output channels
// (VB bytes: 16, 8 or 4) and a run of work items (an item: TW adjacent output pixels of one row); the
// warp's lanes take adjacent channel vectors, then adjacent items, so every load is coalesced. Per
// item the thread holds the TW dy vectors in registers and, for each filter row, one window of
// (TW-1)*S + (KW-1)*D + 1 input vectors, accumulating all KH x KW taps of its V channels in registers.
// The block sums its spatial lanes tap by tap through shared memory, in order, and writes one row of
// partials ([blocks across space][P][OC], tap-major); wgrad_reduce_kernel sums the rows in order.
// Deterministic: no atomics, fixed orders everywhere.
// KH x KW, stride S and dilation D are compile-time on the fast path; KSize{} serves every size, stride
// and dilation at run time, one pixel per item and TG taps per block (grid.y walks the tap groups).
// With M = 1, a channel count that is a multiple of V and VB-aligned tensors the loads are whole
// vectors; otherwise the same kernel gathers channel by channel, lanes past the last channel masked.
#pragma once

#include "nhwc.cuh"   // nhwc_load, Vec16
#include "wgrad.cuh"  // wgrad_reduce_kernel, wgrad_support

namespace dwt {

// How a launch splits the problem, computed once on the host for config() and launch().
struct WgradNhwcGeom {
  int cpb = 1;                   // channel vectors per block
  int cchunks = 1;               // blocks across the channels
  int spb = 1;                   // spatial lanes per block
  std::int64_t owg = 1;          // items across a row
  std::int64_t items = 1;        // N * OH * owg
  std::int64_t sblocks = 1;      // blocks across space: the workspace's rows
  std::int64_t blocks = 1;       // sblocks * cchunks
  FastDiv by_owg, by_oh;
};

inline WgradNhwcGeom wgrad_nhwc_geom(const ConvShape& s, int V, int tw, int threads) {
  WgradNhwcGeom g;
  const std::int64_t cv = (s.out_c() + V - 1) / V;
  const std::int64_t cpb = cv < threads ? cv : threads;
  g.cpb = static_cast<int>(cpb);
  const std::int64_t chunks = (cv + cpb - 1) / cpb;
  g.cchunks = static_cast<int>(chunks < (1 << 30) ? chunks : (1 << 30));
  g.spb = threads / g.cpb;
  g.owg = (s.out_w() + tw - 1) / tw;
  g.items = s.n * s.out_h() * g.owg;
  const std::int64_t per = std::int64_t{g.spb} * kWgradTargetBlocks;
  std::int64_t ipt = (g.items * chunks + per - 1) / per;
  ipt = ipt < 1 ? 1 : ipt;
  g.sblocks = (g.items + g.spb * ipt - 1) / (g.spb * ipt);
  g.blocks = g.sblocks * chunks;
  if (g.owg <= kWgradMaxIndex && s.out_h() <= kWgradMaxIndex)
    g.by_owg = FastDiv(static_cast<unsigned>(g.owg)), g.by_oh = FastDiv(static_cast<unsigned>(s.out_h()));
  return g;
}

// Where a thread's work lies.
struct WgradNhwcPlace {
  int sl, cl;      // spatial lane and channel vector within the block
  int base;        // first output channel of the block
  int oc0;         // first output channel of the thread's vector
  std::int64_t sb;  // block across space
  bool active;     // the thread has channels and a lane
};

__device__ __forceinline__ WgradNhwcPlace wgrad_nhwc_place(const WgradNhwcGeom& g, int V, int oc_count) {
  WgradNhwcPlace p;
  const int cc = static_cast<int>(blockIdx.x % static_cast<unsigned>(g.cchunks));
  p.sb = blockIdx.x / static_cast<unsigned>(g.cchunks);
  p.cl = static_cast<int>(threadIdx.x) % g.cpb;
  p.sl = static_cast<int>(threadIdx.x) / g.cpb;
  p.base = cc * g.cpb * V;
  p.oc0 = p.base + p.cl * V;
  p.active = p.sl < g.spb && p.oc0 < oc_count;
  return p;
}

// Sums acc[p][e] over the block's spatial lanes (every thread calls it), in lane order, and writes
// partial p of each channel where keep(p) says so: ws row sb, column col(p) + channel.
template <int P, int V, int THREADS, class Col>
__device__ __forceinline__ void wgrad_nhwc_block_sum(const float (&acc)[P][V], const WgradNhwcGeom& g,
                                                     const WgradNhwcPlace& pl, int oc_count, float* row, Col col) {
  __shared__ float red[THREADS * V];  // [spb][cpb * V]
  const int width = g.cpb * V;
#pragma unroll
  for (int p = 0; p < P; ++p) {
    if (pl.sl < g.spb)
#pragma unroll
      for (int e = 0; e < V; ++e) red[pl.sl * width + pl.cl * V + e] = acc[p][e];
    __syncthreads();
    const std::int64_t c = col(p);
    for (int ch = threadIdx.x; ch < width; ch += THREADS) {
      float t = 0.0f;
      for (int l = 0; l < g.spb; ++l) t += red[l * width + ch];
      if (c >= 0 && pl.base + ch < oc_count) row[c + pl.base + ch] = t;
    }
    __syncthreads();
  }
}

template <class T, int V, int KH, int KW, int S, int D, int TW, int THREADS, bool VEC>
__global__ void __launch_bounds__(THREADS) wgrad_nhwc_kernel(ConvArgs a, WgradNhwcGeom g) {
  constexpr int KK = KH * KW;
  constexpr int WIN = (TW - 1) * S + (KW - 1) * D + 1;  // input pixels of an item's filter row
  const ConvShape& s = a.s;
  const int C = static_cast<int>(s.c), OC = static_cast<int>(s.out_c());
  const std::int64_t H = s.h, W = s.w, OH = s.out_h(), OW = s.out_w();
  const WgradNhwcPlace pl = wgrad_nhwc_place(g, V, OC);
  const T* __restrict__ x = static_cast<const T*>(a.x);
  const T* __restrict__ dy = static_cast<const T*>(a.dy);
  float acc[KK + 1][V] = {};  // taps, then the bias
  const std::int64_t lanes = g.sblocks * g.spb;
  for (std::int64_t i = pl.active ? pl.sb * g.spb + pl.sl : g.items; i < g.items; i += lanes) {
    const unsigned rest = g.by_owg(static_cast<unsigned>(i)), n = g.by_oh(rest);
    const std::int64_t oh = rest - n * g.by_oh.d, ow0 = (i - std::int64_t{rest} * g.owg) * TW;
    float d[TW][V];
#pragma unroll
    for (int j = 0; j < TW; ++j) {
      if (ow0 + j < OW) {
        nhwc_load<T, V, VEC>(d[j], dy + ((n * OH + oh) * OW + ow0 + j) * OC, pl.oc0, OC, 1);
      } else {
#pragma unroll
        for (int e = 0; e < V; ++e) d[j][e] = 0.0f;
      }
#pragma unroll
      for (int e = 0; e < V; ++e) acc[KK][e] += d[j][e];
    }
    const std::int64_t iw0 = ow0 * S - s.pw;
#pragma unroll
    for (int kh = 0; kh < KH; ++kh) {
      const std::int64_t ih = oh * S - s.ph + kh * D;
      if (ih < 0 || ih >= H) continue;
      const T* row = x + (n * H + ih) * W * C;
      float xw[WIN][V];
#pragma unroll
      for (int q = 0; q < WIN; ++q) {
        const std::int64_t iw = iw0 + q;
        if (iw >= 0 && iw < W) {
          nhwc_load<T, V, VEC>(xw[q], row + iw * C, pl.oc0, OC, s.m);
        } else {
#pragma unroll
          for (int e = 0; e < V; ++e) xw[q][e] = 0.0f;
        }
      }
#pragma unroll
      for (int kw = 0; kw < KW; ++kw)
#pragma unroll
        for (int j = 0; j < TW; ++j)
#pragma unroll
          for (int e = 0; e < V; ++e) acc[kh * KW + kw][e] = fmaf(xw[j * S + kw * D][e], d[j][e], acc[kh * KW + kw][e]);
    }
  }
  const WgradCols m = wgrad_cols(s, true);
  float* row = static_cast<float*>(a.workspace) + pl.sb * m.count();
  wgrad_nhwc_block_sum<KK + 1, V, THREADS>(acc, g, pl, OC, row, [&](int p) -> std::int64_t {
    return p < m.p ? std::int64_t{p} * OC : -1;
  });
}

// Every size, stride and dilation at run time: one pixel per item, taps TG * blockIdx.y onwards.
template <class T, int V, int TG, int THREADS, bool VEC>
__global__ void __launch_bounds__(THREADS) wgrad_nhwc_any_kernel(ConvArgs a, WgradNhwcGeom g) {
  const ConvShape& s = a.s;
  const int C = static_cast<int>(s.c), OC = static_cast<int>(s.out_c());
  const std::int64_t H = s.h, W = s.w, OH = s.out_h(), OW = s.out_w();
  const WgradNhwcPlace pl = wgrad_nhwc_place(g, V, OC);
  const int kk = s.kh * s.kw, tap0 = static_cast<int>(blockIdx.y) * TG;
  const T* __restrict__ x = static_cast<const T*>(a.x);
  const T* __restrict__ dy = static_cast<const T*>(a.dy);
  int offh[TG], offw[TG];
  wgrad_tap_offsets(s, tap0, offh, offw);
  float acc[TG + 1][V] = {};
  const std::int64_t lanes = g.sblocks * g.spb;
  for (std::int64_t i = pl.active ? pl.sb * g.spb + pl.sl : g.items; i < g.items; i += lanes) {
    const unsigned rest = g.by_owg(static_cast<unsigned>(i)), n = g.by_oh(rest);
    const std::int64_t oh = rest - n * g.by_oh.d, ow = i - std::int64_t{rest} * OW;
    float d[V];
    nhwc_load<T, V, VEC>(d, dy + i * OC, pl.oc0, OC, 1);
#pragma unroll
    for (int e = 0; e < V; ++e) acc[TG][e] += d[e];
#pragma unroll
    for (int k = 0; k < TG; ++k) {
      const std::int64_t ih = oh * s.sh + offh[k], iw = ow * s.sw + offw[k];
      if (tap0 + k >= kk || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      float v[V];
      nhwc_load<T, V, VEC>(v, x + ((n * H + ih) * W + iw) * C, pl.oc0, OC, s.m);
#pragma unroll
      for (int e = 0; e < V; ++e) acc[k][e] = fmaf(v[e], d[e], acc[k][e]);
    }
  }
  const WgradCols m = wgrad_cols(s, true);
  float* row = static_cast<float*>(a.workspace) + pl.sb * m.count();
  wgrad_nhwc_block_sum<TG + 1, V, THREADS>(acc, g, pl, OC, row, [&](int p) -> std::int64_t {
    if (p < TG) return tap0 + p < kk ? std::int64_t{tap0 + p} * OC : -1;
    return blockIdx.y == 0 && s.bias ? std::int64_t{kk} * OC : -1;
  });
}

struct WgradNhwcTile {
  int tw;        // TW output pixels per item (fixed sizes); the run-time path: 1
  int stride;    // compile-time stride of both axes; 0: run time (KSize{} only)
  int dilation;  // compile-time dilation of both axes; 0: run time
  int threads;
  int vb;        // bytes of a thread's channel vector: 16, 8 or 4
  int tg = 0;    // taps per block on the run-time path
  constexpr int block_threads() const { return threads; }
  static constexpr auto fields() {
    using F = Field<WgradNhwcTile>;
    return std::array{F{"tw", "_t", &WgradNhwcTile::tw}, F{"stride", "_s", &WgradNhwcTile::stride, Show::any0},
                      F{"dilation", "_d", &WgradNhwcTile::dilation, Show::any0},
                      F{"threads", "_b", &WgradNhwcTile::threads}, F{"vb", "_v", &WgradNhwcTile::vb},
                      F{"tg", "_g", &WgradNhwcTile::tg, Show::nonzero}};
  }
  friend constexpr bool operator==(const WgradNhwcTile&, const WgradNhwcTile&) = default;
};

template <class T, KSize K, WgradNhwcTile P>
struct WgradNhwc {
  static constexpr FamilyInfo family{
      .name = "wgrad_nhwc", .layout = Layout::nhwc, .pass = Pass::wgrad, .preference = 0};
  static constexpr KSize ksize = K;
  static constexpr WgradNhwcTile tile = P;
  static constexpr bool kFixed = K.kh > 0;
  static constexpr int V = P.vb / static_cast<int>(sizeof(T));
  static_assert(V >= 2 && V * sizeof(T) == P.vb, "2 to 8 channels per thread");
  static_assert(kFixed == (P.stride > 0 && P.dilation > 0), "fixed sizes have a fixed stride and dilation");
  static_assert(kFixed || (P.tw == 1 && P.tg > 0), "the run-time path: one pixel per item");
  static_assert(!kFixed || P.tg == 0, "fixed sizes: all taps in one block");
  static constexpr int kDefaultVb = sizeof(T) == 4 ? 16 : 8;
  static constexpr WgradNhwcTile default_tile =
      kFixed ? WgradNhwcTile{.tw = 4, .stride = 1, .dilation = 1, .threads = 256, .vb = kDefaultVb}
             : WgradNhwcTile{.tw = 1, .stride = 0, .dilation = 0, .threads = 256, .vb = kDefaultVb, .tg = 8};

  static WgradNhwcGeom geom(const ConvShape& s) { return wgrad_nhwc_geom(s, V, P.tw, P.threads); }
  static LaunchConfig config(const ConvShape& s) { return wgrad_config(s, geom(s).blocks, P.tg, P.threads); }
  static std::size_t workspace_bytes(const ConvShape& s) {
    return static_cast<std::size_t>(geom(s).sblocks * wgrad_cols(s, true).count()) * sizeof(float);
  }
  static Support supports(const ConvShape& s, const DeviceLimits&) {
    if (geom(s).items > kWgradMaxIndex) return Support::no("2^31 items or more");
    // Channel and pixel offsets are int inside a row; rows and images are int64.
    if (s.out_c() * s.kh * s.kw >= (std::int64_t{1} << 31) || s.w * s.c >= (std::int64_t{1} << 31) ||
        s.out_w() * s.out_c() >= (std::int64_t{1} << 31))
      return Support::no("a row or the filter has 2^31 elements or more");
    return wgrad_support(s, P.stride, P.dilation, geom(s).blocks, wgrad_tap_groups(s, P.tg));
  }
  template <bool VEC>
  static void launch_as(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    const WgradNhwcGeom g = geom(a.s);
    if constexpr (kFixed)
      launch_kernel(wgrad_nhwc_kernel<T, V, K.kh, K.kw, P.stride, P.dilation, P.tw, P.threads, VEC>, c, st, a, g);
    else
      launch_kernel(wgrad_nhwc_any_kernel<T, V, P.tg, P.threads, VEC>, c, st, a, g);
    launch_wgrad_reduce<T>(a, g.sblocks, wgrad_cols(a.s, true), st);
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    auto al = [](const void* q) { return reinterpret_cast<std::uintptr_t>(q) % P.vb == 0; };
    if (a.s.m == 1 && a.s.c % V == 0 && al(a.x) && al(a.dy))
      launch_as<true>(a, c, st);
    else
      launch_as<false>(a, c, st);
  }
};

// KernelBench's 3x3, 3x1 and 3x7 and the networks' 5x5 with V channels of 16 bytes (f32) or 8 bytes
// (16-bit types: the same registers as f32), or half that; 7x7 with half the channels (49 taps of
// accumulators).
inline constexpr KSize kWgradNhwcSizes[] = {{3, 3}, {3, 1}, {3, 7}, {5, 5}};
inline constexpr KSize kWgradNhwcLargeSizes[] = {{7, 7}};
// Half-width vectors (V = 2) take half the registers: two blocks per SM where the taps are many (3x7).
inline constexpr WgradNhwcTile kWgradNhwcTiles32[] = {
    {.tw = 4, .stride = 1, .dilation = 1, .threads = 256, .vb = 16},
    {.tw = 4, .stride = 1, .dilation = 1, .threads = 256, .vb = 8},
    {.tw = 2, .stride = 2, .dilation = 1, .threads = 256, .vb = 16},
};
inline constexpr WgradNhwcTile kWgradNhwcTiles16[] = {
    {.tw = 4, .stride = 1, .dilation = 1, .threads = 256, .vb = 8},
    {.tw = 4, .stride = 1, .dilation = 1, .threads = 256, .vb = 4},
    {.tw = 2, .stride = 2, .dilation = 1, .threads = 256, .vb = 8},
};
inline constexpr WgradNhwcTile kWgradNhwcLargeTiles32[] = {
    {.tw = 2, .stride = 1, .dilation = 1, .threads = 256, .vb = 8},
};
inline constexpr WgradNhwcTile kWgradNhwcLargeTiles16[] = {
    {.tw = 2, .stride = 1, .dilation = 1, .threads = 256, .vb = 4},
};
inline constexpr WgradNhwcTile kWgradNhwcAnyTiles32[] = {
    {.tw = 1, .stride = 0, .dilation = 0, .threads = 256, .vb = 16, .tg = 8},
};
inline constexpr WgradNhwcTile kWgradNhwcAnyTiles16[] = {
    {.tw = 1, .stride = 0, .dilation = 0, .threads = 256, .vb = 8, .tg = 8},
};

template <class T>
void add_wgrad_nhwc(OpList& ops) {
  auto make = [&]<KSize K, WgradNhwcTile P> { return WgradNhwc<T, K, P>{}; };
  add_grid_by_width<T, kWgradNhwcSizes, kWgradNhwcTiles32, kWgradNhwcTiles16>(ops, make);
  add_grid_by_width<T, kWgradNhwcLargeSizes, kWgradNhwcLargeTiles32, kWgradNhwcLargeTiles16>(ops, make);
  add_grid_by_width<T, kAnySize, kWgradNhwcAnyTiles32, kWgradNhwcAnyTiles16>(ops, make);
}

}  // namespace dwt
