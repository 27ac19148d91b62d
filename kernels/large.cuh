// Family "large": large filters (9x9 ... 31x31, RepLKNet's 13x13 to 31x31), stride 1. These layers
// are compute-bound (a 31x31 filter is 961 multiply-adds per output), so the kernel is built around its
// multiply-add loop. A block stages NP whole planes, or one band of rows with its halo, zero-padded, in
// shared memory as floats, and each plane's filter with TH - 1 zero rows above and below and its rows
// padded to a multiple of 4 taps. Each thread computes a TH x TW register tile: for each input row of
// its window and each group of 4 filter columns it reads TW + 4 inputs (16-byte shared-memory reads)
// and, for each of its TH output rows, the 4 taps of the matching filter row (one 16-byte read, the
// same address across the warp), then does TH x TW x 4 multiply-adds. The zero rows let every output
// row take every input row of the window without a test.
//
// Taps that meet only padding are skipped per warp: each thread finds the filter rows and columns that
// reach a real input from its tile, the warp takes the union and loops over that range only (outside a
// thread's own range its inputs are zeros, so the union is exact). On a 56x56 plane under a 31x31
// filter a quarter of the taps meet only padding; on small planes (14x14 under 27x27: three quarters)
// a warp's tiles cover the whole plane and skip little, which the swapped form below addresses.
//
// Filter size and padding are run-time values; the inner loops are unrolled over fixed chunks (TH,
// TW, 4 taps). Filters below 9 in both directions are refused: the families with compile-time sizes
// serve them better (this one rounds a 3x3 filter to 3x4 taps and stages a halo per band).
#pragma once

#include <climits>

#include "band.cuh"
#include "fast_div.hpp"

