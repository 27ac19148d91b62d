// The input gradient at stride 1 through a forward kernel. With stride 1 and multiplier 1,
//   dx[n, c, ih, iw] = sum over kh, kw of dy[n, c, ih + ph - kh*dh, iw + pw - kw*dw] * w[c, kh, kw]
// is the forward convolution of dy (OH x OW) with the filter turned half a turn (wf[kh][kw] =
// w[KH-1-kh][KW-1-kw]) at padding (K-1)*D - P, whose output is H x W again. Flip<Name, Fwd, T>
// is a family of the dgrad pass over one forward instantiation Fwd: it writes the turned filter into
// its workspace (one small kernel) and launches Fwd on (dy, turned filter) -> dx. It serves the
// shapes Fwd serves after that mapping (so the forward families' tuned tiles, staged strips and
// direct kernels, compute the input gradient at their own speed), and refuses strides above 1,
// multipliers above 1 (dx sums M output channels, which no forward kernel does) and padding beyond
// (K-1)*D (the mapped padding would be negative).
// The families instantiating it (flip_staged.cuh, flip_direct.cuh, flip_nhwc.cuh) name it and pick
// the forward tiles to wrap.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "family.cuh"

namespace dwt {

// The forward problem whose output is the input gradient of dgrad problem s (see above).
inline ConvShape flipped_forward(const ConvShape& s) {
  ConvShape f = s;
  f.h = s.out_h();
  f.w = s.out_w();
  f.ph = (s.kh - 1) * s.dh - s.ph;
  f.pw = (s.kw - 1) * s.dw - s.pw;
  f.bias = false;
  f.pass = Pass::forward;
  return f;
}

// wf = w with each channel's KH*KW taps in reverse order (both axes turned round).
template <class T>
__global__ void flip_filter_kernel(const T* __restrict__ w, T* __restrict__ wf, std::int64_t channels,
                                   int taps) {
  const std::int64_t total = channels * taps;
  for (std::int64_t i = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < total;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t c = i / taps;
    const std::int64_t t = i - c * taps;
    wf[c * taps + (taps - 1 - t)] = w[i];
  }
}

// Name: a type with `static constexpr char name[]`, the family's name.
template <class Name, class Fwd, class T>
struct Flip {
  static_assert(Fwd::family.pass == Pass::forward, "Flip wraps a forward kernel");
  static_assert(!requires(const ConvShape& s) { Fwd::workspace_bytes(s); },
                "the wrapped kernel's own workspace is not passed on");
  static constexpr FamilyInfo family{.name = Name::name,
                                     .layout = Fwd::family.layout,
                                     .pass = Pass::dgrad,
                                     .filter_param = Fwd::family.filter_param,
                                     .min_cc = Fwd::family.min_cc,
                                     .preference = -1};
  static constexpr KSize ksize = Fwd::ksize;
  static constexpr auto tile = Fwd::tile;

  static Support supports(const ConvShape& s, const DeviceLimits& lim) {
    if (s.sh != 1 || s.sw != 1)
      return Support::no(cat(Name::name, " kernels need stride 1, problem has ", s.sh, "x", s.sw));
    if (s.m != 1) return Support::no(cat(Name::name, " kernels need multiplier 1, problem has ", s.m));
    if (s.ph > (s.kh - 1) * s.dh || s.pw > (s.kw - 1) * s.dw)
      return Support::no(cat("padding ", s.ph, "x", s.pw, " beyond the dilated filter's reach ", (s.kh - 1) * s.dh,
                             "x", (s.kw - 1) * s.dw));
    static const OperationOf<Fwd, T> fwd;
    if (Support c = fwd.supports(flipped_forward(s), lim); !c) return Support::no("forward kernel: " + c.reason);
    return Support::yes();
  }
  static LaunchConfig config(const ConvShape& s) { return Fwd::config(flipped_forward(s)); }
  static std::size_t workspace_bytes(const ConvShape& s) {
    return static_cast<std::size_t>(s.weight_elems()) * sizeof(T);
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    const ConvShape& s = a.s;
    const int taps = s.kh * s.kw;
    const std::int64_t total = s.weight_elems();
    const LaunchConfig fc = block_launch(std::min<std::int64_t>((total + 255) / 256, 1024), 256, 0);
    launch_kernel(flip_filter_kernel<T>, fc, st, static_cast<const T*>(a.w), static_cast<T*>(a.workspace),
                  s.out_c(), taps);
    ConvArgs f;
    f.s = flipped_forward(s);
    f.x = a.dy;
    f.w = a.workspace;
    f.y = a.dx;
    Fwd::launch(f, c, st);
  }
};

// The tiles of Arr whose compile-time stride is 1 (the forward tiles a Flip family can use).
template <auto& Arr>
constexpr auto unit_stride_tiles() {
  constexpr std::size_t n = [] {
    std::size_t k = 0;
    for (const auto& t : Arr) k += t.stride == 1;
    return k;
  }();
  std::array<std::remove_cvref_t<decltype(Arr[0])>, n> out{};
  std::size_t k = 0;
  for (const auto& t : Arr)
    if (t.stride == 1) out[k++] = t;
  return out;
}

}  // namespace dwt
