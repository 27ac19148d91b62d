// Family "naive": one thread per output, every parameter at run time. The baseline the others beat.
#pragma once

#include "family.cuh"

namespace dwt {

template <class T>
__global__ void naive_kernel(ConvArgs a) {
  const ConvShape s = a.s;
  const std::int64_t oh_n = s.out_h(), ow_n = s.out_w(), oc_n = s.out_c();
  const std::int64_t total = s.output_elems();
  const T* __restrict__ x = static_cast<const T*>(a.x);
  const T* __restrict__ w = static_cast<const T*>(a.w);
  T* __restrict__ y = static_cast<T*>(a.y);
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < total;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t ow = i % ow_n;
    const std::int64_t oh = (i / ow_n) % oh_n;
    const std::int64_t oc = (i / (ow_n * oh_n)) % oc_n;
    const std::int64_t n = i / (ow_n * oh_n * oc_n);
    const std::int64_t ic = oc / s.m;
    const T* xp = x + (n * s.c + ic) * s.h * s.w;
    const T* wp = w + oc * s.kh * s.kw;
    float acc = bias_of<T>(a, oc);
    for (int kh = 0; kh < s.kh; ++kh) {
      const std::int64_t ih = oh * s.sh - s.ph + std::int64_t{kh} * s.dh;
      if (ih < 0 || ih >= s.h) continue;
      for (int kw = 0; kw < s.kw; ++kw) {
        const std::int64_t iw = ow * s.sw - s.pw + std::int64_t{kw} * s.dw;
        if (iw < 0 || iw >= s.w) continue;
        acc += ldg_f(xp + ih * s.w + iw) * ldg_f(wp + kh * s.kw + kw);
      }
    }
    y[i] = from_float<T>(acc);
  }
}

struct NaiveTile {
  int threads;
  constexpr int block_threads() const { return threads; }
  static constexpr auto fields() { return std::array{Field<NaiveTile>{"threads", "_b", &NaiveTile::threads}}; }
  friend constexpr bool operator==(const NaiveTile&, const NaiveTile&) = default;
};

template <class T, KSize K, NaiveTile P>
struct Naive {
  static constexpr FamilyInfo family{.name = "naive", .filter_param = false, .preference = 4};
  static constexpr KSize ksize = K;
  static constexpr NaiveTile tile = P;
  static LaunchConfig config(const ConvShape& s) {
    const std::int64_t blocks = (s.output_elems() + P.threads - 1) / P.threads;
    LaunchConfig c;
    c.grid = dim3(static_cast<unsigned>(blocks < (1 << 30) ? blocks : (1 << 30)));
    c.block = dim3(P.threads);
    return c;
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    launch_kernel(naive_kernel<T>, c, st, a);
  }
};

inline constexpr NaiveTile kNaiveTiles[] = {{.threads = 256}};

template <class T>
void add_naive(OpList& ops) {
  add_grid<T, kAnySize, kNaiveTiles>(ops, [&]<KSize K, NaiveTile P> { return Naive<T, K, P>{}; });
}

}  // namespace dwt
