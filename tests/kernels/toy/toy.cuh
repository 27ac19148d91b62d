// A toy family, the whole of it in one header: what adding a family takes. Registered by one line
// in tests/CMakeLists.txt (a product family: its name in kernels/CMakeLists.txt's DWTUNE_FAMILIES).
// One thread per output; the filter size is a template parameter (3x3 here, or run-time).
#pragma once

#include "family.cuh"

namespace dwt {

template <class T, int KH, int KW>
__global__ void toy_kernel(ConvArgs a) {
  const ConvShape& s = a.s;
  const std::int64_t OH = s.out_h(), OW = s.out_w(), total = s.output_elems();
  const std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x;
  if (i >= total) return;
  const std::int64_t ow = i % OW, oh = i / OW % OH, plane = i / (OW * OH);
  const Plane<T> pl(a, plane);
  const int kh_n = KH ? KH : s.kh, kw_n = KW ? KW : s.kw;
  float acc = pl.bias;
  for (int kh = 0; kh < kh_n; ++kh)
    for (int kw = 0; kw < kw_n; ++kw) {
      const std::int64_t ih = oh - s.ph + kh, iw = ow - s.pw + kw;
      if (ih >= 0 && ih < s.h && iw >= 0 && iw < s.w) acc += ldg_f(pl.x + ih * s.w + iw) * ldg_f(pl.w + kh * kw_n + kw);
    }
  static_cast<T*>(a.y)[i] = from_float<T>(acc);
}

struct ToyTile {
  int threads, spare = 0;
  constexpr int block_threads() const { return threads; }
  static constexpr auto fields() {
    using F = Field<ToyTile>;
    return std::array{F{"threads", "_b", &ToyTile::threads}, F{"spare", "_x", &ToyTile::spare, Show::nonzero}};
  }
  friend constexpr bool operator==(const ToyTile&, const ToyTile&) = default;
};

template <class T, KSize K, ToyTile P>
struct Toy {
  static constexpr FamilyInfo family{.name = "toy", .min_cc = 70, .unit_stride = true, .preference = 7};
  static constexpr KSize ksize = K;
  static constexpr ToyTile tile = P;
  static constexpr ToyTile default_tile{.threads = 128};
  static Support supports(const ConvShape& s, const DeviceLimits&) {
    return s.w < 100000 ? Support::yes() : Support::no("toy rows are short");
  }
  static LaunchConfig config(const ConvShape& s) {
    LaunchConfig c;
    c.grid = dim3(static_cast<unsigned>((s.output_elems() + P.threads - 1) / P.threads));
    c.block = dim3(P.threads);
    return c;
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    launch_kernel(toy_kernel<T, K.kh, K.kw>, c, st, a);
  }
};

inline constexpr KSize kToySizes[] = {{3, 3}, {}};
inline constexpr ToyTile kToyTiles[] = {{.threads = 256}, {.threads = 128, .spare = 2}};

template <class T>
void add_toy(OpList& ops) {
  add_grid<T, kToySizes, kToyTiles>(ops, [&]<KSize K, ToyTile P> { return Toy<T, K, P>{}; });
}

}  // namespace dwt
