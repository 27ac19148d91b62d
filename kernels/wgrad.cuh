// Family "wgrad": the weight gradient in NCHW,
//   dw[oc, kh, kw] = sum over n, oh, ow of x[n, oc/M, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw] * dy[n, oc, oh, ow]
//   db[oc]         = sum over n, oh, ow of dy[n, oc, oh, ow]            (when the problem has a bias)
// in two launches on one stream, both deterministic (no atomics: every sum runs in a fixed order, so
// the result is bitwise the same from run to run):
//  1. Partials. Each block owns one output channel and a contiguous run of its work items (an item:
//     R output rows x TW columns of one image). A thread holds the item's dy values in registers and
//     walks the input rows the item needs once, top to bottom, keeping one row's window of columns
//     ((TW-1)*S + (KW-1)*D + 1 values) in registers and feeding all KH x KW taps of every dy row that
//     row meets; so every dy and x element is read once per item, the taps accumulate in registers.
//     The block sums its threads (warp butterfly, then warps in order) and writes one row of
//     KH*KW (+1 bias) partials per channel into the workspace: [blocks per channel][OC][P].
//     Where widths and padding are even and the tensors aligned, two adjacent columns load as one
//     8-byte (f32) or 4-byte (16-bit) pair: half the load instructions, which is what bounds this
//     kernel (f16 took as long as f32 before); 16-bit x rows whose width and padding are multiples
//     of 4 load four columns as one 8-byte quad. Item indices split by multiply and shift, in 32 bits.
//  2. wgrad_reduce_kernel sums the workspace's rows column by column in a fixed order into dw and db.
// KH x KW, stride S and dilation D are compile-time on the fast path; KSize{} serves every size,
// stride, dilation and padding at run time: one output per item, TG taps per block (grid.y walks the
// tap groups, so dy is read once per group).
#pragma once

#include "family.cuh"
#include "fast_div.hpp"  // FastDiv: the item loops split their indices without 64-bit or hardware division

namespace dwt {

// Where the workspace's columns go: NCHW partials are channel-major (col = oc * P + p), NHWC ones
// tap-major (col = p * OC + oc); p < KK is a tap of dw, p == KK the bias.
struct WgradCols {
  std::int64_t oc = 1;  // output channels
  int kk = 1;           // taps per channel
  int p = 1;            // columns per channel: kk, + 1 with a bias
  bool tap_major = false;
  constexpr std::int64_t count() const { return oc * p; }
};

inline constexpr int kWgradReduceRows = 8;  // row strides summed in parallel per column

// Column sums of ws [rows][cols] in a fixed order: thread (c, y) sums rows y, y + 8, ... in order, then
// the eight sums in order.
template <class T>
__global__ void __launch_bounds__(32 * kWgradReduceRows)
    wgrad_reduce_kernel(const float* __restrict__ ws, std::int64_t rows, WgradCols m, T* __restrict__ dw,
                        T* __restrict__ db) {
  __shared__ float part[kWgradReduceRows][32];
  const std::int64_t cols = m.count();
  const std::int64_t col = blockIdx.x * std::int64_t{32} + threadIdx.x;
  float sum = 0.0f;
  if (col < cols)
    for (std::int64_t r = threadIdx.y; r < rows; r += kWgradReduceRows) sum += ws[r * cols + col];
  part[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y != 0 || col >= cols) return;
  float t = 0.0f;
#pragma unroll
  for (int i = 0; i < kWgradReduceRows; ++i) t += part[i][threadIdx.x];
  const std::int64_t oc = m.tap_major ? col % m.oc : col / m.p;
  const int p = static_cast<int>(m.tap_major ? col / m.oc : col % m.p);
  if (p < m.kk)
    dw[oc * m.kk + p] = from_float<T>(t);
  else
    db[oc] = from_float<T>(t);
}

template <class T>
void launch_wgrad_reduce(const ConvArgs& a, std::int64_t rows, const WgradCols& m, cudaStream_t st) {
  LaunchConfig c;
  c.grid = dim3(static_cast<unsigned>((m.count() + 31) / 32));
  c.block = dim3(32, kWgradReduceRows);
  launch_kernel(wgrad_reduce_kernel<T>, c, st, static_cast<const float*>(a.workspace), rows, m,
                static_cast<T*>(a.dw), static_cast<T*>(a.db));
}

constexpr WgradCols wgrad_cols(const ConvShape& s, bool tap_major) {
  const int kk = s.kh * s.kw;
  return {s.out_c(), kk, kk + (s.bias ? 1 : 0), tap_major};
}

// Sums acc[p] over the block (every thread must call it) in a fixed order; thread p < P then calls
// put(p, sum).
template <int P, int THREADS, class Put>
__device__ __forceinline__ void wgrad_block_sum(float (&acc)[P], Put put) {
  static_assert(THREADS % 32 == 0, "whole warps");
  __shared__ float red[THREADS / 32][P];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int p = 0; p < P; ++p) {
    float v = acc[p];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) red[warp][p] = v;
  }
  __syncthreads();
  for (int p = threadIdx.x; p < P; p += THREADS) {
    float t = 0.0f;
#pragma unroll
    for (int w = 0; w < THREADS / 32; ++w) t += red[w][p];
    put(p, t);
  }
}

