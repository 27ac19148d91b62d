// Shape-set configs: the shipped files, value forms, defaults, list expansion, and every refusal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "config.hpp"

namespace dwt {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fs::path source_dir() {
  if (const char* dir = std::getenv("DWTUNE_SOURCE_DIR")) return dir;
  return fs::path(__FILE__).parent_path().parent_path().parent_path();
}

ShapeSet shipped(const char* file) { return load_config(source_dir() / "configs" / file); }

const Problem& find(const ShapeSet& s, const std::string& name) {
  for (const auto& p : s.problems)
    if (p.name == name) return p;
  throw std::runtime_error("no problem named " + name);
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A valid problem to spoil one field at a time.
json kb85() {
  return {{"name", "kb85"}, {"n", 32},  {"c", 128},
          {"h", 128},       {"w", 256}, {"kernel", json::array({3, 7})}};
}

// nlohmann reads {"a", "b"} as an object, so arrays below are spelled json::array.
json set_of(std::initializer_list<json> problems) {
  json list = json::array();
  for (const auto& p : problems) list.push_back(p);
  return {{"name", "t"}, {"problems", list}};
}

ShapeSet parse(const json& j) { return parse_config_text(j.dump(), "test.json"); }

constexpr const char* kBad = "configs/bad.json";

// The ConfigError message for `text`, or a test failure when it parses.
std::string refusal(const std::string& text) {
  try {
    parse_config_text(text, kBad);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << text;
  return {};
}
std::string refusal(const json& j) { return refusal(j.dump()); }

// A problem whose `field` holds `value`, or lacks `field` when value is discarded.
std::string refusal_with(const std::string& field, const json& value) {
  json p = kb85();
  if (value.is_discarded())
    p.erase(field);
  else
    p[field] = value;
  return refusal(set_of({p}));
}

// Every message names the file, the problem and the field.
#define EXPECT_NAMES(msg, problem, field)                                      \
  do {                                                                         \
    const std::string m_ = (msg);                                              \
    EXPECT_TRUE(contains(m_, kBad)) << m_;                                     \
    EXPECT_TRUE(contains(m_, problem)) << m_;                                  \
    EXPECT_TRUE(contains(m_, std::string("field \"") + (field) + "\"")) << m_; \
  } while (0)

// --- The shipped configs ---

TEST(ConfigShipped, EveryConfigParses) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(source_dir() / "configs")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    ShapeSet s;
    ASSERT_NO_THROW(s = load_config(entry.path())) << entry.path();
    EXPECT_FALSE(s.problems.empty()) << entry.path();
    for (const auto& p : s.problems) EXPECT_NO_THROW(p.validate()) << p.name;
  }
  EXPECT_GE(files, 3);
}

TEST(ConfigShipped, KernelBenchKeepsPlainNamesForF32) {
  const ShapeSet s = shipped("kernelbench.json");
  EXPECT_EQ(s.name, "kernelbench-depthwise");
  EXPECT_EQ(s.problems.size(), 30u);
  for (const char* name : {"kb82", "kb83", "kb84", "kb85", "kb86dw"}) {
    const Problem& p = find(s, name);
    EXPECT_EQ(p.dtype, DType::f32) << name;
    EXPECT_EQ(p.layout, Layout::nchw) << name;
    EXPECT_FALSE(p.bias) << name;
    EXPECT_EQ(p.m, 1) << name;
    // The half-precision and NHWC twins are the same computation apart from the dtype and layout.
    for (const char* layout : {"", "_nhwc"})
      for (auto [suffix, dt] : {std::pair{"", DType::f32}, std::pair{"_f16", DType::f16}, std::pair{"_bf16", DType::bf16}}) {
        const std::string twin_name = std::string(name) + layout + suffix;
        if (twin_name == name) continue;
        Problem twin = find(s, twin_name);
        EXPECT_EQ(twin.dtype, dt);
        EXPECT_EQ(twin.layout, *layout ? Layout::nhwc : Layout::nchw) << twin.name;
        twin.dtype = DType::f32;
        twin.layout = Layout::nchw;
        EXPECT_EQ(twin.key(), p.key()) << twin.name;
      }
  }
}

TEST(ConfigShipped, KernelBenchShapesMatchTheirFiles) {
  const ShapeSet s = shipped("kernelbench.json");
  const auto shape = [&](const char* name) {
    const Problem& p = find(s, name);
    return std::tuple{p.n, p.c, p.h, p.w, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw};
  };
  using T = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, int, int, int, int,
                       int, int, int, int>;
  EXPECT_EQ(shape("kb82"), (T{16, 64, 512, 512, 3, 3, 1, 1, 0, 0, 1, 1}));
  EXPECT_EQ(shape("kb83"), (T{64, 8, 512, 512, 3, 1, 1, 1, 0, 0, 1, 1}));
  EXPECT_EQ(shape("kb84"), (T{64, 128, 256, 512, 3, 3, 1, 1, 0, 0, 1, 1}));
  EXPECT_EQ(shape("kb85"), (T{32, 128, 128, 256, 3, 7, 1, 1, 0, 0, 1, 1}));
  EXPECT_EQ(shape("kb86dw"), (T{16, 64, 512, 512, 3, 3, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(find(s, "kb85").out_h(), 126);
  EXPECT_EQ(find(s, "kb85").out_w(), 250);
  EXPECT_EQ(find(s, "kb86dw").out_w(), 512);
}

// networks-nhwc.json: networks.json's layers, each in NHWC under its name with _nhwc.
TEST(ConfigShipped, NetworksNhwcAreTheNetworksInNhwc) {
  const ShapeSet a = shipped("networks.json");
  const ShapeSet b = shipped("networks-nhwc.json");
  ASSERT_EQ(a.problems.size(), b.problems.size());
  for (std::size_t i = 0; i < a.problems.size(); ++i) {
    const Problem& p = a.problems[i];
    Problem q = b.problems[i];
    EXPECT_EQ(q.layout, Layout::nhwc) << q.name;
    const std::size_t cut = p.name.find(p.n == 1 ? "_n1_" : "_n32_");
    ASSERT_NE(cut, std::string::npos) << p.name;
    EXPECT_EQ(q.name, p.name.substr(0, cut) + "_nhwc" + p.name.substr(cut)) << p.name;
    q.layout = Layout::nchw;
    EXPECT_EQ(q.key(), p.key()) << q.name;
  }
}

TEST(ConfigShipped, NetworksInEveryDtypeAtBatch1And32WithoutRepeatedLayers) {
  const ShapeSet s = shipped("networks.json");
  EXPECT_EQ(s.problems.size(), 47u * 2 * 3);
  std::set<std::string> keys;
  std::map<DType, int> per_dtype;
  for (const auto& p : s.problems) {
    ++per_dtype[p.dtype];
    EXPECT_TRUE(p.n == 1 || p.n == 32) << p.name;
    EXPECT_NE(p.name.find(p.n == 1 ? "_n1_" : "_n32_"), std::string::npos) << p.name;
    EXPECT_TRUE(p.name.ends_with(std::string("_") + to_string(p.dtype))) << p.name;
    EXPECT_EQ(p.ph, p.kh / 2 * p.dh) << p.name;  // "same" padding
    EXPECT_EQ(p.h, p.w) << p.name;
    EXPECT_TRUE(keys.insert(p.key()).second) << "repeated layer " << p.name;
  }
  EXPECT_EQ(per_dtype.size(), 3u);
  EXPECT_EQ(find(s, "mbv2_c144_h56_k3_s2_n32_f32").out_h(), 28);
  EXPECT_EQ(find(s, "mbv2_c960_h7_k3_s1_n1_f16").out_w(), 7);
  EXPECT_EQ(find(s, "effb0_c144_h56_k5_s2_n1_bf16").out_h(), 28);
  EXPECT_EQ(find(s, "effb0_mbv3_c672_h14_k5_s2_n32_f32").out_w(), 7);
  EXPECT_EQ(find(s, "replknet31b_c128_h56_k31_n1_f32").out_h(), 56);
  EXPECT_EQ(find(s, "deeplab_aspp_c256_h33_k3_d18_n32_f16").out_w(), 33);
  const Problem& cn = find(s, "convnext_t_c768_h7_k7_n32_f32");
  EXPECT_TRUE(cn.bias);
  EXPECT_EQ(cn.kh, 7);
  EXPECT_EQ(cn.out_h(), 7);
}

// kernelbench-backward.json: KernelBench 82-85 exactly as kernelbench.json sizes them, in both
// backward passes, every dtype and both layouts.
TEST(ConfigShipped, KernelBenchBackwardIsKernelBenchInBothPasses) {
  const ShapeSet fwd = shipped("kernelbench.json");
  const ShapeSet s = shipped("kernelbench-backward.json");
  EXPECT_EQ(s.problems.size(), 4u * 3 * 2 * 2);
  std::set<std::string> keys;
  for (const Problem& p : s.problems) {
    EXPECT_NE(p.pass, Pass::forward) << p.name;
    EXPECT_TRUE(p.name.ends_with(std::string("_") + to_string(p.dtype) + "_" + to_string(p.layout) + "_" +
                                 to_string(p.pass)))
        << p.name;
    EXPECT_TRUE(keys.insert(p.key()).second) << p.name;
    // The forward twin of the same name, dtype and layout is in kernelbench.json.
    Problem q = p;
    q.pass = Pass::forward;
    const std::string base = p.name.substr(0, p.name.find('_'));
    EXPECT_TRUE(std::any_of(fwd.problems.begin(), fwd.problems.end(),
                            [&](const Problem& f) { return f.name.starts_with(base) && f.key() == q.key(); }))
        << p.name;
  }
  EXPECT_EQ(find(s, "kb85_f32_nchw_dgrad").out_w(), 250);
  EXPECT_EQ(find(s, "kb83_bf16_nhwc_wgrad").kw, 1);
}

// networks-backward.json: networks.json's layers in f32 and f16, both passes, batch 1 and 32.
TEST(ConfigShipped, NetworksBackwardAreTheNetworksInBothPasses) {
  const ShapeSet fwd = shipped("networks.json");
  const ShapeSet s = shipped("networks-backward.json");
  std::map<std::string, const Problem*> by_key;
  for (const Problem& p : fwd.problems) by_key[p.key()] = &p;
  std::map<Pass, int> per_pass;
  std::set<std::string> keys;
  for (const Problem& p : s.problems) {
    ++per_pass[p.pass];
    EXPECT_EQ(p.layout, Layout::nchw) << p.name;
    EXPECT_NE(p.dtype, DType::bf16) << p.name;
    EXPECT_TRUE(p.name.ends_with(std::string("_") + to_string(p.dtype) + "_" + to_string(p.pass))) << p.name;
    EXPECT_TRUE(keys.insert(p.key()).second) << p.name;
    Problem q = p;
    q.pass = Pass::forward;
    if (p.pass == Pass::dgrad && !by_key.count(q.key())) q.bias = true;  // dgrad drops the bias
    ASSERT_TRUE(by_key.count(q.key())) << p.name << " is no layer of networks.json";
    const std::string& name = by_key[q.key()]->name;
    EXPECT_EQ(p.name, name + "_" + to_string(p.pass)) << name;
  }
  EXPECT_EQ(per_pass[Pass::dgrad], 47 * 2 * 2);
  EXPECT_EQ(per_pass[Pass::wgrad], 47 * 2 * 2);
  EXPECT_TRUE(find(s, "convnext_t_c768_h7_k7_n32_f32_wgrad").bias);
  EXPECT_FALSE(find(s, "convnext_t_c768_h7_k7_n32_f32_dgrad").bias);
}

// sanitize.json runs the backward passes too, each with and without stride and in NHWC.
TEST(ConfigShipped, SanitizeHasBackwardProblems) {
  const ShapeSet s = shipped("sanitize.json");
  std::set<std::string> seen;
  for (const Problem& p : s.problems) {
    if (p.pass == Pass::forward) continue;
    const std::string pass = to_string(p.pass);
    seen.insert(pass);
    if (p.sh > 1) seen.insert(pass + " stride");
    if (p.layout == Layout::nhwc) seen.insert(pass + " nhwc");
    if (p.bias) seen.insert(pass + " bias");
    EXPECT_LT(p.output_elems(), 1'000'000) << p.name;
  }
  for (const char* want : {"dgrad", "wgrad", "dgrad stride", "wgrad stride", "dgrad nhwc", "wgrad nhwc", "wgrad bias"})
    EXPECT_TRUE(seen.count(want)) << "sanitize.json has no " << want << " problem";
}

TEST(ConfigShipped, EdgeCoversEveryCaseAndStaysSmall) {
  const ShapeSet s = shipped("edge.json");
  EXPECT_GE(s.problems.size(), 20u);
  EXPECT_LE(s.problems.size(), 40u);
  std::set<std::string> seen;
  for (const auto& p : s.problems) {
    EXPECT_LT(p.output_elems(), 2'000'000) << p.name;
    if (p.w == 1) seen.insert("w1");
    if (p.w == 7) seen.insert("w7");
    if (p.w % 4 == 3 && p.w > 7) seen.insert("w4k+3");
    if (p.sh == 2 || p.sw == 2) seen.insert("stride2");
    if (p.sh == 3 && p.sw == 3) seen.insert("stride3");
    if (p.dh == 2 || p.dw == 2) seen.insert("dilation2");
    if (p.ph > 0 || p.pw > 0) seen.insert("padding");
    if (p.ph >= p.kh && p.pw >= p.kw) seen.insert("padding=kernel");
    if (p.kh == 1 && p.kw > 1) seen.insert("1xK");
    if (p.kh > 1 && p.kw == 1) seen.insert("Kx1");
    if (p.kh == 5 && p.kw == 5) seen.insert("5x5");
    if (p.kh == 7 && p.kw == 7) seen.insert("7x7");
    if (p.m == 2) seen.insert("multiplier2");
    if (p.bias) seen.insert("bias");
    if (p.n == 1) seen.insert("n1");
    if (p.dtype == DType::f16) seen.insert("f16");
    if (p.dtype == DType::bf16) seen.insert("bf16");
    if (p.out_w() * static_cast<std::int64_t>(dtype_size(p.dtype)) % 16 != 0)
      seen.insert("unaligned row");
  }
  for (const char* want :
       {"w1", "w7", "w4k+3", "stride2", "stride3", "dilation2", "padding", "padding=kernel", "1xK",
        "Kx1", "5x5", "7x7", "multiplier2", "bias", "n1", "f16", "bf16", "unaligned row"})
    EXPECT_TRUE(seen.count(want)) << "edge.json has no " << want << " problem";
}

// --- Forms and defaults ---

TEST(ConfigForms, DefaultsFillOptionalFields) {
  const ShapeSet s = parse(set_of({kb85()}));
  ASSERT_EQ(s.problems.size(), 1u);
  const Problem& p = s.problems[0];
  EXPECT_EQ(p.name, "kb85");
  EXPECT_EQ(std::tuple(p.sh, p.sw, p.ph, p.pw, p.dh, p.dw), std::tuple(1, 1, 0, 0, 1, 1));
  EXPECT_EQ(p.m, 1);
  EXPECT_FALSE(p.bias);
  EXPECT_EQ(p.dtype, DType::f32);
  EXPECT_EQ(p.layout, Layout::nchw);
  EXPECT_EQ(s.name, "t");
  EXPECT_EQ(s.source, "test.json");
}

TEST(ConfigForms, ScalarStandsForBothOfAPair) {
  json p = kb85();
  p["kernel"] = 5;
  p["stride"] = 2;
  p["padding"] = 2;
  p["dilation"] = 3;
  const Problem q = parse(set_of({p})).problems.at(0);
  EXPECT_EQ(std::tuple(q.kh, q.kw, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw),
            std::tuple(5, 5, 2, 2, 2, 2, 3, 3));
}

TEST(ConfigForms, FlatTwoIntegerArrayIsOnePair) {
  json p = kb85();
  p["stride"] = {2, 1};
  p["padding"] = {0, 3};
  p["dilation"] = {1, 2};
  const ShapeSet s = parse(set_of({p}));
  ASSERT_EQ(s.problems.size(), 1u);
  const Problem& q = s.problems[0];
  EXPECT_EQ(q.name, "kb85");
  EXPECT_EQ(std::tuple(q.kh, q.kw, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw),
            std::tuple(3, 7, 2, 1, 0, 3, 1, 2));
}

TEST(ConfigForms, AllFieldsSpelledOut) {
  json p = kb85();
  p.update({{"stride", {1, 1}},
            {"padding", {0, 0}},
            {"dilation", {1, 1}},
            {"multiplier", 2},
            {"bias", true},
            {"dtype", "bf16"},
            {"layout", "nchw"}});
  const Problem q = parse(set_of({p})).problems.at(0);
  EXPECT_EQ(q.m, 2);
  EXPECT_TRUE(q.bias);
  EXPECT_EQ(q.dtype, DType::bf16);
  EXPECT_EQ(q.out_c(), 256);
}

TEST(ConfigForms, SizesAbove2To31AreRead64Bit) {
  json p = kb85();
  p["n"] = std::int64_t{1} << 32;
  p["c"] = 1;
  EXPECT_EQ(parse(set_of({p})).problems.at(0).n, std::int64_t{1} << 32);
}

TEST(ConfigForms, NameDefaultsToFileStemAndDescriptionIsAccepted) {
  const json j = {{"description", "why these shapes"}, {"problems", json::array({kb85()})}};
  EXPECT_EQ(parse_config_text(j.dump(), "configs/mine.json").name, "mine");
}

TEST(ConfigForms, ParseConfigTakesAParsedJson) {
  const ShapeSet s = parse_config(set_of({kb85()}), "x.json");
  EXPECT_EQ(s.source, "x.json");
  EXPECT_EQ(s.problems.at(0).out_w(), 250);
}

TEST(ConfigForms, ProblemsKeepConfigOrder) {
  json a = kb85(), b = kb85(), c = kb85();
  a["name"] = "zeta";
  b["name"] = "alpha";
  c["name"] = "mid";
  const ShapeSet s = parse(set_of({a, b, c}));
  ASSERT_EQ(s.problems.size(), 3u);
  EXPECT_EQ(s.problems[0].name, "zeta");
  EXPECT_EQ(s.problems[1].name, "alpha");
  EXPECT_EQ(s.problems[2].name, "mid");
}

// --- List expansion ---

std::vector<std::string> names(const ShapeSet& s) {
  std::vector<std::string> out;
  for (const auto& p : s.problems) out.push_back(p.name);
  return out;
}

TEST(ConfigExpand, BatchAndDtypeListsGiveTheProductInFieldOrder) {
  json p = kb85();
  p["dtype"] =
      json::array({"f32", "f16"});  // written before n on purpose: the suffix order is fixed
  p["n"] = {1, 32};
  const ShapeSet s = parse(set_of({p}));
  EXPECT_EQ(names(s), (std::vector<std::string>{"kb85_n1_f32", "kb85_n1_f16", "kb85_n32_f32",
                                                "kb85_n32_f16"}));
  EXPECT_EQ(find(s, "kb85_n32_f16").n, 32);
  EXPECT_EQ(find(s, "kb85_n32_f16").dtype, DType::f16);
  EXPECT_EQ(find(s, "kb85_n1_f32").n, 1);
}

TEST(ConfigExpand, EveryCombinationOnceWithUniqueNames) {
  json p = kb85();
  p["n"] = {1, 2};
  p["c"] = {8, 16, 24};
  p["kernel"] = {{3, 3}, {5, 5}};
  p["bias"] = {false, true};
  p["dtype"] = json::array({"f32", "f16", "bf16"});
  const ShapeSet s = parse(set_of({p}));
  EXPECT_EQ(s.problems.size(), 2u * 3 * 2 * 2 * 3);
  std::set<std::string> unique;
  std::set<std::tuple<std::int64_t, std::int64_t, int, bool, DType>> combos;
  for (const auto& q : s.problems) {
    unique.insert(q.name);
    combos.insert({q.n, q.c, q.kh, q.bias, q.dtype});
  }
  EXPECT_EQ(unique.size(), s.problems.size());
  EXPECT_EQ(combos.size(), s.problems.size());
  EXPECT_EQ(find(s, "kb85_n2_c16_k5_bias_bf16").kw, 5);
  EXPECT_FALSE(find(s, "kb85_n1_c8_k3_nobias_f32").bias);
}

TEST(ConfigExpand, PairListsOfPairsOrScalars) {
  json p = kb85();
  p["stride"] = json::array({1, {2, 1}});
  p["padding"] = {{0, 0}, {1, 3}};
  const ShapeSet s = parse(set_of({p}));
  EXPECT_EQ(names(s), (std::vector<std::string>{"kb85_s1_p0", "kb85_s1_p1x3", "kb85_s2x1_p0",
                                                "kb85_s2x1_p1x3"}));
  const Problem& q = find(s, "kb85_s2x1_p1x3");
  EXPECT_EQ(std::tuple(q.sh, q.sw, q.ph, q.pw), std::tuple(2, 1, 1, 3));
}

TEST(ConfigExpand, OtherScalarFieldsExpandWithTheirSuffixes) {
  json p = kb85();
  p["h"] = {64, 128};
  p["w"] = {251, 256};
  p["dilation"] = {{1, 1}, {2, 2}};
  p["multiplier"] = {1, 2};
  p["layout"] = json::array({"nchw"});  // one value: no suffix
  const ShapeSet s = parse(set_of({p}));
  EXPECT_EQ(s.problems.size(), 16u);
  const Problem& q = find(s, "kb85_h64_w251_d2_m2");
  EXPECT_EQ(std::tuple(q.h, q.w, q.dh, q.m), std::tuple(64, 251, 2, 2));
}

TEST(ConfigExpand, LayoutListExpandsLast) {
  json p = kb85();
  p["dtype"] = {"f32", "f16"};
  p["layout"] = {"nchw", "nhwc"};
  const ShapeSet s = parse(set_of({p}));
  EXPECT_EQ(names(s), (std::vector<std::string>{"kb85_f32_nchw", "kb85_f32_nhwc", "kb85_f16_nchw",
                                                "kb85_f16_nhwc"}));
  EXPECT_EQ(find(s, "kb85_f16_nhwc").layout, Layout::nhwc);
}

TEST(ConfigExpand, PassIsAStringOrAListAndExpandsLast) {
  json p = kb85();
  EXPECT_EQ(parse(set_of({p})).problems[0].pass, Pass::forward);  // the default
  p["pass"] = "wgrad";
  const ShapeSet one = parse(set_of({p}));
  ASSERT_EQ(one.problems.size(), 1u);
  EXPECT_EQ(one.problems[0].name, "kb85");
  EXPECT_EQ(one.problems[0].pass, Pass::wgrad);
  p["layout"] = {"nchw", "nhwc"};
  p["pass"] = {"forward", "dgrad", "wgrad"};
  const ShapeSet s = parse(set_of({p}));
  EXPECT_EQ(names(s), (std::vector<std::string>{"kb85_nchw_forward", "kb85_nchw_dgrad", "kb85_nchw_wgrad",
                                                "kb85_nhwc_forward", "kb85_nhwc_dgrad", "kb85_nhwc_wgrad"}));
  EXPECT_EQ(find(s, "kb85_nhwc_dgrad").pass, Pass::dgrad);
  EXPECT_EQ(find(s, "kb85_nhwc_dgrad").layout, Layout::nhwc);
  EXPECT_EQ(find(s, "kb85_nchw_wgrad").key(), find(s, "kb85_nchw_forward").key() + "_wgrad");
}

// The input gradient has no bias: dgrad alternatives that differ only in bias are one problem, named
// by the first of them; the other passes keep both.
TEST(ConfigExpand, DgradAlternativesDifferingOnlyInBiasAreOneProblem) {
  json p = kb85();
  p["bias"] = {true, false};
  p["pass"] = {"dgrad", "wgrad"};
  const ShapeSet s = parse(set_of({p}));
  EXPECT_EQ(names(s), (std::vector<std::string>{"kb85_bias_dgrad", "kb85_bias_wgrad", "kb85_nobias_wgrad"}));
  EXPECT_FALSE(find(s, "kb85_bias_dgrad").bias);
  EXPECT_TRUE(find(s, "kb85_bias_wgrad").bias);
  // A single dgrad problem asked for with a bias is that problem without one.
  json q = kb85();
  q["bias"] = true;
  q["pass"] = "dgrad";
  const ShapeSet t = parse(set_of({q}));
  ASSERT_EQ(t.problems.size(), 1u);
  EXPECT_FALSE(t.problems[0].bias);
  EXPECT_NO_THROW(t.problems[0].validate());
}

TEST(ConfigExpand, OneElementListKeepsTheName) {
  json p = kb85();
  p["n"] = json::array({4});
  p["stride"] = json::array({json::array({2, 2})});
  const ShapeSet s = parse(set_of({p}));
  ASSERT_EQ(s.problems.size(), 1u);
  EXPECT_EQ(s.problems[0].name, "kb85");
  EXPECT_EQ(s.problems[0].n, 4);
  EXPECT_EQ(s.problems[0].sh, 2);
}

TEST(ConfigExpand, SameBaseNameMayExpandDifferently) {
  // kernelbench.json's pattern: plain f32 entry, then its half-precision twins.
  json half = kb85();
  half["dtype"] = json::array({"f16", "bf16"});
  EXPECT_EQ(names(parse(set_of({kb85(), half}))),
            (std::vector<std::string>{"kb85", "kb85_f16", "kb85_bf16"}));
}

// --- Refusals: file and top level ---

TEST(ConfigRefuse, BadJsonGivesFileAndLine) {
  const std::string m =
      refusal(std::string("{\n  \"problems\": [\n    { \"name\": \"kb85\", }\n]}"));
  EXPECT_TRUE(contains(m, kBad)) << m;
  EXPECT_TRUE(contains(m, "invalid JSON")) << m;
  EXPECT_TRUE(contains(m, "line 3")) << m;
  EXPECT_TRUE(contains(refusal(std::string("")), "invalid JSON"));
  EXPECT_TRUE(contains(refusal(std::string("{\"problems\": [")), "invalid JSON"));
}

TEST(ConfigRefuse, TopLevelNotAnObject) {
  const std::string m = refusal(json::array({kb85()}));
  EXPECT_TRUE(contains(m, kBad)) << m;
  EXPECT_TRUE(contains(m, "top level")) << m;
}

TEST(ConfigRefuse, MissingProblems) {
  const std::string m = refusal(json{{"name", "t"}});
  EXPECT_TRUE(contains(m, kBad)) << m;
  EXPECT_TRUE(contains(m, "field \"problems\"")) << m;
  EXPECT_TRUE(contains(m, "missing")) << m;
}

TEST(ConfigRefuse, ProblemsNotAnArray) {
  const std::string m = refusal(json{{"problems", kb85()}});
  EXPECT_TRUE(contains(m, "field \"problems\"")) << m;
  EXPECT_TRUE(contains(m, "expected an array")) << m;
}

TEST(ConfigRefuse, EmptyProblems) {
  const std::string m = refusal(json{{"problems", json::array()}});
  EXPECT_TRUE(contains(m, kBad)) << m;
  EXPECT_TRUE(contains(m, "field \"problems\"")) << m;
  EXPECT_TRUE(contains(m, "empty")) << m;
}

TEST(ConfigRefuse, UnknownTopLevelKey) {
  const std::string m = refusal(json{{"problem", json::array({kb85()})}});
  EXPECT_TRUE(contains(m, kBad)) << m;
  EXPECT_TRUE(contains(m, "field \"problem\"")) << m;
  EXPECT_TRUE(contains(m, "unknown key")) << m;
  EXPECT_TRUE(contains(m, "did you mean \"problems\"")) << m;
}

TEST(ConfigRefuse, TopLevelNameOrDescriptionOfWrongType) {
  EXPECT_TRUE(
      contains(refusal(json{{"name", 5}, {"problems", json::array({kb85()})}}), "field \"name\""));
  EXPECT_TRUE(
      contains(refusal(json{{"name", ""}, {"problems", json::array({kb85()})}}), "field \"name\""));
  EXPECT_TRUE(contains(
      refusal(json{{"description", json::array({1})}, {"problems", json::array({kb85()})}}),
      "field \"description\""));
}

TEST(ConfigRefuse, ProblemNotAnObjectNamesItsIndex) {
  const std::string m = refusal(set_of({kb85(), 5}));
  EXPECT_TRUE(contains(m, kBad)) << m;
  EXPECT_TRUE(contains(m, "problems[1]")) << m;
}

TEST(ConfigRefuse, RepeatedKeyInAProblem) {
  const std::string text = R"({"problems": [{"name": "kb85", "n": 32, "c": 128, "h": 128,
    "w": 256, "kernel": [3, 7], "stride": 1, "stride": 2}]})";
  const std::string m = refusal(text);
  EXPECT_NAMES(m, "problem \"kb85\"", "stride");
  EXPECT_TRUE(contains(m, "twice")) << m;
}

