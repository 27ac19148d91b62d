// Family "dgrad": the input gradient of an NCHW depthwise convolution,
//   dx[n, c, ih, iw] = sum over m, kh, kw of dy[n, c*M + m, oh, ow] * w[c*M + m, kh, kw]
// where ih + ph - kh*dh = oh*sh and iw + pw - kw*dw = ow*sw (whole multiples, 0 <= oh < OH, 0 <= ow < OW).
// Built like the forward "band" family with the roles turned round: a block owns NP whole dx planes
// or a band of rows of one, reads the contiguous run of dy planes that feeds them (the M planes of
// channel c follow each other, and channel c+1's after them) with coalesced 16-byte loads, scatters
// it into zero-padded rows in shared memory, and each thread computes TH x TW dx outputs from there.
//
// Positions are counted in padded coordinates (v = ih + ph, u = iw + pw) so that a dy row oh feeds
// padded rows oh*S + kh*D. Tiles start on multiples of the stride S, and TH and TW are multiples of
// S, so each row and column of a tile has a fixed phase (v mod S) and with it a fixed subset of taps:
// on the fast path (compile-time filter, stride and dilation) every tap of the tile, its dy row and
// its window column are compile-time constants and nothing tests divisibility. For S = 1 this is the
// forward convolution of dy with the flipped filter. The general path (S = 0 in the tile: run-time
// stride, dilation and filter size) walks each output's taps phase by phase.
#pragma once

#include "band.cuh"  // BandTile, band_split, band_window, band_store, SmallDiv, ...

namespace dwt {

// The taps of one run-time axis (stride s, dilation d, K taps) that reach a position: position p
// (counted so that it never goes below a tap's reach) takes tap k when p - k*d is a multiple of s,
// at dy index (p - k*d) / s. Those taps are k0, k0 + step, ... (step = s / gcd(s, d)), their dy
// indices i0, i0 - dec, ... (dec = d / gcd(s, d)): one division per position, none per tap.
struct DgradAxis {
  int s, d, k, step, dec;
  DgradAxis() = default;
  DgradAxis(int s_, int d_, int k_) : s(s_), d(d_), k(k_) {
    int a = s_, b = d_;
    while (b != 0) {
      const int t = a % b;
      a = b;
      b = t;
    }
    step = s_ / a;
    dec = d_ / a;
  }
  // The first tap reaching p (k: none) and its dy index.
  __device__ __forceinline__ int first(int p, int& i0) const {
    int kk = 0;
    while (kk < k && kk < s && (p - kk * d) % s != 0) ++kk;
    if (kk >= s) kk = k;
    i0 = kk < k ? (p - kk * d) / s : 0;
    return kk;
  }
};

// A block's share of the problem, computed once on the host for config() and launch().
struct DgradGeom {
  int np = 1;        // dx planes per block (whole-plane mode); 1 in band mode
  int nr = 1;        // padded dx rows per block, a multiple of TH and of the stride
  int bands = 1;     // bands per plane; 1: whole-plane mode
  int rs = 1;        // shared-memory rows per dy plane
  int pitch = 1;     // shared-memory row pitch in elements: a whole number of 16-byte vectors
  int cg = 1;        // column tiles of TW per dx row
  int vstart = 0;    // first padded row of band 0: ph rounded down to a multiple of the stride
  int ustart = 0;    // first padded column of the column tiles: pw rounded down likewise
  int eh = 0, ew = 0;  // dy rows (columns) a tile reaches above (left of) its own: ceil((K-1)*D / S)
  DgradAxis ah, aw;    // the run-time path's taps along H and W
  int kk4 = 4;       // floats per dy plane's weights in shared memory (KH*KW rounded up to 4)
  int xs_bytes = 0;  // dy buffer bytes (16-byte multiple); the weights follow it
  std::int64_t units = 1;  // blocks
  std::size_t smem_bytes = 0;
  std::int64_t items = 0;  // TH x TW items of the fullest block (checked against SmallDiv's range)
};

template <class T, int KH, int KW, int S, int D, int TH, int TW, int THREADS, int TARGET>
struct DgradTraits {
  static constexpr int V = kVecElems<T>;
  static constexpr bool kFast = S > 0;
  static constexpr int S1 = kFast ? S : 1;
  static_assert(TH % S1 == 0 && TW % S1 == 0, "fast tiles are whole multiples of the stride");
  static constexpr int EH = kFast ? ((KH - 1) * D + S - 1) / S : 0;
  static constexpr int EW = kFast ? ((KW - 1) * D + S - 1) / S : 0;
  // dy rows and columns of one tile; a window is read in chunks of CB bytes (tiles step by TW / S).
  static constexpr int NT = kFast ? (TH - 1) / S + EH + 1 : 0;
  static constexpr int NW = kFast ? (TW - 1) / S + EW + 1 : 0;
  static constexpr int CB = kFast ? band_chunk_bytes<T>(TW / S) : static_cast<int>(sizeof(T));
  static constexpr int CE = CB / static_cast<int>(sizeof(T));
  static constexpr int NWIN = (NW + CE - 1) / CE * CE;
  // Blocks per SM the register cap aims at: four for small tiles (the loads of more blocks in
  // flight), fewer where accumulators, window and taps need more than 64 registers.
  static constexpr int kRegs = TH * TW + (kFast ? NWIN + (KH * KW + 3) / 4 * 4 : 24) + 16;
  static constexpr int MINB0 = 65536 / (THREADS * ((kRegs + 7) / 8 * 8));
  static constexpr int MINB = MINB0 < 1 ? 1 : (MINB0 > 4 ? 4 : MINB0);

