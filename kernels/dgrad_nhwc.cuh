// Family "dgrad_nhwc": the input gradient of a channels_last ([N, H, W, C]) depthwise convolution,
// vectorized across channels like the forward "nhwc" family: each thread owns V adjacent dx channels
// (a 16- or 8-byte vector) and a TH x TW tile of dx pixels of one image, the warp's lanes take
// adjacent channel vectors, so every dy load and dx store is a coalesced vector access. The block's
// filter taps sit in shared memory as floats ([m*KH*KW + tap][channel of the block]: the M*KH*KW
// taps of dx channel c are contiguous in w, so they stage like a forward filter of M*KH*KW taps).
//
// Tiles are placed in padded coordinates (v = ih + ph, u = iw + pw) from ph and pw rounded down to a
// multiple of the stride S, and TH, TW are multiples of S: each tile row and column has a fixed
// phase, so on the fast path (compile-time filter, stride, dilation) the taps that reach it, their
// dy row and their column in the thread's register window are compile-time constants. The thread
// walks the dy rows of its tile once, keeping one row's window of dy pixels in registers. The
// general path (KSize{}) takes every size, stride and dilation at run time, one dx row of TW pixels
// per thread, its taps phase by phase.
// With M = 1, C a multiple of V and aligned tensors, loads and stores are whole vectors; otherwise
// the same kernels gather dy channel (c*M + m) by channel and store dx channel by channel.
#pragma once

#include "dgrad.cuh"  // DgradAxis, kDgradSizesS1, kDgradSizesS2
#include "nhwc.cuh"   // NhwcGeom, nhwc_split, nhwc_begin, nhwc_load, nhwc_store, nhwc_tap, NhwcTile