TEST(ConfigRefuse, RepeatedTopLevelKey) {
  const std::string m = refusal(std::string(R"({"name": "a", "name": "b", "problems": []})"));
  EXPECT_TRUE(contains(m, "field \"name\"")) << m;
  EXPECT_TRUE(contains(m, "twice")) << m;
}

// --- Refusals: one problem ---

TEST(ConfigRefuse, MissingRequiredFieldNamesProblemAndField) {
  for (const char* field : {"n", "c", "h", "w", "kernel"}) {
    const std::string m = refusal_with(field, json(json::value_t::discarded));
    EXPECT_NAMES(m, "problem \"kb85\"", field);
    EXPECT_TRUE(contains(m, "missing required field")) << m;
  }
}

TEST(ConfigRefuse, MissingNameUsesTheIndex) {
  json nameless = kb85();
  nameless.erase("name");
  json a = kb85(), b = kb85(), c = kb85();
  a["name"] = "a", b["name"] = "b", c["name"] = "c";
  const std::string m = refusal(set_of({a, b, c, nameless}));
  EXPECT_NAMES(m, "problems[3]", "name");
  EXPECT_TRUE(contains(m, "missing required field")) << m;
}

TEST(ConfigRefuse, BadNameUsesTheIndex) {
  for (const json& bad : {json(5), json(""), json("kb 85"), json("a/b"), json::array({"kb85"})}) {
    json p = kb85();
    p["name"] = bad;
    EXPECT_NAMES(refusal(set_of({p})), "problems[0]", "name");
  }
}