// How a launch splits the problem: items of R x TW outputs, `per_block` consecutive items per block,
// `bpc` blocks per channel (the workspace's rows), computed once on the host.
struct WgradGeom {
  std::int64_t cg = 1, rg = 1;  // column groups per row, row groups per image
  std::int64_t items = 1;       // per channel: N * rg * cg
  std::int64_t per_block = 1;
  std::int64_t bpc = 1;
  std::int64_t blocks = 1;      // bpc * OC
  FastDiv by_cg, by_rg;
};

// Blocks to aim for: several waves on any current GPU, and not so many that the partials rival dy.
inline constexpr std::int64_t kWgradTargetBlocks = 4096;
// Items per channel and elements per plane stay below this: 32-bit indices inside a channel.
inline constexpr std::int64_t kWgradMaxIndex = (std::int64_t{1} << 31) - 1;

inline WgradGeom wgrad_geom(const ConvShape& s, int r, int tw, int threads) {
  WgradGeom g;
  g.cg = (s.out_w() + tw - 1) / tw;
  g.rg = (s.out_h() + r - 1) / r;
  g.items = s.n * g.rg * g.cg;
  const std::int64_t oc = s.out_c();
  std::int64_t ipt = (g.items * oc + threads * kWgradTargetBlocks - 1) / (threads * kWgradTargetBlocks);
  ipt = ipt < 1 ? 1 : (ipt > 64 ? 64 : ipt);
  g.per_block = ipt * threads;
  g.bpc = (g.items + g.per_block - 1) / g.per_block;
  g.blocks = g.bpc * oc;
  if (g.cg <= kWgradMaxIndex && g.rg <= kWgradMaxIndex) g.by_cg = FastDiv(static_cast<unsigned>(g.cg)), g.by_rg = FastDiv(static_cast<unsigned>(g.rg));
  return g;
}

// Two adjacent elements as floats, one 8-byte (f32) or 4-byte (16-bit) load from an aligned pair.
__device__ __forceinline__ float2 ldg_pair(const float* p) { return __ldg(reinterpret_cast<const float2*>(p)); }
__device__ __forceinline__ float2 ldg_pair(const __half* p) {
  return __half22float2(__ldg(reinterpret_cast<const __half2*>(p)));
}
__device__ __forceinline__ float2 ldg_pair(const __nv_bfloat16* p) {
  return __bfloat1622float2(__ldg(reinterpret_cast<const __nv_bfloat162*>(p)));
}

// Four adjacent 16-bit elements as floats, from one 8-byte load of an aligned quad.
__device__ __forceinline__ void cvt_quad(float (&v)[4], uint2 u, const __half*) {
  const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&u.x));
  const float2 b = __half22float2(*reinterpret_cast<const __half2*>(&u.y));
  v[0] = a.x, v[1] = a.y, v[2] = b.x, v[3] = b.y;
}
__device__ __forceinline__ void cvt_quad(float (&v)[4], uint2 u, const __nv_bfloat16*) {
  const float2 a = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&u.x));
  const float2 b = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&u.y));
  v[0] = a.x, v[1] = a.y, v[2] = b.x, v[3] = b.y;
}

