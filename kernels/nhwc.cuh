// Family "nhwc": depthwise convolution in channels_last ([N, H, W, C], PyTorch's channels_last),
// vectorized across channels. Channels are the contiguous axis, so each thread owns one vector of V
// adjacent output channels (16 bytes: 4 floats or 8 halves) and a TH x TW tile of output pixels of
// one image; the warp's lanes take adjacent channel vectors, then adjacent tiles, so every load and
// store is a coalesced 16-byte access (8-byte with the vb = 8 tiles of 16-bit types: 4 channels,
// half the registers). The block stages its channels' filter taps in shared memory
// as floats ([KH*KW][channels of the block], a tap of a thread's channels is one or two 16-byte
// reads) and each thread walks the input rows its tile needs once, top to bottom, keeping one row's
// window of columns ((TW-1)*S + (KW-1)*D + 1 vectors) in registers and feeding every output row of
// the tile that uses it (sliding along W through registers, along H through the walk).
//
// Strips (rows > 0; stride 1, dilation 1): a thread walks down R output rows with a ring of KH
// accumulator rows, each input row loaded once per strip, either straight into registers one row
// ahead (nhwc_strip_kernel) or, with stages > 0, copied once by its block into shared memory
// through cp.async several rows ahead (nhwc_staged_kernel). On the H200 (7be6024) they serve
// KernelBench 82-85 and the batch-32 3x3 layers; the tiles stay for stride 2, small planes and
// batch 1, where a launch of a few microseconds decides.
//
// KH x KW, stride S and dilation D are compile-time on the fast path; KSize{} is the general path:
// every size, stride and dilation at run time, one output row per thread, one load per tap.
// Depth multiplier M: output channel oc reads input channel oc / M. With M = 1, a channel count that
// is a multiple of V and 16-byte aligned tensors, loads and stores are whole vectors; otherwise (M > 1,
// C = 3, 17, 144 with 8-wide halves ...) the same kernel gathers and stores channel by channel, the
// vector's lanes past the last channel masked.
#pragma once

#include <cstring>
#include <type_traits>

#include "fast_div.hpp"
#include "vectorized.cuh"  // kVecElems, Vec16, aligned16

