// Family "direct": each thread computes TW adjacent outputs of TH output rows straight from global
// memory: no shared memory, no barrier, and every input element and filter tap the thread needs is
// loaded before its first multiply (compile-time filter size, loops fully unrolled), so a thread waits
// for memory once instead of once per tap. That is what a small layer needs: at batch 1, or on 7x7 ...
// 28x28 planes, its time is the launch plus one or two trips to memory, and a kernel that first stages
// a bulk copy, waits at a barrier and then computes, or that loads tap by tap in a loop, pays the
// memory latency several times over.
//
// Stride and dilation are compile-time (S, D > 0: a thread's TW outputs share one window of
// (TW-1)*S + (KW-1)*D + 1 loaded elements per input row, and its TH rows the input rows they have in
// common) or run time (S = D = 0, TH = 1: one load per output and tap, repeats served by L1).
// KSize{} (run-time filter size) loops over the taps.
// Threads cover output rows' column groups first, so a warp reads and writes contiguous runs of a row.
//
// 16-bit types on the compile-time path read each input row's window (and the filter) as the
// aligned vectors that cover it, whatever its alignment, and shift the elements into place in
// registers (a byte permute per word; select steps for 16-byte vectors): WIN / 2 + 1 half2 loads per
// row instead of WIN scalar ones, and one packed conversion per two outputs on the way out. These
// kernels are bound by instruction issue (an H200 profile of mbv2_c576_h14 n32 f16: about one issued
// instruction per cycle per scheduler at 85ea0f4), so fewer loads, conversions and addresses per
// output is what counts; wider vectors cost more in shifts than they save in loads except on the
// widest windows (direct_vec_bytes). A vector may cover elements of the neighbouring rows or planes
// (masked to zero like padding); a thread whose vectors could reach past either end of a tensor loads
// element by element, as f32 does everywhere (vectors measured slower for f32 at 4, 8 and 16 bytes).
#pragma once

#include <type_traits>

#include "band.cuh"
#include "fast_div.hpp"