TEST(ConfigRefuse, ExampleMessageFromTheBriefIsExact) {
  EXPECT_EQ(refusal_with("stride", "x"),
            "configs/bad.json: problem \"kb85\" field \"stride\": expected a positive integer or a "
            "pair of them, got \"x\"");
}

TEST(ConfigRefuse, WrongTypesForSizes) {
  for (const char* field : {"n", "c", "h", "w"}) {
    for (const json& bad :
         {json("32"), json(3.5), json(32.0), json(true), json(nullptr), json::object({{"v", 1}})}) {
      const std::string m = refusal_with(field, bad);
      EXPECT_NAMES(m, "problem \"kb85\"", field);
      EXPECT_TRUE(contains(m, "expected a positive integer")) << m;
    }
  }
}

TEST(ConfigRefuse, ZeroOrNegativeSizes) {
  for (const char* field : {"n", "c", "h", "w", "multiplier"}) {
    for (int bad : {0, -1}) {
      const std::string m = refusal_with(field, bad);
      EXPECT_NAMES(m, "problem \"kb85\"", field);
      EXPECT_TRUE(contains(m, "got " + std::to_string(bad))) << m;
    }
  }
}

TEST(ConfigRefuse, IntegersTooLarge) {
  EXPECT_NAMES(refusal_with("n", json(std::uint64_t{1} << 63)), "problem \"kb85\"", "n");
  EXPECT_NAMES(refusal_with("kernel", json(std::int64_t{1} << 31)), "problem \"kb85\"", "kernel");
  EXPECT_NAMES(refusal_with("multiplier", json(std::int64_t{1} << 40)), "problem \"kb85\"",
               "multiplier");
}

