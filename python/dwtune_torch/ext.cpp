// dwtune_torch._C: the operator dwtune::conv2d (TORCH_LIBRARY) and its CUDA kernel, plus choose and
// the tuning-table functions for Python. The fake (meta) implementation and the autograd formula are
// registered from Python (dwtune_torch/_op.py) through torch.library.
//
// Every call goes one of two ways (route): dwtune's kernel through dwt::conv2d on torch's current
// stream, or F.conv2d (at::conv2d, groups = C) where dwtune has nothing faster to offer: no kernel
// for the shape, the tuning table measured cuDNN faster than the tuned winner, a channels_last input
// (no NHWC kernels yet), an empty tensor. The output's memory format follows the input's either way
// (out_format), as the fake implementation says.
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
  s.layout = dwt::Layout::nchw;
  TORCH_CHECK(s.out_h() > 0 && s.out_w() > 0, "dwtune_torch.conv2d: input ", x.sizes(), " with filter ",
              s.kh, "x", s.kw, ", stride ", c10::IntArrayRef(stride), ", padding ", c10::IntArrayRef(padding),
              ", dilation ", c10::IntArrayRef(dilation),
              " gives an empty output");
  return s;
}

// channels_last input (and not also contiguous, as when C == 1 or H == W == 1): the output is
// channels_last too, as F.conv2d gives it. The same rule is in _op.py's fake implementation.
bool channels_last(const at::Tensor& x) {
  return x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast);
}

at::MemoryFormat out_format(const at::Tensor& x) {
  return channels_last(x) ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

// Which way a call goes: op is dwtune's kernel, or null for F.conv2d; reason says why.
struct Route {
  const dwt::Operation* op = nullptr;
  dwt::ConvShape s;
  std::string reason;
};

Route route(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& bias,
            at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  Route r;
  r.s = shape_of(x, w, bias, stride.vec(), padding.vec(), dilation.vec());
  if (r.s.n == 0 || r.s.h == 0 || r.s.w == 0) {
    r.reason = "empty input";
    return r;
  }
  // Layouts: NCHW goes to dispatch. NHWC kernels, once compiled in, route here (s.layout = nhwc,
  // x and y as they are); until then channels_last goes to F.conv2d, which takes cuDNN's NHWC path.
  if (channels_last(x)) {
    r.reason = "channels_last input: no NHWC kernel in this build";
    return r;
  }
  dwt::Choice c = dwt::choose(r.s, x.device().index());
  if (!c.op) {
    r.reason = "no dwtune kernel: " + c.reason;
  } else if (c.baseline_faster) {
    r.reason = c.reason + "; so F.conv2d";
  } else {
    r.op = c.op;
    r.reason = std::move(c.reason);
  }
  return r;
}

// The CUDA kernel of dwtune::conv2d (registered for CPU too, where shape_of refuses the tensors).
at::Tensor conv2d(const at::Tensor& x_in, const at::Tensor& w_in, const std::optional<at::Tensor>& bias_in,
                  at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  const Route r = route(x_in, w_in, bias_in, stride, padding, dilation);
  const c10::cuda::CUDAGuard guard(x_in.device());
  if (!r.op) {
    // F.conv2d; contiguous(fmt) is a no-op unless cuDNN chose another memory format.
    return at::conv2d(x_in, w_in, bias_in, stride, padding, dilation, r.s.c).contiguous(out_format(x_in));
  }
  const dwt::ConvShape& s = r.s;
  at::Tensor y = at::empty({s.n, s.out_c(), s.out_h(), s.out_w()}, x_in.options(),
                           at::MemoryFormat::Contiguous);
  const at::Tensor x = x_in.contiguous();
  const at::Tensor w = w_in.contiguous();
  at::Tensor b;
  if (bias_in) b = bias_in->contiguous();
  dwt::conv2d(s, x.data_ptr(), w.data_ptr(), bias_in ? b.data_ptr() : nullptr, y.data_ptr(),
              at::cuda::getCurrentCUDAStream().stream());
  return y;
}

// What conv2d would run for these arguments ("F.conv2d" or a dwtune kernel's name), and why.
std::tuple<std::string, std::string> choose(const at::Tensor& x, const at::Tensor& w,
                                            const std::optional<at::Tensor>& bias,
                                            std::vector<int64_t> stride, std::vector<int64_t> padding,
                                            std::vector<int64_t> dilation) {
  Route r = route(x, w, bias, stride, padding, dilation);
  return {r.op ? r.op->desc().name : std::string("F.conv2d"), std::move(r.reason)};
}

}  // namespace

TORCH_LIBRARY(dwtune, m) {
  m.def("conv2d(Tensor x, Tensor weight, Tensor? bias, int[2] stride, int[2] padding, int[2] dilation) "
        "-> Tensor");
}

TORCH_LIBRARY_IMPL(dwtune, CUDA, m) { m.impl("conv2d", &conv2d); }
TORCH_LIBRARY_IMPL(dwtune, CPU, m) { m.impl("conv2d", &conv2d); }

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "dwtune's depthwise conv2d: the operator torch.ops.dwtune.conv2d, choose, tuning tables";
  m.def("choose", &choose, "(what conv2d would run, why)", py::arg("x"), py::arg("weight"),
        py::arg("bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"));
  m.def("load_tuning_table", [](const std::string& path) { dwt::load_tuning_table(path); },
        "use a dwtune tuning table (JSON) from now on", py::arg("path"));
  m.def("unload_tuning_table", &dwt::unload_tuning_table, "back to the default kernels");
}
