// Family "staged": the vectorized strip walk, with its input rows brought into shared memory by the
// Hopper bulk-copy engine (TMA, cp.async.bulk) through a ring of S stages, each of KH*RU rows.
// A ring of BX threads covers BX*TW output columns and ROWS output rows of one plane; its thread 0
// issues the bulk copies (one per stage when the ring spans whole rows, else one per row) and an
// mbarrier per stage says when its bytes have landed. Bytes in flight then cost shared memory, not
// registers: a strip keeps S stages coming while its threads compute from the one that arrived. A
// block holds BY rings (one warp each when BY > 1, for narrow rows), each on its own strips.
// Each thread reads its window of every row from shared memory (16- or 8-byte reads when the window
// is aligned, element by element otherwise, e.g. odd padding) and feeds the same ring of KH
// accumulator rows as the vectorized family, storing each finished row straight to global memory.
// Columns outside the input are zero cells of shared memory that no copy touches; rows outside it
// read as zero. Bulk copies need 16-byte aligned rows (W a whole number of vectors, x on 16 bytes);
// otherwise the threads fill each stage with plain loads, one stage at a time, and compute the same
// way. Stride and dilation must be 1, and the device must be sm_90 or newer.
#pragma once

#include "vectorized.cuh"

namespace dwt {

__device__ __forceinline__ std::uint32_t smem_addr(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// The mbarrier and bulk-copy PTX this family needs (sm_90).
struct Tma {
  __device__ __forceinline__ static void init(std::uint64_t* bar, unsigned count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_addr(bar)), "r"(count) : "memory");
  }
  // Makes initialized barriers visible to the bulk-copy engine.
  __device__ __forceinline__ static void fence_init() {
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  // Arrives on `bar` and tells it `bytes` more will land before its phase completes.
  __device__ __forceinline__ static void arrive_expect(std::uint64_t* bar, std::uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_addr(bar)), "r"(bytes)
                 : "memory");
  }
  // Copies `bytes` (a multiple of 16, both addresses 16-byte aligned) from global to shared memory.
  __device__ __forceinline__ static void copy(void* dst, const void* src, std::uint32_t bytes,
                                              std::uint64_t* bar) {
    asm volatile(
        "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
            smem_addr(dst)),
        "l"(src), "r"(bytes), "r"(smem_addr(bar))
        : "memory");
  }
  // Waits until the phase with this parity has completed.
  __device__ __forceinline__ static void wait(std::uint64_t* bar, std::uint32_t parity) {
    std::uint32_t done = 0;
    do {
      asm volatile(
          "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}"
          : "=r"(done)
          : "r"(smem_addr(bar)), "r"(parity)
          : "memory");
    } while (!done);
  }
};

// The shared-memory layout of one block: BY rings, each a ring of S stages of RS input rows.
// A stage row holds a ring's BX*TW output columns with their halo: row column j is input column
// a0 + j, where a0 is the ring's first input column rounded down to a whole 16-byte vector.
// Its size is the kernel's dynamic shared memory (the mbarriers are static shared memory).
template <class T, int KW, int TW, int BX, int BY, int S, int RS>
struct StagedStorage {
  static constexpr int kVec = kVecElems<T>;
  static constexpr int kSegment = BX * TW;  // output columns per ring
  static constexpr int kRowElems = (kSegment + KW - 1 + kVec - 1 + kVec - 1) / kVec * kVec;  // pitch
  // (ring, slot, RS rows at pitch kRowElems) — or RS whole input rows at pitch W, back to back.
  T stage[BY][S][RS * kRowElems];
};

// The stage ring of one strip walker. Stage k of the current strip lives in slot (consumed + k) % S,
// and its mbarrier completes phase ((consumed + k) / S) & 1 when its bytes have landed. `consumed`
// runs on across the strips the ring walks, so slots and phases never repeat out of order.
template <int S>
struct StageRing {
  std::uint64_t* bar;           // [S] one mbarrier per slot
  std::uint32_t consumed = 0;   // stages the ring has consumed so far

  __device__ __forceinline__ int slot(int k) const { return static_cast<int>((consumed + k) % S); }
  __device__ __forceinline__ std::uint32_t phase(int k) const { return ((consumed + k) / S) & 1u; }
  // Thread 0 only, before the first stage is issued.
  __device__ __forceinline__ void init() const {
#pragma unroll
    for (int i = 0; i < S; ++i) Tma::init(&bar[i], 1);
    Tma::fence_init();
  }
  // Thread 0 only: the stage in `slot` will receive `bytes`; returns the barrier its copies complete on.
  __device__ __forceinline__ std::uint64_t* expect(int slot, std::uint32_t bytes) const {
    Tma::arrive_expect(&bar[slot], bytes);
    return &bar[slot];
  }
  // Every thread: until stage k has landed.
  __device__ __forceinline__ void wait(int k) const { Tma::wait(&bar[slot(k)], phase(k)); }
  // After a strip of n stages.
  __device__ __forceinline__ void advance(int n) { consumed += static_cast<std::uint32_t>(n); }
};

