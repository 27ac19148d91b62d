// The CPU reference against convolutions small enough to compute by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "format.hpp"
#include "reference_cpu.hpp"

namespace dwt {
namespace {

ConvShape shape(std::int64_t h, std::int64_t w, int kh, int kw) {
  ConvShape s;
  s.h = h;
  s.w = w;
  s.kh = kh;
  s.kw = kw;
  return s;
}

std::vector<float> iota_f(std::size_t n, float start = 1) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(ReferenceCpu, ThreeByThreeInputTwoByTwoFilter) {
  // x = [[1 2 3] [4 5 6] [7 8 9]], w = [[1 0] [0 -1]] -> x[i][j] - x[i+1][j+1] = -4 everywhere.
  const ConvShape s = shape(3, 3, 2, 2);
  const auto x = iota_f(9);
  const std::vector<float> w{1, 0, 0, -1};
  const Reference r = reference_cpu(s, x.data(), w.data(), nullptr);
  ASSERT_EQ(r.value.size(), 4u);
  for (double v : r.value) EXPECT_DOUBLE_EQ(v, -4.0);
  EXPECT_DOUBLE_EQ(r.magnitude[0], 1.0 + 5.0);  // |1*1| + |5*-1|
}

TEST(ReferenceCpu, StrideTwoPaddingOne) {
  // 4x4 input of ones, 3x3 filter of ones, stride 2, padding 1 -> 2x2 output: corner windows see
  // 4 inputs, the rest 6 or 9.
  ConvShape s = shape(4, 4, 3, 3);
  s.sh = s.sw = 2;
  s.ph = s.pw = 1;
  const std::vector<float> x(16, 1.0f), w(9, 1.0f);
  const Reference r = reference_cpu(s, x.data(), w.data(), nullptr);
  ASSERT_EQ(s.out_h(), 2);
  ASSERT_EQ(s.out_w(), 2);
  EXPECT_DOUBLE_EQ(r.value[0], 4.0);  // rows -1..1, cols -1..1: 2x2 inside
  EXPECT_DOUBLE_EQ(r.value[1], 6.0);  // rows -1..1, cols 1..3: 2x3 inside
  EXPECT_DOUBLE_EQ(r.value[2], 6.0);
  EXPECT_DOUBLE_EQ(r.value[3], 9.0);
}

TEST(ReferenceCpu, DilationTwoSkipsNeighbours) {
  // 1x5 row 1..5, filter 1x2 [1, 10] with dilation 2: y[j] = x[j] + 10*x[j+2].
  ConvShape s = shape(1, 5, 1, 2);
  s.dw = 2;
  const auto x = iota_f(5);
  const std::vector<float> w{1, 10};
  const Reference r = reference_cpu(s, x.data(), w.data(), nullptr);
  ASSERT_EQ(r.value.size(), 3u);
  EXPECT_DOUBLE_EQ(r.value[0], 1 + 30);
  EXPECT_DOUBLE_EQ(r.value[1], 2 + 40);
  EXPECT_DOUBLE_EQ(r.value[2], 3 + 50);
}

TEST(ReferenceCpu, MultiplierAndBiasUseTheRightChannels) {
  // C = 2, M = 2: out channel oc reads input channel oc / 2, with its own 1x1 weight and bias.
  ConvShape s = shape(1, 2, 1, 1);
  s.c = 2;
  s.m = 2;
  s.bias = true;
  const std::vector<float> x{1, 2, 3, 4};  // channel 0: [1 2], channel 1: [3 4]
  const std::vector<float> w{1, 2, 3, 4};
  const std::vector<float> b{0.5f, -1, 10, 0};
  const Reference r = reference_cpu(s, x.data(), w.data(), b.data());
  const std::vector<double> want{1.5, 2.5, 1, 3, 19, 22, 12, 16};
  ASSERT_EQ(r.value.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(r.value[i], want[i]) << i;
}

// NHWC: the same convolution as NCHW on transposed input, its output transposed the same way.
TEST(ReferenceCpu, NhwcIsTheTransposeOfNchw) {
  ConvShape s = shape(6, 9, 3, 2);
  s.n = 2;
  s.c = 3;
  s.m = 2;
  s.sh = 2;
  s.pw = 1;
  s.bias = true;
  std::vector<float> x(static_cast<std::size_t>(s.input_elems())), w(static_cast<std::size_t>(s.weight_elems()));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::cos(static_cast<float>(i));
  const std::vector<float> b{0.5f, -1, 2, 0.25f, 1, 3};
  ConvShape t = s;
  t.layout = Layout::nhwc;
  std::vector<float> xt(x.size());
  for (std::int64_t n = 0; n < s.n; ++n)
    for (std::int64_t c = 0; c < s.c; ++c)
      for (std::int64_t h = 0; h < s.h; ++h)
        for (std::int64_t ww = 0; ww < s.w; ++ww)
          xt[static_cast<std::size_t>(t.input_index(n, c, h, ww))] = x[static_cast<std::size_t>(s.input_index(n, c, h, ww))];
  const Reference a = reference_cpu(s, x.data(), w.data(), b.data());
  const Reference r = reference_cpu(t, xt.data(), w.data(), b.data());
  for (std::int64_t i = 0; i < s.output_elems(); ++i) {
    const ConvShape::OutPos o = s.output_pos(i);
    EXPECT_EQ(r.value[static_cast<std::size_t>(t.output_index(o.n, o.oc, o.oh, o.ow))], a.value[static_cast<std::size_t>(i)]) << i;
  }
}

TEST(ReferenceCpu, BatchesAreIndependentAndThreadCountDoesNotMatter) {
  ConvShape s = shape(9, 11, 3, 5);
  s.n = 3;
  s.c = 4;
  s.ph = 1;
  s.pw = 2;
  std::vector<float> x(static_cast<std::size_t>(s.input_elems())), w(static_cast<std::size_t>(s.weight_elems()));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::cos(static_cast<float>(i));
  const Reference one = reference_cpu(s, x.data(), w.data(), nullptr, 1);
  const Reference many = reference_cpu(s, x.data(), w.data(), nullptr, 7);
  EXPECT_EQ(one.value, many.value);
  // Batch 1 equals batch 0 when its inputs are the same.
  std::copy(x.begin(), x.begin() + s.c * s.h * s.w, x.begin() + s.c * s.h * s.w);
  const Reference same = reference_cpu(s, x.data(), w.data(), nullptr);
  const std::size_t per_batch = static_cast<std::size_t>(s.out_c() * s.out_h() * s.out_w());
  for (std::size_t i = 0; i < per_batch; ++i) EXPECT_EQ(same.value[i], same.value[per_batch + i]);
}

// The three passes of one random problem: forward y, dgrad dx, wgrad dw (then db).
struct Passes {
  ConvShape s;
  std::vector<float> x, w, bias, dy;
  Reference y, dx, dwb;
};

std::vector<float> uniform(std::int64_t n, std::mt19937& rng, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& e : v) e = u(rng);
  return v;
}

Passes run_passes(ConvShape s, std::mt19937& rng, float lo = -1) {
  Passes p;
  s.pass = Pass::forward;
  p.s = s;
  p.x = uniform(s.input_elems(), rng, lo);
  p.w = uniform(s.weight_elems(), rng, lo);
  p.bias = uniform(s.out_c(), rng, lo);
  p.dy = uniform(s.output_elems(), rng, lo);
  p.y = reference_cpu(s, HostInputs{.x = p.x.data(), .w = p.w.data(), .bias = p.bias.data()});
  ConvShape d = s;
  d.pass = Pass::dgrad;
  d.bias = false;
  p.dx = reference_cpu(d, HostInputs{.w = p.w.data(), .dy = p.dy.data()});
  ConvShape g = s;
  g.pass = Pass::wgrad;
  p.dwb = reference_cpu(g, HostInputs{.x = p.x.data(), .dy = p.dy.data()}, 3);
  return p;
}

// <a, b> over n elements, and the sum of |a * b| for its rounding bound.
std::pair<double, double> dot(const float* a, const double* b, std::int64_t n) {
  double d = 0, m = 0;
  for (std::int64_t i = 0; i < n; ++i) d += a[i] * b[i], m += std::abs(a[i] * b[i]);
  return {d, m};
}

// Random problems over every axis the references index: odd sizes, stride 1-3, dilation 1-2,
// padding up to the filter, asymmetric filters, multiplier 1-2, bias, both layouts.
std::vector<ConvShape> random_shapes(std::mt19937& rng, int count) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<ConvShape> out;
  while (static_cast<int>(out.size()) < count) {
    ConvShape s;
    s.n = pick(1, 2);
    s.c = pick(1, 5);
    s.m = pick(1, 2);
    s.h = pick(1, 13);
    s.w = pick(1, 17);
    s.kh = pick(1, 5);
    s.kw = pick(1, 7);
    s.sh = pick(1, 3);
    s.sw = pick(1, 3);
    s.dh = pick(1, 2);
    s.dw = pick(1, 2);
    s.ph = pick(0, s.kh);
    s.pw = pick(0, s.kw);
    s.bias = pick(0, 1) == 1;
    s.layout = pick(0, 1) ? Layout::nhwc : Layout::nchw;
    if (s.out_h() > 0 && s.out_w() > 0) out.push_back(s);
  }
  return out;
}

// The three passes are adjoint: <forward(x, w), dy> = <x, dgrad(dy, w)> = <w, wgrad(x, dy)>, to
// float64 rounding; with a bias <y, dy> also counts <bias, db>.
TEST(ReferenceCpu, PassesAreAdjoint) {
  std::mt19937 rng(14);
  int strided = 0, nhwc = 0, multiplied = 0, nonzero = 0;
  for (const ConvShape& s : random_shapes(rng, 300)) {
    const Passes p = run_passes(s, rng);
    ASSERT_EQ(p.y.value.size(), static_cast<std::size_t>(s.output_elems()));
    ASSERT_EQ(p.dx.value.size(), static_cast<std::size_t>(s.input_elems()));
    ASSERT_EQ(p.dwb.value.size(), static_cast<std::size_t>(s.weight_elems() + s.bias_elems()));
    const auto [ydy, ym] = dot(p.dy.data(), p.y.value.data(), s.output_elems());
    const auto [xdx, xm] = dot(p.x.data(), p.dx.value.data(), s.input_elems());
    const auto [wdw, wm] = dot(p.w.data(), p.dwb.value.data(), s.weight_elems());
    const auto [bdb, bm] =
        s.bias ? dot(p.bias.data(), p.dwb.value.data() + s.weight_elems(), s.out_c()) : std::pair{0.0, 0.0};
    const double scale = 1 + ym + xm + wm + bm;
    const std::string where = fmt::format("{}", s);
    EXPECT_NEAR(ydy - bdb, xdx, 1e-12 * scale) << where;
    EXPECT_NEAR(xdx, wdw, 1e-12 * scale) << where;
    nonzero += ym > 0;  // some problems see only padding
    strided += s.sh > 1 || s.sw > 1;
    nhwc += s.layout == Layout::nhwc;
    multiplied += s.m > 1;
  }
  EXPECT_GT(strided, 50);
  EXPECT_GT(nhwc, 50);
  EXPECT_GT(multiplied, 50);
  EXPECT_GT(nonzero, 250);
}

// db is dy summed per output channel over batch and space; the pass writes it after dw.
TEST(ReferenceCpu, BiasGradientIsDySummedPerChannel) {
  std::mt19937 rng(85);
  for (ConvShape s : random_shapes(rng, 40)) {
    s.bias = true;
    const Passes p = run_passes(s, rng);
    for (std::int64_t oc = 0; oc < s.out_c(); ++oc) {
      double want = 0;
      for (std::int64_t n = 0; n < s.n; ++n)
        for (std::int64_t oh = 0; oh < s.out_h(); ++oh)
          for (std::int64_t ow = 0; ow < s.out_w(); ++ow)
            want += p.dy[static_cast<std::size_t>(s.output_index(n, oc, oh, ow))];
      EXPECT_NEAR(p.dwb.value[static_cast<std::size_t>(s.weight_elems() + oc)], want, 1e-12 * (1 + std::abs(want)))
          << fmt::format("{} channel {}", s, oc);
    }
  }
}

// Every value is bounded by its magnitude, and equals it when every term is non-negative: the
// magnitude sums exactly the terms the value sums.
TEST(ReferenceCpu, MagnitudeBoundsEveryPass) {
  std::mt19937 rng(7);
  for (const ConvShape& s : random_shapes(rng, 60)) {
    for (const float lo : {-1.0f, 0.0f}) {
      const Passes p = run_passes(s, rng, lo);
      for (const Reference* r : {&p.y, &p.dx, &p.dwb})
        for (std::size_t i = 0; i < r->value.size(); ++i) {
          const double v = r->value[i], m = r->magnitude[i];
          ASSERT_LE(std::abs(v), m * (1 + 1e-12) + 1e-300) << fmt::format("{} element {}", s, i);
          if (lo == 0 && r != &p.y) ASSERT_NEAR(v, m, 1e-12 * m) << fmt::format("{} element {}", s, i);
        }
    }
  }
}

// Hand-sized: 1x3 input, 1x2 filter [a b], stride 1 -> y = [a x0 + b x1, a x1 + b x2].
TEST(ReferenceCpu, BackwardPassesByHand) {
  ConvShape s = shape(1, 3, 1, 2);
  s.pass = Pass::dgrad;
  const std::vector<float> x{1, 2, 3}, w{10, 100}, dy{1, -1};
  const Reference dx = reference_cpu(s, HostInputs{.w = w.data(), .dy = dy.data()});
  const std::vector<double> want_dx{10, 100 - 10, -100};
  ASSERT_EQ(dx.value, want_dx);
  s.pass = Pass::wgrad;
  s.bias = true;
  const Reference dw = reference_cpu(s, HostInputs{.x = x.data(), .dy = dy.data()});
  const std::vector<double> want_dw{1 - 2, 2 - 3, 1 - 1};  // dw0 = x0 dy0 + x1 dy1, dw1, db
  ASSERT_EQ(dw.value, want_dw);
  EXPECT_DOUBLE_EQ(dw.magnitude[2], 2.0);
  // The forward-only overload refuses other passes instead of computing a forward result.
  EXPECT_THROW(reference_cpu(s, x.data(), w.data(), nullptr), std::invalid_argument);
}

TEST(VerificationError, NanAndUnwrittenFailAtAnyTolerance) {
  for (const DType d : {DType::f32, DType::f16, DType::bf16}) {
    EXPECT_TRUE(std::isinf(verification_error(std::nan(""), 1.0, 1.0, d)));
    EXPECT_TRUE(std::isinf(verification_error(INFINITY, 1.0, 1.0, d)));
    EXPECT_TRUE(std::isinf(verification_error(-INFINITY, 1.0, 1.0, d)));
    EXPECT_EQ(verification_error(2.0, 2.0, 0.0, d), 0.0);
    EXPECT_NEAR(verification_error(1.001, 1.0, 10.0, d), 1e-4, 1e-12);
    EXPECT_GT(verification_error(1e-3, 0.0, 0.0, d), tolerance(d));  // a zero output written wrong
  }
  EXPECT_LT(tolerance(DType::f32), tolerance(DType::f16));
  EXPECT_EQ(tolerance(DType::f16), tolerance(DType::bf16));
}

// Rounds to f16 as a kernel's output store does (round to nearest even), subnormals included.
double to_f16(double v) {
  const double a = std::abs(v);
  const int e = a < 0x1p-14 ? -14 : std::ilogb(a);
  const double step = std::ldexp(1.0, e - 10);  // 2^-24 below the normal range
  return std::nearbyint(v / step) * step;
}

// Issue 19: f16 problems with 1x1 and Kx1 filters failed verification although every kernel and
// PyTorch agreed: products below f16's normal range round to steps of 2^-24, a relative error up
// to 1 against the summed magnitude. The exact result, rounded to f16, must pass at every size.
TEST(VerificationError, TinyF16OutputsRoundedExactlyPass) {
  const ConvShape s = [] {
    ConvShape c = shape(1, 64, 1, 1);
    c.dtype = DType::f16;
    return c;
  }();
  std::vector<float> x(64), w{0x1p-9f};
  for (int i = 0; i < 64; ++i) x[static_cast<std::size_t>(i)] = std::ldexp(1.0f + i / 64.0f, -4 - i / 4);
  const Reference r = reference_cpu(s, x.data(), w.data(), nullptr);
  double worst = 0;
  for (std::size_t i = 0; i < r.value.size(); ++i) {
    const double out = to_f16(r.value[i]);
    worst = std::max(worst, verification_error(out, r.value[i], r.magnitude[i], DType::f16));
  }
  EXPECT_LE(worst, tolerance(DType::f16));
  // Without the floor these outputs are off by up to 100% of their magnitude.
  const double v = 0x1.7p-26, m = v;  // between subnormal steps: rounds to 2^-24 or 0
  EXPECT_GT(std::abs(to_f16(v) - v) / m, 0.3);
  EXPECT_LE(verification_error(to_f16(v), v, m, DType::f16), tolerance(DType::f16));
  // The floor is the output type's, not a blanket one: a wrong f16 result of size 2^-20 fails, and
  // f32 keeps its own precision near zero.
  EXPECT_GT(verification_error(0x1p-20 + 0x1p-18, 0x1p-20, 0x1p-20, DType::f16),
            tolerance(DType::f16));
  EXPECT_GT(verification_error(1e-30, 2e-30, 1e-30, DType::f32), tolerance(DType::f32));
}

}  // namespace
}  // namespace dwt
