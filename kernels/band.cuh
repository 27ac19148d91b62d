// Family "band": a block owns one contiguous run of the input and computes every output of it from
// shared memory. N*C input planes are contiguous in NCHW, so a run is either NP whole planes (small
// planes with many channels: 7x7 ... 28x28) or a band of whole rows of one plane, halo rows included
// (large planes). The block reads its run with coalesced 16-byte loads (scalar head and tail: a run
// starts anywhere, a 7x7 f32 plane is 196 bytes) and scatters it into a zero-padded layout in shared
// memory: every plane of the run gets RS rows of PITCH elements, padding rows and columns zero, rows
// 16-byte aligned. Then each thread computes TH x TW outputs of one output plane (rows x columns),
// reading each input row of its window once, with 16-byte shared-memory reads when TW*S elements are
// whole vectors, and writes them straight to global memory. All M output planes of an input plane
// (depth multiplier) are computed by the block that holds it. Weights of the block's output planes
// are staged in shared memory as floats.
//
// KH x KW, stride S and dilation D are compile-time on the fast path; S = 0 is the general path: run-
// time stride and dilation (and filter size when KH = 0), one shared-memory read per tap.
// The launch derives planes per block (NP) or rows per band from the shape so that a block's input
// buffer holds about TARGET elements, and splits further so the grid has enough blocks to fill a GPU.
#pragma once

#include "vectorized.cuh"

