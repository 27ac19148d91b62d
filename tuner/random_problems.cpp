#include "random_problems.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace dwt {

namespace {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  // Uniform in [lo, hi] (modulo bias is irrelevant at these ranges).
  int pick(int lo, int hi) {
    return lo + static_cast<int>(g_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(int percent) { return pick(1, 100) <= percent; }
  template <class T, std::size_t N>
  T one_of(const T (&v)[N]) {
    return v[pick(0, static_cast<int>(N) - 1)];
  }

 private:
  std::mt19937_64 g_;
};

// A depthwise layer as networks have them (MobileNet, EfficientNet, ConvNeXt, at small batch).
void network_like(Rng& r, Problem& p, bool scale) {
  static const int channels[] = {8, 16, 24, 32, 40, 48, 64, 72, 96, 112, 120, 144, 160, 192, 240, 288};
  static const int wide[] = {32, 64, 96, 144, 192, 240, 288, 384, 480, 576, 672, 768, 960, 1152};
  static const int planes[] = {7, 14, 17, 28, 35, 56, 112, 128};
  static const int kernels[] = {3, 3, 3, 5, 5, 7};
  p.c = scale ? r.one_of(wide) : r.one_of(channels);
  p.h = p.w = r.one_of(planes);
  p.kh = p.kw = r.one_of(kernels);
  p.sh = p.sw = r.chance(30) ? 2 : 1;
  p.ph = p.pw = p.kh / 2;
  p.dh = p.dw = r.chance(10) ? 2 : 1;
  if (p.dh == 2) p.ph = p.pw = p.kh - 1;
}

// Anything in range: odd widths, asymmetric everything.
void odd(Rng& r, Problem& p) {
  static const int widths[] = {1, 2, 3, 5, 7, 9, 15, 31, 33, 63, 65, 127, 129, 130};
  p.c = r.chance(50) ? r.pick(1, 8) : r.pick(1, 300);
  p.h = r.chance(30) ? r.one_of(widths) : r.pick(1, 130);
  p.w = r.chance(50) ? r.one_of(widths) : r.pick(1, 130);
  p.kh = r.pick(1, 7);
  p.kw = r.chance(40) ? p.kh : r.pick(1, 7);
  p.sh = r.chance(60) ? 1 : r.pick(2, 3);
  p.sw = r.chance(60) ? 1 : r.pick(2, 3);
  p.dh = r.chance(70) ? 1 : r.pick(2, 3);
  p.dw = r.chance(70) ? 1 : r.pick(2, 3);
  p.ph = r.chance(50) ? 0 : r.pick(0, p.kh);
  p.pw = r.chance(50) ? 0 : r.pick(0, p.kw);
}

}  // namespace

std::vector<Problem> random_problems(std::uint64_t seed, std::size_t count,
                                     const RandomProblemOptions& opt) {
  Rng r(seed);
  std::vector<Problem> out;
  out.reserve(count);
  const int dtypes = static_cast<int>(opt.dtypes.size());
  while (out.size() < count) {
    Problem p;
    p.name = fmt::format("fuzz{}", out.size());
    const bool net = r.chance(opt.network_percent);
    if (net)
      network_like(r, p, opt.network_scale);
    else
      odd(r, p);
    static const int batches[] = {1, 8, 32};
    p.n = r.chance(60) ? 1 : r.pick(2, 4);
    if (net && opt.network_scale) p.n = r.one_of(batches);
    p.m = r.chance(80) ? 1 : 2;
    p.bias = r.chance(50);
    p.dtype = dtypes ? opt.dtypes[static_cast<std::size_t>(r.pick(0, dtypes - 1))] : DType::f32;
    const int passes = static_cast<int>(opt.passes.size());
    if (passes == 1) p.pass = opt.passes[0];
    if (passes > 1) p.pass = opt.passes[static_cast<std::size_t>(r.pick(0, passes - 1))];
    if (p.pass == Pass::dgrad) p.bias = false;
    if (p.out_h() <= 0 || p.out_w() <= 0) continue;  // no output: draw again
    while (p.output_elems() > opt.max_outputs && p.c > 1) p.c = std::max<std::int64_t>(1, p.c / 2);
    while (p.output_elems() > opt.max_outputs && p.n > 1) --p.n;
    if (p.output_elems() > opt.max_outputs) continue;
    p.validate();
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace dwt