namespace dwt {

// Taps of a filter row read together (one 16-byte shared-memory read of floats).
inline constexpr int kLargeChunk = 4;
// Loads in flight per thread while a block stages its planes.
inline constexpr int kLargeStageBatch = 8;
// Smallest filter side the family takes.
inline constexpr int kLargeMinK = 9;
// Shared memory of an SM (sm_90: 228 KiB, 1 KiB of it reserved per block), for the launch's occupancy
// estimate.
inline constexpr std::int64_t kLargeSmemPerSm = 227 * 1024;

// The kernel computes out[o][q] = sum over a < A, b < B of F[a][b] * G[o + a][q + b], G zero outside
// its SH x SW source plane placed at (gr, gc). Direct form: F is the filter, G the input at the padding
// (gr, gc) = (ph, pw), out the output. Swapped form (SWAP): F is the input plane, G the filter at
// (OH - 1 - ph, OW - 1 - pw), and out[o][q] is output (OH - 1 - o, OW - 1 - q): the same sum with the
// roles exchanged, H*W taps per output instead of KH*KW. On small planes under large filters (14x14
// under 27x27) every tap outside the plane is padding, so the swapped form does only the real work.

// A launch's shape, computed once on the host for config() and launch() (32-bit: supports() refuses
// larger problems).
struct LargeGeom {
  int H, W, OH, OW, KH, KW, C, OC, M;
  int A, B;         // F: taps per output (filter, or input plane when swapped)
  int SH, SW;       // G's source plane (input, or filter when swapped)
  int gr, gc;       // where G's source plane starts in G
  int planes;       // N * OC output planes
  int cg;           // column groups of TW outputs per row
  int tr;           // row groups of TH outputs per plane
  int np;           // output planes per block (whole-plane mode); 1 with bands
  int nrt;          // row groups per band (tr with whole planes)
  int bands;        // bands per plane
  int rs, pitch;    // shared-memory G rows per plane (band rows + A - 1) and their pitch (floats)
  int bp, frows;    // F's row pitch (B rounded up to the chunk) and rows (A + 2 (TH - 1))
  int threads;      // block size: the block's tiles rounded up to a warp, at most THREADS
  FastDiv by_pitch, by_rs, by_bp, by_frows, by_oc, by_m;  // the staging's index arithmetic
  std::int64_t blocks;
  std::size_t smem_bytes;
};

template <int TH, int TW, int THREADS, bool SWAP>
LargeGeom large_geom(const ConvShape& s) {
  LargeGeom g{};
  g.H = static_cast<int>(s.h), g.W = static_cast<int>(s.w);
  g.OH = static_cast<int>(s.out_h()), g.OW = static_cast<int>(s.out_w());
  g.KH = s.kh, g.KW = s.kw;
  g.C = static_cast<int>(s.c), g.OC = static_cast<int>(s.out_c()), g.M = s.m;
  if constexpr (SWAP) {
    g.A = g.H, g.B = g.W, g.SH = g.KH, g.SW = g.KW;
    g.gr = g.OH - 1 - s.ph, g.gc = g.OW - 1 - s.pw;
  } else {
    g.A = g.KH, g.B = g.KW, g.SH = g.H, g.SW = g.W;
    g.gr = s.ph, g.gc = s.pw;
  }
  g.planes = static_cast<int>(s.n * s.out_c());
  // Degenerate shapes (supports() refuses them) still get a geometry without a division by zero:
  // common_support() asks config() for the shared memory before the family's own checks.
  g.cg = g.OW > 0 ? (g.OW + TW - 1) / TW : 1;
  g.tr = g.OH > 0 ? (g.OH + TH - 1) / TH : 1;
  const std::int64_t planes = g.planes > 0 ? g.planes : 1;
  g.bp = (g.B + kLargeChunk - 1) / kLargeChunk * kLargeChunk;
  g.frows = g.A + 2 * (TH - 1);
  // Columns a tile may read: up to (cg - 1) TW + (bp - 4) + TW + 3.
  g.pitch = g.cg * TW + g.bp;
  auto plane_floats = [&](int nrt) {
    return std::int64_t{nrt * TH + g.A - 1} * g.pitch + std::int64_t{g.frows} * g.bp;
  };
  auto round32 = [](std::int64_t v) { return (v + 31) / 32 * 32; };
  const std::int64_t plane_tiles = std::int64_t{g.tr} * g.cg;
  // A split's score: the share of thread slots that hold a tile, times the share of 16 warps per SM
  // that shared memory leaves room for (fewer leave the FMA pipes waiting on shared memory).
  auto score = [&](std::int64_t np, std::int64_t nrt) {
    const std::int64_t tiles = np * nrt * g.cg;
    const std::int64_t threads = tiles >= THREADS ? THREADS : round32(tiles);
    const std::int64_t rounds = (tiles + threads - 1) / threads;
    const std::int64_t blocks = (planes + np - 1) / np * ((g.tr + nrt - 1) / nrt);
    const double use = static_cast<double>(planes * plane_tiles) / static_cast<double>(blocks * rounds * threads);
    const std::int64_t smem = np * plane_floats(static_cast<int>(nrt)) * 4;
    std::int64_t per_sm = kLargeSmemPerSm / (smem > 0 ? smem : 1);
    if (per_sm > 32) per_sm = 32;
    const double warps = static_cast<double>(per_sm * threads / 32);
    return use * (warps < 16 ? warps / 16 : 1.0);
  };
  double best = -1;
  if (plane_tiles * 2 <= THREADS) {
    // Small planes: whole planes, several to a block while the grid still fills a GPU.
    std::int64_t hi = THREADS / plane_tiles;
    const std::int64_t fill = planes / kBandFillBlocks;
    if (hi > fill) hi = fill > 1 ? fill : 1;
    for (std::int64_t np = hi; np >= 1; --np)
      if (const double v = score(np, g.tr); v > best + 1e-9) best = v, g.np = static_cast<int>(np);
    g.nrt = g.tr;
  } else {
    // Bands of whole row groups, at most one round of THREADS tiles (or one row group on wide rows),
    // enough bands to fill a GPU.
    int hi = g.cg >= THREADS ? 1 : THREADS / g.cg;
    if (hi > g.tr) hi = g.tr;
    const std::int64_t want_bands = (kBandFillBlocks + planes - 1) / planes;
    const std::int64_t fill_rows = (g.tr + want_bands - 1) / want_bands;
    if (hi > fill_rows) hi = static_cast<int>(fill_rows > 1 ? fill_rows : 1);
    for (int nrt = hi; nrt >= 1; --nrt)
      if (const double v = score(1, nrt); v > best + 1e-9) best = v, g.nrt = nrt;
    g.np = 1;
  }
  g.bands = (g.tr + g.nrt - 1) / g.nrt;
  g.rs = g.nrt * TH + g.A - 1;
  const std::int64_t tiles = std::int64_t{g.np} * g.nrt * g.cg;
  g.threads = static_cast<int>(tiles >= THREADS ? THREADS : round32(tiles));
  auto div = [](int d) { return FastDiv(static_cast<unsigned>(d > 1 ? d : 1)); };
  g.by_pitch = div(g.pitch), g.by_rs = div(g.rs), g.by_bp = div(g.bp), g.by_frows = div(g.frows);
  g.by_oc = div(g.OC), g.by_m = div(g.M);
  g.blocks = (std::int64_t{g.planes} + g.np - 1) / g.np * g.bands;
  g.smem_bytes = static_cast<std::size_t>(g.np * plane_floats(g.nrt)) * sizeof(float);
  return g;
}

template <class T, int TH, int TW, int THREADS, bool SWAP>
__global__ void __launch_bounds__(THREADS) large_kernel(ConvArgs a, LargeGeom g) {
  static_assert(TW % 4 == 0, "tiles are whole 16-byte vectors of floats wide");
  extern __shared__ __align__(16) float large_smem[];
  const int tid = static_cast<int>(threadIdx.x), nthreads = static_cast<int>(blockDim.x);
  const int lane = tid & 31, warp = tid >> 5;
  const int u = static_cast<int>(blockIdx.x);
  const int group = u / g.bands, band = u - group * g.bands;
  const int p0 = group * g.np;
  const int np = g.planes - p0 < g.np ? g.planes - p0 : g.np;
  const int ob0 = band * g.nrt * TH;  // the band's first row of out
  const int xsz = g.rs * g.pitch, fsz = g.frows * g.bp;
  float* const gs = large_smem;                            // [np][rs][pitch]: G rows ob0 ...
  float* const fs = large_smem + std::int64_t{g.np} * xsz;  // [np][frows][bp]: F, TH - 1 zero rows each side
  const T* __restrict__ x = static_cast<const T*>(a.x);
  const T* __restrict__ w = static_cast<const T*>(a.w);
  auto x_plane = [&](int plane) {
    const int n = static_cast<int>(g.by_oc(plane)), oc = plane - n * g.OC;
    const int ic = g.M == 1 ? oc : static_cast<int>(g.by_m(oc));
    return x + (std::int64_t{n} * g.C + ic) * g.H * g.W;
  };
  auto w_plane = [&](int plane) {
    return w + std::int64_t{plane - static_cast<int>(g.by_oc(plane)) * g.OC} * g.KH * g.KW;
  };

  // Stage every cell of the block's G and F buffers once, zeros included, with kLargeStageBatch loads
  // in flight per thread before their stores: on small planes the copy is most of a block's time, and
  // a loop that waits for each load in turn spends it waiting.
  {
    const int gcells = np * xsz, total = gcells + np * fsz;
    for (int base = 0; base < total; base += kLargeStageBatch * nthreads) {
      float v[kLargeStageBatch];
#pragma unroll
      for (int k = 0; k < kLargeStageBatch; ++k) {
        const int i = base + k * nthreads + tid;
        v[k] = 0.0f;
        if (i < gcells) {
          const int row = static_cast<int>(g.by_pitch(static_cast<unsigned>(i))), c = i - row * g.pitch;
          const int p = static_cast<int>(g.by_rs(static_cast<unsigned>(row))), j = row - p * g.rs;
          const int sr = ob0 + j - g.gr, sc = c - g.gc;
          if (static_cast<unsigned>(sr) < static_cast<unsigned>(g.SH) && static_cast<unsigned>(sc) < static_cast<unsigned>(g.SW))
            v[k] = ldg_f((SWAP ? w_plane(p0 + p) : x_plane(p0 + p)) + sr * g.SW + sc);
        } else if (i < total) {
          const int e = i - gcells;
          const int row = static_cast<int>(g.by_bp(static_cast<unsigned>(e))), c = e - row * g.bp;
          const int p = static_cast<int>(g.by_frows(static_cast<unsigned>(row)));
          const int ar = row - p * g.frows - (TH - 1);
          if (static_cast<unsigned>(ar) < static_cast<unsigned>(g.A) && c < g.B)
            v[k] = ldg_f((SWAP ? x_plane(p0 + p) : w_plane(p0 + p)) + ar * g.B + c);
        }
      }
#pragma unroll
      for (int k = 0; k < kLargeStageBatch; ++k) {
        const int i = base + k * nthreads + tid;
        if (i < gcells)
          gs[i] = v[k];
        else if (i < total)
          fs[i - gcells] = v[k];
      }
    }
  }
  __syncthreads();

  // Shared-memory rows and columns holding G's source plane.
  const int jr0 = max(0, g.gr - ob0), jr1 = min(g.rs, g.gr - ob0 + g.SH);
  const int jc0 = max(0, g.gc), jc1 = g.gc + g.SW;
  const int nr = g.OH - ob0 < g.nrt * TH ? g.OH - ob0 : g.nrt * TH;  // rows of out in this band
  const int bt = g.nrt * g.cg;                                        // tiles per plane of the block
  const int items = np * bt;
  T* __restrict__ y = static_cast<T*>(a.y);

  // Warps take 32 consecutive tiles (plane, row group, column group); a lane past the end computes
  // the warp's first tile and stores nothing, so the warp stays whole for the range reductions.
  for (int base = warp * 32; base < items; base += nthreads) {
    const int it = base + lane;
    const bool active = it < items;
    const int itc = active ? it : base;
    const int p = itc / bt, tile = itc - p * bt;
    const int rg = tile / g.cg, cgi = tile - rg * g.cg;
    const int o0 = rg * TH, q0 = cgi * TW;

    // Rows and columns of F that meet G's source plane from this tile, then the warp's union.
    int kr_lo = max(0, jr0 - o0 - TH + 1), kr_hi = min(g.A, jr1 - o0);
    int kc_lo = max(0, jc0 - q0 - TW + 1), kc_hi = min(g.B, jc1 - q0);
    if (!active || kr_lo >= kr_hi || kc_lo >= kc_hi) kr_lo = kc_lo = INT_MAX, kr_hi = kc_hi = INT_MIN;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      kr_lo = min(kr_lo, __shfl_xor_sync(0xffffffffu, kr_lo, o));
      kr_hi = max(kr_hi, __shfl_xor_sync(0xffffffffu, kr_hi, o));
      kc_lo = min(kc_lo, __shfl_xor_sync(0xffffffffu, kc_lo, o));
      kc_hi = max(kc_hi, __shfl_xor_sync(0xffffffffu, kc_hi, o));
    }
    kc_lo = kc_lo / kLargeChunk * kLargeChunk;
    kc_hi = (kc_hi + kLargeChunk - 1) / kLargeChunk * kLargeChunk;

    const int plane = p0 + p;
    const float b = bias_of<T>(a, plane % g.OC);
    float acc[TH][TW];
#pragma unroll
    for (int r = 0; r < TH; ++r)
#pragma unroll
      for (int j = 0; j < TW; ++j) acc[r][j] = b;

    if (kr_lo < kr_hi) {
      const float* gp = gs + p * xsz + o0 * g.pitch + q0;
      // F row t - r for row r of the tile, shifted by the TH - 1 zero rows.
      const float* fp = fs + p * fsz + (TH - 1) * g.bp;
      for (int t = kr_lo; t < kr_hi + TH - 1; ++t) {
        const float* grow = gp + t * g.pitch;
        const float* frow = fp + t * g.bp;
#pragma unroll 2
        for (int c0 = kc_lo; c0 < kc_hi; c0 += kLargeChunk) {
          float xw[TW + 4];
#pragma unroll
          for (int v = 0; v < TW / 4 + 1; ++v) {
            const float4 q = *reinterpret_cast<const float4*>(grow + c0 + 4 * v);
            xw[4 * v] = q.x, xw[4 * v + 1] = q.y, xw[4 * v + 2] = q.z, xw[4 * v + 3] = q.w;
          }
#pragma unroll
          for (int r = 0; r < TH; ++r) {
            const float4 q = *reinterpret_cast<const float4*>(frow - r * g.bp + c0);
            const float fv[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
            for (int c = 0; c < 4; ++c)
#pragma unroll
              for (int j = 0; j < TW; ++j) acc[r][j] = fmaf(fv[c], xw[j + c], acc[r][j]);
          }
        }
      }
    }

    if (active) {
      T* const yp = y + std::int64_t{plane} * g.OH * g.OW;
#pragma unroll
      for (int r = 0; r < TH; ++r) {
        if (o0 + r >= nr) continue;
        const int o = ob0 + o0 + r;
        if constexpr (SWAP) {
          T* const row = yp + std::int64_t{g.OH - 1 - o} * g.OW;
#pragma unroll
          for (int j = 0; j < TW; ++j) {
            const int q = g.OW - 1 - (q0 + j);
            if (q >= 0) row[q] = from_float<T>(acc[r][j]);
          }
        } else {
          band_store<T, TW>(yp + std::int64_t{o} * g.OW, acc[r], q0, g.OW);
        }
      }
    }
  }
}

// Large tiles: TH x TW outputs per thread (TW a multiple of 4), threads per block at most.
struct LargeTile {
  int th, tw, threads, swap;
  constexpr int block_threads() const { return threads; }
  static constexpr auto fields() {
    using F = Field<LargeTile>;
    return std::array{F{"th", "_t", &LargeTile::th}, F{"tw", "x", &LargeTile::tw},
                      F{"threads", "_b", &LargeTile::threads}, F{"swap", "_sw", &LargeTile::swap, Show::flag}};
  }
  friend constexpr bool operator==(const LargeTile&, const LargeTile&) = default;
};

template <class T, KSize K, LargeTile P>
struct Large {
  static constexpr FamilyInfo family{.name = "large", .filter_param = false, .preference = 0};
  static constexpr KSize ksize = K;
  static constexpr LargeTile tile = P;
  // Measured on an H200 (RepLKNet-31B's layers): the fastest on 28x28, 14x14 and 7x7 planes, 2.4x the
  // fastest on 56x56 under 31x31 (still 1.7x faster than PyTorch there).
  static constexpr LargeTile default_tile{.th = 2, .tw = 4, .threads = 128, .swap = 1};