TEST(ConfigRefuse, BadPairs) {
  const std::vector<std::pair<const char*, json>> cases = {
      {"kernel", 0},
      {"kernel", {3, 0}},
      {"kernel", {3, -7}},
      {"kernel", {3, 7, 1}},  // three numbers: neither a pair nor a list of alternatives
      {"kernel", json::array({3})},
      {"kernel", json::array()},
      {"kernel", 3.5},
      {"kernel", "3x7"},
      {"stride", 0},
      {"stride", {1, 2.5}},
      {"dilation", 0},
      {"dilation", {-1, 1}},
      {"padding", -1},
      {"padding", {0, -2}},
      {"padding", true},
  };
  for (const auto& [field, bad] : cases) {
    const std::string m = refusal_with(field, bad);
    EXPECT_NAMES(m, "problem \"kb85\"", field);
    EXPECT_TRUE(contains(m, "or a pair of them")) << m;
  }
  EXPECT_TRUE(contains(refusal_with("padding", -1), "non-negative")) << refusal_with("padding", -1);
}

TEST(ConfigRefuse, BiasMustBeABoolean) {
  for (const json& bad : {json(1), json(0), json("true"), json(nullptr)}) {
    const std::string m = refusal_with("bias", bad);
    EXPECT_NAMES(m, "problem \"kb85\"", "bias");
    EXPECT_TRUE(contains(m, "expected true or false")) << m;
  }
}