  static DgradGeom geom(const ConvShape& s) {
    DgradGeom g;
    const int sh = s.sh, sw = s.sw;
    const std::int64_t planes = s.n * s.c, M = s.m;
    g.eh = (s.kh - 1) * s.dh / sh + ((s.kh - 1) * s.dh % sh != 0);
    g.ew = (s.kw - 1) * s.dw / sw + ((s.kw - 1) * s.dw % sw != 0);
    g.vstart = s.ph - s.ph % sh;
    g.ustart = s.pw - s.pw % sw;
    g.ah = DgradAxis(sh, s.dh, s.kh);
    g.aw = DgradAxis(sw, s.dw, s.kw);
    g.cg = static_cast<int>((s.pw + s.w - g.ustart + TW - 1) / TW);
    const std::int64_t need = kFast ? std::int64_t{g.cg - 1} * (TW / S) + NWIN
                                    : (std::int64_t{g.cg} * TW - 1) / sw + g.ew + 1;
    g.pitch = static_cast<int>((need + V - 1) / V * V);
    const std::int64_t step = std::int64_t{TH} * (kFast ? 1 : sh);  // rows of a band: whole tiles, whole phases
    const std::int64_t vrows = (s.ph + s.h - g.vstart + step - 1) / step * step;
    auto rows_for = [&](std::int64_t nr) { return (nr - 1) / sh + g.eh + 1; };
    const std::int64_t fit = (TARGET / (M * g.pitch) - g.eh - 1) * sh + 1;
    const BandSplit b = band_split(planes, vrows, step, M * rows_for(vrows) * g.pitch, fit, vrows / TH * g.cg,
                                   TARGET, THREADS);
    g.np = b.np;
    g.nr = b.nr;
    g.bands = b.bands;
    g.units = b.units;
    g.rs = static_cast<int>(rows_for(g.nr));
    const int kk = s.kh * s.kw;
    g.kk4 = (kk + 3) / 4 * 4;
    const std::int64_t xs = (std::int64_t{g.np} * M * g.rs * g.pitch * static_cast<std::int64_t>(sizeof(T)) + 15) / 16 * 16;
    g.xs_bytes = static_cast<int>(xs < (1 << 30) ? xs : (1 << 30));
    g.smem_bytes = static_cast<std::size_t>(xs) + static_cast<std::size_t>(g.np * M * g.kk4) * sizeof(float);
    g.items = std::int64_t{g.np} * (g.nr / TH) * g.cg;
    return g;
  }
};

// Stores 16 bytes at p (2-byte aligned) in the widest pieces p's alignment allows: one 16-byte
// store, two 8-byte, four 4-byte, or (p on 2 bytes) 2 + 3 x 4 + 2 bytes with the halves re-paired.
// Threads of one buffer row share the alignment, so a warp rarely splits.
__device__ __forceinline__ void store16_at(void* p, const uint4& u) {
  const unsigned a = static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(p) & 15u);
  unsigned char* b = static_cast<unsigned char*>(p);
  if (a == 0) {
    *reinterpret_cast<uint4*>(b) = u;
  } else if (a == 8) {
    reinterpret_cast<uint2*>(b)[0] = make_uint2(u.x, u.y);
    reinterpret_cast<uint2*>(b)[1] = make_uint2(u.z, u.w);
  } else if (a % 4 == 0) {
    unsigned* w = reinterpret_cast<unsigned*>(b);
    w[0] = u.x, w[1] = u.y, w[2] = u.z, w[3] = u.w;
  } else {
    *reinterpret_cast<unsigned short*>(b) = static_cast<unsigned short>(u.x & 0xffffu);
    unsigned* w = reinterpret_cast<unsigned*>(b + 2);
    w[0] = __byte_perm(u.x, u.y, 0x5432);
    w[1] = __byte_perm(u.y, u.z, 0x5432);
    w[2] = __byte_perm(u.z, u.w, 0x5432);
    *reinterpret_cast<unsigned short*>(b + 14) = static_cast<unsigned short>(u.w >> 16);
  }
}

