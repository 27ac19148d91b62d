// Family "vectorized": each thread walks down a strip of ROWS output rows, TW columns wide, sliding
// a ring of KH accumulator rows: every input row of the strip is loaded once, with 128-bit loads
// (4 floats or 8 halves), and feeds the KH output rows it touches; a finished row leaves through
// 128-bit stores (8-byte stores for rows that start on 8 bytes, such as widths 250 and 510).
// Edges are predicated, not branched, so a warp never splits: vectors wholly outside the row or
// rows outside the plane read as zero. Rows whose window is not 16-byte aligned (odd widths,
// odd padding) take the same path with scalar loads. Stride and dilation must be 1 (the
// register-blocked family serves the rest); TW is a whole number of vectors.
#pragma once

#include "regblock.cuh"  // tiled_grid

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

// Stores of a finished output tile: out[ow0 + j] = acc[j] for the columns inside the row (j < OW - ow0),
// in pieces of PB bytes (out + ow0 must be PB-aligned). Pieces wholly inside the row are predicated
// stores in one instruction stream, so the thread at the row's end does not split its warp; only a
// piece that straddles the end (odd widths) falls back to element stores.
template <int PB>
struct PieceStore {
  template <class T, int TW, bool HINT>
  __device__ __forceinline__ static void store(T* __restrict__ out, const float (&acc)[TW], int ow0, int OW) {
    constexpr int PE = PB / static_cast<int>(sizeof(T));
    static_assert(TW % PE == 0, "tiles are whole pieces wide");
    const int n = OW - ow0;  // columns of the tile inside the row
#pragma unroll
    for (int k = 0; k < TW / PE; ++k) {
      if ((k + 1) * PE > n) continue;
      Vec16 v;
#pragma unroll
      for (int i = 0; i < PE; ++i) set_vec_elem(v, i, from_float<T>(acc[k * PE + i]));
      T* p = out + ow0 + k * PE;
      if constexpr (PB == 16) {
        if constexpr (HINT) __stcs(reinterpret_cast<uint4*>(p), v.u); else *reinterpret_cast<uint4*>(p) = v.u;
      } else if constexpr (PB == 8) {
        const uint2 h = make_uint2(v.u.x, v.u.y);
        if constexpr (HINT) __stcs(reinterpret_cast<uint2*>(p), h); else *reinterpret_cast<uint2*>(p) = h;
      } else if constexpr (PB == 4) {
        if constexpr (HINT) __stcs(reinterpret_cast<unsigned*>(p), v.u.x); else *reinterpret_cast<unsigned*>(p) = v.u.x;
      } else {
        out[ow0 + k * PE] = from_float<T>(acc[k * PE]);
      }
    }
    if constexpr (PE > 1) {
      if (n < TW && n % PE != 0) {
#pragma unroll
        for (int j = 0; j < TW; ++j)
          if (j >= n / PE * PE && j < n) out[ow0 + j] = from_float<T>(acc[j]);
      }
    }
  }
};

// Stores a finished output tile in the widest pieces its address allows: 16 bytes, else 8 (rows of
// widths such as 510 and 250 start on 8 bytes), else 4 (16-bit rows of width 250 every other row).
// With TW * sizeof(T) a multiple of 16, all threads of a warp take the same branch.
struct VectorStore {
  // HINT: streaming stores (evict-first), so outputs do not push inputs out of L2.
  template <class T, int TW, bool HINT = false>
  __device__ __forceinline__ static void store(T* __restrict__ out, const float (&acc)[TW], int ow0, int OW) {
    constexpr int V = kVecElems<T>;
    static_assert(TW % (V / 2) == 0, "vectorized tiles are whole 8-byte pieces wide");
    const auto addr = reinterpret_cast<std::uintptr_t>(out + ow0);
    if (TW % V == 0 && (addr & 15u) == 0)
      PieceStore<(TW % V == 0) ? 16 : 8>::template store<T, TW, HINT>(out, acc, ow0, OW);
    else if ((addr & 7u) == 0)
      PieceStore<8>::template store<T, TW, HINT>(out, acc, ow0, OW);
    else if (sizeof(T) == 2 && (addr & 3u) == 0)
      PieceStore<4>::template store<T, TW, HINT>(out, acc, ow0, OW);
    else
      PieceStore<static_cast<int>(sizeof(T))>::template store<T, TW, HINT>(out, acc, ow0, OW);
  }
};

// Which parts of a thread's window lie inside the row: fixed for the whole strip.
template <int N>
struct ColumnMask {
  bool in[N];
};