namespace dwt {

// A launch's shape in 32-bit ints (supports() refuses problems beyond them).
struct DirectGeom {
  int H, W, OH, OW, OC, M, C;
  int groups;     // column groups of TW outputs per output row
  int row_tiles;  // groups of TH output rows per plane
  FastDiv by_groups, by_rows, by_oc, by_m;
  int kh, kw, sh, sw, ph, pw, dh, dw;
  int items;  // planes * row_tiles * groups: one per thread
  std::int64_t x_elems;  // input tensor elements: the extent vector reads stay inside
};

inline DirectGeom direct_geom(const ConvShape& s, int tw, int th) {
  DirectGeom g{};
  g.H = static_cast<int>(s.h);
  g.W = static_cast<int>(s.w);
  g.OH = static_cast<int>(s.out_h());
  g.OW = static_cast<int>(s.out_w());
  g.OC = static_cast<int>(s.out_c());
  g.M = s.m;
  g.C = static_cast<int>(s.c);
  g.groups = (g.OW + tw - 1) / tw;
  g.row_tiles = (g.OH + th - 1) / th;
  g.by_groups = FastDiv(static_cast<unsigned>(g.groups));
  g.by_rows = FastDiv(static_cast<unsigned>(g.row_tiles));
  g.by_oc = FastDiv(static_cast<unsigned>(g.OC));
  g.by_m = FastDiv(static_cast<unsigned>(g.M));
  g.kh = s.kh, g.kw = s.kw, g.sh = s.sh, g.sw = s.sw, g.ph = s.ph, g.pw = s.pw, g.dh = s.dh, g.dw = s.dw;
  g.items = static_cast<int>(s.n * s.out_c() * g.row_tiles * g.groups);
  g.x_elems = s.input_elems();
  return g;
}

// Items (threads) a problem needs with TH x TW outputs per thread, in 64 bits.
inline std::int64_t direct_items(const ConvShape& s, int tw, int th) {
  return s.n * s.out_c() * ((s.out_h() + th - 1) / th) * ((s.out_w() + tw - 1) / tw);
}

// Bytes of a window's vector loads (16-bit types), fixed per kernel: 4 (half2: one byte permute per
// word puts a window in place) unless the thread would issue more than 48 such loads (7x7 filters
// with 8 outputs per row, 5x5 with 4 x 8 outputs), where 16 (a select step per bit of the word shift
// more, a quarter of the loads) costs fewer instructions. Measured on an H200 against 8 and 16
// bytes everywhere: 4 bytes was fastest on 3x3 and 5x5, 16 on 7x7 with two rows of 8 outputs.
constexpr int direct_vec_bytes(int rows, int win) { return rows * (win / 2 + 1) > 48 ? 16 : 4; }

// Windows of N consecutive elements read as the aligned VB-byte vectors that cover them: NV vectors
// of V elements, NW 32-bit words.
template <class T, int N, int VB>
struct DirectVec {
  static constexpr int V = VB / static_cast<int>(sizeof(T));
  static constexpr int NV = (N + 2 * V - 2) / V;  // covers N elements at any alignment
  static constexpr int NW = NV * VB / 4;
};

// The NW words of the VB-byte vectors that cover the window at p (read-only cached; zeros unless
// ok), and the window's position in the first one, in elements.
template <int VB, int NW, class T>
__device__ __forceinline__ int direct_vec_load(unsigned (&w)[NW], const T* p, bool ok) {
  const int a = static_cast<int>(reinterpret_cast<std::uintptr_t>(p) / sizeof(T)) & (VB / static_cast<int>(sizeof(T)) - 1);
  const unsigned* q = reinterpret_cast<const unsigned*>(p - a);
  constexpr int E = VB / 4;  // words per vector
#pragma unroll
  for (int k = 0; k < NW / E; ++k) {
    if constexpr (E == 4) {
      const uint4 v = ok ? __ldg(reinterpret_cast<const uint4*>(q) + k) : make_uint4(0, 0, 0, 0);
      w[4 * k] = v.x, w[4 * k + 1] = v.y, w[4 * k + 2] = v.z, w[4 * k + 3] = v.w;
    } else if constexpr (E == 2) {
      const uint2 v = ok ? __ldg(reinterpret_cast<const uint2*>(q) + k) : make_uint2(0, 0);
      w[2 * k] = v.x, w[2 * k + 1] = v.y;
    } else {
      w[k] = ok ? __ldg(q + k) : 0u;
    }
  }
  return a;
}

// x[j] = element j + a of the words w (0 <= a < V), as floats: the words shifted by whole words in
// select steps (one per bit of the word shift), then by half a word with one byte permute per word.
template <class T, int N, int VB, int NW>
__device__ __forceinline__ void direct_vec_extract(float (&x)[N], unsigned (&w)[NW], int a) {
  static_assert(sizeof(T) == 2, "16-bit types");
  const int sw = a / 2;  // whole words, below VB / 4
  if constexpr (VB >= 16) {
#pragma unroll
    for (int m = 0; m < NW; ++m) w[m] = (sw & 2) ? w[m + 2 < NW ? m + 2 : m] : w[m];
  }
  if constexpr (VB >= 8) {
#pragma unroll
    for (int m = 0; m < NW; ++m) w[m] = (sw & 1) ? w[m + 1 < NW ? m + 1 : m] : w[m];
  }
  const unsigned sel = (a & 1) ? 0x5432u : 0x3210u;
#pragma unroll
  for (int i = 0; i < (N + 1) / 2; ++i) {
    const unsigned h = __byte_perm(w[i], w[i + 1 < NW ? i + 1 : i], sel);
    if constexpr (std::is_same_v<T, __half>) {
      const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&h));
      x[2 * i] = f.x;
      if (2 * i + 1 < N) x[2 * i + 1] = f.y;
    } else {
      x[2 * i] = __uint_as_float(h << 16);
      if (2 * i + 1 < N) x[2 * i + 1] = __uint_as_float(h & 0xffff0000u);
    }
  }
}