namespace dwt {

// Blocks below which the launch splits planes or bands further (batch-1 layers: a few hundred
// planes must still spread over every SM of a large GPU).
inline constexpr int kBandFillBlocks = 512;

// Quotient of small non-negative ints (below 2^20) by a run-time divisor through a float reciprocal,
// corrected by one: the exact quotient in a handful of instructions.
struct SmallDiv {
  int d;
  float inv;
  __device__ explicit SmallDiv(int d_) : d(d_), inv(1.0f / static_cast<float>(d_)) {}
  __device__ __forceinline__ int operator()(int e) const {
    int q = __float2int_rz(__int2float_rn(e) * inv);
    const int r = e - q * d;
    if (r >= d) ++q;
    else if (r < 0) --q;
    return q;
  }
};

// A block's share of the problem, computed once on the host for config() and launch().
struct BandGeom {
  int np = 1;        // input planes per block (whole-plane mode); 1 in band mode
  int nr = 1;        // output rows per block: all OH with whole planes, else rows per band
  int bands = 1;     // bands per plane; 1: whole-plane mode
  int rs = 1;        // shared-memory rows per plane: nr output rows' input rows, zero rows included
  int pitch = 1;     // shared-memory row pitch in elements: a whole number of 16-byte vectors
  int cg = 1;        // column groups of TW outputs per output row
  int kk4 = 4;       // floats per output plane's weights in shared memory (KH*KW rounded up to 4)
  int xs_bytes = 0;  // input buffer bytes (16-byte multiple); the weights follow it
  std::int64_t units = 1;  // blocks
  std::size_t smem_bytes = 0;
  std::int64_t items = 0;  // TH x TW items of the fullest block (checked against SmallDiv's range)
};

// How a launch splits `planes` planes of `rows` output rows each: whole planes, np to a block, when
// a plane's buffer (plane_cells elements) fits the target, else bands of rows (a multiple of `step`,
// at most `fit` rows: what fits the target) of one plane. Either way the grid gets enough blocks to
// fill a GPU, and a block of whole planes takes whole rounds of THREADS items (ipp per plane).
struct BandSplit {
  int np = 1, nr = 1, bands = 1;
  std::int64_t units = 1;
};

inline BandSplit band_split(std::int64_t planes, std::int64_t rows, std::int64_t step, std::int64_t plane_cells,
                            std::int64_t fit, std::int64_t ipp, std::int64_t target, int threads) {
  BandSplit b;
  if (plane_cells <= target) {
    std::int64_t np = target / plane_cells;
    const std::int64_t fill = planes / kBandFillBlocks;
    if (np > fill) np = fill > 1 ? fill : 1;
    if (np > planes) np = planes;
    if (np * ipp > threads) {
      const std::int64_t k = np * ipp / threads * threads / ipp;
      np = k > 1 ? k : 1;
    }
    b.np = static_cast<int>(np);
    b.nr = static_cast<int>(rows);
    b.bands = 1;
    b.units = (planes + np - 1) / np;
  } else {
    fit = fit / step * step;
    const std::int64_t want_bands = (kBandFillBlocks + planes - 1) / planes;
    std::int64_t split = (rows + want_bands - 1) / want_bands;
    split = (split + step - 1) / step * step;
    std::int64_t nr = fit < split ? fit : split;
    if (nr < step) nr = step;
    b.np = 1;
    b.nr = static_cast<int>(nr);
    b.bands = static_cast<int>((rows + nr - 1) / nr);
    b.units = planes * b.bands;
  }
  return b;
}

// A tile's stride and dilation are both compile-time or both run time (0), and a compile-time
// stride needs a compile-time filter size.
template <auto P, KSize K>
constexpr bool valid_compiled_stride() {
  return (P.stride > 0) == (P.dilation > 0) && (P.stride == 0 || K.kh > 0);
}

// The checks of a tile's compile-time stride and dilation (0: run time) against a problem.
template <class Tile>
Support compiled_stride_support(const Tile& P, const ConvShape& s) {
  if (P.stride > 0 && (s.sh != P.stride || s.sw != P.stride))
    return Support::no(cat("compiled for stride ", P.stride, ", problem has ", s.sh, "x", s.sw));
  if (P.dilation > 0 && (s.dh != P.dilation || s.dw != P.dilation))
    return Support::no(cat("compiled for dilation ", P.dilation, ", problem has ", s.dh, "x", s.dw));
  return Support::yes();
}

// KK filter taps from shared memory (floats, zero-padded to a multiple of 4, 16-byte aligned) into
// registers.
template <int KK>
__device__ __forceinline__ void band_filter_regs(float (&wr)[(KK + 3) / 4 * 4], const float* wk) {
#pragma unroll
  for (int k = 0; k < (KK + 3) / 4; ++k) {
    const float4 w4 = reinterpret_cast<const float4*>(wk)[k];
    wr[4 * k] = w4.x;
    wr[4 * k + 1] = w4.y;
    wr[4 * k + 2] = w4.z;
    wr[4 * k + 3] = w4.w;
  }
}

// 16-byte loads in flight per thread per round (V elements each): a run of TARGET elements in one
// round, up to 8.
constexpr int band_loads_in_flight(int V, int threads, int target) {
  const int u = (target + V * threads - 1) / (V * threads);
  return u < 1 ? 1 : (u > 8 ? 8 : u);
}

// Widest shared-memory read (bytes, at most 16) that a window starting at a multiple of N elements
// can use.
template <class T>
constexpr int band_chunk_bytes(int n) {
  int b = 16;
  while (b > static_cast<int>(sizeof(T)) && (n * static_cast<int>(sizeof(T))) % b != 0) b /= 2;
  return b;
}

template <class T, int KH, int KW, int S, int D, int TH, int TW, int THREADS, int TARGET>
struct BandTraits {
  static constexpr int V = kVecElems<T>;
  static constexpr bool kFast = S > 0;  // compile-time stride, dilation and filter size
  // Window of one input row for TW outputs, read in chunks of CB bytes (CE elements).
  static constexpr int CB = kFast ? band_chunk_bytes<T>(TW * S) : static_cast<int>(sizeof(T));
  static constexpr int CE = CB / static_cast<int>(sizeof(T));
  static constexpr int WIN = kFast ? (TW - 1) * S + (KW - 1) * D + 1 : 0;
  static constexpr int NWIN = (WIN + CE - 1) / CE * CE;