// Read-only 16-byte load; HINT asks L2 to fetch 256-byte blocks from DRAM (streaming rows).
template <bool HINT>
__device__ __forceinline__ uint4 load16(const void* p) {
  if constexpr (HINT) {
    uint4 v;
    asm volatile("ld.global.nc.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
  } else {
    return __ldg(static_cast<const uint4*>(p));
  }
}

// Window of one input row: xt[i] = row[iw0 + i], zero outside the plane. VEC: iw0 and the row are
// 16-byte aligned and W is whole vectors, so each vector is wholly inside the row or wholly out.
// Column indices are 32-bit: validation keeps H and W below 2^31.
template <class T, int WW, bool VEC, bool HINT, int NM>
__device__ __forceinline__ void load_window(float (&xt)[WW], const T* __restrict__ row, bool row_ok,
                                            int iw0, const ColumnMask<NM>& m) {
  if constexpr (VEC) {
    constexpr int V = kVecElems<T>;
    constexpr int NV = (WW + V - 1) / V;
    Vec16 v[NV];
#pragma unroll
    for (int k = 0; k < NV; ++k)
      v[k].u = row_ok && m.in[k] ? load16<HINT>(row + iw0 + k * V) : make_uint4(0, 0, 0, 0);
#pragma unroll
    for (int i = 0; i < WW; ++i) xt[i] = to_float(vec_elem<T>(v[i / V], i % V));
  } else {
#pragma unroll
    for (int i = 0; i < WW; ++i) xt[i] = row_ok && m.in[i] ? ldg_f(row + iw0 + i) : 0.0f;
  }
}

// Asks L2 for the 128-byte line at p, without holding a register for the data.
__device__ __forceinline__ void prefetch_l2(const void* p) {
  asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}

// Input row number u of a chunk (u is a compile-time constant once inlined): its KH contributions
// to the ring of accumulator rows; then output row o, which it finishes, is stored and its slot
// reset for the row that shares it next.
template <class T, int KH, int KW, int TW, bool HINT, int WW>
__device__ __forceinline__ void strip_row(float (&acc)[KH][TW], const float (&wr)[KH][KW],
                                          const float (&x)[WW], int u, int o, int nrows, float b,
                                          T* __restrict__ y, int ow0, int OW) {
#pragma unroll
  for (int kh = 0; kh < KH; ++kh) {
    float(&r)[TW] = acc[(u - kh + KH) % KH];
#pragma unroll
    for (int j = 0; j < TW; ++j)
#pragma unroll
      for (int kw = 0; kw < KW; ++kw) r[j] = fmaf(wr[kh][kw], x[j + kw], r[j]);
  }
  float(&done)[TW] = acc[(u + 1) % KH];
  if (o >= 0 && o < nrows) VectorStore::store<T, TW, HINT>(y + static_cast<std::int64_t>(o) * OW, done, ow0, OW);
#pragma unroll
  for (int j = 0; j < TW; ++j) done[j] = b;
}

// One thread's strip: output rows [oh0, oh0 + ROWS) x columns [ow0, ow0 + TW) of one plane.
// PF > 0: prefetch into L2 the row PF rows ahead, so more bytes are in flight than registers hold.
// HINT: 256-byte L2 fetches for loads, evict-first stores.
template <class T, int KH, int KW, int ROWS, int TW, bool VEC, int PF, bool HINT, int U>
__device__ __forceinline__ void strip(const ConvArgs& a, std::int64_t plane, int oh0, int ow0) {
  const ConvShape& s = a.s;
  const int OH = static_cast<int>(s.out_h()), OW = static_cast<int>(s.out_w());
  const int H = static_cast<int>(s.h), W = static_cast<int>(s.w);
  const Plane<T> pl(a, plane);
  const T* __restrict__ xp = pl.x;
  T* __restrict__ yp = pl.y;
  float wr[KH][KW];
  pl.template load_filter<KH, KW>(wr);
  const float b = pl.bias;

  constexpr int WW = TW + KW - 1;
  constexpr int V = kVecElems<T>;
  constexpr int NM = VEC ? (WW + V - 1) / V : WW;
  const int iw0 = ow0 - s.pw;
  ColumnMask<NM> m;
#pragma unroll
  for (int k = 0; k < NM; ++k) {
    const int col = iw0 + (VEC ? k * V : k);
    m.in[k] = col >= 0 && col < W;
  }

  // Slot o % KH accumulates output row o; input row t feeds rows t - kh. A slot is reset when its
  // row is finished, before the next row that shares it starts, so rows above the strip (o < 0)
  // and below it may accumulate freely: they are never stored.
  float acc[KH][TW];
#pragma unroll
  for (int k = 0; k < KH; ++k)
#pragma unroll
    for (int j = 0; j < TW; ++j) acc[k][j] = b;
  const int ih0 = oh0 - s.ph;
  const int nrows = OH - oh0 < ROWS ? OH - oh0 : ROWS;
  const int total = nrows + KH - 1;
  T* __restrict__ y0 = yp + static_cast<std::int64_t>(oh0) * OW;
  auto prefetch = [&](int ih) {
    if constexpr (VEC && PF > 0) {
      // One request per 128-byte line: the lanes whose first vector starts a line.
      const T* ahead = xp + static_cast<std::int64_t>(ih + PF) * W + iw0;
      if (ih + PF >= 0 && ih + PF < H && m.in[0] && (reinterpret_cast<std::uintptr_t>(ahead) & 127u) == 0)
        prefetch_l2(ahead);
    }
  };
  // The chunk loops are not unrolled: registers, and so occupancy, stay in check.
  if constexpr (U == 0) {
    // Row by row: few registers, one row in flight per thread.
#pragma unroll 1
    for (int base = 0; base < total; base += KH) {
#pragma unroll
      for (int u = 0; u < KH; ++u) {
        const int t = base + u;
        if (t >= total) break;
        const int ih = ih0 + t;
        const bool row_ok = ih >= 0 && ih < H;
        prefetch(ih);
        float xt[WW];
        load_window<T, WW, VEC, HINT>(xt, xp + static_cast<std::int64_t>(row_ok ? ih : 0) * W, row_ok,
                                      iw0, m);
        strip_row<T, KH, KW, TW, HINT>(acc, wr, xt, u, t - (KH - 1), nrows, b, y0, ow0, OW);
      }
    }
  } else {
    // Chunks of U*KH rows: every load of a chunk is issued before its first FMA, so a thread keeps
    // that many rows in flight (rows past the strip read as zero and feed only rows never stored).
    constexpr int CH = KH * U;
#pragma unroll 1
    for (int base = 0; base < total; base += CH) {
      float xt[CH][WW];
#pragma unroll
      for (int u = 0; u < CH; ++u) {
        const int ih = ih0 + base + u;
        const bool row_ok = base + u < total && ih >= 0 && ih < H;
        prefetch(ih);
        load_window<T, WW, VEC, HINT>(xt[u], xp + static_cast<std::int64_t>(row_ok ? ih : 0) * W,
                                      row_ok, iw0, m);
      }
#pragma unroll
      for (int u = 0; u < CH; ++u)
        strip_row<T, KH, KW, TW, HINT>(acc, wr, xt[u], u, base + u - (KH - 1), nrows, b, y0, ow0, OW);
    }
  }
}

// MINB > 0 caps registers so that MINB blocks fit on an SM (occupancy against register reuse).
template <class T, int KH, int KW, int ROWS, int TW, int BX, int BY, int MINB, int PF, bool HINT, int U>
__global__ void __launch_bounds__(BX* BY, MINB) strip_kernel(ConvArgs a) {
  const ConvShape& s = a.s;
  const std::int64_t OH = s.out_h(), OW = s.out_w();
  const std::int64_t planes = s.n * s.out_c();
  const std::int64_t row_blocks = (OH + BY * ROWS - 1) / (BY * ROWS);
  const std::int64_t ow0 = (std::int64_t{blockIdx.x} * BX + threadIdx.x) * TW;
  if (ow0 >= OW) return;
  constexpr int V = kVecElems<T>;
  // Uniform over the grid: ow0 is whole vectors, so alignment depends on the padding and width.
  const bool vec = s.w % V == 0 && s.pw % V == 0 && aligned16(a.x);
  for (std::int64_t plane = blockIdx.z; plane < planes; plane += gridDim.z)
    for (std::int64_t rb = blockIdx.y; rb < row_blocks; rb += gridDim.y) {
      const std::int64_t oh0 = (rb * BY + threadIdx.y) * ROWS;
      if (oh0 >= OH) continue;
      if (vec)
        strip<T, KH, KW, ROWS, TW, true, PF, HINT, U>(a, plane, static_cast<int>(oh0), static_cast<int>(ow0));
      else
        strip<T, KH, KW, ROWS, TW, false, 0, false, U>(a, plane, static_cast<int>(oh0), static_cast<int>(ow0));
    }
}

// Vectorized strips: rows per thread, columns per thread (whole 16-byte vectors), a BX x BY block,
// minimum blocks per SM (0: no register cap), L2 prefetch distance in rows (0: none), cache hints,
// rows in flight per thread (0: row by row; U > 0: chunks of U*KH rows loaded before use).
struct VecTile {
  int rows, tw, bx, by, minb = 0, prefetch = 0, hint = 0, unroll = 0;
  constexpr int block_threads() const { return bx * by; }
  static constexpr auto fields() {
    using F = Field<VecTile>;
    return std::array{F{"rows", "_r", &VecTile::rows},
                      F{"tw", "x", &VecTile::tw},
                      F{"bx", "_b", &VecTile::bx},
                      F{"by", "x", &VecTile::by},
                      F{"minb", "_o", &VecTile::minb, Show::nonzero},
                      F{"prefetch", "_p", &VecTile::prefetch, Show::nonzero},
                      F{"hint", "_h", &VecTile::hint, Show::flag},
                      F{"unroll", "_u", &VecTile::unroll, Show::nonzero}};
  }
  friend constexpr bool operator==(const VecTile&, const VecTile&) = default;
};

template <class T, KSize K, VecTile P>
struct Vectorized {
  static_assert(K.kh > 0 && K.kw > 0, "vectorized kernels have a compile-time filter size");
  static_assert(P.tw % kVecElems<T> == 0, "vectorized tiles are whole 16-byte vectors wide");
  static constexpr FamilyInfo family{.name = "vectorized", .unit_stride = true, .preference = 2};
  static constexpr KSize ksize = K;
  static constexpr VecTile tile = P;
  static LaunchConfig config(const ConvShape& s) { return tiled_grid<P.rows, P.tw, P.bx, P.by>(s); }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    launch_kernel(strip_kernel<T, K.kh, K.kw, P.rows, P.tw, P.bx, P.by, P.minb, P.prefetch, P.hint != 0, P.unroll>,
                  c, st, a);
  }
};

