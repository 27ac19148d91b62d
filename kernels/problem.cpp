#include "problem.hpp"

#include <fmt/format.h>

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