namespace dwt {

// How a launch splits the problem, computed once on the host for config() and launch().
struct NhwcGeom {
  int cv = 1;       // channel vectors over the output channels: ceil(OC / V)
  int cpb = 1;      // channel vectors per block
  int cchunks = 1;  // blocks across the channels: ceil(cv / cpb)
  int spb = 1;      // spatial items (TH x TW tiles) per block
  std::int64_t owg = 1, ohg = 1;  // tiles across a row, tile rows across an image
  std::int64_t items = 1;         // N * ohg * owg
  std::int64_t blocks = 1;
  std::size_t smem_bytes = 0;     // the block's filter taps as floats (staged: and the row stages)
  // Staged strips: blocks across a row (each spb tiles), strips down an image, input columns a
  // block stages per row, the bytes of the taps and of one row stage.
  std::int64_t wblocks = 0, strips = 0;
  int ncol = 0;
  std::size_t tap_bytes = 0, stage_bytes = 0;
  // Direct kernel: threads in all (cv * items, below 2^31) and the divisions that place one.
  std::int64_t total = 0;
  FastDiv by_cv, by_owg, by_ohg;
};

// Shared memory for filter taps: under the 48 KiB every device gives without opting in.
inline constexpr std::size_t kNhwcFilterBytes = 48 * 1024;
// Staged strips: taps and row stages together, opting in above 48 KiB (every device since Volta
// gives a block 96 KiB or more).
inline constexpr std::size_t kNhwcStagedBytes = 96 * 1024;

// `channels` channels, each with `taps` filter floats staged in shared memory, in vectors of V per
// thread; `n` images of ohg x owg tiles.
inline NhwcGeom nhwc_split(std::int64_t channels, std::int64_t taps, std::int64_t n, std::int64_t ohg,
                           std::int64_t owg, int V, int threads, int cg = 0) {
  NhwcGeom g;
  const std::int64_t cv = (channels + V - 1) / V;
  std::int64_t cap = static_cast<std::int64_t>(kNhwcFilterBytes / sizeof(float)) / (taps * V);
  if (cap > threads) cap = threads;
  if (cg > 0 && cap > cg) cap = cg;
  if (cap < 1) cap = 1;
  const std::int64_t chunks = (cv + cap - 1) / cap;
  const std::int64_t cpb = (cv + chunks - 1) / chunks;
  g.cv = static_cast<int>(cv < (1 << 30) ? cv : (1 << 30));
  g.cpb = static_cast<int>(cpb);
  g.cchunks = static_cast<int>(chunks < (1 << 30) ? chunks : (1 << 30));
  g.spb = threads / g.cpb;
  g.owg = owg;
  g.ohg = ohg;
  g.items = n * g.ohg * g.owg;
  g.blocks = (g.items + g.spb - 1) / g.spb * chunks;
  g.smem_bytes = static_cast<std::size_t>(taps * cpb * V) * sizeof(float);
  return g;
}

// V: channels per thread (a vector of VB bytes); cg: at most cg channel vectors per block (0: as
// many as the shared memory holds).
inline NhwcGeom nhwc_geom(const ConvShape& s, int V, int th, int tw, int threads, int cg = 0) {
  return nhwc_split(s.out_c(), std::int64_t{s.kh} * s.kw, s.n, (s.out_h() + th - 1) / th,
                    (s.out_w() + tw - 1) / tw, V, threads, cg);
}

// V elements as floats: one 16-, 8- or 4-byte load, or (gather) V element loads of channel (oc0 + e) / M,
// zero past the last channel.
template <class T, int V, bool VEC>
__device__ __forceinline__ void nhwc_load(float (&v)[V], const T* __restrict__ pix, int oc0, int OC, int M) {
  static_assert(V * sizeof(T) == 16 || V * sizeof(T) == 8 || V * sizeof(T) == 4, "16-, 8- or 4-byte vectors");
  if constexpr (VEC) {
    Vec16 u;
    if constexpr (V * sizeof(T) == 16) {
      u.u = __ldg(reinterpret_cast<const uint4*>(pix + oc0));
    } else if constexpr (V * sizeof(T) == 8) {
      const uint2 h = __ldg(reinterpret_cast<const uint2*>(pix + oc0));
      u.u.x = h.x, u.u.y = h.y;
    } else {
      u.u.x = __ldg(reinterpret_cast<const unsigned*>(pix + oc0));
    }
#pragma unroll
    for (int e = 0; e < V; ++e) v[e] = to_float(vec_elem<T>(u, e));
  } else {
#pragma unroll
    for (int e = 0; e < V; ++e) v[e] = oc0 + e < OC ? ldg_f(pix + (oc0 + e) / M) : 0.0f;
  }
}

template <class T, int V, bool VEC>
__device__ __forceinline__ void nhwc_store(T* __restrict__ out, const float (&v)[V], int oc0, int OC) {
  if constexpr (VEC) {
    Vec16 u;
#pragma unroll
    for (int e = 0; e < V; ++e) set_vec_elem(u, e, from_float<T>(v[e]));
    if constexpr (V * sizeof(T) == 16)
      *reinterpret_cast<uint4*>(out + oc0) = u.u;
    else
      *reinterpret_cast<uint2*>(out + oc0) = make_uint2(u.u.x, u.u.y);
  } else {
#pragma unroll
    for (int e = 0; e < V; ++e)
      if (oc0 + e < OC) out[oc0 + e] = from_float<T>(v[e]);
  }
}

// The taps of a V-channel slice from shared memory ([tap][channel] floats, 16-byte aligned).
template <int V>
__device__ __forceinline__ void nhwc_tap(float (&f)[V], const float* p) {
#pragma unroll
  for (int e = 0; e < V; e += 4) {
    const float4 q = *reinterpret_cast<const float4*>(p + e);
    f[e] = q.x, f[e + 1] = q.y, f[e + 2] = q.z, f[e + 3] = q.w;
  }
}

// Staged strips: the block covers spb consecutive tiles of one strip of R output rows (wblocks
// blocks across a row), for each channel chunk; its input rows are staged `stages` deep in shared
// memory after the taps. elem: bytes of one element.
inline NhwcGeom nhwc_staged_geom(const ConvShape& s, int V, int elem, int tw, int rows, int stages, int threads,
                                 int cg) {
  NhwcGeom g = nhwc_geom(s, V, rows, tw, threads, cg);
  g.wblocks = (g.owg + g.spb - 1) / g.spb;
  g.strips = g.ohg;
  g.blocks = s.n * g.strips * g.wblocks * g.cchunks;
  g.ncol = g.spb * tw + s.kw - 1;
  g.tap_bytes = (g.smem_bytes + 15) / 16 * 16;
  g.stage_bytes = static_cast<std::size_t>(g.ncol) * g.cpb * V * elem;
  g.smem_bytes = g.tap_bytes + static_cast<std::size_t>(stages) * g.stage_bytes;
  return g;
}

// Where a thread's work lies: its channel vector and its tile, or nothing (idle lane).
struct NhwcPlace {
  int oc0;  // first output channel of the vector
  int cl;   // channel vector within the block
  std::int64_t n, oh0, ow0;
};

// The filter taps of channels [base, base + width) as floats, [tap][channel], zero past OC. The
// block's channels are one contiguous run of kk * width values of a.w, read in that order (a warp's
// loads coalesced) and kNhwcTapBatch per thread at a time, all in flight together: after the L2 flush
// every one of them is a DRAM round trip, and taken one by one (the loop stores each before it loads
// the next) they made a 3x3 layer at batch 1 cost 9-12 us and a 7x7 one 27 us on the H200 (5341144).
inline constexpr int kNhwcTapBatch = 8;
template <class T>
__device__ __forceinline__ void nhwc_stage_taps(const ConvArgs& a, int kk, int base, int width, int OC, float* wsm) {
  const T* __restrict__ w = static_cast<const T*>(a.w) + static_cast<std::int64_t>(base) * kk;
  const int total = kk * width;
  const int valid = kk * max(0, min(width, OC - base));  // values of channels below OC
  const int step = static_cast<int>(blockDim.x);
  for (int i0 = static_cast<int>(threadIdx.x); i0 < total; i0 += kNhwcTapBatch * step) {
    float v[kNhwcTapBatch];
#pragma unroll
    for (int u = 0; u < kNhwcTapBatch; ++u) {
      const int i = i0 + u * step;
      v[u] = i < valid ? ldg_f(w + i) : 0.0f;
    }
#pragma unroll
    for (int u = 0; u < kNhwcTapBatch; ++u) {
      const int i = i0 + u * step;
      if (i < total) {
        const int ch = i / kk, tap = i - ch * kk;
        wsm[tap * width + ch] = v[u];
      }
    }
  }
}

// Stages the block's filter taps (kk floats of each of `OC` channels, contiguous in a.w) and places
// the thread; false: the thread has no tile.
template <class T, int V>
__device__ __forceinline__ bool nhwc_begin(const ConvArgs& a, const NhwcGeom& g, int th, int tw, int kk,
                                           int OC, float* wsm, NhwcPlace& p) {
  const int cc = static_cast<int>(blockIdx.x % static_cast<unsigned>(g.cchunks));
  const std::int64_t sb = blockIdx.x / static_cast<unsigned>(g.cchunks);
  const int width = g.cpb * V;  // channels of the block
  const int base = cc * width;
  nhwc_stage_taps<T>(a, kk, base, width, OC, wsm);
  __syncthreads();
  p.cl = static_cast<int>(threadIdx.x) % g.cpb;
  const int sl = static_cast<int>(threadIdx.x) / g.cpb;
  p.oc0 = base + p.cl * V;
  const std::int64_t item = sb * g.spb + sl;
  if (sl >= g.spb || item >= g.items || p.oc0 >= OC) return false;
  const std::int64_t owg = item % g.owg, rest = item / g.owg;
  p.ow0 = owg * tw;
  p.oh0 = (rest % g.ohg) * th;
  p.n = rest / g.ohg;
  return true;
}

// Every accumulator of a TH x TW tile of V channels starts from its channel's bias (zero past OC).
template <class T, int V, int TH, int TW>
__device__ __forceinline__ void nhwc_init_acc(float (&acc)[TH][TW][V], const ConvArgs& a, int oc0, int OC) {
  float b[V];
#pragma unroll
  for (int e = 0; e < V; ++e) b[e] = oc0 + e < OC ? bias_of<T>(a, oc0 + e) : 0.0f;
#pragma unroll
  for (int t = 0; t < TH; ++t)
#pragma unroll
    for (int j = 0; j < TW; ++j)
#pragma unroll
      for (int e = 0; e < V; ++e) acc[t][j][e] = b[e];
}

template <class T, int V, int KH, int KW, int S, int D, int TH, int TW, int THREADS, bool WREG, bool VEC>
__global__ void __launch_bounds__(THREADS) nhwc_kernel(ConvArgs a, NhwcGeom g) {
  constexpr int RH = (TH - 1) * S + (KH - 1) * D + 1;  // input rows of a tile
  constexpr int WIN = (TW - 1) * S + (KW - 1) * D + 1;  // input columns of a tile
  extern __shared__ float4 nhwc_smem[];
  float* wsm = reinterpret_cast<float*>(nhwc_smem);  // [KH*KW][cpb*V]
  NhwcPlace p;
  if (!nhwc_begin<T, V>(a, g, TH, TW, KH * KW, static_cast<int>(a.s.out_c()), wsm, p)) return;
  const ConvShape& s = a.s;
  const int C = static_cast<int>(s.c), OC = static_cast<int>(s.out_c());
  const std::int64_t H = s.h, W = s.w, OH = s.out_h(), OW = s.out_w();
  const T* __restrict__ x = static_cast<const T*>(a.x) + p.n * H * W * C;
  const int xc0 = VEC ? p.oc0 : 0;  // gather loads add (oc0 + e) / M themselves
  const float* wv = wsm + p.cl * V;
  const int width = g.cpb * V;
  // WREG: the thread's KH x KW x V taps in registers for the whole tile (no shared-memory reads in
  // the loop; costs KH*KW*V registers).
  float wr[WREG ? KH : 1][WREG ? KW : 1][V];
  if constexpr (WREG) {
#pragma unroll
    for (int kh = 0; kh < KH; ++kh)
#pragma unroll
      for (int kw = 0; kw < KW; ++kw) nhwc_tap<V>(wr[kh][kw], wv + (kh * KW + kw) * width);
  }

  float acc[TH][TW][V];
  nhwc_init_acc<T, V, TH, TW>(acc, a, p.oc0, OC);
  const std::int64_t ih0 = p.oh0 * S - s.ph, iw0 = p.ow0 * S - s.pw;
#pragma unroll
  for (int r = 0; r < RH; ++r) {
    // Rows outside the image read as zero through the load predicate, not a branch, so the
    // compiler may issue the next rows' loads before this row's arithmetic.
    const std::int64_t ih = ih0 + r;
    const bool row_in = ih >= 0 && ih < H;
    const T* row = x + (row_in ? ih : 0) * W * C;
    float xw[WIN][V];
#pragma unroll
    for (int q = 0; q < WIN; ++q) {
      const std::int64_t iw = iw0 + q;
      if (row_in && iw >= 0 && iw < W) {
        nhwc_load<T, V, VEC>(xw[q], row + iw * C + xc0, VEC ? 0 : p.oc0, VEC ? V : OC, s.m);
      } else {
#pragma unroll
        for (int e = 0; e < V; ++e) xw[q][e] = 0.0f;
      }
    }
#pragma unroll
    for (int t = 0; t < TH; ++t) {
      const int d = r - t * S;  // this row is filter row d / D of output row t
      if (d < 0 || d % D != 0 || d / D >= KH) continue;
      const int kh = d / D;
#pragma unroll
      for (int kw = 0; kw < KW; ++kw) {
        float f[V];
        if constexpr (WREG) {
#pragma unroll
          for (int e = 0; e < V; ++e) f[e] = wr[WREG ? kh : 0][WREG ? kw : 0][e];
        } else {
          nhwc_tap<V>(f, wv + (kh * KW + kw) * width);
        }
#pragma unroll
        for (int j = 0; j < TW; ++j)
#pragma unroll
          for (int e = 0; e < V; ++e) acc[t][j][e] = fmaf(xw[j * S + kw * D][e], f[e], acc[t][j][e]);
      }
    }
  }
  T* __restrict__ y = static_cast<T*>(a.y) + p.n * OH * OW * OC;
#pragma unroll
  for (int t = 0; t < TH; ++t) {
    if (p.oh0 + t >= OH) break;
#pragma unroll
    for (int j = 0; j < TW; ++j)
      if (p.ow0 + j < OW) nhwc_store<T, V, VEC>(y + ((p.oh0 + t) * OW + p.ow0 + j) * OC, acc[t][j], p.oc0, OC);
  }
}

// One thread's vector of V channels of one pixel as loaded: VEC, the raw V * sizeof(T) bytes of one
// 4-, 8- or 16-byte load (16-bit pairs are converted to floats when used, two at a time); gather, V
// floats of channels (oc0 + e) / M, zero past the last channel.
template <class T, int V, bool VEC>
struct NhwcPix {
  float f[V];
  __device__ __forceinline__ void load(const T* __restrict__ pix, int oc0, int OC, int M) {
    nhwc_load<T, V, false>(f, pix, oc0, OC, M);
  }
  __device__ __forceinline__ void zero() {
#pragma unroll
    for (int e = 0; e < V; ++e) f[e] = 0.0f;
  }
  __device__ __forceinline__ void get(float (&v)[V]) const {
#pragma unroll
    for (int e = 0; e < V; ++e) v[e] = f[e];
  }
};

template <class T, int V>
struct NhwcPix<T, V, true> {
  static constexpr int kWords = V * static_cast<int>(sizeof(T)) / 4;
  static_assert(kWords == 1 || kWords == 2 || kWords == 4, "4-, 8- or 16-byte vectors");
  unsigned w[kWords];
  // pix: the pixel's first channel of this vector (16-byte aligned for 16-byte vectors).
  __device__ __forceinline__ void load(const T* __restrict__ pix, int, int, int) {
    if constexpr (kWords == 4) {
      const uint4 u = __ldg(reinterpret_cast<const uint4*>(pix));
      w[0] = u.x, w[1] = u.y, w[2] = u.z, w[3] = u.w;
    } else if constexpr (kWords == 2) {
      const uint2 u = __ldg(reinterpret_cast<const uint2*>(pix));
      w[0] = u.x, w[1] = u.y;
    } else {
      w[0] = __ldg(reinterpret_cast<const unsigned*>(pix));
    }
  }
  __device__ __forceinline__ void load_shared(const T* p) {
    if constexpr (kWords == 4) {
      const uint4 u = *reinterpret_cast<const uint4*>(p);
      w[0] = u.x, w[1] = u.y, w[2] = u.z, w[3] = u.w;
    } else if constexpr (kWords == 2) {
      const uint2 u = *reinterpret_cast<const uint2*>(p);
      w[0] = u.x, w[1] = u.y;
    } else {
      w[0] = *reinterpret_cast<const unsigned*>(p);
    }
  }
  __device__ __forceinline__ void zero() {
#pragma unroll
    for (int i = 0; i < kWords; ++i) w[i] = 0u;
  }
  __device__ __forceinline__ void get(float (&v)[V]) const {
#pragma unroll
    for (int i = 0; i < kWords; ++i) {
      if constexpr (sizeof(T) == 4) {
        v[i] = __uint_as_float(w[i]);
      } else if constexpr (std::is_same_v<T, __half>) {
        __half2 h;
        memcpy(&h, &w[i], sizeof h);
        const float2 p = __half22float2(h);
        v[2 * i] = p.x, v[2 * i + 1] = p.y;
      } else {  // bfloat16: the float's upper half
        v[2 * i] = __uint_as_float(w[i] << 16);
        v[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
      }
    }
  }
};

// Two floats rounded to T and packed into one 32-bit word (element 0 in the low half).
template <class T>
__device__ __forceinline__ unsigned nhwc_pack2(float a, float b) {
  unsigned u;
  if constexpr (std::is_same_v<T, __half>) {
    const __half2 h = __floats2half2_rn(a, b);
    memcpy(&u, &h, sizeof u);
  } else {
    const __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
    memcpy(&u, &h, sizeof u);
  }
  return u;
}

// Stores V channels at out + oc0: VEC, one vector store (16-bit pairs rounded two at a time);
// otherwise channel by channel up to OC.
template <class T, int V, bool VEC>
__device__ __forceinline__ void nhwc_store_packed(T* __restrict__ out, const float (&v)[V], int oc0, int OC) {
  if constexpr (VEC && sizeof(T) == 2) {
    constexpr int kWords = V / 2;
    unsigned w[kWords];
#pragma unroll
    for (int i = 0; i < kWords; ++i) w[i] = nhwc_pack2<T>(v[2 * i], v[2 * i + 1]);
    if constexpr (kWords == 4)
      *reinterpret_cast<uint4*>(out + oc0) = make_uint4(w[0], w[1], w[2], w[3]);
    else if constexpr (kWords == 2)
      *reinterpret_cast<uint2*>(out + oc0) = make_uint2(w[0], w[1]);
    else
      *reinterpret_cast<unsigned*>(out + oc0) = w[0];
  } else {
    nhwc_store<T, V, VEC>(out, v, oc0, OC);
  }
}

// One input row of a strip at ring position u (input row i with i % KH == u, a compile-time value
// once the caller's loop is unrolled): its TW + KW - 1 vectors xv times the taps (wv: this thread's
// channels of tap 0, `width` floats per tap) into the KH accumulator rows it feeds (slot k holds
// output row t with t % KH == k); then output row t = i - (KH - 1), complete, is stored (t >= 0;
// y: the image's output, the tile at oh0 + t, ow0) and its slot restarts from the bias for row i + 1.
template <class T, int V, int KH, int KW, int TW, bool VEC>
__device__ __forceinline__ void nhwc_ring_step(float (&acc)[KH][TW][V], const float (&xv)[TW + KW - 1][V],
                                               const float* wv, int width, int u, const float (&b)[V], int t,
                                               T* __restrict__ y, std::int64_t oh0, std::int64_t ow0,
                                               std::int64_t OW, int oc0, int OC) {
  // The taps are read again for every row: an offset the compiler cannot see through keeps it from
  // hoisting them into KH * KW * V registers for the whole strip.
  int tofs = 0;
  asm volatile("" : "+r"(tofs));
  const float* wrow = wv + tofs;
#pragma unroll
  for (int kh = 0; kh < KH; ++kh) {
    const int k = (u - kh + KH) % KH;  // output row i - kh
#pragma unroll
    for (int kw = 0; kw < KW; ++kw) {
      float f[V];
      nhwc_tap<V>(f, wrow + (kh * KW + kw) * width);
#pragma unroll
      for (int j = 0; j < TW; ++j)
#pragma unroll
        for (int e = 0; e < V; ++e) acc[k][j][e] = fmaf(xv[j + kw][e], f[e], acc[k][j][e]);
    }
  }
  const int done = (u + 1) % KH;
  if (t >= 0) {
    T* yr = y + ((oh0 + t) * OW + ow0) * OC;
#pragma unroll
    for (int j = 0; j < TW; ++j)
      if (ow0 + j < OW) nhwc_store_packed<T, V, VEC>(yr + j * OC, acc[done][j], oc0, OC);
  }
#pragma unroll
  for (int j = 0; j < TW; ++j)
#pragma unroll
    for (int e = 0; e < V; ++e) acc[done][j][e] = b[e];
}

// Stride 1, dilation 1: each thread walks down a strip of R output rows, TW columns wide, V channels
// deep, keeping a ring of KH accumulator rows: every input row of the strip is loaded once by the
// thread (its (TW-1) + KW vectors, the next row's loads issued before this row's arithmetic) and
// feeds the KH output rows it touches; an output row leaves as soon as its last filter row is in.
// Input rows are re-read only across strips ((R + KH - 1) / R) and, between neighbouring tiles,
// the KW - 1 halo columns (L1 hits). Taps come from shared memory once per input row, so each tap
// read feeds TW x V FMAs; with at most 8 channel vectors per block (cg) a warp reads 8 distinct
// taps, one shared-memory wavefront. Measured (H200, 1513d34): the 16-bit tiles of the tile kernel
// above were latency-bound (kb82 f16: 23% of DRAM bandwidth, L1TEX scoreboard stalls, 16 warps per
// SM), and strips of 8-byte vectors took kb82 f16 from 0.90 to 0.50 ms; they stay register-bound
// (120-200 registers, 8-16 warps per SM), which the staged kernel below answers.
template <class T, int V, int KH, int KW, int TW, int R, int THREADS, bool VEC>
__global__ void __launch_bounds__(THREADS) nhwc_strip_kernel(ConvArgs a, NhwcGeom g) {
  constexpr int WIN = TW + KW - 1;  // input columns of a tile
  extern __shared__ float4 nhwc_smem[];
  float* wsm = reinterpret_cast<float*>(nhwc_smem);  // [KH*KW][cpb*V]
  NhwcPlace p;
  if (!nhwc_begin<T, V>(a, g, R, TW, KH * KW, static_cast<int>(a.s.out_c()), wsm, p)) return;
  const ConvShape& s = a.s;
  const int C = static_cast<int>(s.c), OC = static_cast<int>(s.out_c());
  const std::int64_t H = s.h, W = s.w, OH = s.out_h(), OW = s.out_w();
  const T* __restrict__ x = static_cast<const T*>(a.x) + p.n * H * W * C;
  T* __restrict__ y = static_cast<T*>(a.y) + p.n * OH * OW * OC;
  const int xc0 = VEC ? p.oc0 : 0;  // gather loads add (oc0 + e) / M themselves
  const float* wv = wsm + p.cl * V;
  const int width = g.cpb * V;
  float b[V];
#pragma unroll
  for (int e = 0; e < V; ++e) b[e] = p.oc0 + e < OC ? bias_of<T>(a, p.oc0 + e) : 0.0f;
  float acc[KH][TW][V];  // slot k: the output row t with t % KH == k
#pragma unroll
  for (int k = 0; k < KH; ++k)
#pragma unroll
    for (int j = 0; j < TW; ++j)
#pragma unroll
      for (int e = 0; e < V; ++e) acc[k][j][e] = b[e];

  const std::int64_t ih0 = p.oh0 - s.ph, iw0 = p.ow0 - s.pw;
  // Input rows this strip needs: up to its last output row inside the image.
  const std::int64_t rows_left = OH - p.oh0;
  const int nin = static_cast<int>(rows_left < R ? rows_left : R) + KH - 1;
  bool col_in[WIN];
#pragma unroll
  for (int q = 0; q < WIN; ++q) col_in[q] = iw0 + q >= 0 && iw0 + q < W;
  NhwcPix<T, V, VEC> buf[WIN];  // input row i, loaded while row i - 1 is computed
  auto load_row = [&](int i) {
    const std::int64_t ih = ih0 + i;
    const bool row_in = ih >= 0 && ih < H;
    const T* row = x + (row_in ? ih : 0) * W * C + xc0;
#pragma unroll
    for (int q = 0; q < WIN; ++q) {
      if (row_in && col_in[q])
        buf[q].load(row + (iw0 + q) * C, VEC ? 0 : p.oc0, VEC ? V : OC, s.m);
      else
        buf[q].zero();
    }
  };
  load_row(0);
  for (int i0 = 0; i0 < nin; i0 += KH) {
#pragma unroll
    for (int u = 0; u < KH; ++u) {  // input row i = i0 + u; ring slots are compile-time
      const int i = i0 + u;
      if (i >= nin) break;
      float xv[WIN][V];
#pragma unroll
      for (int q = 0; q < WIN; ++q) buf[q].get(xv[q]);
      if (i + 1 < nin) load_row(i + 1);
      nhwc_ring_step<T, V, KH, KW, TW, VEC>(acc, xv, wv, width, u, b, i - (KH - 1), y, p.oh0, p.ow0, OW, p.oc0, OC);
    }
  }
}

// cp.async of BYTES (4, 8 or 16) from global to shared memory; `valid` false: zeros, nothing read.
template <int BYTES>
__device__ __forceinline__ void nhwc_cp_async(void* dst, const void* src, bool valid) {
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  const int n = valid ? BYTES : 0;
  if constexpr (BYTES == 16)
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(n) : "memory");
  else
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(d), "l"(src), "n"(BYTES), "r"(n) : "memory");
}
__device__ __forceinline__ void nhwc_cp_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void nhwc_cp_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Stride 1, dilation 1, the strip kernel's arithmetic on rows the block stages in shared memory:
// the block's spb tiles lie side by side in one strip of R output rows, so per input row it copies
// one segment of spb * TW + KW - 1 pixels x cpb channel vectors (each byte once, no halo re-read
// through L1), ST rows deep through cp.async (ST - 1 rows in flight while one is computed, held in
// shared memory rather than registers). Each thread then reads its (TW-1) + KW vectors of the row
// from shared memory. Rows outside the image and channels past OC are zero-filled by the copy;
// gathers (VEC false: multiplier, channel tails, unaligned tensors) are staged by plain loads.
template <class T, int V, int KH, int KW, int TW, int R, int ST, int THREADS, bool VEC>
__global__ void __launch_bounds__(THREADS) nhwc_staged_kernel(ConvArgs a, NhwcGeom g) {
  static_assert(ST >= 2, "at least two stages");
  constexpr int WIN = TW + KW - 1;
  constexpr int VB = V * static_cast<int>(sizeof(T));
  extern __shared__ float4 nhwc_smem[];
  float* wsm = reinterpret_cast<float*>(nhwc_smem);  // [KH*KW][cpb*V] floats
  T* stg = reinterpret_cast<T*>(reinterpret_cast<char*>(nhwc_smem) + g.tap_bytes);  // [ST][ncol][cpb*V]
  const ConvShape& s = a.s;
  const int C = static_cast<int>(s.c), OC = static_cast<int>(s.out_c());
  const std::int64_t H = s.h, W = s.w, OH = s.out_h(), OW = s.out_w();
  const int cc = static_cast<int>(blockIdx.x % static_cast<unsigned>(g.cchunks));
  std::int64_t rest = blockIdx.x / static_cast<unsigned>(g.cchunks);
  const std::int64_t wb = rest % g.wblocks;
  rest /= g.wblocks;
  const std::int64_t oh0 = rest % g.strips * R, n = rest / g.strips;
  const int width = g.cpb * V, base = cc * width;
  nhwc_stage_taps<T>(a, KH * KW, base, width, OC, wsm);
  const int cl = static_cast<int>(threadIdx.x) % g.cpb, sl = static_cast<int>(threadIdx.x) / g.cpb;
  const int oc0 = base + cl * V;
  const std::int64_t bw0 = wb * g.spb * TW;  // the block's first output column
  const std::int64_t ow0 = bw0 + std::int64_t{sl} * TW;
  const bool active = sl < g.spb && oc0 < OC && ow0 < OW;  // idle threads still copy and sync
  const std::int64_t ih0 = oh0 - s.ph, col0 = bw0 - s.pw;
  const std::int64_t rows_left = OH - oh0;
  const int nin = static_cast<int>(rows_left < R ? rows_left : R) + KH - 1;  // block-uniform
  const T* __restrict__ xn = static_cast<const T*>(a.x) + n * H * W * C;
  T* __restrict__ y = static_cast<T*>(a.y) + n * OH * OW * OC;
  const int items = g.ncol * g.cpb;
  auto stage_row = [&](int i) {
    const std::int64_t ih = ih0 + i;
    const bool row_in = ih >= 0 && ih < H;
    T* dst = stg + static_cast<std::ptrdiff_t>(i % ST) * g.ncol * width;
    for (int idx = threadIdx.x; idx < items; idx += THREADS) {
      const int col = idx / g.cpb, v = idx - col * g.cpb;
      const std::int64_t iw = col0 + col;
      const int ch = base + v * V;
      const bool ok = row_in && iw >= 0 && iw < W && ch < OC;
      T* d = dst + col * width + v * V;
      if constexpr (VEC) {
        nhwc_cp_async<VB>(d, ok ? xn + (ih * W + iw) * C + ch : xn, ok);
      } else {
        const T* pix = xn + (ok ? ih * W + iw : 0) * C;
#pragma unroll
        for (int e = 0; e < V; ++e)
          d[e] = ok && ch + e < OC ? __ldg(pix + (ch + e) / s.m) : from_float<T>(0.0f);
      }
    }
  };
  float b[V];
  float acc[KH][TW][V];  // slot k: the output row t with t % KH == k
  const float* wv = wsm + cl * V;
#pragma unroll
  for (int k = 0; k < ST - 1; ++k) {
    if (k < nin) stage_row(k);
    nhwc_cp_commit();
  }
  __syncthreads();  // the taps
#pragma unroll
  for (int e = 0; e < V; ++e) b[e] = active && oc0 + e < OC ? bias_of<T>(a, oc0 + e) : 0.0f;
#pragma unroll
  for (int k = 0; k < KH; ++k)
#pragma unroll
    for (int j = 0; j < TW; ++j)
#pragma unroll
      for (int e = 0; e < V; ++e) acc[k][j][e] = b[e];
  const T* mine = stg + std::int64_t{sl} * TW * width + cl * V;  // this thread's first vector of a stage

  for (int i0 = 0; i0 < nin; i0 += KH) {
#pragma unroll
    for (int u = 0; u < KH; ++u) {
      const int i = i0 + u;
      if (i >= nin) break;
      nhwc_cp_wait<ST - 2>();  // this thread's copies of row i are in
      __syncthreads();         // everyone's are, and row i - 1's stage is free
      if (i + ST - 1 < nin) stage_row(i + ST - 1);
      nhwc_cp_commit();
      if (!active) continue;
      const T* src = mine + static_cast<std::ptrdiff_t>(i % ST) * g.ncol * width;
      float xv[WIN][V];
#pragma unroll
      for (int q = 0; q < WIN; ++q) {
        NhwcPix<T, V, true> px;
        px.load_shared(src + q * width);
        px.get(xv[q]);
      }
      nhwc_ring_step<T, V, KH, KW, TW, VEC>(acc, xv, wv, width, u, b, i - (KH - 1), y, oh0, ow0, OW, oc0, OC);
    }
  }
  nhwc_cp_wait<0>();  // no copy outlives the block
}