// Whether input row r of a thread's window feeds one of its TH output rows: the rows between the
// taps of a dilated filter that no output row uses are never read.
template <int TH, int S, int KH, int D>
__device__ __forceinline__ constexpr bool direct_row_used(int r) {
  for (int o = 0; o < TH; ++o)
    for (int k = 0; k < KH; ++k)
      if (o * S + k * D == r) return true;
  return false;
}

// out[ow0 + j] = acc[j] for the columns inside the row: whole tiles in the widest pieces (PB bytes,
// at most the tile's own chunk) their address allows, element stores otherwise.
// Two floats as one word of two 16-bit elements (one packed conversion).
template <class T>
__device__ __forceinline__ unsigned direct_pack2(float lo, float hi) {
  if constexpr (std::is_same_v<T, __half>) {
    const __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const unsigned*>(&h);
  } else {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const unsigned*>(&h);
  }
}

template <class T, int TW, int PB>
__device__ __forceinline__ void direct_store_pieces(T* __restrict__ p, const float (&acc)[TW]) {
  constexpr int PE = PB / static_cast<int>(sizeof(T));
#pragma unroll
  for (int k = 0; k < TW / PE; ++k) {
    Vec16 v;
    if constexpr (sizeof(T) == 2 && PE >= 2) {
      unsigned u[4] = {0, 0, 0, 0};
#pragma unroll
      for (int i = 0; i < PE / 2; ++i) u[i] = direct_pack2<T>(acc[k * PE + 2 * i], acc[k * PE + 2 * i + 1]);
      v.u = make_uint4(u[0], u[1], u[2], u[3]);
    } else {
#pragma unroll
      for (int i = 0; i < PE; ++i) set_vec_elem(v, i, from_float<T>(acc[k * PE + i]));
    }
    if constexpr (PB == 16) *reinterpret_cast<uint4*>(p + k * PE) = v.u;
    else if constexpr (PB == 8) *reinterpret_cast<uint2*>(p + k * PE) = make_uint2(v.u.x, v.u.y);
    else if constexpr (PB == 4) *reinterpret_cast<unsigned*>(p + k * PE) = v.u.x;
    else p[k] = from_float<T>(acc[k]);
  }
}

template <class T, int TW, int PB = band_chunk_bytes<T>(TW)>
__device__ __forceinline__ void direct_store(T* __restrict__ out, const float (&acc)[TW], int ow0, int OW) {
  T* p = out + ow0;
  if (ow0 + TW <= OW) {
    if constexpr (PB > static_cast<int>(sizeof(T))) {
      if ((reinterpret_cast<std::uintptr_t>(p) % PB) == 0) return direct_store_pieces<T, TW, PB>(p, acc);
      return direct_store<T, TW, PB / 2>(out, acc, ow0, OW);
    } else {
      return direct_store_pieces<T, TW, static_cast<int>(sizeof(T))>(p, acc);
    }
  }
#pragma unroll
  for (int j = 0; j < TW; ++j)
    if (ow0 + j < OW) p[j] = from_float<T>(acc[j]);
}