namespace dwt {

// dy pixel channels (c0 + e)*M + m as floats for e < V (VEC: M = 1 and one vector load), zero past
// dx channel C.
template <class T, int V, bool VEC>
__device__ __forceinline__ void dgrad_nhwc_load(float (&v)[V], const T* __restrict__ pix, int c0, int C, int M, int m) {
  if constexpr (VEC) {
    nhwc_load<T, V, true>(v, pix, c0, C, 1);
  } else {
#pragma unroll
    for (int e = 0; e < V; ++e) v[e] = c0 + e < C ? ldg_f(pix + (c0 + e) * M + m) : 0.0f;
  }
}

// Where the tiles start (ph and pw rounded down to a multiple of the stride), and the run-time
// path's taps along H and W.
struct DgradOrigin {
  int vstart, ustart;
  DgradAxis ah, aw;
};

inline DgradOrigin dgrad_origin(const ConvShape& s) {
  return {s.ph - s.ph % s.sh, s.pw - s.pw % s.sw, DgradAxis(s.sh, s.dh, s.kh), DgradAxis(s.sw, s.dw, s.kw)};
}

inline NhwcGeom dgrad_nhwc_geom(const ConvShape& s, int V, int th, int tw, int threads) {
  const DgradOrigin o = dgrad_origin(s);
  return nhwc_split(s.c, std::int64_t{s.m} * s.kh * s.kw, s.n, (s.ph + s.h - o.vstart + th - 1) / th,
                    (s.pw + s.w - o.ustart + tw - 1) / tw, V, threads);
}

template <class T, int V, int KH, int KW, int S, int D, int TH, int TW, int THREADS, bool VEC>
__global__ void __launch_bounds__(THREADS) dgrad_nhwc_kernel(ConvArgs a, NhwcGeom g, DgradOrigin o) {
  static_assert(TH % S == 0 && TW % S == 0, "tiles are whole multiples of the stride");
  constexpr int EH = ((KH - 1) * D + S - 1) / S, EW = ((KW - 1) * D + S - 1) / S;
  constexpr int NT = (TH - 1) / S + EH + 1;  // dy rows of a tile
  constexpr int NW = (TW - 1) / S + EW + 1;  // dy columns of a tile
  extern __shared__ float4 nhwc_smem[];
  float* wsm = reinterpret_cast<float*>(nhwc_smem);  // [M*KH*KW][cpb*V]
  const ConvShape& s = a.s;
  const int C = static_cast<int>(s.c), OC = static_cast<int>(s.out_c()), M = s.m;
  NhwcPlace p;
  if (!nhwc_begin<T, V>(a, g, TH, TW, M * KH * KW, C, wsm, p)) return;
  const std::int64_t H = s.h, W = s.w, OH = s.out_h(), OW = s.out_w();
  const T* __restrict__ dy = static_cast<const T*>(a.dy) + p.n * OH * OW * OC;
  const float* wv = wsm + p.cl * V;
  const int width = g.cpb * V;
  // Tile (v0, u0): multiples of S; window row t is dy row v0/S - EH + t, column q dy column u0/S - EW + q.
  const std::int64_t v0 = o.vstart + p.oh0, u0 = o.ustart + p.ow0;
  const std::int64_t oh_b = v0 / S - EH, ow_b = u0 / S - EW;

  float acc[TH][TW][V];
#pragma unroll
  for (int r = 0; r < TH; ++r)
#pragma unroll
    for (int j = 0; j < TW; ++j)
#pragma unroll
      for (int e = 0; e < V; ++e) acc[r][j][e] = 0.0f;
  for (int m = 0; m < M; ++m) {
    const float* wm = wv + m * KH * KW * width;
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      const std::int64_t oh = oh_b + t;
      const bool row_in = oh >= 0 && oh < OH;
      const T* row = dy + (row_in ? oh : 0) * OW * OC;
      float xw[NW][V];
#pragma unroll
      for (int q = 0; q < NW; ++q) {
        const std::int64_t ow = ow_b + q;
        if (row_in && ow >= 0 && ow < OW) {
          dgrad_nhwc_load<T, V, VEC>(xw[q], row + ow * OC, p.oc0, C, M, m);
        } else {
#pragma unroll
          for (int e = 0; e < V; ++e) xw[q][e] = 0.0f;
        }
      }
      // Tile row r takes this dy row through tap kh when kh*D = r + (EH - t)*S; column j takes
      // window column (j - kw*D)/S + EW through tap kw when j - kw*D is a multiple of S.
#pragma unroll
      for (int r = 0; r < TH; ++r) {
        const int dkh = r + (EH - t) * S;
        if (dkh < 0 || dkh % D != 0 || dkh / D >= KH) continue;
        const int kh = dkh / D;
#pragma unroll
        for (int kw = 0; kw < KW; ++kw) {
          float f[V];
          nhwc_tap<V>(f, wm + (kh * KW + kw) * width);
#pragma unroll
          for (int j = 0; j < TW; ++j) {
            const int e0 = j - kw * D;
            if (e0 % S != 0) continue;
#pragma unroll
            for (int e = 0; e < V; ++e) acc[r][j][e] = fmaf(xw[e0 / S + EW][e], f[e], acc[r][j][e]);
          }
        }
      }
    }
  }
  T* __restrict__ dx = static_cast<T*>(a.dx) + p.n * H * W * C;
#pragma unroll
  for (int r = 0; r < TH; ++r) {
    const std::int64_t ih = v0 + r - s.ph;
    if (ih < 0 || ih >= H) continue;
#pragma unroll
    for (int j = 0; j < TW; ++j) {
      const std::int64_t iw = u0 + j - s.pw;
      if (iw >= 0 && iw < W) nhwc_store<T, V, VEC>(dx + (ih * W + iw) * C, acc[r][j], p.oc0, C);
    }
  }
}