// Every filter size, stride and dilation at run time: one output row of TW columns per thread, one
// load per tap (neighbouring taps hit L1).
template <class T, int V, int TW, int THREADS, bool VEC>
__global__ void __launch_bounds__(THREADS) nhwc_any_kernel(ConvArgs a, NhwcGeom g) {
  extern __shared__ float4 nhwc_smem[];
  float* wsm = reinterpret_cast<float*>(nhwc_smem);
  const ConvShape& s = a.s;
  NhwcPlace p;
  if (!nhwc_begin<T, V>(a, g, 1, TW, s.kh * s.kw, static_cast<int>(s.out_c()), wsm, p)) return;
  const int C = static_cast<int>(s.c), OC = static_cast<int>(s.out_c());
  const std::int64_t H = s.h, W = s.w, OH = s.out_h(), OW = s.out_w();
  const T* __restrict__ x = static_cast<const T*>(a.x) + p.n * H * W * C;
  const int xc0 = VEC ? p.oc0 : 0;
  const float* wv = wsm + p.cl * V;
  const int width = g.cpb * V;
  float acc[TW][V];
#pragma unroll
  for (int e = 0; e < V; ++e) {
    const float b = p.oc0 + e < OC ? bias_of<T>(a, p.oc0 + e) : 0.0f;
#pragma unroll
    for (int j = 0; j < TW; ++j) acc[j][e] = b;
  }
  const std::int64_t iw0 = p.ow0 * s.sw - s.pw;
  for (int kh = 0; kh < s.kh; ++kh) {
    const std::int64_t ih = p.oh0 * s.sh - s.ph + std::int64_t{kh} * s.dh;
    if (ih < 0 || ih >= H) continue;
    const T* row = x + ih * W * C;
    for (int kw = 0; kw < s.kw; ++kw) {
      float f[V];
      nhwc_tap<V>(f, wv + (kh * s.kw + kw) * width);
#pragma unroll
      for (int j = 0; j < TW; ++j) {
        const std::int64_t iw = iw0 + std::int64_t{j} * s.sw + std::int64_t{kw} * s.dw;
        if (iw < 0 || iw >= W) continue;
        // Through NhwcPix, not nhwc_load: its Vec16 union put the 16-bit loads of this run-time
        // loop in local memory (16-byte stack frame and spills, ptxas at 20ac52f).
        NhwcPix<T, V, VEC> px;
        px.load(row + iw * C + xc0, VEC ? 0 : p.oc0, VEC ? V : OC, s.m);
        float v[V];
        px.get(v);
#pragma unroll
        for (int e = 0; e < V; ++e) acc[j][e] = fmaf(v[e], f[e], acc[j][e]);
      }
    }
  }
  T* __restrict__ y = static_cast<T*>(a.y) + p.n * OH * OW * OC;
#pragma unroll
  for (int j = 0; j < TW; ++j)
    if (p.ow0 + j < OW) nhwc_store<T, V, VEC>(y + (p.oh0 * OW + p.ow0 + j) * OC, acc[j], p.oc0, OC);
}