template <class T, int KH, int KW, int S, int D, int TH, int TW, int THREADS>
__global__ void __launch_bounds__(THREADS) direct_kernel(ConvArgs a, DirectGeom g) {
  static_assert(TH == 1 || S > 0, "several rows per thread need a compile-time stride");
  const int i = static_cast<int>(blockIdx.x) * THREADS + static_cast<int>(threadIdx.x);
  if (i >= g.items) return;
  const int tile = static_cast<int>(g.by_groups(i));  // plane * row_tiles + row tile
  const int cg = i - tile * g.groups;
  const int plane = static_cast<int>(g.by_rows(tile));  // n * OC + oc
  const int oh0 = (tile - plane * g.row_tiles) * TH;
  const int n = static_cast<int>(g.by_oc(plane));
  const int oc = plane - n * g.OC;
  const int ic = g.M == 1 ? oc : static_cast<int>(g.by_m(oc));
  const int C = g.C;
  const T* __restrict__ xp = static_cast<const T*>(a.x) + (std::int64_t{n} * C + ic) * (std::int64_t{g.H} * g.W);
  const int ow0 = cg * TW;
  float acc[TH][TW];
  const float b = bias_of<T>(a, oc);
#pragma unroll
  for (int r = 0; r < TH; ++r)
#pragma unroll
    for (int t = 0; t < TW; ++t) acc[r][t] = b;

  if constexpr (KH > 0 && S > 0) {
    // Input rows of the TH output rows (shared where they overlap), each a window of WIN elements.
    constexpr int ROWS = (TH - 1) * S + (KH - 1) * D + 1;
    constexpr int WIN = (TW - 1) * S + (KW - 1) * D + 1;
    const T* __restrict__ wp = static_cast<const T*>(a.w) + oc * (KH * KW);
    float wr[KH * KW];
    float xr[ROWS][WIN];
    const int ih0 = oh0 * S - g.ph, iw0 = ow0 * S - g.pw;
    // Element by element: f32, and 16-bit threads whose vectors could reach past an end of a tensor.
    auto scalar = [&] {
#pragma unroll
      for (int k = 0; k < KH * KW; ++k) wr[k] = ldg_f(wp + k);
#pragma unroll
      for (int r = 0; r < ROWS; ++r) {
        if (!direct_row_used<TH, S, KH, D>(r)) continue;
        const int ih = ih0 + r;
        const bool row_ok = static_cast<unsigned>(ih) < static_cast<unsigned>(g.H);
#pragma unroll
        for (int j = 0; j < WIN; ++j) {
          const int iw = iw0 + j;
          xr[r][j] = row_ok && static_cast<unsigned>(iw) < static_cast<unsigned>(g.W) ? ldg_f(xp + ih * g.W + iw) : 0.0f;
        }
      }
    };
    if constexpr (sizeof(T) == 2) {
      // 16-bit types: vectors when those of the filter lie inside the weights and those of every
      // row inside the input tensor; element loads otherwise (threads at either end of a tensor).
      constexpr int VB = direct_vec_bytes(ROWS, WIN);
      using VW = DirectVec<T, KH * KW, VB>;
      using VX = DirectVec<T, WIN, VB>;
      const int wa = static_cast<int>(reinterpret_cast<std::uintptr_t>(wp) & (VB - 1)) / 2;
      const std::int64_t xoff = (std::int64_t{n} * C + ic) * (std::int64_t{g.H} * g.W);
      const bool vec = oc * (KH * KW) - wa >= 0 && oc * (KH * KW) - wa + VW::NV * VW::V <= g.OC * (KH * KW) &&
            xoff + ih0 * g.W + iw0 - VX::V >= 0 &&
            xoff + (ih0 + ROWS - 1) * g.W + iw0 + VX::NV * VX::V <= g.x_elems;
      if (vec) {
        // Every load first (rows outside the plane read as zero, predicated), then the shifts.
        unsigned uw[VW::NW];
        unsigned ux[ROWS][VX::NW];
        int ax[ROWS];
        const int aw = direct_vec_load<VB>(uw, wp, true);
#pragma unroll
        for (int r = 0; r < ROWS; ++r) {
          if (!direct_row_used<TH, S, KH, D>(r)) continue;
          const int ih = ih0 + r;
          ax[r] = direct_vec_load<VB>(ux[r], xp + ih * g.W + iw0, static_cast<unsigned>(ih) < static_cast<unsigned>(g.H));
        }
        direct_vec_extract<T, KH * KW, VB>(wr, uw, aw);
#pragma unroll
        for (int r = 0; r < ROWS; ++r) {
          if (!direct_row_used<TH, S, KH, D>(r)) continue;
          direct_vec_extract<T, WIN, VB>(xr[r], ux[r], ax[r]);
#pragma unroll
          for (int j = 0; j < WIN; ++j)
            if (static_cast<unsigned>(iw0 + j) >= static_cast<unsigned>(g.W)) xr[r][j] = 0.0f;
        }
      } else {
        scalar();
      }
    } else {
      scalar();
    }
#pragma unroll
    for (int o = 0; o < TH; ++o)
#pragma unroll
      for (int r = 0; r < KH; ++r)
#pragma unroll
        for (int c = 0; c < KW; ++c)
#pragma unroll
          for (int t = 0; t < TW; ++t) acc[o][t] = fmaf(wr[r * KW + c], xr[o * S + r * D][t * S + c * D], acc[o][t]);
  } else if constexpr (KH > 0) {
    const T* __restrict__ wp = static_cast<const T*>(a.w) + oc * (KH * KW);
    float wr[KH * KW];
    float xr[KH * KW][TW];
    const int ih0 = oh0 * g.sh - g.ph, iw0 = ow0 * g.sw - g.pw;
#pragma unroll
    for (int k = 0; k < KH * KW; ++k) wr[k] = ldg_f(wp + k);
#pragma unroll
    for (int r = 0; r < KH; ++r) {
      const int ih = ih0 + r * g.dh;
      const bool row_ok = static_cast<unsigned>(ih) < static_cast<unsigned>(g.H);
#pragma unroll
      for (int c = 0; c < KW; ++c)
#pragma unroll
        for (int t = 0; t < TW; ++t) {
          const int iw = iw0 + t * g.sw + c * g.dw;
          xr[r * KW + c][t] =
              row_ok && static_cast<unsigned>(iw) < static_cast<unsigned>(g.W) ? ldg_f(xp + ih * g.W + iw) : 0.0f;
        }
    }
#pragma unroll
    for (int k = 0; k < KH * KW; ++k)
#pragma unroll
      for (int t = 0; t < TW; ++t) acc[0][t] = fmaf(wr[k], xr[k][t], acc[0][t]);
  } else {
    const T* __restrict__ wp = static_cast<const T*>(a.w) + std::int64_t{oc} * g.kh * g.kw;
    const int ih0 = oh0 * g.sh - g.ph, iw0 = ow0 * g.sw - g.pw;
    for (int r = 0; r < g.kh; ++r) {
      const int ih = ih0 + r * g.dh;
      if (static_cast<unsigned>(ih) >= static_cast<unsigned>(g.H)) continue;
      const T* xrow = xp + ih * g.W;
      for (int c = 0; c < g.kw; ++c) {
        const float wv = ldg_f(wp + r * g.kw + c);
#pragma unroll
        for (int t = 0; t < TW; ++t) {
          const int iw = iw0 + t * g.sw + c * g.dw;
          if (static_cast<unsigned>(iw) < static_cast<unsigned>(g.W)) acc[0][t] = fmaf(wv, ldg_f(xrow + iw), acc[0][t]);
        }
      }
    }
  }
  T* const yp = static_cast<T*>(a.y) + (std::int64_t{plane} * g.OH + oh0) * g.OW;
#pragma unroll
  for (int o = 0; o < TH; ++o)
    if (TH == 1 || oh0 + o < g.OH) {
      if constexpr (sizeof(T) == 2) direct_store<T, TW>(yp + o * g.OW, acc[o], ow0, g.OW);
      else band_store<T, TW>(yp + o * g.OW, acc[o], ow0, g.OW);
    }
}