// Window of one staged row: xt[i] = row[i]. ALIGNED: row is aligned to TW elements, so it is read in
// 16-byte pieces (8-byte where TW elements are 8 bytes).
template <class T, int WW, int TW, bool ALIGNED>
__device__ __forceinline__ void smem_window(float (&xt)[WW], const T* row, bool row_ok) {
  if (!row_ok) {
#pragma unroll
    for (int i = 0; i < WW; ++i) xt[i] = 0.0f;
    return;
  }
  if constexpr (ALIGNED) {
    constexpr int CB = TW * static_cast<int>(sizeof(T)) >= 16 ? 16 : 8;
    static_assert(TW * sizeof(T) % CB == 0, "staged windows are read in 8- or 16-byte pieces");
    constexpr int CE = CB / static_cast<int>(sizeof(T));
    constexpr int NC = (WW + CE - 1) / CE;
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      Vec16 v;
      if constexpr (CB == 16) {
        v.u = *reinterpret_cast<const uint4*>(row + c * CE);
      } else {
        const uint2 h = *reinterpret_cast<const uint2*>(row + c * CE);
        v.u = make_uint4(h.x, h.y, 0, 0);
      }
#pragma unroll
      for (int i = 0; i < CE; ++i)
        if (c * CE + i < WW) xt[c * CE + i] = to_float(vec_elem<T>(v, i));
    }
  } else {
#pragma unroll
    for (int i = 0; i < WW; ++i) xt[i] = to_float(row[i]);
  }
}