TEST(ConfigRefuse, UnknownDtype) {
  for (const json& bad : {json("f64"), json("F32"), json("half"), json(16)}) {
    const std::string m = refusal_with("dtype", bad);
    EXPECT_NAMES(m, "problem \"kb85\"", "dtype");
  }
  EXPECT_TRUE(contains(refusal_with("dtype", "f64"), "unknown dtype \"f64\""));
}

TEST(ConfigRefuse, UnknownLayout) {
  for (const json& bad : {json("NHWC"), json("NCHW"), json(0)}) {
    const std::string m = refusal_with("layout", bad);
    EXPECT_NAMES(m, "problem \"kb85\"", "layout");
  }
  EXPECT_TRUE(contains(refusal_with("layout", "channels_last"), "unknown layout \"channels_last\""));
}

TEST(ConfigRefuse, UnknownPassNamesIt) {
  for (const json& bad : {json("backward"), json("Forward"), json(1), json(true)}) {
    const std::string m = refusal_with("pass", bad);
    EXPECT_NAMES(m, "problem \"kb85\"", "pass");
  }
  EXPECT_TRUE(contains(refusal_with("pass", "bgrad"), "unknown pass \"bgrad\"")) << refusal_with("pass", "bgrad");
  const std::string in_list = refusal_with("pass", json::array({"dgrad", "backward"}));
  EXPECT_NAMES(in_list, "problem \"kb85\"", "pass");
  EXPECT_TRUE(contains(in_list, "\"backward\"")) << in_list;
  EXPECT_TRUE(contains(refusal_with("passes", "dgrad"), "did you mean \"pass\"")) << refusal_with("passes", "dgrad");
}