// Direct tiles: compile-time stride and dilation (both 0: run time), outputs per thread (TH rows, of
// a compile-time stride only, x TW columns), threads per block.
struct DirectTile {
  int stride, dilation, th, tw, threads;
  constexpr int block_threads() const { return threads; }
  static constexpr auto fields() {
    using F = Field<DirectTile>;
    return std::array{F{"stride", "_s", &DirectTile::stride, Show::any0},
                      F{"dilation", "d", &DirectTile::dilation, Show::nonzero},
                      F{"th", "_t", &DirectTile::th},
                      F{"tw", "x", &DirectTile::tw},
                      F{"threads", "_b", &DirectTile::threads}};
  }
  friend constexpr bool operator==(const DirectTile&, const DirectTile&) = default;
};

template <class T, KSize K, DirectTile P>
struct Direct {
  static_assert(valid_compiled_stride<P, K>(), "stride and dilation both compile-time (with the filter size) or both run time");
  static constexpr FamilyInfo family{.name = "direct", .preference = 2};
  static constexpr KSize ksize = K;
  static constexpr DirectTile tile = P;

  static Support supports(const ConvShape& s, const DeviceLimits&) {
    if (Support c = compiled_stride_support(P, s); !c) return c;
    constexpr std::int64_t lim = std::int64_t{1} << 31;
    if (s.h * s.w >= lim || (s.out_h() + P.th) * s.out_w() >= lim) return Support::no("plane of 2^31 elements or more");
    if (s.n * s.out_c() >= lim) return Support::no("2^31 planes or more");
    if (direct_items(s, P.tw, P.th) >= lim - P.threads) return Support::no("2^31 threads or more");
    if (s.out_c() * s.kh * s.kw >= lim) return Support::no("2^31 filter taps or more");
    return Support::yes();
  }
  static LaunchConfig config(const ConvShape& s) {
    return block_launch((direct_items(s, P.tw, P.th) + P.threads - 1) / P.threads, P.threads, 0);
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    launch_kernel(direct_kernel<T, K.kh, K.kw, P.stride, P.dilation, P.th, P.tw, P.threads>, c, st, a,
                  direct_geom(a.s, P.tw, P.th));
  }
};

