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

// Columns per ring, and the shared-memory row that holds them with their halo: row column j is
// input column a0 + j, where a0 is the block's first input column rounded down to a whole vector.
template <class T, int KW, int TW, int BX>
struct StagedRow {
  static constexpr int V = kVecElems<T>;
  static constexpr int seg = BX * TW;
  static constexpr int elems = (seg + KW - 1 + V - 1 + V - 1) / V * V;
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

template <class T, int KH, int KW, int ROWS, int TW, int BX, int BY, int S, int RU, int MINB>
__global__ void __launch_bounds__(BX* BY, MINB) staged_kernel(ConvArgs a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  using Row = StagedRow<T, KW, TW, BX>;
  constexpr int V = Row::V, SW = Row::elems, RS = KH * RU, WW = TW + KW - 1;
  // BY > 1: each warp (BX = 32) runs its own ring on its own strips, synchronized by __syncwarp.
  static_assert(BY == 1 || BX == 32, "several rings per block need one warp per ring");
  // The ring of this thread; a compile-time 0 with one ring per block (keeps that code as lean).
  const int ty = BY > 1 ? static_cast<int>(threadIdx.y) : 0;
  extern __shared__ __align__(128) unsigned char staged_smem[];
  T* const buf = reinterpret_cast<T*>(staged_smem) + ty * (S * RS * SW);  // [S][RS * SW]
  __shared__ __align__(8) std::uint64_t bars[BY * S];
  std::uint64_t* const bar = bars + ty * S;
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
  const int c0 = static_cast<int>(blockIdx.x) * Row::seg;
  const int first = c0 - s.pw;                                            // block's first input column
  const int a0 = (first >= 0 ? first / V : -((-first + V - 1) / V)) * V;  // rounded down to a vector
  const int off = first - a0;
  // Shared-memory columns [lo, hi) of a row receive input columns [a0 + lo, a0 + hi).
  const int lo = min(max(-a0, 0), SW), hi = max(min(W - a0, SW), lo);
  // Uniform over the grid: rows are whole vectors and the input starts on 16 bytes.
  const bool bulk = W % V == 0 && aligned16(a.x);
  // Whole rows: no padding columns and one block spans the row, so a stage is RS consecutive input
  // rows, stored at pitch W, and one bulk copy brings them all. Columns past the row are read only
  // by outputs past the row, which are never stored.
  const bool whole = bulk && s.pw == 0 && W <= Row::seg;
  const int pitch = whole ? W : SW;
  const int tx = static_cast<int>(threadIdx.x);
  const int ow0 = c0 + tx * TW;

  if (bulk) {
    if (tx == 0) {
#pragma unroll
      for (int i = 0; i < S; ++i) Tma::init(&bar[i], 1);
      Tma::fence_init();
    }
    if (!whole) {
      // Cells no copy writes (columns outside the input) read as zero for good.
      const int ex = SW - (hi - lo);
      for (int i = tx; i < S * RS * ex; i += BX) {
        const int r = i / ex, j = i - r * ex;
        buf[r * SW + (j < lo ? j : hi + (j - lo))] = from_float<T>(0.0f);
      }
    }
  }
  __syncthreads();

  std::uint32_t stages_done = 0;  // stages consumed by this block so far: slot and mbarrier parity
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
      const int total = nrows + KH - 1;  // input rows of the strip
      const int nst = (total + RS - 1) / RS;
      // Rows past the strip feed only output rows past it, so they may hold anything; rows outside
      // the plane (padding) must read as zero.
      auto in_plane = [&](int t) { return ih0 + t >= 0 && ih0 + t < H; };
      auto slot_of = [&](int k) { return static_cast<int>((stages_done + k) % S); };
      // Stage k of the strip into its slot, issued by thread 0.
      auto issue = [&](int k) {
        const int slot = slot_of(k), t0 = k * RS;
        T* const dst = buf + slot * RS * SW;
        const T* const src = xp + std::int64_t{ih0 + t0} * W;
        if (whole && t0 + RS <= total && in_plane(t0) && in_plane(t0 + RS - 1)) {
          const std::uint32_t bytes = static_cast<std::uint32_t>(RS * W) * sizeof(T);
          Tma::arrive_expect(&bar[slot], bytes);
          Tma::copy(dst, src, bytes, &bar[slot]);
          return;
        }
        const std::uint32_t row_bytes = static_cast<std::uint32_t>(hi - lo) * sizeof(T);
        std::uint32_t bytes = 0;
        for (int r = 0; r < RS; ++r)
          if (t0 + r < total && in_plane(t0 + r)) bytes += row_bytes;
        Tma::arrive_expect(&bar[slot], bytes);
        if (row_bytes == 0) return;
        for (int r = 0; r < RS; ++r)
          if (t0 + r < total && in_plane(t0 + r))
            Tma::copy(dst + r * pitch + lo, src + std::int64_t{r} * W + a0 + lo, row_bytes, &bar[slot]);
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
        const int slot = slot_of(k);
        T* const stage = buf + slot * RS * SW;
        if (bulk) {
          Tma::wait(&bar[slot], ((stages_done + k) / S) & 1u);
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
        ring_sync();  // every thread of the ring is done with the slot
        if (bulk && tx == 0 && k + S < nst) issue(k + S);
      }
      stages_done += static_cast<std::uint32_t>(nst);
    }
  }
#else
  __trap();  // supports() refuses devices older than sm_90
#endif
}