// p[0 .. G) into v[0 .. G) (zeros outside the row). G = 4: one 8-byte load of an aligned 16-bit quad
// that lies wholly inside (`in`) or outside its row; G = 2: the same for a pair (8-byte f32, 4-byte
// 16-bit); G = 1: a pair's two elements loaded one by one (`in`, `in1`).
template <int G, class T>
__device__ __forceinline__ void ldg_group(float* v, const T* p, bool in, bool in1) {
  if constexpr (G == 4) {
    float q[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (in) cvt_quad(q, __ldg(reinterpret_cast<const uint2*>(p)), p);
#pragma unroll
    for (int i = 0; i < 4; ++i) v[i] = q[i];
  } else if constexpr (G == 2) {
    const float2 u = in ? ldg_pair(p) : make_float2(0.0f, 0.0f);
    v[0] = u.x, v[1] = u.y;
  } else {
    v[0] = in ? ldg_f(p) : 0.0f;
    v[1] = in1 ? ldg_f(p + 1) : 0.0f;
  }
}

// G (1, 2, 4): columns per load, see ldg_group. G = 2: every even column starts an aligned pair
// wholly inside or outside its row (even widths and padding, aligned tensors); G = 4: the same,
// and x's rows take quads of 16-bit elements (x's width and the padding multiples of 4, x 8-byte
// aligned; dy keeps pairs: KernelBench's output widths, 510 and 250, are not multiples of 4).
template <class T, int KH, int KW, int S, int D, int R, int TW, int THREADS, int MINB, int G>
__global__ void __launch_bounds__(THREADS, MINB) wgrad_kernel(ConvArgs a, WgradGeom g) {
  constexpr int KK = KH * KW;
  constexpr int RH = (R - 1) * S + (KH - 1) * D + 1;   // input rows of an item
  constexpr int WIN = (TW - 1) * S + (KW - 1) * D + 1;  // input columns of an item
  constexpr int STEP = G == 4 ? 4 : 2;                  // x columns per load (two loads when G = 1)
  constexpr int GD = G == 4 ? 2 : G;                    // dy's group
  static_assert(TW % STEP == 0, "items are whole groups wide");
  const ConvShape& s = a.s;
  const std::int64_t OC = s.out_c(), OH = s.out_h(), OW = s.out_w(), H = s.h, W = s.w;
  const std::int64_t oc = blockIdx.x / g.bpc, blk = blockIdx.x % g.bpc;
  const int OHi = static_cast<int>(OH), OWi = static_cast<int>(OW), Hi = static_cast<int>(H), Wi = static_cast<int>(W);
  const T* __restrict__ x = static_cast<const T*>(a.x) + oc / s.m * H * W;   // image 0
  const T* __restrict__ dy = static_cast<const T*>(a.dy) + oc * OH * OW;     // image 0
  float acc[KK + 1] = {};  // taps, then the bias
  const unsigned first = static_cast<unsigned>(blk * g.per_block);
  const unsigned end = static_cast<unsigned>(first + g.per_block < g.items ? first + g.per_block : g.items);
  for (unsigned i = first + threadIdx.x; i < end; i += THREADS) {
    const unsigned rest = g.by_cg(i), n = g.by_rg(rest);
    const int oh0 = static_cast<int>(rest - n * g.by_rg.d) * R, ow0 = static_cast<int>(i - rest * g.by_cg.d) * TW;
    const T* xp = x + n * s.c * H * W;
    const T* dp = dy + n * OC * OH * OW + oh0 * OWi + ow0;
    float d[R][TW];
#pragma unroll
    for (int t = 0; t < R; ++t)
#pragma unroll
      for (int j = 0; j < TW; j += 2) {
        ldg_group<GD>(&d[t][j], dp + t * OWi + j, oh0 + t < OHi && ow0 + j < OWi, oh0 + t < OHi && ow0 + j + 1 < OWi);
        acc[KK] += d[t][j] + d[t][j + 1];
      }
    const int ih0 = oh0 * S - s.ph, iw0 = ow0 * S - s.pw;
#pragma unroll
    for (int r = 0; r < RH; ++r) {
      // Outside the image reads as zero through the load predicate, not a branch.
      const int ih = ih0 + r;
      const bool row_in = ih >= 0 && ih < Hi;
      const T* row = xp + (row_in ? ih : 0) * Wi;
      float xw[(WIN + STEP - 1) / STEP * STEP];
#pragma unroll
      for (int q = 0; q < WIN; q += STEP) {
        const int iw = iw0 + q;
        ldg_group<G>(&xw[q], row + iw, row_in && iw >= 0 && iw < Wi, row_in && iw + 1 >= 0 && iw + 1 < Wi);
      }
#pragma unroll
      for (int t = 0; t < R; ++t) {
        const int dd = r - t * S;  // this row is filter row dd / D of dy row t
        if (dd < 0 || dd % D != 0 || dd / D >= KH) continue;
        const int kh = dd / D;
#pragma unroll
        for (int kw = 0; kw < KW; ++kw)
#pragma unroll
          for (int j = 0; j < TW; ++j) acc[kh * KW + kw] = fmaf(xw[j * S + kw * D], d[t][j], acc[kh * KW + kw]);
      }
    }
  }
  const WgradCols m = wgrad_cols(s, false);
  float* out = static_cast<float*>(a.workspace) + blk * m.count() + oc * m.p;
  wgrad_block_sum<KK + 1, THREADS>(acc, [&](int p, float v) {
    if (p < m.p) out[p] = v;
  });
}

// The offsets from (oh * sh, ow * sw) of taps tap0 .. tap0 + TG - 1 (tap 0's for those past the last).
template <int TG>
__device__ __forceinline__ void wgrad_tap_offsets(const ConvShape& s, int tap0, int (&offh)[TG], int (&offw)[TG]) {
  const int kk = s.kh * s.kw;
#pragma unroll
  for (int k = 0; k < TG; ++k) {
    const int tap = tap0 + k < kk ? tap0 + k : 0;
    offh[k] = tap / s.kw * s.dh - s.ph;
    offw[k] = tap % s.kw * s.dw - s.pw;
  }
}

// Every size, stride, dilation at run time: one output per item, taps TG * blockIdx.y onwards.
template <class T, int TG, int THREADS>
__global__ void __launch_bounds__(THREADS) wgrad_any_kernel(ConvArgs a, WgradGeom g) {
  const ConvShape& s = a.s;
  const std::int64_t OC = s.out_c(), OH = s.out_h(), OW = s.out_w(), H = s.h, W = s.w;
  const std::int64_t oc = blockIdx.x / g.bpc, blk = blockIdx.x % g.bpc;
  const int kk = s.kh * s.kw, tap0 = static_cast<int>(blockIdx.y) * TG;
  const int OWi = static_cast<int>(OW), Hi = static_cast<int>(H), Wi = static_cast<int>(W);
  const T* __restrict__ x = static_cast<const T*>(a.x);
  const T* __restrict__ dy = static_cast<const T*>(a.dy);
  int offh[TG], offw[TG];
  wgrad_tap_offsets(s, tap0, offh, offw);
  float acc[TG + 1] = {};
  const std::int64_t first = blk * g.per_block;
  const std::int64_t end = first + g.per_block < g.items ? first + g.per_block : g.items;
  for (std::int64_t i = first + threadIdx.x; i < end; i += THREADS) {
    const unsigned rest = g.by_cg(static_cast<unsigned>(i)), n = g.by_rg(rest);
    const int ow = static_cast<int>(i - std::int64_t{rest} * OW), oh = static_cast<int>(rest - n * g.by_rg.d);
    const T* xp = x + (n * s.c + oc / s.m) * H * W;
    const float d = ldg_f(dy + (n * OC + oc) * OH * OW + oh * OWi + ow);
    acc[TG] += d;
#pragma unroll
    for (int k = 0; k < TG; ++k) {
      const int ih = oh * s.sh + offh[k], iw = ow * s.sw + offw[k];
      if (tap0 + k < kk && ih >= 0 && ih < Hi && iw >= 0 && iw < Wi) acc[k] = fmaf(ldg_f(xp + ih * Wi + iw), d, acc[k]);
    }
  }
  const WgradCols m = wgrad_cols(s, false);
  float* out = static_cast<float*>(a.workspace) + blk * m.count() + oc * m.p;
  wgrad_block_sum<TG + 1, THREADS>(acc, [&](int p, float v) {
    if (p < TG && tap0 + p < kk) out[tap0 + p] = v;
    if (p == TG && blockIdx.y == 0 && s.bias) out[kk] = v;
  });
}

struct WgradTile {
  int r, tw;     // R output rows x TW columns per item (fixed sizes); the run-time path: 1 x 1
  int stride;    // compile-time stride of both axes; 0: run time (KSize{} only)
  int dilation;  // compile-time dilation of both axes; 0: run time
  int threads;
  int minb = 1;  // blocks per SM the registers must allow (__launch_bounds__): occupancy against ILP
  int tg = 0;    // taps per block on the run-time path
  constexpr int block_threads() const { return threads; }
  static constexpr auto fields() {
    using F = Field<WgradTile>;
    return std::array{F{"r", "_t", &WgradTile::r}, F{"tw", "x", &WgradTile::tw},
                      F{"stride", "_s", &WgradTile::stride, Show::any0},
                      F{"dilation", "_d", &WgradTile::dilation, Show::any0},
                      F{"threads", "_b", &WgradTile::threads}, F{"minb", "_m", &WgradTile::minb, Show::above1},
                      F{"tg", "_g", &WgradTile::tg, Show::nonzero}};
  }
  friend constexpr bool operator==(const WgradTile&, const WgradTile&) = default;
};

// Both families' launches: `blocks` along x, tap groups along y (tg taps each on the run-time paths,
// tg = 0: all taps in one block).
inline std::int64_t wgrad_tap_groups(const ConvShape& s, int tg) {
  return tg == 0 ? 1 : (std::int64_t{s.kh} * s.kw + tg - 1) / tg;
}
inline LaunchConfig wgrad_config(const ConvShape& s, std::int64_t blocks, int tg, int threads) {
  LaunchConfig c;
  c.grid = dim3(static_cast<unsigned>(blocks < 0x7fffffff ? blocks : 0x7fffffff),
                clamp_grid_yz(wgrad_tap_groups(s, tg)));
  c.block = dim3(threads);
  return c;
}

// Checks shared by both wgrad families: the compiled stride and dilation, grid limits, 32-bit
// offsets inside a plane and the filter.
// stride, dilation: compiled for (0: run time).
inline Support wgrad_support(const ConvShape& s, int stride, int dilation, std::int64_t blocks, std::int64_t grid_y) {
  if (stride > 0 && (s.sh != stride || s.sw != stride || s.dh != dilation || s.dw != dilation))
    return Support::no(cat("compiled for stride ", stride, " and dilation ", dilation));
  if (blocks >= 0x7fffffff || grid_y > static_cast<std::int64_t>(kMaxGridYZ))
    return Support::no(cat(blocks, " x ", grid_y, " blocks exceed the grid limit"));
  if (std::int64_t{s.kh} * s.kw >= (1 << 20)) return Support::no("filter of 2^20 taps or more");
  if (std::int64_t{s.kh} * s.dh + s.ph >= (1 << 30) || std::int64_t{s.kw} * s.dw + s.pw >= (1 << 30))
    return Support::no("filter span or padding of 2^30 or more");
  return Support::yes();
}

template <class T, KSize K, WgradTile P>
struct Wgrad {
  static constexpr FamilyInfo family{.name = "wgrad", .pass = Pass::wgrad, .preference = 0};
  static constexpr KSize ksize = K;
  static constexpr WgradTile tile = P;
  static constexpr bool kFixed = K.kh > 0;
  static_assert(kFixed == (P.stride > 0 && P.dilation > 0), "fixed sizes have a fixed stride and dilation");
  static_assert(kFixed || (P.r == 1 && P.tw == 1 && P.tg > 0), "the run-time path: one output per item");
  static_assert(!kFixed || (P.tw % 2 == 0 && P.tg == 0), "items are whole pairs wide, all taps in one block");
  static constexpr WgradTile default_tile =
      kFixed ? WgradTile{.r = 2, .tw = 4, .stride = 1, .dilation = 1, .threads = 128, .minb = 4}
             : WgradTile{.r = 1, .tw = 1, .stride = 0, .dilation = 0, .threads = 128, .tg = 8};

  static WgradGeom geom(const ConvShape& s) { return wgrad_geom(s, P.r, P.tw, P.threads); }
  static LaunchConfig config(const ConvShape& s) { return wgrad_config(s, geom(s).blocks, P.tg, P.threads); }
  static std::size_t workspace_bytes(const ConvShape& s) {
    return static_cast<std::size_t>(geom(s).bpc * wgrad_cols(s, false).count()) * sizeof(float);
  }
  static Support supports(const ConvShape& s, const DeviceLimits&) {
    const std::int64_t items = s.n * ((s.out_h() + P.r - 1) / P.r) * ((s.out_w() + P.tw - 1) / P.tw);
    if (items > kWgradMaxIndex || s.h * s.w > kWgradMaxIndex || s.out_h() * s.out_w() > kWgradMaxIndex)
      return Support::no("2^31 items per channel or elements per plane, or more");
    return wgrad_support(s, P.stride, P.dilation, geom(s).blocks, wgrad_tap_groups(s, P.tg));
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    const ConvShape& s = a.s;
    const WgradGeom g = geom(s);
    if constexpr (kFixed) {
      // Columns per load: the widest group that widths, padding and the tensors' alignment allow.
      auto al = [](const void* q, int n) { return reinterpret_cast<std::uintptr_t>(q) % (n * sizeof(T)) == 0; };
      const bool pair = s.w % 2 == 0 && s.out_w() % 2 == 0 && s.pw % 2 == 0 && al(a.x, 2) && al(a.dy, 2);
      if constexpr (sizeof(T) == 2 && P.tw % 4 == 0) {
        if (pair && s.w % 4 == 0 && s.pw % 4 == 0 && al(a.x, 4)) {
          launch_kernel(wgrad_kernel<T, K.kh, K.kw, P.stride, P.dilation, P.r, P.tw, P.threads, P.minb, 4>, c, st, a, g);
          launch_wgrad_reduce<T>(a, g.bpc, wgrad_cols(s, false), st);
          return;
        }
      }
      if (pair)
        launch_kernel(wgrad_kernel<T, K.kh, K.kw, P.stride, P.dilation, P.r, P.tw, P.threads, P.minb, 2>, c, st, a, g);
      else
        launch_kernel(wgrad_kernel<T, K.kh, K.kw, P.stride, P.dilation, P.r, P.tw, P.threads, P.minb, 1>, c, st, a, g);
    } else {
      launch_kernel(wgrad_any_kernel<T, P.tg, P.threads>, c, st, a, g);
    }
    launch_wgrad_reduce<T>(a, g.bpc, wgrad_cols(s, false), st);
  }
};

// Stride 1: KernelBench's 3x3, 3x1 and 3x7, and the networks' 5x5 and 7x7; stride 2: the networks'
// 3x3 and 5x5 (other strided sizes take the run-time path).
inline constexpr KSize kWgradSizes[] = {{3, 3}, {3, 1}, {3, 7}, {5, 5}, {7, 7}};
inline constexpr KSize kWgradStridedSizes[] = {{3, 3}, {5, 5}};
// Two rows of eight columns (two blocks per SM: KB85's 21 taps, 16-bit types), or two rows of four
// (four blocks per SM: most layers). Measured on an H200, taller items (4 x 8, all registers) and a
// variant staging slabs of 8 or 16 rows through shared memory lost on every KernelBench shape and
// network layer.
inline constexpr WgradTile kWgradTiles[] = {
    {.r = 2, .tw = 8, .stride = 1, .dilation = 1, .threads = 256, .minb = 2},
    {.r = 2, .tw = 4, .stride = 1, .dilation = 1, .threads = 128, .minb = 4},
};
inline constexpr WgradTile kWgradStridedTiles[] = {
    {.r = 2, .tw = 4, .stride = 2, .dilation = 1, .threads = 256, .minb = 2},
    {.r = 1, .tw = 4, .stride = 2, .dilation = 1, .threads = 128, .minb = 4},
};
inline constexpr WgradTile kWgradAnyTiles[] = {
    {.r = 1, .tw = 1, .stride = 0, .dilation = 0, .threads = 256, .tg = 16},
    {.r = 1, .tw = 1, .stride = 0, .dilation = 0, .threads = 128, .tg = 8},
};

template <class T>
void add_wgrad(OpList& ops) {
  auto make = [&]<KSize K, WgradTile P> { return Wgrad<T, K, P>{}; };
  add_grid<T, kWgradSizes, kWgradTiles>(ops, make);
  add_grid<T, kWgradStridedSizes, kWgradStridedTiles>(ops, make);
  add_grid<T, kAnySize, kWgradAnyTiles>(ops, make);
}

}  // namespace dwt