TEST(ConfigRefuse, UnknownKeyInAProblemNamesItAndSuggests) {
  const std::string m = refusal_with("strides", 2);
  EXPECT_NAMES(m, "problem \"kb85\"", "strides");
  EXPECT_TRUE(contains(m, "unknown key")) << m;
  EXPECT_TRUE(contains(m, "did you mean \"stride\"")) << m;
  const std::string far = refusal_with("groups", 128);
  EXPECT_NAMES(far, "problem \"kb85\"", "groups");
  EXPECT_FALSE(contains(far, "did you mean")) << far;
}

TEST(ConfigRefuse, DuplicateProblemName) {
  const std::string m = refusal(set_of({kb85(), kb85()}));
  EXPECT_NAMES(m, "problem \"kb85\"", "name");
  EXPECT_TRUE(contains(m, "duplicate problem name")) << m;
  EXPECT_TRUE(contains(m, "problems[0]")) << m;
}

TEST(ConfigRefuse, DuplicateNameAfterExpansion) {
  json listed = kb85();
  listed["n"] = {1, 32};
  json clash = kb85();
  clash["name"] = "kb85_n32";
  const std::string m = refusal(set_of({listed, clash}));
  EXPECT_NAMES(m, "problem \"kb85_n32\"", "name");
  EXPECT_TRUE(contains(m, "duplicate problem name")) << m;
}