// A ring walks strips of ROWS output rows x BX*TW columns of one plane. Thread 0 keeps S stages of
// RS = KH*RU input rows in flight; every thread computes its TW columns from each stage that lands.
template <class T, int KH, int KW, int ROWS, int TW, int BX, int BY, int S, int RU, int MINB>
__global__ void __launch_bounds__(BX* BY, MINB) staged_kernel(ConvArgs a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  constexpr int RS = KH * RU;      // input rows per stage
  constexpr int WW = TW + KW - 1;  // a thread's input window per row
  using Storage = StagedStorage<T, KW, TW, BX, BY, S, RS>;
  constexpr int V = Storage::kVec, SW = Storage::kRowElems;
  // BY > 1: each warp (BX = 32) runs its own ring on its own strips, synchronized by __syncwarp.
  static_assert(BY == 1 || BX == 32, "several rings per block need one warp per ring");
  // The ring of this thread; a compile-time 0 with one ring per block (keeps that code as lean).
  const int ty = BY > 1 ? static_cast<int>(threadIdx.y) : 0;
  extern __shared__ __align__(128) unsigned char staged_smem[];
  Storage& smem = *reinterpret_cast<Storage*>(staged_smem);
  T* const buf = smem.stage[ty][0];  // this ring's slots: (slot, RS rows at pitch SW)
  __shared__ __align__(8) std::uint64_t bars[BY][S];
  StageRing<S> ring{bars[ty]};
  // Every thread of the ring is done with a slot (and, for plain loads, a slot is filled).
  auto ring_sync = [] {
    if constexpr (BY > 1)
      __syncwarp();
    else
      __syncthreads();
  };

  const ConvShape& s = a.s;
  const int OH = static_cast<int>(s.out_h()), OW = static_cast<int>(s.out_w());
  const int H = static_cast<int>(s.h), W = static_cast<int>(s.w);
  const std::int64_t OC = s.out_c(), planes = s.n * OC;
  const int row_blocks = (OH + ROWS - 1) / ROWS;
  const int c0 = static_cast<int>(blockIdx.x) * Storage::kSegment;  // ring's first output column
  const int first = c0 - s.pw;                                        // its first input column
  const int a0 = (first >= 0 ? first / V : -((-first + V - 1) / V)) * V;  // rounded down to a vector
  const int off = first - a0;
  // Stage-row columns [lo, hi) receive input columns [a0 + lo, a0 + hi); the rest are padding.
  const int lo = min(max(-a0, 0), SW), hi = max(min(W - a0, SW), lo);
  // Uniform over the grid: rows are whole vectors and the input starts on 16 bytes.
  const bool bulk = W % V == 0 && aligned16(a.x);
  // Whole rows: no padding columns and one block spans the row, so a stage is RS consecutive input
  // rows, stored at pitch W, and one bulk copy brings them all. Columns past the row are read only
  // by outputs past the row, which are never stored.
  const bool whole = bulk && s.pw == 0 && W <= Storage::kSegment;
  const int pitch = whole ? W : SW;
  const int tx = static_cast<int>(threadIdx.x);
  const int ow0 = c0 + tx * TW;  // this thread's first output column

  if (bulk) {
    if (tx == 0) ring.init();
    if (!whole) {
      // Cells no copy writes (columns outside the input) read as zero for good.
      const int pad_cells = SW - (hi - lo);  // per stage row
      for (int i = tx; i < S * RS * pad_cells; i += BX) {
        const int r = i / pad_cells, j = i - r * pad_cells;
        buf[r * SW + (j < lo ? j : hi + (j - lo))] = from_float<T>(0.0f);
      }
    }
  }
  __syncthreads();

  for (std::int64_t plane = blockIdx.z; plane < planes; plane += gridDim.z) {
    const std::int64_t oc = plane % OC, n = plane / OC, ic = oc / s.m;
    const T* __restrict__ xp = static_cast<const T*>(a.x) + (n * s.c + ic) * s.h * s.w;
    const T* __restrict__ wp = static_cast<const T*>(a.w) + oc * (KH * KW);
    T* __restrict__ yp = static_cast<T*>(a.y) + plane * s.out_h() * s.out_w();
    float wr[KH][KW];
#pragma unroll
    for (int i = 0; i < KH; ++i)
#pragma unroll
      for (int j = 0; j < KW; ++j) wr[i][j] = ldg_f(wp + i * KW + j);
    const float b = bias_of<T>(a, oc);

    for (int rb = static_cast<int>(blockIdx.y) * BY + ty; rb < row_blocks;
         rb += static_cast<int>(gridDim.y * BY)) {
      const int oh0 = rb * ROWS, ih0 = oh0 - s.ph;
      const int nrows = OH - oh0 < ROWS ? OH - oh0 : ROWS;
      const int total = nrows + KH - 1;        // input rows of the strip
      const int nst = (total + RS - 1) / RS;  // its stages
      // Rows past the strip feed only output rows past it, so they may hold anything; rows outside
      // the plane (padding) must read as zero.
      auto in_plane = [&](int t) { return ih0 + t >= 0 && ih0 + t < H; };
      // Thread 0: stage k's copies into its slot; its mbarrier expects their bytes.
      auto issue = [&](int k) {
        const int slot = ring.slot(k), t0 = k * RS;
        T* const dst = buf + slot * RS * SW;
        const T* const src = xp + std::int64_t{ih0 + t0} * W;
        if (whole && t0 + RS <= total && in_plane(t0) && in_plane(t0 + RS - 1)) {
          const std::uint32_t bytes = static_cast<std::uint32_t>(RS * W) * sizeof(T);
          Tma::copy(dst, src, bytes, ring.expect(slot, bytes));
          return;
        }
        const std::uint32_t row_bytes = static_cast<std::uint32_t>(hi - lo) * sizeof(T);
        std::uint32_t bytes = 0;
        for (int r = 0; r < RS; ++r)
          if (t0 + r < total && in_plane(t0 + r)) bytes += row_bytes;
        std::uint64_t* const bar = ring.expect(slot, bytes);
        if (row_bytes == 0) return;
        for (int r = 0; r < RS; ++r)
          if (t0 + r < total && in_plane(t0 + r))
            Tma::copy(dst + r * pitch + lo, src + std::int64_t{r} * W + a0 + lo, row_bytes, bar);
      };
      if (bulk && tx == 0)
        for (int k = 0; k < S && k < nst; ++k) issue(k);

      float acc[KH][TW];
#pragma unroll
      for (int k = 0; k < KH; ++k)
#pragma unroll
        for (int j = 0; j < TW; ++j) acc[k][j] = b;
      T* __restrict__ y0 = yp + static_cast<std::int64_t>(oh0) * OW;
      // Whether every row of the strip's stages lies inside the plane: no row needs zeroing.
      const bool inside = ih0 >= 0 && ih0 + nst * RS <= H;

#pragma unroll 1
      for (int k = 0; k < nst; ++k) {
        T* const stage = buf + ring.slot(k) * RS * SW;
        if (bulk) {
          ring.wait(k);
        } else {
          // Plain loads, zero outside the input; the slot was released by the last barrier.
          for (int i = tx; i < RS * SW; i += BX) {
            const int r = i / SW, col = a0 + (i - r * SW);
            const bool in = in_plane(k * RS + r) && col >= 0 && col < W;
            stage[i] = in ? xp[std::int64_t{ih0 + k * RS + r} * W + col] : from_float<T>(0.0f);
          }
          ring_sync();
        }
#pragma unroll
        for (int r = 0; r < RS; ++r) {
          const int t = k * RS + r;
          float xt[WW];
          const T* row = stage + r * pitch + off + tx * TW;
          const bool ok = inside || in_plane(t);
          if (off == 0)
            smem_window<T, WW, TW, true>(xt, row, ok);
          else
            smem_window<T, WW, TW, false>(xt, row, ok);
          strip_row<T, KH, KW, TW, false>(acc, wr, xt, r % KH, t - (KH - 1), nrows, b, y0, ow0, OW);
        }
        ring_sync();  // release: every thread of the ring is done with the slot
        if (bulk && tx == 0 && k + S < nst) issue(k + S);
      }
      ring.advance(nst);
    }
  }
#else
  __trap();  // the family declares sm_90; supports() refuses older devices
#endif
}