// A thread's V channels of KK filter taps each, held in registers as the packed 32-bit words they
// are stored in (element e * KK + tap: a channel's taps are contiguous in a.w, and so are the V
// channels of one thread): VEC, KK vector loads of VB bytes (a.w aligned to VB); otherwise element
// loads of the first `valid` elements, zero past them. 16-bit taps are widened where they are used.
template <class T, int V, int KK, int VB, bool VEC>
struct NhwcTapRegs {
  static constexpr int kPer = 4 / static_cast<int>(sizeof(T));  // elements per word
  static constexpr int kWords = V * KK / kPer;
  static_assert(V * KK % kPer == 0, "whole words");
  unsigned w[kWords];
  __device__ __forceinline__ void load(const T* __restrict__ p, int valid) {
    if constexpr (VEC) {
      constexpr int E = VB / 4;  // words per vector
      static_assert(kWords % E == 0, "whole vectors");
#pragma unroll
      for (int k = 0; k < kWords / E; ++k) {
        if constexpr (E == 4) {
          const uint4 u = __ldg(reinterpret_cast<const uint4*>(p) + k);
          w[4 * k] = u.x, w[4 * k + 1] = u.y, w[4 * k + 2] = u.z, w[4 * k + 3] = u.w;
        } else if constexpr (E == 2) {
          const uint2 u = __ldg(reinterpret_cast<const uint2*>(p) + k);
          w[2 * k] = u.x, w[2 * k + 1] = u.y;
        } else {
          w[k] = __ldg(reinterpret_cast<const unsigned*>(p) + k);
        }
      }
    } else {
#pragma unroll
      for (int k = 0; k < kWords; ++k) {
        unsigned u = 0;
#pragma unroll
        for (int h = 0; h < kPer; ++h) {
          const int i = k * kPer + h;
          T v = from_float<T>(0.0f);
          if (i < valid) v = __ldg(p + i);
          unsigned bits;
          if constexpr (sizeof(T) == 4) {
            memcpy(&bits, &v, 4);
          } else {
            unsigned short b16;
            memcpy(&b16, &v, 2);
            bits = b16;
          }
          u |= bits << (16 * h);
        }
        w[k] = u;
      }
    }
  }
  __device__ __forceinline__ float get(int i) const {
    if constexpr (sizeof(T) == 4) {
      return __uint_as_float(w[i]);
    } else {
      const unsigned u = w[i / 2];
      if constexpr (std::is_same_v<T, __half>) {
        const unsigned short b = static_cast<unsigned short>(i % 2 ? u >> 16 : u & 0xffffu);
        return __half2float(__ushort_as_half(b));
      } else {
        return __uint_as_float(i % 2 ? u & 0xffff0000u : u << 16);
      }
    }
  }
};

