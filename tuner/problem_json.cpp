#include "problem_json.hpp"

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
                     {"out_c", p.out_c()},
                     {"out_h", p.out_h()},
                     {"out_w", p.out_w()},
                     {"key", p.key()}};
}

void from_json(const nlohmann::json& j, Problem& p) {
  p.name = j.at("name").get<std::string>();
  p.n = j.at("n").get<std::int64_t>();
  p.c = j.at("c").get<std::int64_t>();
  p.h = j.at("h").get<std::int64_t>();
  p.w = j.at("w").get<std::int64_t>();
  auto pair = [&](const char* k, int& a, int& b) {
    const auto& v = j.at(k);
    a = v.at(0).get<int>();
    b = v.at(1).get<int>();
  };
  pair("kernel", p.kh, p.kw);
  pair("stride", p.sh, p.sw);
  pair("padding", p.ph, p.pw);
  pair("dilation", p.dh, p.dw);
  p.m = j.at("multiplier").get<int>();
  p.bias = j.at("bias").get<bool>();
  p.dtype = parse_dtype(j.at("dtype").get<std::string>());
  p.layout = parse_layout(j.at("layout").get<std::string>());
}

}  // namespace dwt
