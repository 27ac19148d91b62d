#include "problem_json.hpp"

#include <fmt/format.h>

#include <climits>
#include <cstdint>

namespace dwt {

void to_json(nlohmann::json& j, const Problem& p) {
  j = nlohmann::json{{"name", p.name},
                     {"n", p.n},
                     {"c", p.c},
                     {"h", p.h},
                     {"w", p.w},
                     {"kernel", {p.kh, p.kw}},
                     {"stride", {p.sh, p.sw}},
                     {"padding", {p.ph, p.pw}},
                     {"dilation", {p.dh, p.dw}},
                     {"multiplier", p.m},
                     {"bias", p.bias},
                     {"dtype", to_string(p.dtype)},
                     {"layout", to_string(p.layout)},
                     {"pass", to_string(p.pass)},
                     {"out_c", p.out_c()},
                     {"out_h", p.out_h()},
                     {"out_w", p.out_w()},
                     {"key", p.key()}};
}

namespace {

using nlohmann::json;

const json& member(const json& j, const char* key) {
  if (!j.is_object())
    throw ProblemJsonError("", fmt::format("expected an object, got {}", j.type_name()));
  const auto it = j.find(key);
  if (it == j.end()) throw ProblemJsonError(fmt::format("/{}", key), "missing required field");
  return *it;
}

// A JSON integer in [lo, hi]; floats (even 3.0), strings and out-of-range values are refused.
std::int64_t integer(const json& v, const std::string& pointer, std::int64_t lo, std::int64_t hi) {
  const auto shown = [&] {
    const std::string s = v.dump();
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
  };
  if (!v.is_number_integer())
    throw ProblemJsonError(pointer, fmt::format("expected an integer, got {}", shown()));
  const bool big = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi);
  const std::int64_t x = big ? hi : v.get<std::int64_t>();
  if (big || x > hi || x < lo)
    throw ProblemJsonError(pointer, fmt::format("{} is out of range [{}, {}]", shown(), lo, hi));
  return x;
}

void pair(const json& j, const char* key, int lo, int& a, int& b) {
  const json& v = member(j, key);
  const std::string at = fmt::format("/{}", key);
  if (!v.is_array() || v.size() != 2)
    throw ProblemJsonError(at, fmt::format("expected a pair [h, w] of integers, got {}",
                                           v.is_array() ? fmt::format("{} values", v.size())
                                                        : std::string(v.type_name())));
  a = static_cast<int>(integer(v[0], at + "/0", lo, INT_MAX));
  b = static_cast<int>(integer(v[1], at + "/1", lo, INT_MAX));
}

std::string text(const json& j, const char* key) {
  const json& v = member(j, key);
  if (!v.is_string())
    throw ProblemJsonError(fmt::format("/{}", key),
                           fmt::format("expected a string, got {}", v.type_name()));
  return v.get<std::string>();
}

// A name from a fixed list (dtype, layout, pass): parse's ProblemError gets the field's pointer.
template <class E>
E named(const json& j, const char* key, E (*parse)(std::string_view, std::string_view)) {
  const std::string s = text(j, key);
  try {
    return parse(s, key);
  } catch (const ProblemError& e) {
    throw ProblemJsonError(fmt::format("/{}", key), e.what());
  }
}

}  // namespace

void from_json(const nlohmann::json& j, Problem& p) {
  p.name = text(j, "name");
  // Out-of-range sizes are left to validate(), which names the field; here they must fit int64.
  const auto size = [&](const char* key) {
    return integer(member(j, key), fmt::format("/{}", key), 1, INT64_MAX);
  };
  p.n = size("n");
  p.c = size("c");
  p.h = size("h");
  p.w = size("w");
  pair(j, "kernel", 1, p.kh, p.kw);
  pair(j, "stride", 1, p.sh, p.sw);
  pair(j, "padding", 0, p.ph, p.pw);
  pair(j, "dilation", 1, p.dh, p.dw);
  p.m = static_cast<int>(integer(member(j, "multiplier"), "/multiplier", 1, INT_MAX));
  const json& bias = member(j, "bias");
  if (!bias.is_boolean())
    throw ProblemJsonError("/bias", fmt::format("expected true or false, got {}", bias.type_name()));
  p.bias = bias.get<bool>();
  p.dtype = named(j, "dtype", parse_dtype);
  p.layout = named(j, "layout", parse_layout);
  // Tables written before the pass axis hold forward problems only.
  p.pass = j.contains("pass") ? named(j, "pass", parse_pass) : Pass::forward;
}

}  // namespace dwt
