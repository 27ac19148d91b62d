// The problem model: output-size math, validation, keys, byte and flop counts, JSON form.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "fast_div.hpp"
#include "problem.hpp"
#include "problem_json.hpp"

namespace dwt {
namespace {

// The seed's formula, which lacks the -1 term: kept here only to show where it goes wrong.
constexpr std::int64_t seed_out_size(std::int64_t in, int k, int stride, int pad, int dil) {
  return (in + 2 * pad - dil * (k - 1)) / stride + 1;
}

Problem kb85() {
  Problem p;
  p.name = "kb85";
  p.n = 32, p.c = 128, p.h = 128, p.w = 256;
  p.kh = 3, p.kw = 7;
  return p;
}

static_assert(conv_out_size(7, 3, 2, 0, 1) == 3, "usable in constant expressions");

TEST(ProblemOutSize, StrideOneNoPadding) {
  EXPECT_EQ(conv_out_size(128, 3, 1, 0, 1), 126);
  EXPECT_EQ(conv_out_size(512, 3, 1, 0, 1), 510);
  EXPECT_EQ(conv_out_size(256, 7, 1, 0, 1), 250);
  EXPECT_EQ(conv_out_size(7, 7, 1, 0, 1), 1);
}

TEST(ProblemOutSize, StrideAboveOne) {
  EXPECT_EQ(conv_out_size(7, 3, 2, 0, 1), 3);
  EXPECT_EQ(conv_out_size(8, 3, 2, 1, 1), 4);
  EXPECT_EQ(conv_out_size(8, 3, 2, 0, 1), 3);
  EXPECT_EQ(conv_out_size(112, 3, 2, 1, 1), 56);
  EXPECT_EQ(conv_out_size(56, 5, 2, 2, 1), 28);
  EXPECT_EQ(conv_out_size(50, 3, 3, 1, 1), 17);
  EXPECT_EQ(conv_out_size(23, 5, 3, 0, 1), 7);
}

TEST(ProblemOutSize, SeedFormulaWithoutMinusOneIsWrong) {
  // One row too many at stride 1 (kb85 would get 127x251), and at stride s whenever s divides the
  // span + 1; at stride 2 with an even span it happens to agree.
  EXPECT_EQ(seed_out_size(128, 3, 1, 0, 1), 127);
  EXPECT_EQ(conv_out_size(128, 3, 1, 0, 1), 126);
  EXPECT_EQ(seed_out_size(8, 3, 2, 1, 1), 5);
  EXPECT_EQ(conv_out_size(8, 3, 2, 1, 1), 4);
  EXPECT_EQ(seed_out_size(8, 3, 2, 0, 1), 4);
  EXPECT_EQ(conv_out_size(8, 3, 2, 0, 1), 3);
  EXPECT_EQ(seed_out_size(7, 3, 2, 0, 1), conv_out_size(7, 3, 2, 0, 1));
}

TEST(ProblemOutSize, Dilation) {
  EXPECT_EQ(conv_out_size(10, 3, 1, 0, 2), 6);
  EXPECT_EQ(conv_out_size(40, 3, 1, 2, 2), 40);
  EXPECT_EQ(conv_out_size(37, 3, 1, 0, 3), 31);
  EXPECT_EQ(conv_out_size(33, 3, 2, 2, 2), 17);
}

TEST(ProblemOutSize, Padding) {
  EXPECT_EQ(conv_out_size(5, 3, 1, 1, 1), 5);
  EXPECT_EQ(conv_out_size(16, 3, 1, 3, 1), 20);
  EXPECT_EQ(conv_out_size(1, 3, 1, 1, 1), 1);
  EXPECT_EQ(conv_out_size(12, 5, 1, 5, 1), 18);
}

TEST(ProblemOutSize, KernelLargerThanInputGivesZero) {
  EXPECT_EQ(conv_out_size(2, 3, 1, 0, 1), 0);
  EXPECT_EQ(conv_out_size(4, 3, 1, 0, 2), 0);
  EXPECT_EQ(conv_out_size(1, 3, 2, 0, 1), 0);
}

TEST(ProblemOutSize, Kb85Is126x250) {
  const Problem p = kb85();
  EXPECT_EQ(p.out_h(), 126);
  EXPECT_EQ(p.out_w(), 250);
  EXPECT_EQ(p.out_c(), 128);
  EXPECT_EQ(p.output_elems(), std::int64_t{32} * 128 * 126 * 250);
}

TEST(ProblemOutSize, AxesUseTheirOwnParameters) {
  Problem p = kb85();
  p.h = 40, p.w = 35;
  p.kh = 5, p.kw = 3;
  p.sh = 2, p.sw = 1;
  p.ph = 2, p.pw = 1;
  p.dh = 1, p.dw = 2;
  EXPECT_EQ(p.out_h(), 20);  // (40 + 4 - 4 - 1) / 2 + 1
  EXPECT_EQ(p.out_w(), 33);  // (35 + 2 - 4 - 1) / 1 + 1
}

TEST(ProblemOutSize, MultiplierScalesChannels) {
  Problem p = kb85();
  p.m = 2;
  EXPECT_EQ(p.out_c(), 256);
  EXPECT_EQ(p.weight_elems(), 256 * 21);
}

// Expects validate() to refuse `p` with a message that starts with `field`.
void expect_refused(const Problem& p, const std::string& field) {
  try {
    p.validate();
    ADD_FAILURE() << "validate() accepted a problem with a bad " << field;
  } catch (const ProblemError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(field, 0), 0u) << e.what();
  }
}

TEST(ProblemValidate, AcceptsKb85) { EXPECT_NO_THROW(kb85().validate()); }

TEST(ProblemValidate, RefusesNonPositiveSizesNamingTheField) {
  const std::vector<std::pair<std::string, std::function<void(Problem&)>>> cases = {
      {"n", [](Problem& p) { p.n = 0; }},
      {"c", [](Problem& p) { p.c = -1; }},
      {"h", [](Problem& p) { p.h = 0; }},
      {"w", [](Problem& p) { p.w = -256; }},
      {"kernel[0]", [](Problem& p) { p.kh = 0; }},
      {"kernel[1]", [](Problem& p) { p.kw = -7; }},
      {"stride[0]", [](Problem& p) { p.sh = 0; }},
      {"stride[1]", [](Problem& p) { p.sw = 0; }},
      {"dilation[0]", [](Problem& p) { p.dh = 0; }},
      {"dilation[1]", [](Problem& p) { p.dw = -1; }},
      {"multiplier", [](Problem& p) { p.m = 0; }},
  };
  for (const auto& [field, spoil] : cases) {
    Problem p = kb85();
    spoil(p);
    expect_refused(p, field);
  }
}

TEST(ProblemValidate, RefusesNegativePadding) {
  Problem p = kb85();
  p.ph = -1;
  expect_refused(p, "padding[0]");
  p = kb85();
  p.pw = -3;
  expect_refused(p, "padding[1]");
}

TEST(ProblemValidate, AcceptsPaddingUpToTheKernelSize) {
  Problem p = kb85();
  p.ph = 3, p.pw = 7;
  EXPECT_NO_THROW(p.validate());
}

TEST(ProblemValidate, RefusesEmptyOutputNamingTheAxis) {
  Problem p = kb85();
  p.h = 2;  // kernel height 3, no padding
  try {
    p.validate();
    ADD_FAILURE() << "accepted an empty output";
  } catch (const ProblemError& e) {
    EXPECT_NE(std::string(e.what()).find("out_h"), std::string::npos) << e.what();
  }
  p = kb85();
  p.w = 10, p.dw = 2;  // extent 2 * 6 + 1 = 13
  try {
    p.validate();
    ADD_FAILURE() << "accepted an empty output";
  } catch (const ProblemError& e) {
    EXPECT_NE(std::string(e.what()).find("out_w"), std::string::npos) << e.what();
  }
}

TEST(ProblemValidate, RefusesRowsOf2To31) {
  Problem p = kb85();
  p.n = 1, p.c = 1, p.h = 3;
  p.w = std::int64_t{1} << 31;
  EXPECT_THROW(p.validate(), ProblemError);
}

// Byte counts that would wrap int64 (issue 19: shapes printed -68,719 MB) are refused, blaming the
// largest extent of the tensor that overflows.
TEST(ProblemValidate, RefusesByteCountsPast2To62NamingTheLargestField) {
  const auto blamed = [](const Problem& p) {
    try {
      p.validate();
    } catch (const ProblemError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  Problem p = kb85();
  p.n = 1, p.c = std::int64_t{1} << 61;  // input alone: 2^61 * 128 * 256 elements
  EXPECT_EQ(blamed(p).rfind("c is too large", 0), 0u) << blamed(p);
  p = kb85();
  p.n = p.c = std::int64_t{1} << 40;
  EXPECT_NE(blamed(p).find("too large"), std::string::npos);
  p = kb85();  // weights 8 * 2^30 * 2^30 elements with a 1x1 input: only the weights overflow
  p.n = 1, p.c = 8, p.h = p.w = 1, p.kh = p.kw = 1 << 30, p.ph = p.pw = 1 << 29;
  EXPECT_EQ(blamed(p).rfind("kernel[0] is too large: the weights", 0), 0u) << blamed(p);
  p = kb85();  // each tensor fits, the four together do not: 2^60 elements of 4 bytes, twice
  p.n = 1, p.c = std::int64_t{1} << 43, p.h = p.w = 1 << 8, p.kh = p.kw = 1;
  EXPECT_NE(blamed(p).find("together"), std::string::npos) << blamed(p);
  p.c = std::int64_t{1} << 40;
  EXPECT_NO_THROW(p.validate());
  EXPECT_GT(p.bytes(), 0);
}

// Tables are read strictly: no rounding of 1.5, no wrapping of 2^32 + 3, pairs of exactly two.
TEST(ProblemJson, RefusesWhatIsNotAnIntegerInRangeNamingThePointer) {
  const auto pointer = [](const char* field, const nlohmann::json& v) {
    nlohmann::json j = kb85();
    j[field] = v;
    try {
      j.get<Problem>();
    } catch (const ProblemJsonError& e) {
      return e.pointer;
    }
    return std::string("accepted");
  };
  EXPECT_EQ(pointer("n", 1.5), "/n");
  EXPECT_EQ(pointer("c", "3"), "/c");
  EXPECT_EQ(pointer("n", 0), "/n");
  EXPECT_EQ(pointer("kernel", {4294967299LL, 3}), "/kernel/0");
  EXPECT_EQ(pointer("kernel", {3, 3, 3}), "/kernel");
  EXPECT_EQ(pointer("stride", {1, 0}), "/stride/1");
  EXPECT_EQ(pointer("padding", {0, -1}), "/padding/1");
  EXPECT_EQ(pointer("multiplier", 1.0), "/multiplier");
  EXPECT_EQ(pointer("bias", 0), "/bias");
  EXPECT_EQ(pointer("dtype", "f64"), "/dtype");
  nlohmann::json j = kb85();
  j.erase("w");
  EXPECT_THROW(j.get<Problem>(), ProblemJsonError);
}

TEST(ProblemKey, IgnoresTheName) {
  Problem a = kb85(), b = kb85();
  b.name = "something_else";
  EXPECT_EQ(a.key(), b.key());
}

// One change of each parameter the key holds, away from kb85's value.
std::vector<std::function<void(Problem&)>> parameter_changes() {
  return {
      [](Problem& p) { p.n = 16; },
      [](Problem& p) { p.c = 64; },
      [](Problem& p) { p.h = 127; },
      [](Problem& p) { p.w = 255; },
      [](Problem& p) { p.kh = 7; },
      [](Problem& p) { p.kw = 3; },
      [](Problem& p) { p.sh = 2; },
      [](Problem& p) { p.sw = 2; },
      [](Problem& p) { p.ph = 1; },
      [](Problem& p) { p.pw = 1; },
      [](Problem& p) { p.dh = 2; },
      [](Problem& p) { p.dw = 2; },
      [](Problem& p) { p.m = 2; },
      [](Problem& p) { p.bias = true; },
      [](Problem& p) { p.dtype = DType::f16; },
      [](Problem& p) { p.dtype = DType::bf16; },
      [](Problem& p) { p.layout = Layout::nhwc; },
      [](Problem& p) { p.pass = Pass::dgrad; },
      [](Problem& p) { p.pass = Pass::wgrad; },
      [](Problem& p) { p.pass = Pass::wgrad, p.bias = true; },
  };
}

TEST(ProblemKey, DiffersWhenAnyParameterDiffers) {
  const std::string base = kb85().key();
  std::vector<std::string> keys{base};
  for (const auto& change : parameter_changes()) {
    Problem p = kb85();
    change(p);
    keys.push_back(p.key());
  }
  for (std::size_t i = 0; i < keys.size(); ++i)
    for (std::size_t j = i + 1; j < keys.size(); ++j) EXPECT_NE(keys[i], keys[j]) << keys[i];
}

TEST(ProblemKey, TransposedAxesDiffer) {
  // A 3x7 kernel on 128x256 is not a 7x3 kernel on 256x128: the layouts move differently.
  Problem a = kb85(), b = kb85();
  std::swap(b.kh, b.kw);
  EXPECT_NE(a.key(), b.key());
}

TEST(ProblemKey, FromKeyGivesBackEveryParameter) {
  std::vector<Problem> ps{kb85()};
  for (const auto& change : parameter_changes()) {
    ps.push_back(kb85());
    change(ps.back());
  }
  Problem big = kb85();
  big.n = std::int64_t{1} << 33;  // sizes are 64-bit
  ps.push_back(big);
  for (const Problem& p : ps) {
    const Problem q = Problem::from_key(p.key());
    EXPECT_EQ(q.key(), p.key());
    EXPECT_EQ(q.name, "");
    EXPECT_EQ(q.n, p.n);
    EXPECT_EQ(q.bias, p.bias);
    EXPECT_EQ(q.dtype, p.dtype);
    EXPECT_EQ(q.layout, p.layout);
    EXPECT_EQ(q.pass, p.pass);
  }
}

// Forward keys are as they were before the pass axis; the others end with the pass.
TEST(ProblemKey, PassIsAppendedExceptForForward) {
  Problem p = kb85();
  const std::string forward = p.key();
  EXPECT_EQ(forward, "n32_c128_h128_w256_k3x7_s1x1_p0x0_d1x1_m1_nobias_f32_nchw");
  p.pass = Pass::dgrad;
  EXPECT_EQ(p.key(), forward + "_dgrad");
  p.pass = Pass::wgrad;
  EXPECT_EQ(p.key(), forward + "_wgrad");
  for (const Pass q : {Pass::forward, Pass::dgrad, Pass::wgrad}) EXPECT_EQ(parse_pass(to_string(q)), q);
}

TEST(ProblemKey, FromKeyRefusesWhatKeyNeverWritesNamingTheKey) {
  const std::string good = kb85().key();  // n32_c128_h128_w256_k3x7_s1x1_p0x0_d1x1_m1_nobias_f32_nchw
  ASSERT_NO_THROW(Problem::from_key(good));
  for (const std::string bad :
       {std::string(), std::string("n32"), good.substr(0, good.rfind('_')), good + "_x",
        std::string("n032_c128_h128_w256_k3x7_s1x1_p0x0_d1x1_m1_nobias_f32_nchw"),
        std::string("n+32_c128_h128_w256_k3x7_s1x1_p0x0_d1x1_m1_nobias_f32_nchw"),
        std::string("n32_c128_h128_w256_k3_s1x1_p0x0_d1x1_m1_nobias_f32_nchw"),
        std::string("n32_c128_h128_w256_k3x7x1_s1x1_p0x0_d1x1_m1_nobias_f32_nchw"),
        std::string("c128_n32_h128_w256_k3x7_s1x1_p0x0_d1x1_m1_nobias_f32_nchw"),
        std::string("n32_c128_h128_w256_k3x7_s1x1_p0x0_d1x1_m1_maybe_f32_nchw"),
        std::string("n32_c128_h128_w256_k3x7_s1x1_p0x0_d1x1_m1_nobias_f64_nchw"),
        std::string("n32_c128_h128_w256_k3x7_s1x1_p0x0_d1x1_m1_nobias_f32_nhwcx"),
        good + "_forward",  // forward is the key without a pass
        good + "_backward", good + "_dgrad_wgrad", good + "_dgrad_",
        std::string("n32_c128_h128_w256_k3x7_s1x1_p0x0_d1x1_m1_nobias_f32_dgrad_nchw")}) {
    try {
      Problem::from_key(bad);
      ADD_FAILURE() << "\"" << bad << "\" was taken for a key";
    } catch (const ProblemError& e) {
      EXPECT_NE(std::string(e.what()).find("key \"" + bad + "\""), std::string::npos) << e.what();
    }
  }
}

TEST(ProblemBytes, Kb85F32MovesInputOutputAndWeightsOnce) {
  const Problem p = kb85();
  const double in = 32.0 * 128 * 128 * 256, out = 32.0 * 128 * 126 * 250, wt = 128.0 * 21;
  EXPECT_DOUBLE_EQ(p.bytes(), (in + out + wt) * 4);
  EXPECT_DOUBLE_EQ(p.flops(), 2.0 * out * 21);
}

TEST(ProblemBytes, HalfPrecisionHalvesBytesNotFlops) {
  Problem p = kb85();
  const double bytes32 = p.bytes(), flops32 = p.flops();
  p.dtype = DType::f16;
  EXPECT_DOUBLE_EQ(p.bytes(), bytes32 / 2);
  EXPECT_DOUBLE_EQ(p.flops(), flops32);
  p.dtype = DType::bf16;
  EXPECT_DOUBLE_EQ(p.bytes(), bytes32 / 2);
}

TEST(ProblemBytes, BiasAndMultiplierCountTheirElements) {
  Problem p;
  p.n = 2, p.c = 3, p.h = 5, p.w = 5, p.kh = 3, p.kw = 3, p.m = 2, p.bias = true;
  // input 150, output 2*6*3*3 = 108, weights 6*9 = 54, bias 6
  EXPECT_EQ(p.bias_elems(), 6);
  EXPECT_DOUBLE_EQ(p.bytes(), (150.0 + 108 + 54 + 6) * 4);
  EXPECT_DOUBLE_EQ(p.flops(), 2.0 * 108 * 9);
}

// Each pass moves its own tensors once: forward x, w, bias -> y; dgrad dy, w -> dx (no bias);
// wgrad x, dy -> dw, db. The three add up to the same elements except dgrad's bias.
TEST(ProblemBytes, EachPassCountsTheTensorsItMoves) {
  Problem p;
  p.n = 2, p.c = 3, p.h = 5, p.w = 5, p.kh = 3, p.kw = 3, p.m = 2;
  const double in = 150, out = 108, wt = 54, b = 6;
  for (const Pass pass : {Pass::forward, Pass::dgrad, Pass::wgrad}) {
    p.pass = pass;
    p.bias = false;
    EXPECT_DOUBLE_EQ(p.bytes(), (in + out + wt) * 4) << to_string(pass);
    EXPECT_DOUBLE_EQ(p.flops(), 2.0 * out * 9) << to_string(pass);
    p.bias = true;
    EXPECT_DOUBLE_EQ(p.bytes(), (in + out + wt + (pass == Pass::dgrad ? 0 : b)) * 4) << to_string(pass);
  }
  p.bias = false;
  p.pass = Pass::forward;
  EXPECT_EQ(p.result_elems(), out);
  p.pass = Pass::dgrad;
  EXPECT_EQ(p.result_elems(), in);
  p.pass = Pass::wgrad;
  EXPECT_EQ(p.result_elems(), wt);
  p.bias = true;
  EXPECT_EQ(p.result_elems(), wt + b);
}

TEST(ProblemValidate, RefusesDgradWithBiasNamingTheField) {
  Problem p = kb85();
  p.pass = Pass::dgrad;
  EXPECT_NO_THROW(p.validate());
  p.bias = true;
  try {
    p.validate();
    ADD_FAILURE() << "dgrad with bias validated";
  } catch (const ProblemError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("bias", 0), 0u) << e.what();
  }
  p.pass = Pass::wgrad;  // the weight gradient has db
  EXPECT_NO_THROW(p.validate());
}

// parse(bad, field) throws a ProblemError naming `field` and the quoted value, for every bad value.
template <class E>
void expect_refusals_name_field_and_value(E (*parse)(std::string_view, std::string_view), const char* field,
                                          std::initializer_list<const char*> bads) {
  for (const char* bad : bads) {
    try {
      parse(bad, field);
      ADD_FAILURE() << field << ": accepted " << bad;
    } catch (const ProblemError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(field), std::string::npos) << msg;
      EXPECT_NE(msg.find(std::string("\"") + bad + "\""), std::string::npos) << msg;
    }
  }
}

TEST(ProblemParse, RefusesUnknownPassNamingFieldAndValue) {
  expect_refusals_name_field_and_value(parse_pass, "problems[1].pass", {"backward", "Forward", "fwd", "bgrad", ""});
}

TEST(ProblemParse, DtypesAndLayoutsRoundTrip) {
  for (DType d : {DType::f32, DType::f16, DType::bf16}) EXPECT_EQ(parse_dtype(to_string(d)), d);
  EXPECT_EQ(parse_layout(to_string(Layout::nchw)), Layout::nchw);
  EXPECT_EQ(parse_layout(to_string(Layout::nhwc)), Layout::nhwc);
  Problem p = kb85();
  p.layout = Layout::nhwc;
  EXPECT_EQ(Problem::from_key(p.key()).layout, Layout::nhwc);
  EXPECT_NE(p.key(), kb85().key());
  EXPECT_EQ(dtype_size(DType::f32), 4u);
  EXPECT_EQ(dtype_size(DType::f16), 2u);
  EXPECT_EQ(dtype_size(DType::bf16), 2u);
}

// output_pos inverts output_index in both layouts; NHWC puts channels innermost.
TEST(ProblemLayout, IndexAndPositionAgree) {
  for (Layout l : {Layout::nchw, Layout::nhwc}) {
    ConvShape s;
    s.n = 2, s.c = 3, s.m = 2, s.h = 5, s.w = 7, s.kh = 3, s.kw = 2;
    s.layout = l;
    for (std::int64_t i = 0; i < s.output_elems(); ++i) {
      const ConvShape::OutPos o = s.output_pos(i);
      ASSERT_EQ(s.output_index(o.n, o.oc, o.oh, o.ow), i) << to_string(l);
    }
  }
  ConvShape s;
  s.n = 2, s.c = 3, s.h = 5, s.w = 7;
  s.layout = Layout::nhwc;
  EXPECT_EQ(s.input_index(0, 1, 0, 0), 1);
  EXPECT_EQ(s.input_index(0, 0, 0, 1), 3);
  EXPECT_EQ(s.input_index(1, 0, 0, 0), 5 * 7 * 3);
  s.layout = Layout::nchw;
  EXPECT_EQ(s.input_index(0, 0, 0, 1), 1);
  EXPECT_EQ(s.input_index(0, 1, 0, 0), 35);
}

// input_pos inverts input_index in both layouts (the dgrad result is input-shaped).
TEST(ProblemLayout, InputIndexAndPositionAgree) {
  for (Layout l : {Layout::nchw, Layout::nhwc}) {
    ConvShape s;
    s.n = 2, s.c = 3, s.h = 5, s.w = 7;
    s.layout = l;
    std::vector<bool> seen(static_cast<std::size_t>(s.input_elems()));
    for (std::int64_t n = 0; n < s.n; ++n)
      for (std::int64_t c = 0; c < s.c; ++c)
        for (std::int64_t h = 0; h < s.h; ++h)
          for (std::int64_t w = 0; w < s.w; ++w) {
            const std::int64_t i = s.input_index(n, c, h, w);
            ASSERT_GE(i, 0);
            ASSERT_LT(i, s.input_elems());
            seen[static_cast<std::size_t>(i)] = true;
            const ConvShape::InPos p = s.input_pos(i);
            ASSERT_EQ(p.n, n) << to_string(l) << " " << i;
            ASSERT_EQ(p.c, c) << to_string(l) << " " << i;
            ASSERT_EQ(p.h, h) << to_string(l) << " " << i;
            ASSERT_EQ(p.w, w) << to_string(l) << " " << i;
          }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), true), s.input_elems()) << to_string(l);
  }
}