// Launch geometry of the direct kernel: one thread per (channel vector, tile), channel vectors
// fastest, then tiles along a row, tile rows, images; the divisions by fast magic numbers.
inline NhwcGeom nhwc_direct_geom(const ConvShape& s, int V, int th, int tw, int threads) {
  NhwcGeom g;
  const std::int64_t cv = (s.out_c() + V - 1) / V;
  g.owg = (s.out_w() + tw - 1) / tw;
  g.ohg = (s.out_h() + th - 1) / th;
  g.items = s.n * g.ohg * g.owg;
  const std::int64_t total = cv * g.items;
  g.cv = static_cast<int>(cv < (1 << 30) ? cv : (1 << 30));
  g.cpb = 1, g.cchunks = 1, g.spb = threads;
  g.blocks = (total + threads - 1) / threads;
  g.total = total;
  if (total < (std::int64_t{1} << 31)) {
    g.by_cv = FastDiv(static_cast<unsigned>(cv));
    g.by_owg = FastDiv(static_cast<unsigned>(g.owg));
    g.by_ohg = FastDiv(static_cast<unsigned>(g.ohg));
  }
  return g;
}

// Batch 1 and small planes, where a launch costs what two or three trips to memory cost: the
// tile kernel's arithmetic (TH x TW outputs of V channels per thread) with nothing between the
// launch and the loads: no shared memory, no barrier, the thread's own taps (V x KH x KW, contiguous
// in a.w) loaded into registers with its input window, all in flight before the first multiply,
// the way the NCHW `direct` family does it. Taps are re-read by every thread of the same channels
// (L1 hits after the first warp). VB = 8 with float32 (2 channels) keeps 5x5 and 7x7 windows in
// registers.
template <class T, int V, int KH, int KW, int S, int D, int TH, int TW, int THREADS, bool VEC>
__global__ void __launch_bounds__(THREADS) nhwc_direct_kernel(ConvArgs a, NhwcGeom g) {
  constexpr int DD = D > 0 ? D : 1;  // the compile-time dilation (D = 0: run time, below)
  constexpr int RH = (TH - 1) * S + (KH - 1) * DD + 1;  // input rows of a tile
  constexpr int WIN = (TW - 1) * S + (KW - 1) * DD + 1;  // input columns of a tile
  constexpr int KK = KH * KW;
  constexpr int VB = V * static_cast<int>(sizeof(T));
  const unsigned t = blockIdx.x * THREADS + threadIdx.x;
  if (t >= g.total) return;
  const unsigned item = g.by_cv(t);
  const int oc0 = static_cast<int>(t - item * static_cast<unsigned>(g.cv)) * V;
  const unsigned rest = g.by_owg(item);
  const std::int64_t ow0 = std::int64_t{item - rest * static_cast<unsigned>(g.owg)} * TW;
  const unsigned n = g.by_ohg(rest);
  const std::int64_t oh0 = std::int64_t{rest - n * static_cast<unsigned>(g.ohg)} * TH;
  const ConvShape& s = a.s;
  const int C = static_cast<int>(s.c), OC = static_cast<int>(s.out_c());
  const std::int64_t H = s.h, W = s.w, OH = s.out_h(), OW = s.out_w();
  const T* __restrict__ x = static_cast<const T*>(a.x) + std::int64_t{n} * H * W * C;
  const int xc0 = VEC ? oc0 : 0;  // gather loads add (oc0 + e) / M themselves

  NhwcTapRegs<T, V, KK, VB, VEC> f;
  f.load(static_cast<const T*>(a.w) + std::int64_t{oc0} * KK, (OC - oc0) * KK);
  const std::int64_t ih0 = oh0 * S - s.ph, iw0 = ow0 * S - s.pw;
  T* __restrict__ y = static_cast<T*>(a.y) + std::int64_t{n} * OH * OW * OC;
  if constexpr (D == 0) {
    // Dilation at run time (DeepLab's 2 ... 18): one row of TW outputs, each tap's pixel its own load.
    static_assert(TH == 1, "run-time dilation: one output row");
    NhwcPix<T, V, VEC> px[KH][KW][TW];
#pragma unroll
    for (int kh = 0; kh < KH; ++kh) {
      const std::int64_t ih = ih0 + std::int64_t{kh} * s.dh;
      const bool row_in = ih >= 0 && ih < H;
      const T* row = x + (row_in ? ih : 0) * W * C + xc0;
#pragma unroll
      for (int kw = 0; kw < KW; ++kw)
#pragma unroll
        for (int j = 0; j < TW; ++j) {
          const std::int64_t iw = iw0 + j * S + std::int64_t{kw} * s.dw;
          if (row_in && iw >= 0 && iw < W)
            px[kh][kw][j].load(row + iw * C, VEC ? 0 : oc0, VEC ? V : OC, s.m);
          else
            px[kh][kw][j].zero();
        }
    }
    float acc[1][TW][V];
    nhwc_init_acc<T, V, 1, TW>(acc, a, oc0, OC);
#pragma unroll
    for (int kh = 0; kh < KH; ++kh)
#pragma unroll
      for (int kw = 0; kw < KW; ++kw)
#pragma unroll
        for (int j = 0; j < TW; ++j) {
          float xv[V];
          px[kh][kw][j].get(xv);
#pragma unroll
          for (int e = 0; e < V; ++e) acc[0][j][e] = fmaf(xv[e], f.get(e * KK + kh * KW + kw), acc[0][j][e]);
        }
#pragma unroll
    for (int j = 0; j < TW; ++j)
      if (ow0 + j < OW) nhwc_store_packed<T, V, VEC>(y + (oh0 * OW + ow0 + j) * OC, acc[0][j], oc0, OC);
  } else {
    NhwcPix<T, V, VEC> px[RH][WIN];
#pragma unroll
    for (int r = 0; r < RH; ++r) {
      const std::int64_t ih = ih0 + r;
      const bool row_in = ih >= 0 && ih < H;
      const T* row = x + (row_in ? ih : 0) * W * C + xc0;
#pragma unroll
      for (int q = 0; q < WIN; ++q) {
        const std::int64_t iw = iw0 + q;
        if (row_in && iw >= 0 && iw < W)
          px[r][q].load(row + iw * C, VEC ? 0 : oc0, VEC ? V : OC, s.m);
        else
          px[r][q].zero();
      }
    }
    float acc[TH][TW][V];
    nhwc_init_acc<T, V, TH, TW>(acc, a, oc0, OC);
#pragma unroll
    for (int r = 0; r < RH; ++r) {
      float xw[WIN][V];
#pragma unroll
      for (int q = 0; q < WIN; ++q) px[r][q].get(xw[q]);
#pragma unroll
      for (int i = 0; i < TH; ++i) {
        const int d = r - i * S;  // this row is filter row d / D of output row i
        if (d < 0 || d % DD != 0 || d / DD >= KH) continue;
        const int kh = d / DD;
#pragma unroll
        for (int kw = 0; kw < KW; ++kw)
#pragma unroll
          for (int j = 0; j < TW; ++j)
#pragma unroll
            for (int e = 0; e < V; ++e)
              acc[i][j][e] = fmaf(xw[j * S + kw * DD][e], f.get(e * KK + kh * KW + kw), acc[i][j][e]);
      }
    }
#pragma unroll
    for (int i = 0; i < TH; ++i) {
      if (oh0 + i >= OH) break;
#pragma unroll
      for (int j = 0; j < TW; ++j)
        if (ow0 + j < OW) nhwc_store_packed<T, V, VEC>(y + ((oh0 + i) * OW + ow0 + j) * OC, acc[i][j], oc0, OC);
    }
  }
}