// 3x3, 5x5, 7x7 (MobileNets, EfficientNets, ConvNeXt) at stride 1 and 2, 3x3 at dilation 2
// (segmentation heads), and at run-time stride and dilation (other dilations, asymmetric strides);
// KSize{} for every other filter size. Two output rows per thread share their middle input rows:
// fewer loads per output where load instructions, not bytes, bound the time (16-bit types).
inline constexpr KSize kDirectSizes[] = {{3, 3}, {5, 5}, {7, 7}};
inline constexpr KSize kDirect3x3[] = {{3, 3}};
constexpr DirectTile direct_tile(int s, int d, int th, int tw) {
  return {.stride = s, .dilation = d, .th = th, .tw = tw, .threads = 128};
}
inline constexpr DirectTile kDirectS1F32[] = {direct_tile(1, 1, 1, 1), direct_tile(1, 1, 1, 2), direct_tile(1, 1, 1, 4),
                                              direct_tile(1, 1, 2, 4)};
inline constexpr DirectTile kDirectS1x16[] = {direct_tile(1, 1, 1, 1), direct_tile(1, 1, 1, 2), direct_tile(1, 1, 1, 4),
                                              direct_tile(1, 1, 1, 8), direct_tile(1, 1, 2, 4), direct_tile(1, 1, 2, 8)};
inline constexpr DirectTile kDirectS2[] = {direct_tile(2, 1, 1, 1), direct_tile(2, 1, 1, 2), direct_tile(2, 1, 1, 4),
                                           direct_tile(2, 1, 2, 2)};
// 16-bit types, 3x3 and 5x5: taller and wider tiles, whose windows now cost a few vector loads
// rather than a load per element (4 x 4 won the 28..112-wide stride-1 layers, 1 x 8 and 2 x 4 the
// stride-2 ones on an H200; 4 x 8 won none and is left out).
inline constexpr KSize kDirectSmall[] = {{3, 3}, {5, 5}};
inline constexpr DirectTile kDirectWide16[] = {direct_tile(1, 1, 4, 4), direct_tile(2, 1, 1, 8), direct_tile(2, 1, 2, 4)};
inline constexpr DirectTile kDirectD2[] = {direct_tile(1, 2, 1, 4), direct_tile(1, 2, 2, 4)};
inline constexpr DirectTile kDirectAny[] = {direct_tile(0, 0, 1, 1), direct_tile(0, 0, 1, 2)};

template <class T>
void add_direct(OpList& ops) {
  auto make = [&]<KSize K, DirectTile P> { return Direct<T, K, P>{}; };
  add_grid_by_width<T, kDirectSizes, kDirectS1F32, kDirectS1x16>(ops, make);
  add_grid<T, kDirectSizes, kDirectS2>(ops, make);
  if constexpr (sizeof(T) == 2) add_grid<T, kDirectSmall, kDirectWide16>(ops, make);
  add_grid<T, kDirect3x3, kDirectD2>(ops, make);
  add_grid<T, kDirectSizes, kDirectAny>(ops, make);
  add_grid<T, kAnySize, kDirectAny>(ops, make);
}

}  // namespace dwt
