// The problem description shared by host and device code: shape, parameters, output-size math.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#if defined(__CUDACC__)
#define DWT_HD __host__ __device__
#else
#define DWT_HD
#endif

namespace dwt {

enum class DType : int { f32 = 0, f16 = 1, bf16 = 2 };
// nchw: [N, C, H, W]; nhwc: [N, H, W, C] (PyTorch's channels_last). Weights are [C*M, 1, KH, KW] in both.
enum class Layout : int { nchw = 0, nhwc = 1 };
// Which of a convolution's three computations a problem is (y = conv(x, w) + b):
//   forward  reads x, w (and b), writes y;
//   dgrad    the input gradient: reads dy (output-shaped) and w, writes dx (input-shaped);
//   wgrad    the weight gradient: reads x and dy, writes dw (weight-shaped) and, when the problem has
//            a bias, db = dy summed over batch and space.
enum class Pass : int { forward = 0, dgrad = 1, wgrad = 2 };

const char* to_string(DType d);
const char* to_string(Layout l);
const char* to_string(Pass p);
// Throw ProblemError naming `field` when `s` is not a known value.
DType parse_dtype(std::string_view s, std::string_view field = "dtype");
Layout parse_layout(std::string_view s, std::string_view field = "layout");
Pass parse_pass(std::string_view s, std::string_view field = "pass");
std::size_t dtype_size(DType d);

// A problem that fails validation; the message names the field.
struct ProblemError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Output size of one convolution axis (PyTorch's formula, with the -1 term).
DWT_HD constexpr std::int64_t conv_out_size(std::int64_t in, int k, int stride, int pad, int dil) {
  const std::int64_t span = in + 2 * static_cast<std::int64_t>(pad) -
                            static_cast<std::int64_t>(dil) * (k - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

// Plain-old-data shape, passed by value to kernels. 64-bit sizes: tensors may exceed 2^31 elements.
struct ConvShape {
  std::int64_t n = 1, c = 1, h = 1, w = 1;
  int kh = 1, kw = 1;
  int sh = 1, sw = 1;
  int ph = 0, pw = 0;
  int dh = 1, dw = 1;
  int m = 1;  // depth multiplier: out_channels = c * m
  bool bias = false;
  DType dtype = DType::f32;
  Layout layout = Layout::nchw;
  Pass pass = Pass::forward;

  DWT_HD constexpr std::int64_t out_h() const { return conv_out_size(h, kh, sh, ph, dh); }
  DWT_HD constexpr std::int64_t out_w() const { return conv_out_size(w, kw, sw, pw, dw); }
  DWT_HD constexpr std::int64_t out_c() const { return c * m; }
  DWT_HD constexpr std::int64_t input_elems() const { return n * c * h * w; }
  DWT_HD constexpr std::int64_t output_elems() const { return n * out_c() * out_h() * out_w(); }
  DWT_HD constexpr std::int64_t weight_elems() const {
    return out_c() * static_cast<std::int64_t>(kh) * kw;
  }
  DWT_HD constexpr std::int64_t bias_elems() const { return bias ? out_c() : 0; }
  // Elements the pass writes: y (forward), dx (dgrad), dw then db (wgrad, db when bias).
  DWT_HD constexpr std::int64_t result_elems() const {
    return pass == Pass::forward ? output_elems()
           : pass == Pass::dgrad ? input_elems()
                                 : weight_elems() + bias_elems();
  }
  // Offset of input element (n, c, h, w) and output element (n, oc, oh, ow) in this layout.
  DWT_HD constexpr std::int64_t input_index(std::int64_t n_, std::int64_t c_, std::int64_t h_,
                                            std::int64_t w_) const {
    return layout == Layout::nhwc ? ((n_ * h + h_) * w + w_) * c + c_ : ((n_ * c + c_) * h + h_) * w + w_;
  }
  DWT_HD constexpr std::int64_t output_index(std::int64_t n_, std::int64_t oc, std::int64_t oh,
                                             std::int64_t ow) const {
    return layout == Layout::nhwc ? ((n_ * out_h() + oh) * out_w() + ow) * out_c() + oc
                                  : ((n_ * out_c() + oc) * out_h() + oh) * out_w() + ow;
  }
  // (n, c, h, w) of input offset i: the inverse of input_index.
  struct InPos {
    std::int64_t n, c, h, w;
  };
  DWT_HD constexpr InPos input_pos(std::int64_t i) const {
    if (layout == Layout::nhwc) return {i / (w * h * c), i % c, (i / (c * w)) % h, (i / c) % w};
    return {i / (w * h * c), (i / (w * h)) % c, (i / w) % h, i % w};
  }
  // (n, oc, oh, ow) of output offset i: the inverse of output_index.
  struct OutPos {
    std::int64_t n, oc, oh, ow;
  };
  DWT_HD constexpr OutPos output_pos(std::int64_t i) const {
    const std::int64_t OC = out_c(), OH = out_h(), OW = out_w();
    if (layout == Layout::nhwc) return {i / (OW * OH * OC), i % OC, (i / (OC * OW)) % OH, (i / OC) % OW};
    return {i / (OW * OH * OC), (i / (OW * OH)) % OC, (i / OW) % OH, i % OW};
  }
};

struct Problem : ConvShape {
  std::string name;

  // Bytes moved once each: input + output + weights (+ bias), whatever the pass (dgrad has no bias
  // term: it neither reads nor writes one).
  double bytes() const;
  // 2 * outputs * KH * KW in every pass (+ one add per output for bias is not counted).
  double flops() const;
  // Canonical key of the shape and parameters (no name): equal keys mean the same computation.
  // Forward keys end with the layout; the other passes append "_dgrad" or "_wgrad".
  std::string key() const;
  // The problem (empty name, not validated) whose key() is `key`; ProblemError naming the key and
  // the part that is wrong when there is none.
  static Problem from_key(std::string_view key);
  // Throws ProblemError naming the first bad field.
  void validate() const;
};

}  // namespace dwt
