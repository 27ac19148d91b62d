#include "problem.hpp"

#include <fmt/format.h>

#include <charconv>
#include <vector>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

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
    case Layout::nhwc: return "nhwc";
  }
  return "?";
}

const char* to_string(Pass p) {
  switch (p) {
    case Pass::forward: return "forward";
    case Pass::dgrad: return "dgrad";
    case Pass::wgrad: return "wgrad";
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
  if (s == "nhwc") return Layout::nhwc;
  throw ProblemError(fmt::format("{}: unknown layout \"{}\" (expected nchw or nhwc)", field, s));
}

Pass parse_pass(std::string_view s, std::string_view field) {
  if (s == "forward") return Pass::forward;
  if (s == "dgrad") return Pass::dgrad;
  if (s == "wgrad") return Pass::wgrad;
  throw ProblemError(
      fmt::format("{}: unknown pass \"{}\" (expected forward, dgrad or wgrad)", field, s));
}

std::size_t dtype_size(DType d) { return d == DType::f32 ? 4 : 2; }

double Problem::bytes() const {
  const double e = static_cast<double>(input_elems()) + static_cast<double>(output_elems()) +
                   static_cast<double>(weight_elems()) +
                   (pass == Pass::dgrad ? 0.0 : static_cast<double>(bias_elems()));
  return e * static_cast<double>(dtype_size(dtype));
}

double Problem::flops() const {
  return 2.0 * static_cast<double>(output_elems()) * kh * kw;
}

std::string Problem::key() const {
  std::string k = fmt::format("n{}_c{}_h{}_w{}_k{}x{}_s{}x{}_p{}x{}_d{}x{}_m{}_{}_{}_{}", n, c, h, w,
                              kh, kw, sh, sw, ph, pw, dh, dw, m, bias ? "bias" : "nobias",
                              to_string(dtype), to_string(layout));
  if (pass != Pass::forward) k += fmt::format("_{}", to_string(pass));
  return k;
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
  if (parts.size() != 12 && parts.size() != 13)
    throw bad(fmt::format("{} parts separated by '_', not 12 (13 with a pass)", parts.size()));
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
    if (parts.size() == 13) p.pass = parse_pass(parts[12]);
  } catch (const ProblemError& e) {
    throw bad(e.what());
  }
  if (p.key() != key) throw bad(fmt::format("not canonical; the canonical form is \"{}\"", p.key()));
  return p;
}

namespace {

// Every tensor and the sum of them must stay below this many bytes: int64 element and byte counts then
// never wrap, wherever they are computed.
constexpr std::int64_t kMaxBytes = std::int64_t{1} << 62;

struct Factor {
  const char* field;
  std::int64_t value;
};

// The elements of a tensor with these extents, times `scale` bytes each; nullopt past kMaxBytes.
std::optional<std::int64_t> checked_bytes(std::initializer_list<Factor> fs, std::int64_t scale) {
  std::int64_t r = scale;
  for (const Factor& f : fs)
    if (__builtin_mul_overflow(r, f.value, &r) || r >= kMaxBytes) return std::nullopt;
  return r;
}

// Blames the largest extent: the field a user would shrink.
[[noreturn]] void too_large(std::initializer_list<Factor> fs, std::string_view what) {
  const Factor* big = fs.begin();
  std::string terms;
  for (const Factor& f : fs) {
    if (f.value > big->value) big = &f;
    terms += fmt::format("{}{} {}", terms.empty() ? "" : ", ", f.field, f.value);
  }
  throw ProblemError(
      fmt::format("{} is too large: {} would take more than 2^62 bytes ({})", big->field, what,
                  terms));
}

}  // namespace

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
  if (pass == Pass::dgrad && bias)
    throw ProblemError("bias: the input gradient (pass dgrad) does not involve the bias; set bias false");
  if (ph < 0) throw ProblemError(fmt::format("padding[0] must be non-negative, got {}", ph));
  if (pw < 0) throw ProblemError(fmt::format("padding[1] must be non-negative, got {}", pw));
  // Before the output size, whose arithmetic assumes rows below 2^31.
  constexpr std::int64_t kMaxDim = std::int64_t{1} << 31;
  if (h >= kMaxDim) throw ProblemError(fmt::format("h is too large: {} (must be below 2^31)", h));
  if (w >= kMaxDim) throw ProblemError(fmt::format("w is too large: {} (must be below 2^31)", w));
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
  const auto es = static_cast<std::int64_t>(dtype_size(dtype));
  // The output's planes are out_h x out_w; blame h and w, which the user gave.
  const std::initializer_list<Factor> in{{"n", n}, {"c", c}, {"h", h}, {"w", w}};
  const std::initializer_list<Factor> out{
      {"n", n}, {"c", c}, {"multiplier", m}, {"h", out_h()}, {"w", out_w()}};
  const std::initializer_list<Factor> wt{
      {"c", c}, {"multiplier", m}, {"kernel[0]", kh}, {"kernel[1]", kw}};
  const std::initializer_list<Factor> bs{{"c", c}, {"multiplier", m}};  // times 0 without bias
  const auto xb = checked_bytes(in, es);
  if (!xb) too_large(in, "the input");
  const auto yb = checked_bytes(out, es);
  if (!yb) too_large(out, "the output");
  const auto wb = checked_bytes(wt, es);
  if (!wb) too_large(wt, "the weights");
  const auto bb = checked_bytes(bs, bias ? es : 0);
  if (!bb) too_large(bs, "the bias");
  // Each term is below 2^62, so the sum of four fits in uint64.
  const std::uint64_t total = static_cast<std::uint64_t>(*xb) + static_cast<std::uint64_t>(*yb) +
                              static_cast<std::uint64_t>(*wb) + static_cast<std::uint64_t>(*bb);
  if (total >= static_cast<std::uint64_t>(kMaxBytes))
    too_large({{"n", n}, {"c", c}, {"multiplier", m}, {"h", h}, {"w", w}},
              "the tensors together");
}

}  // namespace dwt
