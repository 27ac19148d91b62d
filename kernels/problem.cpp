#include "problem.hpp"

#include <fmt/format.h>

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