// A run of L dy elements (rr rows of OW per plane, planes following each other from plane `pl0` of
// the block's buffer) on its way into shared memory: run row q of a plane lands in buffer row
// q + j0, column c in buffer column c + c0; cells outside [0, rs) x [0, pitch) are not needed.
// Aligned 16-byte loads, U in flight per thread (load(), then scatter() of the same round), with
// scalar head and tail (edges()). A vector that stays inside one buffer row is stored element by
// element at consecutive addresses; only vectors that cross a row end or the buffer's edge walk
// their elements one by one (no division either way beyond the vector's own row and plane).
template <class T, int THREADS, int U>
struct DgradRun {
  static constexpr int V = kVecElems<T>;
  T* xs;
  const T* src;
  int L, OW, rr, pl0, j0, c0, rs, pitch;
  int head, nvec, tail0;
  SmallDiv div_w, div_r;
  Vec16 buf[U];

  __device__ __forceinline__ DgradRun(T* xs_, const T* src_, int L_, int OW_, int rr_, int pl0_, int j0_, int c0_,
                                      int rs_, int pitch_)
      : xs(xs_), src(src_), L(L_), OW(OW_), rr(rr_), pl0(pl0_), j0(j0_), c0(c0_), rs(rs_), pitch(pitch_),
        div_w(OW_), div_r(rr_ > 0 ? rr_ : 1) {
    const int mis = static_cast<int>((reinterpret_cast<std::uintptr_t>(src) & 15u) / sizeof(T));
    head = (V - mis) % V < L ? (V - mis) % V : L;
    nvec = (L - head) / V;
    tail0 = head + nvec * V;
  }
  __device__ __forceinline__ void load(int base) {
#pragma unroll
    for (int k = 0; k < U; ++k) {
      const int idx = base + k * THREADS + static_cast<int>(threadIdx.x);
      if (idx < nvec) buf[k].u = __ldg(reinterpret_cast<const uint4*>(src + head) + idx);
    }
  }
  // Element (run row q, column c) to its cell, if it has one.
  __device__ __forceinline__ void put(int q, int c, T v) const {
    const int pl = div_r(q), j = q - pl * rr + j0, col = c + c0;
    if (j >= 0 && j < rs && col >= 0 && col < pitch) xs[(pl0 + pl) * rs * pitch + j * pitch + col] = v;
  }
  __device__ __forceinline__ void scatter(int base) const {
#pragma unroll
    for (int k = 0; k < U; ++k) {
      const int idx = base + k * THREADS + static_cast<int>(threadIdx.x);
      if (idx >= nvec) continue;
      const int e0 = head + idx * V;
      const int q = div_w(e0);
      int c = e0 - q * OW, pl = div_r(q), r = q - pl * rr;
      const int j = r + j0, col = c + c0;
      if (c + V <= OW && j >= 0 && j < rs && col >= 0 && col + V <= pitch) {
        store16_at(xs + (pl0 + pl) * rs * pitch + j * pitch + col, buf[k].u);
      } else {  // walk the elements across row (and plane) ends
#pragma unroll
        for (int i = 0; i < V; ++i) {
          const int ji = r + j0, ci = c + c0;
          if (ji >= 0 && ji < rs && ci >= 0 && ci < pitch)
            xs[(pl0 + pl) * rs * pitch + ji * pitch + ci] = vec_elem<T>(buf[k], i);
          if (++c == OW) {
            c = 0;
            if (++r == rr) {
              r = 0;
              ++pl;
            }
          }
        }
      }
    }
  }
  __device__ __forceinline__ void edges() const {
    for (int i = static_cast<int>(threadIdx.x); i < head + (L - tail0); i += THREADS) {
      const int e = i < head ? i : tail0 + (i - head);
      const int q = div_w(e);
      put(q, e - q * OW, src[e]);
    }
  }
  // Every round after the first (already loaded), then the edges.
  __device__ __forceinline__ void finish() {
    scatter(0);
    for (int base = THREADS * U; base < nvec; base += THREADS * U) {
      load(base);
      scatter(base);
    }
    edges();
  }
};