TEST(ConfigRefuse, BadLists) {
  const std::vector<std::tuple<const char*, json, const char*>> cases = {
      {"n", json::array(), "empty list"},
      {"n", {1, 1}, "repeats"},
      {"n", {1, "x"}, "list element 1"},
      {"dtype", json::array({"f16", "f16"}), "repeats"},
      {"dtype", json::array({"f16", "f8"}), "list element 1"},
      {"bias", {false, 1}, "list element 1"},
      {"stride", {{1, 1}, {1, 1}}, "repeats"},
      {"stride", json::array({1, {1, 1}}), "repeats"},  // 1 and [1, 1] are the same pair
      {"stride", {{1, 1}, {2, 2, 2}}, "list element 1"},
      {"kernel", {{3, 3}, {0, 3}}, "list element 1"},
      {"n", json::array({json::array({1})}), "list element 0"},
  };
  for (const auto& [field, bad, why] : cases) {
    const std::string m = refusal_with(field, bad);
    EXPECT_NAMES(m, "problem \"kb85\"", field);
    EXPECT_TRUE(contains(m, why)) << m;
  }
}

TEST(ConfigRefuse, EmptyOutputNamesTheAxis) {
  json p = kb85();
  p["h"] = 2;  // kernel height 3
  std::string m = refusal(set_of({p}));
  EXPECT_NAMES(m, "problem \"kb85\"", "h");
  EXPECT_TRUE(contains(m, "empty output")) << m;
  p = kb85();
  p["w"] = 12;
  p["dilation"] = {1, 2};  // extent 13
  m = refusal(set_of({p}));
  EXPECT_NAMES(m, "problem \"kb85\"", "w");
  EXPECT_TRUE(contains(m, "empty output")) << m;
}