struct NhwcTile {
  int th, tw;    // TH output rows x TW output columns per thread, V channels wide
  int stride;    // compile-time stride of both axes; 0: run time (KSize{} only)
  int dilation;  // compile-time dilation of both axes; 0: run time
  int threads;
  int vb = 16;   // bytes of a thread's channel vector: 16, or 8 (16-bit types: half the registers)
  int wreg = 0;  // 1: filter taps held in registers (fixed sizes only)
  int rows = 0;  // > 0: strip kernel (stride 1, dilation 1, th = 1), a thread walks down `rows` output rows
  int cg = 0;    // > 0: at most cg channel vectors per block (0: as many as shared memory holds)
  int stages = 0;  // strips: > 0, the block stages its input rows in shared memory, this many deep
  int direct = 0;  // 1: nhwc_direct_kernel (no shared memory, taps in registers); vb 8 allowed for float32
  constexpr int block_threads() const { return threads; }
  static constexpr auto fields() {
    using F = Field<NhwcTile>;
    return std::array{F{"th", "_t", &NhwcTile::th}, F{"tw", "x", &NhwcTile::tw},
                      F{"stride", "_s", &NhwcTile::stride, Show::any0},
                      F{"dilation", "_d", &NhwcTile::dilation, Show::any0},
                      F{"threads", "_b", &NhwcTile::threads}, F{"vb", "_v", &NhwcTile::vb},
                      F{"wreg", "_wr", &NhwcTile::wreg, Show::flag},
                      F{"rows", "_r", &NhwcTile::rows, Show::nonzero},
                      F{"cg", "_g", &NhwcTile::cg, Show::nonzero},
                      F{"stages", "_st", &NhwcTile::stages, Show::nonzero},
                      F{"direct", "_dr", &NhwcTile::direct, Show::flag}};
  }
  friend constexpr bool operator==(const NhwcTile&, const NhwcTile&) = default;
};