template <class T, int KH, int KW, int S, int D, int TH, int TW, int THREADS, int TARGET>
__global__ void __launch_bounds__(THREADS, (DgradTraits<T, KH, KW, S, D, TH, TW, THREADS, TARGET>::MINB)) dgrad_kernel(ConvArgs a, DgradGeom g) {
  using Tr = DgradTraits<T, KH, KW, S, D, TH, TW, THREADS, TARGET>;
  constexpr int V = Tr::V;
  constexpr int U = band_loads_in_flight(V, THREADS, TARGET);
  extern __shared__ __align__(16) unsigned char dgrad_smem[];
  const ConvShape& s = a.s;
  const int tid = static_cast<int>(threadIdx.x);
  const int H = static_cast<int>(s.h), W = static_cast<int>(s.w);
  const int OH = static_cast<int>(s.out_h()), OW = static_cast<int>(s.out_w());
  const int M = s.m;
  const int kk = s.kh * s.kw;
  const std::int64_t planes = s.n * s.c;

  // This block's dx planes [p0, p0 + np) and padded rows [vb, vb + nr).
  const std::int64_t u = blockIdx.x;
  std::int64_t p0;
  int band = 0;
  if (g.bands == 1) {
    p0 = u * g.np;
  } else {
    p0 = u / g.bands;
    band = static_cast<int>(u - p0 * g.bands);
  }
  const int np = static_cast<int>(planes - p0 < g.np ? planes - p0 : g.np);
  const int vb = g.vstart + band * g.nr;
  const int nr = g.nr;
  const int pitch = g.pitch, ps = g.rs * pitch;
  const int sh = Tr::kFast ? S : s.sh, sw = Tr::kFast ? S : s.sw;
  // Buffer row j of a dy plane holds dy row oh_org + j; column k holds dy column ow_org + k.
  const int oh_org = vb / sh - g.eh, ow_org = g.ustart / sw - g.ew;
  T* const xs = reinterpret_cast<T*>(dgrad_smem);
  float* const ws = reinterpret_cast<float*>(dgrad_smem + g.xs_bytes);

  // Whole planes: the np*M dy planes in one contiguous run. Bands: rows [ia, ib) of each of the M
  // dy planes, one run per plane (none: a band wholly in padding rows). The first run's first round
  // is in flight while the buffer is zeroed.
  const T* __restrict__ dy = static_cast<const T*>(a.dy) + p0 * M * OH * OW;
  const bool whole = g.bands == 1;
  const int ia = whole ? 0 : max(0, oh_org), ib = whole ? OH : min(OH, oh_org + g.rs);
  const int rr = ib > ia ? ib - ia : 0;
  auto run_of = [&](int m) {
    return whole ? DgradRun<T, THREADS, U>(xs, dy, np * M * OH * OW, OW, OH, 0, -oh_org, -ow_org, g.rs, pitch)
                 : DgradRun<T, THREADS, U>(xs, dy + (std::int64_t{m} * OH + ia) * OW, rr * OW, OW, rr, m,
                                           ia - oh_org, -ow_org, g.rs, pitch);
  };
  DgradRun<T, THREADS, U> first = run_of(0);
  first.load(0);
  {
    const int n16 = (np * M * ps * static_cast<int>(sizeof(T)) + 15) / 16;
    uint4* z = reinterpret_cast<uint4*>(dgrad_smem);
    for (int i = tid; i < n16; i += THREADS) z[i] = make_uint4(0, 0, 0, 0);
    // Buffer plane o is dy channel ((p0 * M + o) mod OC): a block's planes may run on into the
    // next image.
    const T* __restrict__ w = static_cast<const T*>(a.w);
    const int nw = np * M * g.kk4;
    const int OC = static_cast<int>(s.out_c());
    const int oc0 = static_cast<int>(p0 % s.c) * M;
    for (int i = tid; i < nw; i += THREADS) {
      const int o = i / g.kk4, k = i - o * g.kk4;
      int oc = oc0 + o;
      if (oc >= OC) oc %= OC;
      ws[i] = k < kk ? ldg_f(w + std::int64_t{oc} * kk + k) : 0.0f;
    }
  }
  __syncthreads();  // zeros land before data
  first.finish();
  for (int m = 1; m < (whole ? 1 : M); ++m) {
    DgradRun<T, THREADS, U> r = run_of(m);
    r.load(0);
    r.finish();
  }
  __syncthreads();

  // Items: (dx plane of the block, row tile of TH padded rows, column tile of TW padded columns).
  const int rg_n = nr / TH;
  const int items = np * rg_n * g.cg;
  const SmallDiv div_cg(g.cg), div_rg(rg_n);
  T* __restrict__ dx = static_cast<T*>(a.dx);
  for (int it = tid; it < items; it += THREADS) {
    const int t1 = div_cg(it), cgi = it - t1 * g.cg;
    const int pl = div_rg(t1), rg = t1 - pl * rg_n;
    float acc[TH][TW];
#pragma unroll
    for (int r = 0; r < TH; ++r)
#pragma unroll
      for (int j = 0; j < TW; ++j) acc[r][j] = 0.0f;

    for (int m = 0; m < M; ++m) {
      const int o = pl * M + m;
      const float* wk = ws + o * g.kk4;
      const T* const xp = xs + o * ps;
      if constexpr (Tr::kFast) {
        float wr[(KH * KW + 3) / 4 * 4];
        band_filter_regs<KH * KW>(wr, wk);
        // Window row t is dy row (v0 / S - EH + t); it feeds tile row r through tap kh when
        // kh*D = r + (EH - t)*S, and window column q feeds tile column j through tap kw when
        // (j - kw*D) / S + EW = q with j - kw*D a multiple of S.
        const T* base = xp + (rg * (TH / S)) * pitch + cgi * (TW / S);
#pragma unroll
        for (int t = 0; t < Tr::NT; ++t) {
          float xw[Tr::NWIN];
          band_window<T, Tr::NWIN, Tr::CB>(xw, base + t * pitch);
#pragma unroll
          for (int r = 0; r < TH; ++r) {
            const int dkh = r + (Tr::EH - t) * S;
            if (dkh < 0 || dkh % D != 0 || dkh / D >= KH) continue;
            const int khi = dkh / D;
#pragma unroll
            for (int j = 0; j < TW; ++j)
#pragma unroll
              for (int kwi = 0; kwi < KW; ++kwi) {
                const int e = j - kwi * D;  // a multiple of S, or no tap
                if (e % S != 0) continue;
                const int q = e / S + Tr::EW;
                acc[r][j] = fmaf(wr[khi * KW + kwi], xw[q], acc[r][j]);
              }
          }
        }
      } else {
        const int kw_n = s.kw;
        const DgradAxis& ah = g.ah;
        const DgradAxis& aw = g.aw;
        int kw0[TW], ci0[TW];
#pragma unroll
        for (int j = 0; j < TW; ++j) kw0[j] = aw.first(cgi * TW + j + g.ew * sw, ci0[j]);
#pragma unroll
        for (int r = 0; r < TH; ++r) {
          // Padded row relative to the buffer's origin row (oh_org * sh): never negative.
          int ri;
          for (int khi = ah.first(rg * TH + r + g.eh * sh, ri); khi < ah.k; khi += ah.step, ri -= ah.dec) {
            const T* row = xp + ri * pitch;
            const float* wrow = wk + khi * kw_n;
#pragma unroll
            for (int j = 0; j < TW; ++j) {
              int ci = ci0[j];
              for (int kwi = kw0[j]; kwi < kw_n; kwi += aw.step, ci -= aw.dec)
                acc[r][j] = fmaf(wrow[kwi], to_float(row[ci]), acc[r][j]);
            }
          }
        }
      }
    }

    // Tile row r is dx row vb + rg*TH + r - ph; tile column j is dx column ustart + cgi*TW + j - pw.
    T* const xo = dx + (p0 + pl) * H * W;
    const int iw0 = g.ustart + cgi * TW - s.pw;
#pragma unroll
    for (int r = 0; r < TH; ++r) {
      const int ih = vb + rg * TH + r - s.ph;
      if (ih < 0 || ih >= H) continue;
      T* const row = xo + std::int64_t{ih} * W;
      if (iw0 >= 0) {
        band_store<T, TW>(row, acc[r], iw0, W);
      } else {
#pragma unroll
        for (int j = 0; j < TW; ++j)
          if (iw0 + j >= 0 && iw0 + j < W) row[iw0 + j] = from_float<T>(acc[r][j]);
      }
    }
  }
}