  static Support supports(const ConvShape& s, const DeviceLimits&) {
    if (s.kh < kLargeMinK && s.kw < kLargeMinK)
      return Support::no(cat("large kernels take filters of ", kLargeMinK, " or more on a side; problem has ", s.kh,
                             "x", s.kw, " (compile-time sizes serve those)"));
    if (s.out_h() <= 0 || s.out_w() <= 0 || s.n <= 0 || s.c <= 0) return Support::no("empty problem");
    if (s.sh != 1 || s.sw != 1) return Support::no(cat("large kernels need stride 1, problem has ", s.sh, "x", s.sw));
    if (s.dh != 1 || s.dw != 1)
      return Support::no(cat("large kernels need dilation 1, problem has ", s.dh, "x", s.dw));
    constexpr std::int64_t lim = std::int64_t{1} << 30;
    if (s.h * s.w >= lim || s.out_h() * s.out_w() >= lim) return Support::no("plane of 2^30 elements or more");
    if (s.n * s.out_c() >= lim) return Support::no("2^30 planes or more");
    if (s.out_c() * s.kh * s.kw >= lim) return Support::no("2^30 filter taps or more");
    if (s.w + 2 * s.pw + s.kw >= (1 << 20) || s.h + 2 * s.ph + s.kh >= (1 << 20))
      return Support::no("plane or padding of 2^20 elements or more on a side");
    return Support::yes();  // shared memory: the common check, from config()
  }
  static LaunchConfig config(const ConvShape& s) {
    const LargeGeom g = large_geom<P.th, P.tw, P.threads, P.swap != 0>(s);
    return block_launch(g.blocks, g.threads, g.smem_bytes);
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    launch_kernel(large_kernel<T, P.th, P.tw, P.threads, P.swap != 0>, c, st, a,
                  large_geom<P.th, P.tw, P.threads, P.swap != 0>(a.s));
  }
};

// Direct form: 4x4 and 8x4 (8x4 at 256 threads too), 4x8 for wide rows. Swapped form, for small planes
// under large filters: 2x4 (batch 1: more lanes busy per plane), 4x4, 4x8. The same tiles for every
// dtype (the arithmetic is in floats).
inline constexpr LargeTile kLargeTiles[] = {{.th = 4, .tw = 4, .threads = 128, .swap = 0},
                                            {.th = 8, .tw = 4, .threads = 128, .swap = 0},
                                            {.th = 4, .tw = 8, .threads = 128, .swap = 0},
                                            {.th = 8, .tw = 4, .threads = 256, .swap = 0},
                                            {.th = 2, .tw = 4, .threads = 128, .swap = 1},
                                            {.th = 4, .tw = 4, .threads = 128, .swap = 1},
                                            {.th = 4, .tw = 8, .threads = 128, .swap = 1}};

template <class T>
void add_large(OpList& ops) {
  add_grid<T, kAnySize, kLargeTiles>(ops, [&]<KSize K, LargeTile P> { return Large<T, K, P>{}; });
}

}  // namespace dwt