template <class T, int KH, int KW, int ROWS, int TW, int BX, int BY, int S, int RU, int MINB>
struct Staged {
  static_assert(KH > 0 && KW > 0, "staged kernels have a compile-time filter size");
  static_assert(TW * sizeof(T) % 8 == 0, "staged windows are whole 8-byte pieces");
  static_assert(S >= 1 && RU >= 1, "at least one stage of KH rows");
  using Row = StagedRow<T, KW, TW, BX>;
  static constexpr std::size_t kSmemBytes = std::size_t{BY} * S * KH * RU * Row::elems * sizeof(T);

  static KernelDesc describe() {
    KernelDesc d;
    d.family = "staged";
    d.dtype = DTypeOf<T>::value;
    d.params = {{"kh", KH}, {"kw", KW}, {"rows", ROWS}, {"tw", TW}, {"bx", BX}, {"by", BY},
                {"stages", S}, {"stage_rows", KH * RU}, {"minb", MINB}};
    d.threads = BX * BY;
    d.name = cat("staged_", to_string(d.dtype), "_nchw_", ksize_tag(KH, KW), "_r", ROWS, "x", TW, "_b", BX, BY > 1 ? cat("x", BY) : std::string(),
                 "_s", S, "x", KH * RU, MINB ? cat("_o", MINB) : std::string());
    return d;
  }
  static Support supports(const ConvShape& s, const DeviceLimits& lim) {
    if (lim.cc < 90)
      return Support::no(lim.cc == 0 ? std::string("staged strips need sm_90 bulk copies; device unknown")
                                     : cat("staged strips need sm_90 bulk copies; device is sm_", lim.cc));
    if (s.sh != 1 || s.sw != 1 || s.dh != 1 || s.dw != 1)
      return Support::no("staged strips need stride 1 and dilation 1 (regblock serves the rest)");
    return fixed_ksize_support(KH, KW, s);
  }
  static LaunchConfig config(const ConvShape& s) {
    LaunchConfig c;
    c.grid = dim3(static_cast<unsigned>((s.out_w() + Row::seg - 1) / Row::seg),
                  clamp_grid_yz(((s.out_h() + ROWS - 1) / ROWS + BY - 1) / BY), clamp_grid_yz(s.n * s.out_c()));
    c.block = dim3(BX, BY, 1);
    c.smem_bytes = kSmemBytes;
    return c;
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    auto kernel = staged_kernel<T, KH, KW, ROWS, TW, BX, BY, S, RU, MINB>;
    if (c.smem_bytes > 48 * 1024)
      DWT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(c.smem_bytes)));
    kernel<<<c.grid, c.block, c.smem_bytes, st>>>(a);
    DWT_CUDA_CHECK_LAUNCH();
  }
};

}  // namespace dwt