// Every filter size, stride and dilation at run time: one dx row of TW pixels per thread, the taps
// of each pixel phase by phase (one load per tap; neighbouring taps hit L1).
template <class T, int V, int TW, int THREADS, bool VEC>
__global__ void __launch_bounds__(THREADS) dgrad_nhwc_any_kernel(ConvArgs a, NhwcGeom g, DgradOrigin o) {
  extern __shared__ float4 nhwc_smem[];
  float* wsm = reinterpret_cast<float*>(nhwc_smem);
  const ConvShape& s = a.s;
  const int C = static_cast<int>(s.c), OC = static_cast<int>(s.out_c()), M = s.m;
  const int kk = s.kh * s.kw;
  NhwcPlace p;
  if (!nhwc_begin<T, V>(a, g, 1, TW, M * kk, C, wsm, p)) return;
  const std::int64_t H = s.h, W = s.w, OH = s.out_h(), OW = s.out_w();
  const T* __restrict__ dy = static_cast<const T*>(a.dy) + p.n * OH * OW * OC;
  const float* wv = wsm + p.cl * V;
  const int width = g.cpb * V;
  const int v = o.vstart + static_cast<int>(p.oh0);  // padded row, >= 0
  float acc[TW][V];
#pragma unroll
  for (int j = 0; j < TW; ++j)
#pragma unroll
    for (int e = 0; e < V; ++e) acc[j][e] = 0.0f;
  int kw0[TW], ow0[TW];
#pragma unroll
  for (int j = 0; j < TW; ++j) kw0[j] = o.aw.first(o.ustart + static_cast<int>(p.ow0) + j, ow0[j]);
  for (int m = 0; m < M; ++m) {
    int oh;
    for (int kh = o.ah.first(v, oh); kh < s.kh && oh >= 0; kh += o.ah.step, oh -= o.ah.dec) {
      if (oh >= OH) continue;
      const T* row = dy + oh * OW * OC;
      const float* wrow = wv + (m * kk + kh * s.kw) * width;
#pragma unroll
      for (int j = 0; j < TW; ++j) {
        int ow = ow0[j];
        for (int kw = kw0[j]; kw < s.kw && ow >= 0; kw += o.aw.step, ow -= o.aw.dec) {
          if (ow >= OW) continue;
          float f[V], x[V];
          nhwc_tap<V>(f, wrow + kw * width);
          dgrad_nhwc_load<T, V, VEC>(x, row + ow * OC, p.oc0, C, M, m);
#pragma unroll
          for (int e = 0; e < V; ++e) acc[j][e] = fmaf(x[e], f[e], acc[j][e]);
        }
      }
    }
  }
  const std::int64_t ih = v - s.ph;
  if (ih < 0 || ih >= H) return;
  T* __restrict__ dx = static_cast<T*>(a.dx) + (p.n * H + ih) * W * C;
#pragma unroll
  for (int j = 0; j < TW; ++j) {
    const std::int64_t iw = o.ustart + p.ow0 + j - s.pw;
    if (iw >= 0 && iw < W) nhwc_store<T, V, VEC>(dx + iw * C, acc[j], p.oc0, C);
  }
}

template <class T, KSize K, NhwcTile P>
struct DgradNhwc {
  static constexpr FamilyInfo family{
      .name = "dgrad_nhwc", .layout = Layout::nhwc, .pass = Pass::dgrad, .preference = 0};
  static constexpr KSize ksize = K;
  static constexpr NhwcTile tile = P;
  static constexpr bool kFixed = K.kh > 0;
  static constexpr int V = P.vb / static_cast<int>(sizeof(T));
  static_assert(V >= 4 && V * sizeof(T) == P.vb, "4 or 8 channels per thread");
  static_assert(kFixed == (P.stride > 0 && P.dilation > 0), "fixed sizes have a fixed stride and dilation");
  static_assert(kFixed || P.th == 1, "the run-time path computes one row per thread");
  static_assert(P.wreg == 0, "taps stay in shared memory");
  static constexpr int kDefaultVb = sizeof(T) == 4 ? 16 : 8;
  static constexpr NhwcTile default_tile =
      !kFixed         ? NhwcTile{.th = 1, .tw = 4, .stride = 0, .dilation = 0, .threads = 128, .vb = kDefaultVb}
      : P.stride == 1 ? NhwcTile{.th = 2, .tw = 4, .stride = 1, .dilation = P.dilation, .threads = 256, .vb = kDefaultVb}
                      : NhwcTile{.th = 2, .tw = 2, .stride = 2, .dilation = 1, .threads = 256, .vb = kDefaultVb};

