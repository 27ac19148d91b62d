// The input-gradient families' paths that small random problems (EveryKernel) do not all reach:
// NCHW blocks of many whole planes (plane starts off 16 bytes, multiplier 2), bands of rows with
// halo rows and several column tiles, rows so wide that a band is one row group, padding larger
// than the filter, odd padding with unaligned widths; NHWC channel counts with and without vector
// tails, several channel blocks, multiplier 2, padding larger than the filter. Fixed tiles take
// their own filter and stride; run-time tiles take uneven strides (3 and 2) and dilation.
#include <gtest/gtest.h>

#include <string>

#include "cuda_check.hpp"
#include "device.hpp"
#include "format.hpp"
#include "gpu_test.hpp"
#include "operation.hpp"
#include "verify.hpp"

namespace dwt {
namespace {

struct Case {
  const char* what;
  int n, c, h, w, m;
  int extra_pad;  // added to the padding of half the filter; -1: no padding
};

// Every case on every instantiation of `family` that supports it; returns the number checked.
int check_family(const std::string& family, const Case* cases, std::size_t count) {
  const DeviceLimits lim = query_device_limits(0);
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  int checked = 0, seed = 0;
  for (const Operation* op : registry()) {
    const KernelDesc& d = op->desc();
    if (d.family != family) continue;
    for (std::size_t i = 0; i < count; ++i) {
      const Case& c = cases[i];
      const bool fixed = d.param("kh") > 0;
      for (int variant = 0; variant < (fixed ? 1 : 2); ++variant) {
        Problem p;
        p.pass = Pass::dgrad;
        p.layout = d.layout;
        p.dtype = d.dtype;
        p.kh = fixed ? d.param("kh") : (variant == 0 ? 3 : 4);
        p.kw = fixed ? d.param("kw") : 5;
        p.sh = fixed ? d.param("stride") : (variant == 0 ? 2 : 3);
        p.sw = fixed ? d.param("stride") : (variant == 0 ? 3 : 2);
        p.dh = fixed ? d.param("dilation") : (variant == 0 ? 1 : 2);
        p.dw = fixed ? d.param("dilation") : 2;
        p.n = c.n;
        p.c = c.c;
        p.m = c.m;
        p.h = c.h;
        p.w = c.w;
        p.ph = c.extra_pad < 0 ? 0 : p.kh / 2 * p.dh + c.extra_pad;
        p.pw = c.extra_pad < 0 ? 0 : p.kw / 2 * p.dw + c.extra_pad;
        if (p.out_w() <= 0 || p.out_h() <= 0 || !op->supports(p, lim)) continue;
        ProblemBuffers buf = ProblemBuffers::allocate(p);
        buf.fill_inputs(90 + seed++, st);
        Verifier v(buf, st);
        const VerifyResult r = v.check(*op);
        EXPECT_TRUE(r.ok) << d.name << ", " << c.what << ", " << fmt::format("{}", static_cast<const ConvShape&>(p))
                          << ": " << r.reason;
        ++checked;
      }
    }
  }
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
  return checked;
}

// Test names carry the family, so --gtest_filter='*dgrad*' selects them.
TEST(PathsOf, dgrad) {
  DWT_REQUIRE_GPU();
  const Case cases[] = {
      {"many 7x7 planes", 2, 700, 7, 7, 1, 0},
      {"many 5x9 planes, m2", 1, 1100, 5, 9, 2, 0},
      {"bands with halo", 1, 2, 150, 61, 1, 0},
      {"bands, m2, unpadded", 2, 3, 90, 100, 2, -1},
      {"one-row-group bands", 1, 1, 20, 1500, 1, 0},
      {"padding larger than the filter", 1, 2, 30, 37, 1, 3},
      {"unaligned width 250", 1, 3, 33, 250, 1, 0},
  };
  EXPECT_GT(check_family("dgrad", cases, std::size(cases)), 0);
}

TEST(PathsOf, dgrad_nhwc) {
  DWT_REQUIRE_GPU();
  const Case cases[] = {
      {"whole vectors, several tiles", 2, 64, 30, 37, 1, 0},
      {"vector tail, m2", 1, 17, 9, 13, 2, 0},
      {"several channel blocks", 1, 520, 7, 7, 1, 0},
      {"144 channels, unpadded", 2, 144, 14, 14, 1, -1},
      {"padding larger than the filter", 1, 24, 11, 10, 1, 3},
      {"3 channels, m2", 2, 3, 20, 21, 2, 1},
  };
  EXPECT_GT(check_family("dgrad_nhwc", cases, std::size(cases)), 0);
}

}  // namespace
}  // namespace dwt