template <class T, KSize K, NhwcTile P>
struct Nhwc {
  static constexpr FamilyInfo family{.name = "nhwc", .layout = Layout::nhwc, .preference = 0};
  static constexpr KSize ksize = K;
  static constexpr NhwcTile tile = P;
  static constexpr bool kFixed = K.kh > 0;
  static constexpr int V = P.vb / static_cast<int>(sizeof(T));
  static_assert((V >= 4 || (P.direct && V >= 2)) && V * sizeof(T) == P.vb, "4 or 8 channels per thread (direct: 2)");
  static_assert(P.direct == 0 || (kFixed && P.rows == 0 && P.wreg == 0 && P.cg == 0),
                "direct: fixed sizes, tiles, taps always in registers");
  static_assert(kFixed == (P.stride > 0 && (P.dilation > 0 || P.direct)),
                "fixed sizes have a fixed stride and dilation (direct: dilation 0, any)");
  static_assert(kFixed || (P.th == 1 && P.wreg == 0), "the run-time path computes one row per thread");
  static_assert(P.rows == 0 || (kFixed && P.th == 1 && P.stride == 1 && P.dilation == 1 && P.wreg == 0),
                "strips: fixed sizes, stride 1, dilation 1, one row at a time, taps from shared memory");
  static_assert(P.stages == 0 || (P.rows > 0 && P.stages >= 2), "staged strips: rows, two stages or more");
  static constexpr int kRowsPerItem = P.rows > 0 ? P.rows : P.th;
  static NhwcGeom geom(const ConvShape& s) {
    if constexpr (P.direct != 0)
      return nhwc_direct_geom(s, V, P.th, P.tw, P.threads);
    else if constexpr (P.stages > 0)
      return nhwc_staged_geom(s, V, static_cast<int>(sizeof(T)), P.tw, P.rows, P.stages, P.threads, P.cg);
    else
      return nhwc_geom(s, V, kRowsPerItem, P.tw, P.threads, P.cg);
  }
  static constexpr int kDefaultVb = sizeof(T) == 4 ? 16 : 8;
  // Dispatch without a table: the 4x2 tile, compiled for every fixed size (the strips only for some).
  static constexpr NhwcTile default_tile =
      kFixed ? NhwcTile{.th = 4, .tw = 2, .stride = 1, .dilation = 1, .threads = 256, .vb = kDefaultVb}
             : NhwcTile{.th = 1, .tw = 4, .stride = 0, .dilation = 0, .threads = 128, .vb = kDefaultVb};

  static LaunchConfig config(const ConvShape& s) {
    const NhwcGeom g = geom(s);
    return block_launch(g.blocks, P.threads, g.smem_bytes);
  }
  static Support supports(const ConvShape& s, const DeviceLimits& lim) {
    if constexpr (kFixed) {
      if (s.sh != P.stride || s.sw != P.stride || (P.dilation > 0 && (s.dh != P.dilation || s.dw != P.dilation)))
        return Support::no(cat("compiled for stride ", P.stride, " and dilation ", P.dilation));
      if (P.dilation == 0 && P.th != 1) return Support::no("run-time dilation: one output row per thread");
    }
    const NhwcGeom g = geom(s);
    if (g.blocks >= 0x7fffffff) return Support::no(cat(g.blocks, " blocks exceed the grid limit"));
    if (P.direct && g.total >= (std::int64_t{1} << 31))
      return Support::no(cat(g.total, " threads: the direct kernel places threads in 31 bits"));
    // Channel and pixel offsets are int inside a row; rows and images are int64.
    if (s.out_c() * s.kh * s.kw >= (std::int64_t{1} << 31) || s.w * s.c >= (std::int64_t{1} << 31) ||
        s.out_w() * s.out_c() >= (std::int64_t{1} << 31))
      return Support::no("a row or the filter has 2^31 elements or more");
    if (g.tap_bytes > kNhwcFilterBytes || (P.stages == 0 && g.smem_bytes > kNhwcFilterBytes))
      return Support::no(cat("filter of ", s.kh, "x", s.kw, " taps does not fit in shared memory"));
    if (g.smem_bytes > kNhwcStagedBytes || g.smem_bytes > lim.max_smem_per_block)
      return Support::no(cat(g.smem_bytes, " bytes of taps and staged rows exceed the block's shared memory"));
    return Support::yes();
  }
  template <bool VEC>
  static void launch_as(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    const NhwcGeom g = geom(a.s);
    if constexpr (P.direct != 0)
      launch_kernel(nhwc_direct_kernel<T, V, K.kh, K.kw, P.stride, P.dilation, P.th, P.tw, P.threads, VEC>, c, st, a, g);
    else if constexpr (P.stages > 0)
      launch_kernel(nhwc_staged_kernel<T, V, K.kh, K.kw, P.tw, P.rows, P.stages, P.threads, VEC>, c, st, a, g);
    else if constexpr (P.rows > 0)
      launch_kernel(nhwc_strip_kernel<T, V, K.kh, K.kw, P.tw, P.rows, P.threads, VEC>, c, st, a, g);
    else if constexpr (kFixed)
      launch_kernel(nhwc_kernel<T, V, K.kh, K.kw, P.stride, P.dilation, P.th, P.tw, P.threads, P.wreg != 0, VEC>, c, st, a, g);
    else
      launch_kernel(nhwc_any_kernel<T, V, P.tw, P.threads, VEC>, c, st, a, g);
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    auto al = [](const void* q) { return reinterpret_cast<std::uintptr_t>(q) % P.vb == 0; };
    // The direct kernel also reads its taps as vectors.
    const bool vec = a.s.m == 1 && a.s.c % V == 0 && al(a.x) && al(a.y) && (P.direct == 0 || al(a.w));
    if (vec)
      launch_as<true>(a, c, st);
    else
      launch_as<false>(a, c, st);
  }
};

