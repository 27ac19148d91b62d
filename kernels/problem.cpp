#include "problem.hpp"

#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace dwt {

const char* to_string(DType d) {
  switch (d) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
  }
  return "?";
}

const char* to_string(Layout l) {
  switch (l) {
    case Layout::nchw: return "nchw";
  }
  return "?";
}

DType parse_dtype(std::string_view s, std::string_view field) {
  if (s == "f32") return DType::f32;
  if (s == "f16") return DType::f16;
  if (s == "bf16") return DType::bf16;
  throw ProblemError(fmt::format("{}: unknown dtype \"{}\" (expected f32, f16 or bf16)", field, s));
}

Layout parse_layout(std::string_view s, std::string_view field) {
  if (s == "nchw") return Layout::nchw;
  throw ProblemError(fmt::format("{}: unknown layout \"{}\" (expected nchw)", field, s));
}

std::size_t dtype_size(DType d) { return d == DType::f32 ? 4 : 2; }

double Problem::bytes() const {
  const double e = static_cast<double>(input_elems()) + static_cast<double>(output_elems()) +
                   static_cast<double>(weight_elems()) + static_cast<double>(bias_elems());
  return e * static_cast<double>(dtype_size(dtype));
}

double Problem::flops() const {
  return 2.0 * static_cast<double>(output_elems()) * kh * kw;
}

std::string Problem::key() const {
  return fmt::format("n{}_c{}_h{}_w{}_k{}x{}_s{}x{}_p{}x{}_d{}x{}_m{}_{}_{}_{}", n, c, h, w, kh, kw,
                     sh, sw, ph, pw, dh, dw, m, bias ? "bias" : "nobias", to_string(dtype),
                     to_string(layout));
}

Problem Problem::from_key(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return ProblemError(fmt::format("key \"{}\": {} (expected the form "
                                    "n1_c8_h64_w64_k3x3_s1x1_p1x1_d1x1_m1_nobias_f32_nchw)",
                                    key, why));
  };
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = key.find('_', start);
    parts.push_back(key.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (parts.size() != 12) throw bad(fmt::format("{} parts separated by '_', not 12", parts.size()));
  // `text` without `prefix`, as a number; from_key's round trip below refuses what is not canonical.
  auto number = [&]<class T>(std::string_view text, std::string_view prefix, T& out) {
    if (!text.starts_with(prefix)) throw bad(fmt::format("\"{}\" does not start with {}", text, prefix));
    text.remove_prefix(prefix.size());
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || end != text.data() + text.size())
      throw bad(fmt::format("\"{}\" after {} is not a number", text, prefix));
  };
  auto pair = [&](std::string_view text, std::string_view prefix, int& a, int& b) {
    const std::size_t x = text.find('x');
    if (x == std::string_view::npos) throw bad(fmt::format("\"{}\" is not {}AxB", text, prefix));
    number(text.substr(0, x), prefix, a);
    number(text.substr(x + 1), "", b);
  };
  Problem p;
  number(parts[0], "n", p.n);
  number(parts[1], "c", p.c);
  number(parts[2], "h", p.h);
  number(parts[3], "w", p.w);
  pair(parts[4], "k", p.kh, p.kw);
  pair(parts[5], "s", p.sh, p.sw);
  pair(parts[6], "p", p.ph, p.pw);
  pair(parts[7], "d", p.dh, p.dw);
  number(parts[8], "m", p.m);
  if (parts[9] != "bias" && parts[9] != "nobias")
    throw bad(fmt::format("\"{}\" is neither bias nor nobias", parts[9]));
  p.bias = parts[9] == "bias";
  try {
    p.dtype = parse_dtype(parts[10]);
    p.layout = parse_layout(parts[11]);
  } catch (const ProblemError& e) {
    throw bad(e.what());
  }
  if (p.key() != key) throw bad(fmt::format("not canonical; the canonical form is \"{}\"", p.key()));
  return p;
}

void Problem::validate() const {
  auto positive = [](std::int64_t v, const char* field) {
    if (v <= 0) throw ProblemError(fmt::format("{} must be positive, got {}", field, v));
  };
  positive(n, "n");
  positive(c, "c");
  positive(h, "h");
  positive(w, "w");
  positive(kh, "kernel[0]");
  positive(kw, "kernel[1]");
  positive(sh, "stride[0]");
  positive(sw, "stride[1]");
  positive(dh, "dilation[0]");
  positive(dw, "dilation[1]");
  positive(m, "multiplier");
  if (ph < 0) throw ProblemError(fmt::format("padding[0] must be non-negative, got {}", ph));
  if (pw < 0) throw ProblemError(fmt::format("padding[1] must be non-negative, got {}", pw));
  // PyTorch refuses padding above half the effective kernel only for 'same'; we allow any.
  if (out_h() <= 0)
    throw ProblemError(fmt::format(
        "empty output: out_h = floor(({} + 2*{} - {}*({} - 1) - 1) / {}) + 1 <= 0 (h, kernel[0], "
        "padding[0], dilation[0], stride[0])",
        h, ph, dh, kh, sh));
  if (out_w() <= 0)
    throw ProblemError(fmt::format(
        "empty output: out_w = floor(({} + 2*{} - {}*({} - 1) - 1) / {}) + 1 <= 0 (w, kernel[1], "
        "padding[1], dilation[1], stride[1])",
        w, pw, dw, kw, sw));
  constexpr std::int64_t kMaxDim = std::int64_t{1} << 31;
  if (h >= kMaxDim || w >= kMaxDim)
    throw ProblemError("h and w must each be below 2^31");
}

}  // namespace dwt