TEST(ConfigRefuse, EmptyOutputInOneExpandedCombinationNamesIt) {
  json p = kb85();
  p["w"] = {6, 256};  // kernel width 7
  const std::string m = refusal(set_of({p}));
  EXPECT_NAMES(m, "problem \"kb85_w6\"", "w");
}

TEST(ConfigRefuse, RowsOf2To31NameTheAxis) {
  json p = kb85();
  p["n"] = 1;
  p["c"] = 1;
  p["h"] = 3;
  p["w"] = std::int64_t{1} << 31;  // rows must stay below 2^31
  const std::string m = refusal(set_of({p}));
  EXPECT_NAMES(m, "problem \"kb85\"", "w");
  EXPECT_TRUE(contains(m, "2^31")) << m;
}

TEST(ConfigRefuse, TensorsTooLargeForInt64) {
  json p = kb85();
  p["n"] = std::int64_t{1} << 40;
  p["c"] = std::int64_t{1} << 20;
  const std::string m = refusal(set_of({p}));
  EXPECT_NAMES(m, "problem \"kb85\"", "n");
  EXPECT_TRUE(contains(m, "too large")) << m;
}

// --- Loading files ---

TEST(ConfigLoad, MissingFileNamesThePath) {
  const fs::path missing = fs::temp_directory_path() / "dwtune_no_such_config.json";
  try {
    load_config(missing);
    ADD_FAILURE() << "loaded a missing file";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), missing.string())) << e.what();
  }
}

TEST(ConfigLoad, DirectoryIsRefused) {
  EXPECT_THROW(load_config(fs::temp_directory_path()), ConfigError);
}

TEST(ConfigLoad, FileErrorsNameTheFile) {
  const fs::path file = fs::temp_directory_path() / "dwtune_test_config_bad.json";
  {
    std::ofstream out(file);
    out << R"({"problems": [{"name": "kb85", "n": 1, "c": 1, "h": 8, "w": 8, "kernel": 3,)"
        << "\n"
        << R"( "strides": 2}]})";
  }
  try {
    load_config(file);
    ADD_FAILURE() << "loaded a bad file";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_TRUE(contains(m, file.string() + ": problem \"kb85\" field \"strides\"")) << m;
  }
  fs::remove(file);
}

TEST(ConfigLoad, SourceIsThePathAsGiven) {
  const fs::path file = source_dir() / "configs" / "edge.json";
  EXPECT_EQ(load_config(file).source, file.string());
}

}  // namespace
}  // namespace dwt
