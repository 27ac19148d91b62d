// The CPU reference against convolutions small enough to compute by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

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

TEST(VerificationError, NanAndUnwrittenFailAtAnyTolerance) {
  EXPECT_TRUE(std::isinf(verification_error(std::nan(""), 1.0, 1.0)));
  EXPECT_TRUE(std::isinf(verification_error(INFINITY, 1.0, 1.0)));
  EXPECT_EQ(verification_error(2.0, 2.0, 0.0), 0.0);
  EXPECT_NEAR(verification_error(1.001, 1.0, 10.0), 1e-4, 1e-12);
  EXPECT_LT(tolerance(DType::f32), tolerance(DType::f16));
  EXPECT_EQ(tolerance(DType::f16), tolerance(DType::bf16));
}

}  // namespace
}  // namespace dwt