TEST(ProblemParse, RefusesUnknownDtypeNamingFieldAndValue) {
  expect_refusals_name_field_and_value(parse_dtype, "problems[2].dtype", {"f64", "F32", "float", "fp16", ""});
  EXPECT_THROW(parse_dtype("f64"), ProblemError);
}

TEST(ProblemParse, RefusesUnknownLayoutNamingFieldAndValue) {
  for (const char* bad : {"NHWC", "NCHW", "chw", "channels_last"}) {
    try {
      parse_layout(bad);
      ADD_FAILURE() << "accepted layout " << bad;
    } catch (const ProblemError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind("layout", 0), 0u) << msg;
      EXPECT_NE(msg.find(bad), std::string::npos) << msg;
    }
  }
}

TEST(ProblemJson, RoundTripKeepsNameAndKey) {
  Problem p = kb85();
  p.name = "odd";
  p.sh = 2, p.pw = 3, p.dh = 2, p.m = 2, p.bias = true, p.dtype = DType::bf16;
  const nlohmann::json j = p;
  const Problem q = j.get<Problem>();
  EXPECT_EQ(q.name, p.name);
  EXPECT_EQ(q.key(), p.key());
  EXPECT_EQ(q.out_h(), p.out_h());
  EXPECT_EQ(q.out_w(), p.out_w());
}