template <class T, KSize K, BandTile P>
struct Dgrad {
  using Tr = DgradTraits<T, K.kh, K.kw, P.stride, P.dilation, P.th, P.tw, P.threads, P.target_k * 1024>;
  static_assert(valid_compiled_stride<P, K>(), "stride and dilation both compile-time (with the filter size) or both run time");
  static constexpr FamilyInfo family{.name = "dgrad", .pass = Pass::dgrad, .preference = 1};
  static constexpr KSize ksize = K;
  static constexpr BandTile tile = P;
  static constexpr int kVecTw = kVecElems<T>;  // one 16-byte vector of dx
  static constexpr BandTile default_tile =
      P.stride == 0 ? BandTile{.stride = 0, .dilation = 0, .th = 1, .tw = kVecTw, .threads = 256, .target_k = 4}
                    : BandTile{.stride = P.stride, .dilation = P.dilation, .th = 2, .tw = kVecTw, .threads = 256, .target_k = 4};

  static Support supports(const ConvShape& s, const DeviceLimits&) {
    if (Support c = compiled_stride_support(P, s); !c) return c;
    if (s.h * s.w >= (std::int64_t{1} << 30) || s.out_h() * s.out_w() * s.m >= (std::int64_t{1} << 30) ||
        s.ph + s.h >= (1 << 29) || s.pw + s.w >= (1 << 29))
      return Support::no("plane of 2^30 elements or more");
    const DgradGeom g = Tr::geom(s);
    if (g.items >= (1 << 20)) return Support::no(cat(g.items, " items per block (limit 2^20)"));
    if (g.units >= (std::int64_t{1} << 31) - 1) return Support::no("more than 2^31 - 1 blocks");
    if (std::int64_t{g.np} * s.m * s.out_h() * s.out_w() >= (std::int64_t{1} << 30))
      return Support::no("a block's dy run has 2^30 elements or more");
    return Support::yes();  // shared memory: the common check, from config()
  }
  static LaunchConfig config(const ConvShape& s) {
    const DgradGeom g = Tr::geom(s);
    return block_launch(g.units, P.threads, g.smem_bytes);
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    launch_kernel(dgrad_kernel<T, K.kh, K.kw, P.stride, P.dilation, P.th, P.tw, P.threads, P.target_k * 1024>, c,
                  st, a, Tr::geom(a.s));
  }
};