inline constexpr KSize kStripSizes[] = {{3, 3}, {3, 1}, {3, 7}, {5, 5}, {7, 7}};
// Wide blocks (BX = 64, 128) read whole rows of KernelBench's widths in one block: fewer DRAM pages
// open at once than one warp per row segment.
inline constexpr VecTile kVecTilesF32[] = {
    {.rows = 64, .tw = 4, .bx = 32, .by = 4, .minb = 8},
    {.rows = 64, .tw = 4, .bx = 128, .by = 1, .minb = 8, .hint = 1},
    {.rows = 32, .tw = 4, .bx = 64, .by = 2, .minb = 6, .prefetch = 6, .hint = 1},
    {.rows = 64, .tw = 4, .bx = 64, .by = 2, .minb = 8, .hint = 1},
    {.rows = 64, .tw = 4, .bx = 32, .by = 4, .minb = 8, .unroll = 1},
    {.rows = 64, .tw = 4, .bx = 128, .by = 1, .minb = 8, .hint = 1, .unroll = 1},
    {.rows = 32, .tw = 4, .bx = 64, .by = 2, .minb = 6, .prefetch = 6, .hint = 1, .unroll = 1},
    {.rows = 64, .tw = 4, .bx = 128, .by = 1, .minb = 6, .hint = 1, .unroll = 2}};