// KernelBench's 3x3, 3x1 and 3x7, and the networks' 5x5 and 7x7.
inline constexpr KSize kNhwcSizes[] = {{3, 3}, {3, 1}, {3, 7}, {5, 5}, {7, 7}};
// Stride 1: tall and wide tiles for large planes, single pixels for 7x7 planes at batch 1; stride 2.
// 16-bit types also take 8-byte vectors (4 channels): the same registers per thread as float32.
// (Dropped with the strips, H200 7be6024: float32 1x8 b128, 2x4 b256 and 2x4 b128 wr, 16-bit
// 2x4 b256 with 8- and 16-byte vectors; none won a KernelBench problem, each was 5-90% behind the
// tall tiles or strips there.)
inline constexpr NhwcTile kNhwcTiles32[] = {
    {.th = 1, .tw = 1, .stride = 1, .dilation = 1, .threads = 64},
    {.th = 1, .tw = 4, .stride = 1, .dilation = 1, .threads = 128},
    {.th = 4, .tw = 2, .stride = 1, .dilation = 1, .threads = 256},
    {.th = 1, .tw = 1, .stride = 2, .dilation = 1, .threads = 64},
    {.th = 1, .tw = 2, .stride = 2, .dilation = 1, .threads = 128},
    {.th = 2, .tw = 2, .stride = 2, .dilation = 1, .threads = 256},
    {.th = 4, .tw = 4, .stride = 1, .dilation = 1, .threads = 128, .wreg = 1},
    {.th = 2, .tw = 2, .stride = 2, .dilation = 1, .threads = 128, .wreg = 1},
};
inline constexpr NhwcTile kNhwcTiles16[] = {
    {.th = 1, .tw = 1, .stride = 1, .dilation = 1, .threads = 64},
    {.th = 1, .tw = 4, .stride = 1, .dilation = 1, .threads = 128},
    {.th = 1, .tw = 4, .stride = 1, .dilation = 1, .threads = 128, .vb = 8},
    {.th = 1, .tw = 8, .stride = 1, .dilation = 1, .threads = 128, .vb = 8},
    {.th = 4, .tw = 2, .stride = 1, .dilation = 1, .threads = 256, .vb = 8},
    {.th = 1, .tw = 1, .stride = 2, .dilation = 1, .threads = 64},
    {.th = 1, .tw = 2, .stride = 2, .dilation = 1, .threads = 128, .vb = 8},
    {.th = 2, .tw = 2, .stride = 2, .dilation = 1, .threads = 256, .vb = 8},
    {.th = 2, .tw = 4, .stride = 1, .dilation = 1, .threads = 128, .vb = 8, .wreg = 1},
    {.th = 4, .tw = 4, .stride = 1, .dilation = 1, .threads = 128, .vb = 8, .wreg = 1},
    {.th = 2, .tw = 2, .stride = 2, .dilation = 1, .threads = 128, .vb = 8, .wreg = 1},
};
// Strips (stride 1, dilation 1) for the KernelBench filters, 16 output rows per thread: loads
// straight to registers, or rows staged in shared memory (stages); at most cg channel vectors per
// block. Each won at least one KernelBench or batch-32 network layer on the H200 (7be6024):
// float32 staged 1x2 b128 KernelBench 82/84/86 and most 3x3 layers, staged 1x4 b128 KernelBench 85,
// register 1x2 b256 and 1x4 b128 two 3x3 layers; 16-bit register 1x2 b256 (8-byte vectors)
// KernelBench 82/84/86 and the 3x3 layers, register 1x4 b256 KernelBench 85, staged 1x2 b128
// KernelBench 83, staged 1x4 b128 within 1% of the best on KernelBench 84.
inline constexpr KSize kNhwcStripSizes[] = {{3, 3}, {3, 1}, {3, 7}};
#define DWT_NHWC_STRIP(tw_, b_, ...) {.th = 1, .tw = tw_, .stride = 1, .dilation = 1, .threads = b_, __VA_ARGS__}
inline constexpr NhwcTile kNhwcStripTiles32[] = {
    DWT_NHWC_STRIP(2, 256, .rows = 16),
    DWT_NHWC_STRIP(4, 128, .rows = 16, .cg = 8),
    DWT_NHWC_STRIP(2, 128, .rows = 16, .cg = 8, .stages = 4),
    DWT_NHWC_STRIP(4, 128, .rows = 16, .cg = 8, .stages = 3),
};
inline constexpr NhwcTile kNhwcStripTiles16[] = {
    DWT_NHWC_STRIP(2, 256, .vb = 8, .rows = 16, .cg = 16),
    DWT_NHWC_STRIP(4, 256, .vb = 8, .rows = 16, .cg = 8),
    DWT_NHWC_STRIP(2, 128, .rows = 16, .cg = 8, .stages = 4),
    DWT_NHWC_STRIP(4, 128, .vb = 8, .rows = 16, .cg = 16, .stages = 3),
};
// Strips for the networks' 5x5 and 7x7 filters at batch 32.
inline constexpr KSize kNhwcStripSizesLarge[] = {{5, 5}, {7, 7}};
inline constexpr NhwcTile kNhwcStripTilesLarge32[] = {
    DWT_NHWC_STRIP(2, 128, .rows = 16, .cg = 8, .stages = 4),
};
inline constexpr NhwcTile kNhwcStripTilesLarge16[] = {
    DWT_NHWC_STRIP(2, 128, .rows = 16, .cg = 8, .stages = 4),
    DWT_NHWC_STRIP(2, 128, .vb = 8, .rows = 16, .cg = 16, .stages = 4),
};
#undef DWT_NHWC_STRIP
// Direct (no shared memory, no barrier): batch 1 and small planes. 3x3: one to four outputs per
// thread, 4 or 8 channels; 5x5 and 7x7: one output, at most 4 channels (2 with float32's 8-byte
// vectors), the window and the taps fit in registers (V = 8 and 1x2 tiles spilled there, ptxas).
inline constexpr KSize kNhwcDirectSizes[] = {{3, 3}};
#define DWT_NHWC_DIRECT(th_, tw_, s_, b_, vb_) \
  {.th = th_, .tw = tw_, .stride = s_, .dilation = 1, .threads = b_, .vb = vb_, .direct = 1}
inline constexpr NhwcTile kNhwcDirectTiles32[] = {
    DWT_NHWC_DIRECT(1, 1, 1, 64, 16), DWT_NHWC_DIRECT(1, 2, 1, 128, 16), DWT_NHWC_DIRECT(2, 2, 1, 128, 16),
    DWT_NHWC_DIRECT(1, 1, 1, 64, 8),  DWT_NHWC_DIRECT(1, 1, 2, 64, 16),  DWT_NHWC_DIRECT(1, 2, 2, 128, 16),
};
inline constexpr NhwcTile kNhwcDirectTiles16[] = {
    DWT_NHWC_DIRECT(1, 1, 1, 64, 16), DWT_NHWC_DIRECT(1, 1, 1, 64, 8),  DWT_NHWC_DIRECT(1, 2, 1, 128, 16),
    DWT_NHWC_DIRECT(1, 2, 1, 128, 8), DWT_NHWC_DIRECT(1, 1, 2, 64, 16), DWT_NHWC_DIRECT(1, 2, 2, 128, 16),
    DWT_NHWC_DIRECT(2, 2, 2, 128, 8),
};
inline constexpr KSize kNhwcDirectSizesLarge[] = {{5, 5}, {7, 7}};
inline constexpr NhwcTile kNhwcDirectTilesLarge32[] = {
    DWT_NHWC_DIRECT(1, 1, 1, 64, 16), DWT_NHWC_DIRECT(1, 1, 1, 64, 8), DWT_NHWC_DIRECT(1, 1, 2, 64, 8)};
inline constexpr NhwcTile kNhwcDirectTilesLarge16[] = {
    DWT_NHWC_DIRECT(1, 1, 1, 64, 8), DWT_NHWC_DIRECT(1, 1, 2, 64, 8)};
// Run-time dilation (DeepLab's dilated 3x3 layers).
inline constexpr KSize kNhwcDilatedSizes[] = {{3, 3}};
inline constexpr NhwcTile kNhwcDilatedTiles32[] = {
    {.th = 1, .tw = 1, .stride = 1, .dilation = 0, .threads = 64, .direct = 1},
    {.th = 1, .tw = 2, .stride = 1, .dilation = 0, .threads = 128, .direct = 1},
};
inline constexpr NhwcTile kNhwcDilatedTiles16[] = {
    {.th = 1, .tw = 1, .stride = 1, .dilation = 0, .threads = 64, .direct = 1},
    {.th = 1, .tw = 1, .stride = 1, .dilation = 0, .threads = 64, .vb = 8, .direct = 1},
    {.th = 1, .tw = 2, .stride = 1, .dilation = 0, .threads = 128, .direct = 1},
};
#undef DWT_NHWC_DIRECT
inline constexpr NhwcTile kNhwcAnyTiles32[] = {
    {.th = 1, .tw = 1, .stride = 0, .dilation = 0, .threads = 64},
    {.th = 1, .tw = 4, .stride = 0, .dilation = 0, .threads = 128},
};
inline constexpr NhwcTile kNhwcAnyTiles16[] = {
    {.th = 1, .tw = 1, .stride = 0, .dilation = 0, .threads = 64},
    {.th = 1, .tw = 4, .stride = 0, .dilation = 0, .threads = 128, .vb = 8},
};

template <class T>
void add_nhwc(OpList& ops) {
  auto make = [&]<KSize K, NhwcTile P> { return Nhwc<T, K, P>{}; };
  add_grid_by_width<T, kNhwcSizes, kNhwcTiles32, kNhwcTiles16>(ops, make);
  add_grid_by_width<T, kNhwcStripSizes, kNhwcStripTiles32, kNhwcStripTiles16>(ops, make);
  add_grid_by_width<T, kNhwcStripSizesLarge, kNhwcStripTilesLarge32, kNhwcStripTilesLarge16>(ops, make);
  add_grid_by_width<T, kNhwcDirectSizes, kNhwcDirectTiles32, kNhwcDirectTiles16>(ops, make);
  add_grid_by_width<T, kNhwcDirectSizesLarge, kNhwcDirectTilesLarge32, kNhwcDirectTilesLarge16>(ops, make);
  add_grid_by_width<T, kNhwcDilatedSizes, kNhwcDilatedTiles32, kNhwcDilatedTiles16>(ops, make);
  add_grid_by_width<T, kAnySize, kNhwcAnyTiles32, kNhwcAnyTiles16>(ops, make);
}

}  // namespace dwt