  static BandGeom geom(const ConvShape& s) {
    BandGeom g;
    const std::int64_t OH = s.out_h(), OW = s.out_w(), planes = s.n * s.c;
    g.cg = static_cast<int>((OW + TW - 1) / TW);
    const std::int64_t win = kFast ? NWIN : std::int64_t{TW - 1} * s.sw + std::int64_t{s.kw - 1} * s.dw + 1;
    const std::int64_t need = std::int64_t{g.cg - 1} * TW * s.sw + win;
    const std::int64_t cols = need > s.pw + s.w ? need : s.pw + s.w;
    g.pitch = static_cast<int>((cols + V - 1) / V * V);
    auto rows_for = [&](std::int64_t nr) {
      return ((nr + TH - 1) / TH * TH - 1) * s.sh + std::int64_t{s.kh - 1} * s.dh + 1;
    };
    // Whole rounds of THREADS items where a block has more than one round.
    const std::int64_t ipp = std::int64_t{s.m} * ((OH + TH - 1) / TH) * g.cg;
    const std::int64_t fit = (TARGET / g.pitch - std::int64_t{s.kh - 1} * s.dh - 1) / s.sh + 1;
    const BandSplit b = band_split(planes, OH, TH, rows_for(OH) * g.pitch, fit, ipp, TARGET, THREADS);
    g.np = b.np;
    g.nr = b.nr;
    g.bands = b.bands;
    g.units = b.units;
    g.rs = static_cast<int>(rows_for(g.nr));
    const int kk = s.kh * s.kw;
    g.kk4 = (kk + 3) / 4 * 4;
    const std::int64_t xs = (std::int64_t{g.np} * g.rs * g.pitch * static_cast<std::int64_t>(sizeof(T)) + 15) / 16 * 16;
    g.xs_bytes = static_cast<int>(xs < (1 << 30) ? xs : (1 << 30));
    g.smem_bytes = static_cast<std::size_t>(xs) + std::size_t{static_cast<std::size_t>(g.np)} * s.m * g.kk4 * sizeof(float);
    g.items = std::int64_t{g.np} * s.m * ((g.nr + TH - 1) / TH) * g.cg;
    return g;
  }
};

// Reads N elements at p (CB-aligned) into floats, CB bytes at a time.
template <class T, int N, int CB>
__device__ __forceinline__ void band_window(float (&x)[N], const T* p) {
  constexpr int CE = CB / static_cast<int>(sizeof(T));
  static_assert(N % CE == 0, "windows are whole chunks");
#pragma unroll
  for (int c = 0; c < N / CE; ++c) {
    if constexpr (CE == 1) {
      x[c] = to_float(p[c]);
    } else {
      Vec16 v;
      if constexpr (CB == 16) {
        v.u = *reinterpret_cast<const uint4*>(p + c * CE);
      } else if constexpr (CB == 8) {
        const uint2 h = *reinterpret_cast<const uint2*>(p + c * CE);
        v.u = make_uint4(h.x, h.y, 0, 0);
      } else {
        v.u = make_uint4(*reinterpret_cast<const unsigned*>(p + c * CE), 0, 0, 0);
      }
#pragma unroll
      for (int i = 0; i < CE; ++i) x[c * CE + i] = to_float(vec_elem<T>(v, i));
    }
  }
}

// out[ow0 + j] = acc[j] for the columns inside the row: one wide store when the tile is whole and
// aligned, element stores otherwise.
template <class T, int TW>
__device__ __forceinline__ void band_store(T* __restrict__ out, const float (&acc)[TW], int ow0, int OW) {
  constexpr int OB = band_chunk_bytes<T>(TW);
  constexpr int OE = OB / static_cast<int>(sizeof(T));
  T* p = out + ow0;
  if (OE > 1 && ow0 + TW <= OW && (reinterpret_cast<std::uintptr_t>(p) % OB) == 0) {
#pragma unroll
    for (int k = 0; k < TW / OE; ++k) {
      Vec16 v;
#pragma unroll
      for (int i = 0; i < OE; ++i) set_vec_elem(v, i, from_float<T>(acc[k * OE + i]));
      if constexpr (OB == 16) *reinterpret_cast<uint4*>(p + k * OE) = v.u;
      else if constexpr (OB == 8) *reinterpret_cast<uint2*>(p + k * OE) = make_uint2(v.u.x, v.u.y);
      else if constexpr (OB == 4) *reinterpret_cast<unsigned*>(p + k * OE) = v.u.x;
    }
  } else {
#pragma unroll
    for (int j = 0; j < TW; ++j)
      if (ow0 + j < OW) p[j] = from_float<T>(acc[j]);
  }
}

template <class T, int KH, int KW, int S, int D, int TH, int TW, int THREADS, int TARGET>
__global__ void __launch_bounds__(THREADS) band_kernel(ConvArgs a, BandGeom g) {
  using Tr = BandTraits<T, KH, KW, S, D, TH, TW, THREADS, TARGET>;
  constexpr int V = Tr::V;
  constexpr int U = band_loads_in_flight(V, THREADS, TARGET);
  extern __shared__ __align__(16) unsigned char band_smem[];
  const ConvShape& s = a.s;
  const int tid = static_cast<int>(threadIdx.x);
  const int H = static_cast<int>(s.h), W = static_cast<int>(s.w);
  const int OH = static_cast<int>(s.out_h()), OW = static_cast<int>(s.out_w());
  const int M = s.m;
  const int sh = Tr::kFast ? S : s.sh, sw = Tr::kFast ? S : s.sw;
  const int dh = Tr::kFast ? D : s.dh, dw = Tr::kFast ? D : s.dw;
  const int kh_n = KH > 0 ? KH : s.kh, kw_n = KH > 0 ? KW : s.kw, kk = kh_n * kw_n;
  const std::int64_t planes = s.n * s.c;

  // This block's planes [p0, p0 + np) and output rows [oh0, oh0 + nr).
  const std::int64_t u = blockIdx.x;
  std::int64_t p0;
  int oh0 = 0;
  if (g.bands == 1) {
    p0 = u * g.np;
  } else {
    p0 = u / g.bands;
    oh0 = static_cast<int>(u - p0 * g.bands) * g.nr;
  }
  const int np = static_cast<int>(planes - p0 < g.np ? planes - p0 : g.np);
  const int nr = OH - oh0 < g.nr ? OH - oh0 : g.nr;
  const int pitch = g.pitch, ps = g.rs * pitch;

  // Shared-memory row j of a plane holds input row rb0 + j; column c holds input column c - pw.
  // The run: input rows [ia, ib) of each plane (whole planes: every row, contiguous across planes).
  const int rb0 = oh0 * sh - s.ph;
  const bool whole = g.bands == 1;
  const int ia = whole ? 0 : max(0, rb0), ib = whole ? H : min(H, rb0 + g.rs);
  const int rr = ib > ia ? ib - ia : 0;  // none: a band wholly in padding rows
  const int L = np * rr * W;
  const std::int64_t g0 = (p0 * H + ia) * W;
  const T* __restrict__ src = static_cast<const T*>(a.x) + g0;
  T* const xs = reinterpret_cast<T*>(band_smem);
  float* const ws = reinterpret_cast<float*>(band_smem + g.xs_bytes);

  // Elements [0, head) and [head + nvec*V, L) are read one by one; the rest as aligned vectors.
  int head = L;
  if (aligned16(a.x)) {
    head = static_cast<int>((V - g0 % V) % V);
    if (head > L) head = L;
  }
  const int nvec = (L - head) / V;
  const int tail0 = head + nvec * V;
  const SmallDiv div_w(W), div_r(rr > 0 ? rr : 1);

  auto put = [&](int e, T v) {  // run element e to its cell
    const int q = div_w(e), c = e - q * W;
    const int pl = div_r(q), j = q - pl * rr + ia - rb0;
    if (j < g.rs) xs[pl * ps + j * pitch + s.pw + c] = v;
  };
  auto put_vec = [&](int e0, const Vec16& v) {
    int q = div_w(e0), c = e0 - q * W;
    int pl = div_r(q), r = q - pl * rr;
#pragma unroll
    for (int i = 0; i < V; ++i) {
      const int j = r + ia - rb0;
      if (j < g.rs) xs[pl * ps + j * pitch + s.pw + c] = vec_elem<T>(v, i);
      if (++c == W) {
        c = 0;
        if (++r == rr) {
          r = 0;
          ++pl;
        }
      }
    }
  };

  Vec16 buf[U];
  auto load_round = [&](int base) {
#pragma unroll
    for (int k = 0; k < U; ++k) {
      const int idx = base + k * THREADS + tid;
      if (idx < nvec) buf[k].u = __ldg(reinterpret_cast<const uint4*>(src + head) + idx);
    }
  };
  auto scatter_round = [&](int base) {
#pragma unroll
    for (int k = 0; k < U; ++k) {
      const int idx = base + k * THREADS + tid;
      if (idx < nvec) put_vec(head + idx * V, buf[k]);
    }
  };

  load_round(0);  // in flight while the buffer is zeroed
  {
    const int n16 = (np * ps * static_cast<int>(sizeof(T)) + 15) / 16;
    uint4* z = reinterpret_cast<uint4*>(band_smem);
    for (int i = tid; i < n16; i += THREADS) z[i] = make_uint4(0, 0, 0, 0);
    // Output plane o of the block is channel ((p0 + o / M) % C) * M + o % M: a block's planes may
    // run on into the next image.
    const T* __restrict__ w = static_cast<const T*>(a.w);
    const int nw = np * M * g.kk4;
    const int c0 = static_cast<int>(p0 % s.c);
    for (int i = tid; i < nw; i += THREADS) {
      const int o = i / g.kk4, k = i - o * g.kk4;
      const int pl = o / M;
      int ic = c0 + pl;
      if (ic >= s.c) ic %= static_cast<int>(s.c);
      ws[i] = k < kk ? ldg_f(w + (std::int64_t{ic} * M + (o - pl * M)) * kk + k) : 0.0f;
    }
  }
  __syncthreads();  // zeros land before data
  scatter_round(0);
  for (int base = THREADS * U; base < nvec; base += THREADS * U) {
    load_round(base);
    scatter_round(base);
  }
  for (int i = tid; i < head + (L - tail0); i += THREADS) {
    const int e = i < head ? i : tail0 + (i - head);
    put(e, src[e]);
  }
  __syncthreads();

  // Items: (output plane of the block, row group of TH rows, column group of TW columns).
  const int rg_n = (nr + TH - 1) / TH;
  const int items = np * M * rg_n * g.cg;
  const SmallDiv div_cg(g.cg), div_rg(rg_n), div_m(M);
  T* __restrict__ y = static_cast<T*>(a.y);
  for (int it = tid; it < items; it += THREADS) {
    const int t1 = div_cg(it), cgi = it - t1 * g.cg;
    const int om = div_rg(t1), rg = t1 - om * rg_n;  // om: the block's output plane, pl * M + m
    const int pl = M == 1 ? om : div_m(om);
    const std::int64_t oc_plane = p0 * M + om;
    const float b = bias_of<T>(a, oc_plane % s.out_c());
    const float* wk = ws + om * g.kk4;
    const T* const xp = xs + pl * ps;
    const int ow0 = cgi * TW;
    float acc[TH][TW];
#pragma unroll
    for (int r = 0; r < TH; ++r)
#pragma unroll
      for (int j = 0; j < TW; ++j) acc[r][j] = b;

    if constexpr (Tr::kFast) {
      float wr[(KH * KW + 3) / 4 * 4];  // padded with zeros
      band_filter_regs<KH * KW>(wr, wk);
      constexpr int NT = (TH - 1) * S + (KH - 1) * D + 1;
      const T* base = xp + (rg * TH * S) * pitch + ow0 * S;
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        float xw[Tr::NWIN];
        band_window<T, Tr::NWIN, Tr::CB>(xw, base + t * pitch);
#pragma unroll
        for (int r = 0; r < TH; ++r) {
          const int d = t - r * S;
          if (d >= 0 && d % D == 0 && d / D < KH) {
            const int khi = d / D;
#pragma unroll
            for (int j = 0; j < TW; ++j)
#pragma unroll
              for (int kwi = 0; kwi < KW; ++kwi)
                acc[r][j] = fmaf(wr[khi * KW + kwi], xw[j * S + kwi * D], acc[r][j]);
          }
        }
      }
    } else {
#pragma unroll
      for (int r = 0; r < TH; ++r) {
        const T* rowbase = xp + ((rg * TH + r) * sh) * pitch + ow0 * sw;
        for (int khi = 0; khi < kh_n; ++khi) {
          const T* row = rowbase + khi * dh * pitch;
          for (int kwi = 0; kwi < kw_n; ++kwi) {
            const float wv = wk[khi * kw_n + kwi];
#pragma unroll
            for (int j = 0; j < TW; ++j) acc[r][j] = fmaf(wv, to_float(row[j * sw + kwi * dw]), acc[r][j]);
          }
        }
      }
    }

    T* const yp = y + oc_plane * OH * OW;
#pragma unroll
    for (int r = 0; r < TH; ++r) {
      const int o = rg * TH + r;
      if (o < nr) band_store<T, TW>(yp + std::int64_t{oh0 + o} * OW, acc[r], ow0, OW);
    }
  }
}