inline constexpr VecTile kVecTiles16[] = {
    {.rows = 64, .tw = 8, .bx = 32, .by = 4, .minb = 8, .prefetch = 6},
    {.rows = 32, .tw = 8, .bx = 32, .by = 4, .minb = 6, .prefetch = 6},
    {.rows = 32, .tw = 8, .bx = 32, .by = 4, .minb = 6, .prefetch = 6, .hint = 1},
    {.rows = 64, .tw = 8, .bx = 32, .by = 4, .minb = 8, .hint = 1},
    {.rows = 64, .tw = 8, .bx = 64, .by = 2, .minb = 8, .hint = 1},
    {.rows = 64, .tw = 8, .bx = 128, .by = 1, .minb = 8, .hint = 1},
    {.rows = 32, .tw = 8, .bx = 64, .by = 2, .minb = 6, .prefetch = 6, .hint = 1},
    {.rows = 64, .tw = 8, .bx = 64, .by = 2, .minb = 8, .hint = 1, .unroll = 1}};

template <class T>
void add_vectorized(OpList& ops) {
  add_grid_by_width<T, kStripSizes, kVecTilesF32, kVecTiles16>(ops, [&]<KSize K, VecTile P> { return Vectorized<T, K, P>{}; });
}

}  // namespace dwt