// Staged strips: rows per strip, columns per thread, threads per ring, rings per block (one warp
// each when > 1), stages in the ring, rows per stage in units of KH, minimum blocks per SM (0: no
// register cap).
struct StagedTile {
  int rows, tw, bx, by = 1, stages = 4, ru = 1, minb = 0;
  constexpr int block_threads() const { return bx * by; }
  static constexpr auto fields() {
    using F = Field<StagedTile>;
    return std::array{F{"rows", "_r", &StagedTile::rows},
                      F{"tw", "x", &StagedTile::tw},
                      F{"bx", "_b", &StagedTile::bx},
                      F{"by", "x", &StagedTile::by, Show::above1},
                      F{"stages", "_s", &StagedTile::stages},
                      F{"stage_rows", "x", &StagedTile::ru, Show::always, true},
                      F{"minb", "_o", &StagedTile::minb, Show::nonzero}};
  }
  friend constexpr bool operator==(const StagedTile&, const StagedTile&) = default;
};

template <class T, KSize K, StagedTile P>
struct Staged {
  static_assert(K.kh > 0 && K.kw > 0, "staged kernels have a compile-time filter size");
  static_assert(P.tw * sizeof(T) % 8 == 0, "staged windows are whole 8-byte pieces");
  static_assert(P.stages >= 1 && P.ru >= 1, "at least one stage of KH rows");
  static constexpr FamilyInfo family{.name = "staged", .min_cc = 90, .unit_stride = true, .preference = 0};
  static constexpr KSize ksize = K;
  static constexpr StagedTile tile = P;
  using Storage = StagedStorage<T, K.kw, P.tw, P.bx, P.by, P.stages, K.kh * P.ru>;
  static constexpr std::size_t smem_bytes = sizeof(Storage);

  static LaunchConfig config(const ConvShape& s) {
    LaunchConfig c;
    c.grid = dim3(static_cast<unsigned>((s.out_w() + Storage::kSegment - 1) / Storage::kSegment),
                  clamp_grid_yz(((s.out_h() + P.rows - 1) / P.rows + P.by - 1) / P.by),
                  clamp_grid_yz(s.n * s.out_c()));
    c.block = dim3(P.bx, P.by, 1);
    c.smem_bytes = smem_bytes;
    return c;
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    launch_kernel(staged_kernel<T, K.kh, K.kw, P.rows, P.tw, P.bx, P.by, P.stages, P.ru, P.minb>, c, st, a);
  }
};

// A ring covers BX*TW columns: 512 (KernelBench's widths 510/512), 256 (kb85's 250), or 128/64 for
// the narrow rows of mobile networks (112, 56), four warps to a block.
inline constexpr StagedTile kStagedTilesF32[] = {
    {.rows = 16, .tw = 4, .bx = 64},  {.rows = 32, .tw = 4, .bx = 64},
    {.rows = 64, .tw = 4, .bx = 128}, {.rows = 16, .tw = 4, .bx = 128},
    {.rows = 32, .tw = 4, .bx = 64, .stages = 6}, {.rows = 32, .tw = 4, .bx = 128, .stages = 3, .ru = 2},
    {.rows = 16, .tw = 4, .bx = 32, .by = 4}, {.rows = 16, .tw = 2, .bx = 32, .by = 4}};
inline constexpr StagedTile kStagedTiles16[] = {
    {.rows = 64, .tw = 4, .bx = 128}, {.rows = 32, .tw = 4, .bx = 128}, {.rows = 32, .tw = 8, .bx = 32},
    {.rows = 32, .tw = 4, .bx = 64},  {.rows = 16, .tw = 8, .bx = 32},  {.rows = 16, .tw = 4, .bx = 32, .by = 4}};

template <class T>
void add_staged(OpList& ops) {
  add_grid_by_width<T, kStripSizes, kStagedTilesF32, kStagedTiles16>(ops, [&]<KSize K, StagedTile P> { return Staged<T, K, P>{}; });
}

}  // namespace dwt