// Band tiles: compile-time stride and dilation (both 0: run time), TH x TW outputs per thread,
// threads per block, input elements a block stages (in units of 1024).
struct BandTile {
  int stride, dilation, th, tw, threads, target_k;
  constexpr int block_threads() const { return threads; }
  static constexpr auto fields() {
    using F = Field<BandTile>;
    return std::array{F{"stride", "_s", &BandTile::stride, Show::any0},
                      F{"dilation", "d", &BandTile::dilation, Show::nonzero},
                      F{"th", "_t", &BandTile::th},
                      F{"tw", "x", &BandTile::tw},
                      F{"threads", "_b", &BandTile::threads},
                      F{"target_k", "_e", &BandTile::target_k, Show::always, false, "k"}};
  }
  friend constexpr bool operator==(const BandTile&, const BandTile&) = default;
};

template <class T, KSize K, BandTile P>
struct Band {
  using Tr = BandTraits<T, K.kh, K.kw, P.stride, P.dilation, P.th, P.tw, P.threads, P.target_k * 1024>;
  static_assert(valid_compiled_stride<P, K>(), "stride and dilation both compile-time (with the filter size) or both run time");
  static constexpr FamilyInfo family{.name = "band", .preference = 1};
  static constexpr KSize ksize = K;
  static constexpr BandTile tile = P;