TEST(ProblemJson, PassSurvivesTheRoundTripAndDefaultsToForward) {
  Problem p = kb85();
  p.pass = Pass::wgrad;
  p.bias = true;
  nlohmann::json j = p;
  EXPECT_EQ(j.at("pass"), "wgrad");
  EXPECT_EQ(j.get<Problem>().key(), p.key());
  j.erase("pass");  // tables written before the pass axis
  EXPECT_EQ(j.get<Problem>().pass, Pass::forward);
  j["pass"] = "sideways";
  try {
    (void)j.get<Problem>();
    ADD_FAILURE() << "pass \"sideways\" was read";
  } catch (const ProblemJsonError& e) {
    EXPECT_NE(std::string(e.what()).find("sideways"), std::string::npos) << e.what();
  }
}

TEST(ProblemJson, WritesPairsAndDerivedFields) {
  const nlohmann::json j = kb85();
  EXPECT_EQ(j.at("kernel"), nlohmann::json::array({3, 7}));
  EXPECT_EQ(j.at("stride"), nlohmann::json::array({1, 1}));
  EXPECT_EQ(j.at("out_h"), 126);
  EXPECT_EQ(j.at("out_w"), 250);
  EXPECT_EQ(j.at("out_c"), 128);
  EXPECT_EQ(j.at("dtype"), "f32");
  EXPECT_EQ(j.at("layout"), "nchw");
  EXPECT_EQ(j.at("key"), kb85().key());
}

