// dwtune_torch._C: PyTorch tensors in, dwt::conv2d on torch's current stream, a tensor out. The
// Python side (__init__.py) wraps this forward in an autograd Function.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/extension.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "dispatch.hpp"

namespace {

dwt::DType dtype_of(const at::Tensor& t, const char* what) {
  switch (t.scalar_type()) {
    case at::kFloat: return dwt::DType::f32;
    case at::kHalf: return dwt::DType::f16;
    case at::kBFloat16: return dwt::DType::bf16;
    default:
      TORCH_CHECK(false, "dwtune_torch.conv2d: ", what, " has dtype ", t.scalar_type(),
                  "; supported: float32, float16, bfloat16");
  }
  return dwt::DType::f32;
}

void check_pair(const std::vector<int64_t>& v, const char* name, int64_t min) {
  TORCH_CHECK(v.size() == 2, "dwtune_torch.conv2d: ", name, " must have 2 values, got ", v.size());
  for (int64_t e : v)
    TORCH_CHECK(e >= min && e <= (int64_t{1} << 30), "dwtune_torch.conv2d: ", name, " must be >= ", min,
                ", got ", c10::IntArrayRef(v));
}

// channels_last (NHWC in memory) when the input is laid out so and not also plain contiguous (as
// tensors with C = 1 or H = W = 1 are): then the NHWC kernels run and the output is channels_last,
// as F.conv2d returns it. Anything else runs in NCHW, copied to contiguous first if it is not.
dwt::Layout layout_of(const at::Tensor& x) {
  return x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous() ? dwt::Layout::nhwc
                                                                                : dwt::Layout::nchw;
}

at::MemoryFormat memory_format(dwt::Layout l) {
  return l == dwt::Layout::nhwc ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

// Checks the arguments and describes the convolution; x and w are the caller's tensors.
dwt::ConvShape shape_of(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& bias,
                        const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                        const std::vector<int64_t>& dilation) {
  TORCH_CHECK(x.is_cuda(), "dwtune_torch.conv2d: input must be a CUDA tensor, got one on ", x.device());
  TORCH_CHECK(w.is_cuda(), "dwtune_torch.conv2d: weight must be a CUDA tensor, got one on ", w.device());
  TORCH_CHECK(w.device() == x.device(), "dwtune_torch.conv2d: weight is on ", w.device(),
              ", input on ", x.device());
  TORCH_CHECK(x.dim() == 4, "dwtune_torch.conv2d: input must be 4-D (N, C, H, W), got shape ", x.sizes());
  TORCH_CHECK(w.dim() == 4 && w.size(1) == 1,
              "dwtune_torch.conv2d: weight must be depthwise, (C*M, 1, KH, KW), got shape ", w.sizes());
  const int64_t c = x.size(1);
  TORCH_CHECK(c > 0 && w.size(0) > 0 && w.size(0) % c == 0,
              "dwtune_torch.conv2d: weight has ", w.size(0), " output channels, not a multiple of the ",
              c, " input channels (depthwise: groups = C)");
  const dwt::DType dt = dtype_of(x, "input");
  TORCH_CHECK(w.scalar_type() == x.scalar_type(), "dwtune_torch.conv2d: weight dtype ", w.scalar_type(),
              " differs from input dtype ", x.scalar_type());
  if (bias) {
    const at::Tensor& b = *bias;
    TORCH_CHECK(b.is_cuda() && b.device() == x.device(), "dwtune_torch.conv2d: bias must be on ",
                x.device(), ", got ", b.device());
    TORCH_CHECK(b.scalar_type() == x.scalar_type(), "dwtune_torch.conv2d: bias dtype ", b.scalar_type(),
                " differs from input dtype ", x.scalar_type());
    TORCH_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "dwtune_torch.conv2d: bias must have shape (",
                w.size(0), "), got ", b.sizes());
  }
  check_pair(stride, "stride", 1);
  check_pair(padding, "padding", 0);
  check_pair(dilation, "dilation", 1);
  TORCH_CHECK(w.size(2) <= (int64_t{1} << 30) && w.size(3) <= (int64_t{1} << 30),
              "dwtune_torch.conv2d: filter too large: ", w.sizes());

  dwt::ConvShape s;
  s.n = x.size(0), s.c = c, s.h = x.size(2), s.w = x.size(3);
  s.kh = static_cast<int>(w.size(2)), s.kw = static_cast<int>(w.size(3));
  s.sh = static_cast<int>(stride[0]), s.sw = static_cast<int>(stride[1]);
  s.ph = static_cast<int>(padding[0]), s.pw = static_cast<int>(padding[1]);
  s.dh = static_cast<int>(dilation[0]), s.dw = static_cast<int>(dilation[1]);
  s.m = static_cast<int>(w.size(0) / c);
  s.bias = bias.has_value();
  s.dtype = dt;
  s.layout = layout_of(x);
  TORCH_CHECK(s.out_h() > 0 && s.out_w() > 0, "dwtune_torch.conv2d: input ", x.sizes(), " with filter ",
              s.kh, "x", s.kw, ", stride ", c10::IntArrayRef(stride), ", padding ", c10::IntArrayRef(padding),
              ", dilation ", c10::IntArrayRef(dilation),
              " gives an empty output");
  return s;
}

at::Tensor conv2d(const at::Tensor& x_in, const at::Tensor& w_in, const std::optional<at::Tensor>& bias_in,
                  std::vector<int64_t> stride, std::vector<int64_t> padding, std::vector<int64_t> dilation) {
  const dwt::ConvShape s = shape_of(x_in, w_in, bias_in, stride, padding, dilation);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::MemoryFormat mf = memory_format(s.layout);
  at::Tensor y = at::empty({s.n, s.out_c(), s.out_h(), s.out_w()}, x_in.options(), mf);
  if (s.n == 0 || s.h == 0 || s.w == 0) {
    // Empty batch: nothing to compute. Zero-size spatial input with padding yields zeros + bias.
    if (y.numel() > 0) {
      y.zero_();
      if (bias_in) y.add_(bias_in->view({1, -1, 1, 1}));
    }
    return y;
  }
  const at::Tensor x = x_in.contiguous(mf);
  // [C*M, 1, KH, KW] with one input channel per group: the same bytes in either memory format.
  const at::Tensor w = w_in.contiguous();
  at::Tensor b;
  if (bias_in) b = bias_in->contiguous();
  dwt::conv2d(s, x.data_ptr(), w.data_ptr(), bias_in ? b.data_ptr() : nullptr, y.data_ptr(),
              at::cuda::getCurrentCUDAStream().stream());
  return y;
}

// The kernel conv2d would run for these arguments, and why.
std::tuple<std::string, std::string> choose(const at::Tensor& x, const at::Tensor& w,
                                            const std::optional<at::Tensor>& bias,
                                            std::vector<int64_t> stride, std::vector<int64_t> padding,
                                            std::vector<int64_t> dilation) {
  const dwt::ConvShape s = shape_of(x, w, bias, stride, padding, dilation);
  TORCH_CHECK(s.n > 0 && s.h > 0 && s.w > 0, "dwtune_torch.choose: empty input ", x.sizes());
  const dwt::Choice c = dwt::choose(s, x.device().index());
  return {c.op ? c.op->desc().name : std::string(), c.reason};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "dwtune's depthwise conv2d (forward) on PyTorch CUDA tensors";
  m.def("conv2d", &conv2d, "y = depthwise conv2d(x, weight, bias) on the current CUDA stream",
        py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"));
  m.def("choose", &choose, "(kernel name, reason) conv2d would use", py::arg("x"), py::arg("weight"),
        py::arg("bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"));
  m.def("load_tuning_table", [](const std::string& path) { dwt::load_tuning_table(path); },
        "use a dwtune tuning table (JSON) from now on", py::arg("path"));
  m.def("unload_tuning_table", &dwt::unload_tuning_table, "back to the default kernels");
}