  static Support supports(const ConvShape& s, const DeviceLimits&) {
    if (Support c = compiled_stride_support(P, s); !c) return c;
    if (s.h * s.w >= (std::int64_t{1} << 30) || s.out_h() * s.out_w() >= (std::int64_t{1} << 30))
      return Support::no("plane of 2^30 elements or more");
    const BandGeom g = Tr::geom(s);
    if (g.items >= (1 << 20)) return Support::no(cat(g.items, " items per block (limit 2^20)"));
    if (g.units >= (std::int64_t{1} << 31) - 1) return Support::no("more than 2^31 - 1 blocks");
    return Support::yes();  // shared memory: the common check, from config()
  }
  static LaunchConfig config(const ConvShape& s) {
    const BandGeom g = Tr::geom(s);
    return block_launch(g.units, P.threads, g.smem_bytes);
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    launch_kernel(band_kernel<T, K.kh, K.kw, P.stride, P.dilation, P.th, P.tw, P.threads, P.target_k * 1024>, c, st,
                  a, Tr::geom(a.s));
  }
};

// Stride 1 and 2 with compile-time 3x3, 5x5, 7x7 (MobileNets, EfficientNets, ConvNeXt); the
// run-time tiles serve every other stride, dilation and filter size. TW is one 16-byte vector of
// outputs: 4 in f32, 8 in 16-bit types.
inline constexpr KSize kBandSizes[] = {{3, 3}, {5, 5}, {7, 7}};
constexpr std::array<BandTile, 3> band_tiles_s1(int tw) {
  return {{{.stride = 1, .dilation = 1, .th = 2, .tw = tw, .threads = 256, .target_k = 4},
           {.stride = 1, .dilation = 1, .th = 4, .tw = tw, .threads = 256, .target_k = 8},
           {.stride = 1, .dilation = 1, .th = 1, .tw = tw, .threads = 128, .target_k = 2}}};
}
constexpr std::array<BandTile, 2> band_tiles_s2(int tw) {
  return {{{.stride = 2, .dilation = 1, .th = 2, .tw = tw, .threads = 256, .target_k = 4},
           {.stride = 2, .dilation = 1, .th = 1, .tw = tw, .threads = 128, .target_k = 4}}};
}
constexpr std::array<BandTile, 2> band_tiles_any(int tw) {
  return {{{.stride = 0, .dilation = 0, .th = 2, .tw = tw, .threads = 256, .target_k = 4},
           {.stride = 0, .dilation = 0, .th = 1, .tw = tw, .threads = 128, .target_k = 4}}};
}
inline constexpr auto kBandS1F32 = band_tiles_s1(4), kBandS1x16 = band_tiles_s1(8);
inline constexpr auto kBandS2F32 = band_tiles_s2(4), kBandS2x16 = band_tiles_s2(8);
inline constexpr auto kBandAnyF32 = band_tiles_any(4), kBandAnyx16 = band_tiles_any(8);

template <class T>
void add_band(OpList& ops) {
  auto make = [&]<KSize K, BandTile P> { return Band<T, K, P>{}; };
  add_grid_by_width<T, kBandSizes, kBandS1F32, kBandS1x16>(ops, make);
  add_grid_by_width<T, kBandSizes, kBandS2F32, kBandS2x16>(ops, make);
  add_grid_by_width<T, kAnySize, kBandAnyF32, kBandAnyx16>(ops, make);
}

}  // namespace dwt