// Stride 1: KernelBench's 3x3, 3x1 and 3x7 and the networks' 5x5 and 7x7; stride 2: the networks'
// 3x3, 5x5 and 7x7; dilation 2: DeepLab's 3x3. The run-time tiles serve every other stride, dilation
// and filter size. TW is one 16-byte vector of dx: 4 in f32, 8 in 16-bit types.
inline constexpr KSize kDgradSizesS1[] = {{3, 3}, {3, 1}, {3, 7}, {5, 5}, {7, 7}};
inline constexpr KSize kDgradSizesS2[] = {{3, 3}, {5, 5}, {7, 7}};
inline constexpr KSize kDgradSizesD2[] = {{3, 3}};
constexpr std::array<BandTile, 2> dgrad_tiles_s1(int tw) {
  return {{{.stride = 1, .dilation = 1, .th = 2, .tw = tw, .threads = 256, .target_k = 4},
           {.stride = 1, .dilation = 1, .th = 4, .tw = tw, .threads = 256, .target_k = 8}}};
}
// 16-bit types also take blocks of twice and four times the buffer: at 8K elements a block's fixed
// work (geometry, zeroing, weights; measured with ncu on an H200) was a quarter of KB82's
// instructions. e16k wins KB82-84 in f16 and bf16, e32k ConvNeXt's 7x7 layer at batch 32.
constexpr std::array<BandTile, 4> dgrad_tiles_s1_x16() {
  const auto t = dgrad_tiles_s1(8);
  return {{t[0], t[1], {.stride = 1, .dilation = 1, .th = 4, .tw = 8, .threads = 256, .target_k = 16},
           {.stride = 1, .dilation = 1, .th = 4, .tw = 8, .threads = 256, .target_k = 32}}};
}
constexpr std::array<BandTile, 1> dgrad_tiles_s2(int tw) {
  return {{{.stride = 2, .dilation = 1, .th = 2, .tw = tw, .threads = 256, .target_k = 4}}};
}
constexpr std::array<BandTile, 1> dgrad_tiles_d2(int tw) {
  return {{{.stride = 1, .dilation = 2, .th = 2, .tw = tw, .threads = 256, .target_k = 4}}};
}
constexpr std::array<BandTile, 2> dgrad_tiles_any(int tw) {
  return {{{.stride = 0, .dilation = 0, .th = 1, .tw = tw, .threads = 256, .target_k = 4},
           {.stride = 0, .dilation = 0, .th = 1, .tw = 1, .threads = 128, .target_k = 2}}};
}
inline constexpr auto kDgradS1F32 = dgrad_tiles_s1(4);
inline constexpr auto kDgradS1x16 = dgrad_tiles_s1_x16();
inline constexpr auto kDgradS2F32 = dgrad_tiles_s2(4), kDgradS2x16 = dgrad_tiles_s2(8);
inline constexpr auto kDgradD2F32 = dgrad_tiles_d2(4), kDgradD2x16 = dgrad_tiles_d2(8);
inline constexpr auto kDgradAnyF32 = dgrad_tiles_any(4), kDgradAnyx16 = dgrad_tiles_any(8);

template <class T>
void add_dgrad(OpList& ops) {
  auto make = [&]<KSize K, BandTile P> { return Dgrad<T, K, P>{}; };
  add_grid_by_width<T, kDgradSizesS1, kDgradS1F32, kDgradS1x16>(ops, make);
  add_grid_by_width<T, kDgradSizesS2, kDgradS2F32, kDgradS2x16>(ops, make);
  add_grid_by_width<T, kDgradSizesD2, kDgradD2F32, kDgradD2x16>(ops, make);
  add_grid_by_width<T, kAnySize, kDgradAnyF32, kDgradAnyx16>(ops, make);
}

}  // namespace dwt
