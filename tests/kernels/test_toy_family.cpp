// A family added with one header and one registration line (tests/kernels/toy/toy.cuh and its
// dwt_add_kernel_library line in tests/CMakeLists.txt): its descriptions, requirements and
// dispatch rank are derived from the declaration, and it runs against the CPU reference on a GPU.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "operation.hpp"
#include "reference_cpu.hpp"

namespace dwt {
namespace {

TEST(ToyFamily, RegisteredWithDerivedDescriptions) {
  EXPECT_EQ(families(), std::vector<std::string>{"toy"});
  const Operation* op = find_operation("toy_f32_nchw_k3x3_b256");
  ASSERT_NE(op, nullptr);
  const KernelDesc& d = op->desc();
  EXPECT_EQ(d.family, "toy");
  EXPECT_EQ(d.threads, 256);
  EXPECT_EQ(d.param("kh", -1), 3);
  EXPECT_EQ(d.param("spare", -1), 0);
  EXPECT_EQ(d.needs.min_cc, 70);
  EXPECT_TRUE(d.needs.unit_stride);
  EXPECT_EQ(d.needs.kh, 3);
  EXPECT_EQ(d.rank.preference, 7);
  EXPECT_FALSE(d.rank.default_tile);

  const Operation* any = find_operation("toy_f32_nchw_kany_b128_x2");
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any->desc().needs.kh, 0);
  EXPECT_EQ(any->desc().param("spare", -1), 2);
  EXPECT_FALSE(any->desc().rank.default_tile);  // spare differs from the default tile
}

TEST(ToyFamily, DeclaredRequirementsAreEnforced) {
  const Operation* op = find_operation("toy_f32_nchw_k3x3_b256");
  ASSERT_NE(op, nullptr);
  DeviceLimits lim;
  lim.cc = 90;
  ConvShape s;
  s.n = 1, s.c = 2, s.h = 9, s.w = 9, s.kh = 3, s.kw = 3;
  EXPECT_TRUE(op->supports(s, lim)) << op->supports(s, lim).reason;
  DeviceLimits old = lim;
  old.cc = 60;
  EXPECT_NE(op->supports(s, old).reason.find("sm_70"), std::string::npos);
  ConvShape strided = s;
  strided.sw = 2;
  EXPECT_NE(op->supports(strided, lim).reason.find("stride 1"), std::string::npos);
  ConvShape five = s;
  five.kh = five.kw = 5;
  EXPECT_NE(op->supports(five, lim).reason.find("3x3 filter"), std::string::npos);
  ConvShape wide = s;
  wide.w = 200000;
  EXPECT_EQ(op->supports(wide, lim).reason, "toy rows are short");  // the family's own check
}

TEST(ToyFamily, MatchesTheReferenceOnAGpu) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();
    GTEST_SKIP() << "no CUDA device";
  }
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  int checked = 0;
  for (const Operation* op : registry()) {
    if (op->desc().dtype != DType::f32) continue;
    ++checked;
    ConvShape s;
    s.n = 2, s.c = 3, s.h = 11, s.w = 13, s.kh = 3, s.kw = 3, s.ph = 1, s.pw = 1, s.bias = true;
    std::vector<float> x(s.input_elems()), w(s.weight_elems()), b(s.bias_elems()), y(s.output_elems());
    for (auto* v : {&x, &w, &b})
      for (float& e : *v) e = u(rng);
    float *dx, *dw, *db, *dy;
    DWT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&dx), x.size() * 4));
    DWT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&dw), w.size() * 4));
    DWT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&db), b.size() * 4));
    DWT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&dy), y.size() * 4));
    DWT_CUDA_CHECK(cudaMemcpy(dx, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
    DWT_CUDA_CHECK(cudaMemcpy(dw, w.data(), w.size() * 4, cudaMemcpyHostToDevice));
    DWT_CUDA_CHECK(cudaMemcpy(db, b.data(), b.size() * 4, cudaMemcpyHostToDevice));
    DWT_CUDA_CHECK(cudaMemset(dy, 0xff, y.size() * 4));  // NaN
    op->run({s, dx, dw, db, dy}, nullptr);
    DWT_CUDA_CHECK(cudaMemcpy(y.data(), dy, y.size() * 4, cudaMemcpyDeviceToHost));
    for (float* p : {dx, dw, db, dy}) DWT_CUDA_CHECK(cudaFree(p));
    const Reference ref = reference_cpu(s, x.data(), w.data(), b.data());
    for (std::size_t i = 0; i < y.size(); ++i)
      ASSERT_LE(verification_error(y[i], ref.value[i], ref.magnitude[i], DType::f32), tolerance(DType::f32))
          << op->desc().name << " output " << i;
  }
  if (checked == 0) GTEST_SKIP() << "f32 not compiled (DWTUNE_DTYPES)";
}

}  // namespace
}  // namespace dwt
