// The input-gradient families' paths that small random problems (EveryKernel) do not all reach:
// NCHW blocks of many whole planes (plane starts off 16 bytes, multiplier 2), bands of rows with
// halo rows and several column tiles, rows so wide that a band is one row group, padding larger
// than the filter, odd padding with unaligned widths; NHWC channel counts with and without vector
// tails, several channel blocks, multiplier 2, padding larger than the filter. Fixed tiles take
// their own filter and stride; run-time tiles take uneven strides (3 and 2) and dilation.
// The flip families (a forward kernel on the turned filter): every padding from none to the filter's
// reach, large planes, NHWC channel tails, run-time dilation; and what they must refuse.
#include <gtest/gtest.h>

#include <string>

#include "cuda_check.hpp"
#include "device.hpp"
#include "family_paths.hpp"
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

// Every case on every instantiation of `family` that supports it.
void check_family(const std::string& family, const Case* cases, std::size_t count) {
  check_family_paths(family, 90, [&](const Operation& op, const DeviceLimits&, auto& check) {
    const KernelDesc& d = op.desc();
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
        check(p, c.what);
      }
    }
  });
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
  check_family("dgrad", cases, std::size(cases));
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
  check_family("dgrad_nhwc", cases, std::size(cases));
}

// Stride-1 problems for the flip families: paddings 0, partial (odd) and the dilated filter's whole
// reach (the mapped forward padding is then 0 or (K-1)*D), on small, large and NHWC-tailed planes.
struct FlipCase {
  const char* what;
  int n, c, h, w;
};

// A stride-1 input-gradient problem in d's dtype, layout and filter size (3x3 where d takes any), at
// dilation dil; the caller sets the sizes and padding.
Problem flip_problem(const KernelDesc& d, int dil) {
  Problem p;
  p.pass = Pass::dgrad;
  p.layout = d.layout;
  p.dtype = d.dtype;
  p.kh = d.param("kh") ? d.param("kh") : 3;
  p.kw = d.param("kw") ? d.param("kw") : 3;
  p.dh = p.dw = dil;
  return p;
}

void check_flip_family(const std::string& family, const FlipCase* cases, std::size_t count) {
  check_family_paths(family, 300, [&](const Operation& op, const DeviceLimits&, auto& check) {
    const KernelDesc& d = op.desc();
    const int compiled_d = d.param("dilation", 1);
    for (std::size_t i = 0; i < count; ++i) {
      for (const int dil : {1, 2}) {
        if (compiled_d > 0 && dil != compiled_d) continue;
        for (const int pad : {0, 1, 2}) {  // none, partial, whole reach
          Problem p = flip_problem(d, dil);
          p.n = cases[i].n;
          p.c = cases[i].c;
          p.h = cases[i].h;
          p.w = cases[i].w;
          const int reach_h = (p.kh - 1) * dil, reach_w = (p.kw - 1) * dil;
          p.ph = pad == 0 ? 0 : pad == 1 ? reach_h / 2 : reach_h;
          p.pw = pad == 0 ? 0 : pad == 1 ? (reach_w + 1) / 2 : reach_w;
          check(p, cases[i].what);
        }
      }
    }
  });
}

TEST(PathsOf, flip_staged) {
  DWT_REQUIRE_GPU();
  const FlipCase cases[] = {{"odd plane", 2, 3, 37, 61}, {"kb85-wide rows", 1, 2, 40, 256}, {"long rows", 1, 1, 9, 700}};
  check_flip_family("flip_staged", cases, std::size(cases));
}

TEST(PathsOf, flip_direct) {
  DWT_REQUIRE_GPU();
  const FlipCase cases[] = {{"7x7 planes", 2, 40, 7, 7}, {"odd plane", 1, 3, 29, 33}, {"single pixel", 3, 5, 1, 1}};
  check_flip_family("flip_direct", cases, std::size(cases));
}

TEST(PathsOf, flip_nhwc) {
  DWT_REQUIRE_GPU();
  const FlipCase cases[] = {{"vector tail", 2, 17, 13, 11}, {"144 channels", 1, 144, 14, 14},
                            {"several channel blocks, strip rows", 1, 520, 35, 9}, {"3 channels", 2, 3, 20, 21}};
  check_flip_family("flip_nhwc", cases, std::size(cases));
}

// What no flip kernel can compute, each refused with the reason; no GPU needed.
TEST(Flip, RefusesStridesMultipliersAndPaddingBeyondTheFilter) {
  DeviceLimits lim;
  lim.max_smem_per_block = 227 * 1024;
  lim.cc = 90;
  int seen = 0;
  for (const Operation* op : registry()) {
    const KernelDesc& d = op->desc();
    if (d.family.rfind("flip_", 0) != 0) continue;
    ++seen;
    EXPECT_EQ(d.pass, Pass::dgrad) << d.name;
    Problem s = flip_problem(d, d.param("dilation", 1) ? d.param("dilation", 1) : 1);
    s.n = 1;
    s.c = 16;
    s.h = s.w = 40;
    ASSERT_TRUE(op->supports(s, lim)) << d.name << ": " << op->supports(s, lim).reason;
    ConvShape strided = s;
    strided.sh = 2;
    EXPECT_NE(op->supports(strided, lim).reason.find("stride 1"), std::string::npos) << d.name;
    ConvShape m2 = s;
    m2.m = 2;
    EXPECT_NE(op->supports(m2, lim).reason.find("multiplier 1"), std::string::npos) << d.name;
    ConvShape far = s;
    far.ph = (s.kh - 1) * s.dh + 1;
    EXPECT_NE(op->supports(far, lim).reason.find("beyond the dilated filter"), std::string::npos) << d.name;
  }
  EXPECT_GT(seen, 0);
}

}  // namespace
}  // namespace dwt