TEST(ProblemJson, SizesAbove2To31SurviveTheRoundTrip) {
  Problem p = kb85();
  p.n = std::int64_t{1} << 33;
  const Problem q = nlohmann::json(p).get<Problem>();
  EXPECT_EQ(q.n, p.n);
}

}  // namespace
}  // namespace dwt

// The direct family's index division: exact for every divisor a launch can have (1 .. 2^31 - 1) on
// the numerators it divides (0 .. 2^31 - 1), at the edges of each quotient and at random.
TEST(FastDiv, EqualsIntegerDivision) {
  std::mt19937 rng(7);
  std::vector<unsigned> divisors;
  for (unsigned d = 1; d <= 4096; ++d) divisors.push_back(d);
  for (int b = 12; b < 31; ++b)
    for (unsigned d : {(1u << b) - 1, 1u << b, (1u << b) + 1}) divisors.push_back(d);
  for (int i = 0; i < 2000; ++i) divisors.push_back(1 + rng() % 0x7ffffffeu);
  const unsigned top = 0x7fffffffu;
  int checked = 0;
  for (unsigned d : divisors) {
    const dwt::FastDiv div(d);
    std::vector<unsigned> ns = {0, 1, d - 1, d, d + 1, top, top - 1, top - top % d, top - top % d - 1};
    for (int i = 0; i < 64; ++i) ns.push_back(rng() & top);
    for (unsigned q : {1u, 2u, 7u, 1000u, top / d}) {
      if (q <= top / d) ns.push_back(q * d), ns.push_back(q * d - 1);
    }
    for (unsigned n : ns) {
      if (n > top) continue;
      ASSERT_EQ(div(n), n / d) << n << " / " << d;
      ++checked;
    }
  }
  EXPECT_GT(checked, 300000);
}