  static NhwcGeom geom(const ConvShape& s) { return dgrad_nhwc_geom(s, V, P.th, P.tw, P.threads); }
  static LaunchConfig config(const ConvShape& s) {
    const NhwcGeom g = geom(s);
    return block_launch(g.blocks, P.threads, g.smem_bytes);
  }
  static Support supports(const ConvShape& s, const DeviceLimits&) {
    if constexpr (kFixed) {
      if (s.sh != P.stride || s.sw != P.stride || s.dh != P.dilation || s.dw != P.dilation)
        return Support::no(cat("compiled for stride ", P.stride, " and dilation ", P.dilation));
    }
    const NhwcGeom g = geom(s);
    if (g.blocks >= 0x7fffffff) return Support::no(cat(g.blocks, " blocks exceed the grid limit"));
    // Channel and pixel offsets are int inside a row, padded positions int; rows and images int64.
    if (s.out_c() * s.kh * s.kw >= (std::int64_t{1} << 31) || s.w * s.c >= (std::int64_t{1} << 31) ||
        s.out_w() * s.out_c() >= (std::int64_t{1} << 31) || s.ph + s.h >= (1 << 30) || s.pw + s.w >= (1 << 30))
      return Support::no("a row or the filter has 2^31 elements or more");
    if (g.smem_bytes > kNhwcFilterBytes)
      return Support::no(cat(s.m, " x ", s.kh, "x", s.kw, " taps per channel do not fit in shared memory"));
    return Support::yes();
  }
  template <bool VEC>
  static void launch_as(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    const NhwcGeom g = geom(a.s);
    const DgradOrigin o = dgrad_origin(a.s);
    if constexpr (kFixed)
      launch_kernel(dgrad_nhwc_kernel<T, V, K.kh, K.kw, P.stride, P.dilation, P.th, P.tw, P.threads, VEC>, c, st, a,
                    g, o);
    else
      launch_kernel(dgrad_nhwc_any_kernel<T, V, P.tw, P.threads, VEC>, c, st, a, g, o);
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    auto al = [](const void* q) { return reinterpret_cast<std::uintptr_t>(q) % P.vb == 0; };
    if (a.s.m == 1 && a.s.c % V == 0 && al(a.dy) && al(a.dx))
      launch_as<true>(a, c, st);
    else
      launch_as<false>(a, c, st);
  }
};

// The sizes of the NCHW dgrad family. Stride 1: one row of four pixels, two, or four rows of two;
// stride 2: 2 x 2;
// dilation 2: two rows of four.
// 16-bit types: 8-byte vectors (4 channels) for the two-row tiles, the registers of float32.
inline constexpr NhwcTile kDgradNhwcS1x32[] = {
    {.th = 1, .tw = 4, .stride = 1, .dilation = 1, .threads = 128},
    {.th = 2, .tw = 4, .stride = 1, .dilation = 1, .threads = 256},
    {.th = 4, .tw = 2, .stride = 1, .dilation = 1, .threads = 256},
};
inline constexpr NhwcTile kDgradNhwcS1x16[] = {
    {.th = 1, .tw = 4, .stride = 1, .dilation = 1, .threads = 128},
    {.th = 2, .tw = 4, .stride = 1, .dilation = 1, .threads = 256, .vb = 8},
    {.th = 4, .tw = 2, .stride = 1, .dilation = 1, .threads = 256, .vb = 8},
};
inline constexpr NhwcTile kDgradNhwcS2x32[] = {{.th = 2, .tw = 2, .stride = 2, .dilation = 1, .threads = 256}};
inline constexpr NhwcTile kDgradNhwcS2x16[] = {{.th = 2, .tw = 2, .stride = 2, .dilation = 1, .threads = 256, .vb = 8}};
inline constexpr NhwcTile kDgradNhwcD2x32[] = {{.th = 2, .tw = 4, .stride = 1, .dilation = 2, .threads = 256}};
inline constexpr NhwcTile kDgradNhwcD2x16[] = {{.th = 2, .tw = 4, .stride = 1, .dilation = 2, .threads = 256, .vb = 8}};

template <class T>
void add_dgrad_nhwc(OpList& ops) {
  auto make = [&]<KSize K, NhwcTile P> { return DgradNhwc<T, K, P>{}; };
  add_grid_by_width<T, kDgradSizesS1, kDgradNhwcS1x32, kDgradNhwcS1x16>(ops, make);
  add_grid_by_width<T, kDgradSizesS2, kDgradNhwcS2x32, kDgradNhwcS2x16>(ops, make);
  add_grid_by_width<T, kDgradSizesD2, kDgradNhwcD2x32, kDgradNhwcD2x16>(ops, make);
  add_grid_by_width<T, kAnySize, kNhwcAnyTiles32, kNhwcAnyTiles16>(ops, make);  // the forward's
}

}  // namespace dwt
