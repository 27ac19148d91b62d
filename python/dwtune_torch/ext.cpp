// dwtune_torch._C: the operators dwtune::conv2d, dwtune::conv2d_dgrad and dwtune::conv2d_wgrad
// (TORCH_LIBRARY) and their CUDA kernels, plus choose and the tuning-table functions for Python.
// Their autograd is in autograd.cpp; their fake (meta) implementations in dwtune_torch/_op.py.
//
// Every call goes one of two ways (kernel_for): dwtune's kernel for the pass, chosen by dispatch, run
// on torch's current stream with any workspace from PyTorch's caching allocator; or PyTorch's own
// (F.conv2d, aten::convolution_backward, groups = C) where dwtune has nothing faster to offer: no
// kernel serves the shape, the tuning table measured PyTorch (or, without PyTorch's time, cuDNN)
// faster than the tuned winner (dwt::Choice::baseline_faster), an empty tensor. A channels_last activation (ops.hpp: channels_last) runs NHWC kernels in place, with no
// copy, and gives a channels_last result; any other runs NCHW (made contiguous). The result's memory
// format follows that activation either way, as the fake implementations say.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/extension.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "dispatch.hpp"
#include "ops.hpp"

namespace {

using dwtune_torch::channels_last;

dwt::DType dtype_of(const at::Tensor& t, const char* fn, const char* what) {
  switch (t.scalar_type()) {
    case at::kFloat: return dwt::DType::f32;
    case at::kHalf: return dwt::DType::f16;
    case at::kBFloat16: return dwt::DType::bf16;
    default:
      TORCH_CHECK(false, "dwtune_torch.", fn, ": ", what, " has dtype ", t.scalar_type(),
                  "; supported: float32, float16, bfloat16");
  }
  return dwt::DType::f32;
}

void check_pair(at::IntArrayRef v, const char* fn, const char* name, int64_t min) {
  TORCH_CHECK(v.size() == 2, "dwtune_torch.", fn, ": ", name, " must have 2 values, got ", v.size());
  for (int64_t e : v)
    TORCH_CHECK(e >= min && e <= (int64_t{1} << 30), "dwtune_torch.", fn, ": ", name, " must be >= ", min,
                ", got ", v);
}

// `t` is a CUDA tensor on the device and of the dtype of `first` (the operator's first tensor).
void check_tensor(const at::Tensor& t, const char* fn, const char* what, const at::Tensor& first) {
  TORCH_CHECK(t.is_cuda(), "dwtune_torch.", fn, ": ", what, " must be a CUDA tensor, got one on ", t.device());
  TORCH_CHECK(t.device() == first.device(), "dwtune_torch.", fn, ": ", what, " is on ", t.device(), ", ",
              "the other tensors on ", first.device());
  TORCH_CHECK(t.scalar_type() == first.scalar_type(), "dwtune_torch.", fn, ": ", what, " dtype ",
              t.scalar_type(), " differs from ", first.scalar_type());
}

// The convolution of an input x_size (N, C, H, W) with out_c = C*M filters of kh x kw, checked.
dwt::ConvShape conv_shape(const char* fn, at::IntArrayRef x_size, int64_t out_c, int64_t kh, int64_t kw,
                          at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                          bool bias, dwt::DType dt) {
  TORCH_CHECK(x_size.size() == 4, "dwtune_torch.", fn, ": input must be 4-D (N, C, H, W), got shape ", x_size);
  const int64_t c = x_size[1];
  TORCH_CHECK(c > 0 && out_c > 0 && out_c % c == 0, "dwtune_torch.", fn, ": weight has ", out_c,
              " output channels, not a multiple of the ", c, " input channels (depthwise: groups = C)");
  check_pair(stride, fn, "stride", 1);
  check_pair(padding, fn, "padding", 0);
  check_pair(dilation, fn, "dilation", 1);
  TORCH_CHECK(kh > 0 && kw > 0 && kh <= (int64_t{1} << 30) && kw <= (int64_t{1} << 30), "dwtune_torch.", fn,
              ": bad filter size ", kh, "x", kw);
  dwt::ConvShape s;
  s.n = x_size[0], s.c = c, s.h = x_size[2], s.w = x_size[3];
  s.kh = static_cast<int>(kh), s.kw = static_cast<int>(kw);
  s.sh = static_cast<int>(stride[0]), s.sw = static_cast<int>(stride[1]);
  s.ph = static_cast<int>(padding[0]), s.pw = static_cast<int>(padding[1]);
  s.dh = static_cast<int>(dilation[0]), s.dw = static_cast<int>(dilation[1]);
  s.m = static_cast<int>(out_c / c);
  s.bias = bias;
  s.dtype = dt;
  TORCH_CHECK(s.out_h() > 0 && s.out_w() > 0, "dwtune_torch.", fn, ": input ", x_size, " with filter ", kh, "x",
              kw, ", stride ", stride, ", padding ", padding, ", dilation ", dilation, " gives an empty output");
  return s;
}

// The forward convolution of conv2d's arguments.
dwt::ConvShape forward_shape(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& bias,
                             at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  const char* fn = "conv2d";
  check_tensor(x, fn, "input", x);
  check_tensor(w, fn, "weight", x);
  TORCH_CHECK(w.dim() == 4 && w.size(1) == 1,
              "dwtune_torch.conv2d: weight must be depthwise, (C*M, 1, KH, KW), got shape ", w.sizes());
  if (bias) {
    check_tensor(*bias, fn, "bias", x);
    TORCH_CHECK(bias->dim() == 1 && bias->size(0) == w.size(0), "dwtune_torch.conv2d: bias must have shape (",
                w.size(0), "), got ", bias->sizes());
  }
  dwt::ConvShape s = conv_shape(fn, x.sizes(), w.size(0), w.size(2), w.size(3), stride, padding, dilation,
                                bias.has_value(), dtype_of(x, fn, "input"));
  s.layout = channels_last(x) ? dwt::Layout::nhwc : dwt::Layout::nchw;
  return s;
}

// dy must be the output of s: [N, C*M, OH, OW].
void check_dy(const at::Tensor& dy, const dwt::ConvShape& s, const char* fn) {
  TORCH_CHECK(dy.dim() == 4 && dy.size(0) == s.n && dy.size(1) == s.out_c() && dy.size(2) == s.out_h() &&
                  dy.size(3) == s.out_w(),
              "dwtune_torch.", fn, ": dy has shape ", dy.sizes(), ", the convolution's output is [", s.n, ", ",
              s.out_c(), ", ", s.out_h(), ", ", s.out_w(), "]");
}

bool empty(const dwt::ConvShape& s) { return s.n == 0 || s.h == 0 || s.w == 0; }

// dwtune's kernel for s (whose pass and layout are set), or null where PyTorch's runs instead. A
// shape seen before costs a hash lookup in dispatch (no string, no allocation).
const dwt::Operation* kernel_for(const dwt::ConvShape& s, const at::Device& dev) {
  if (empty(s)) return nullptr;
  const dwt::QuickChoice c = dwt::choose_quick(s, dev.index());
  return c.baseline_faster ? nullptr : c.op;
}

// Runs `op` on a, on the current stream of `dev`, with a workspace from the caching allocator.
void run(const dwt::Operation& op, dwt::ConvArgs& a, const at::Tensor& like) {
  at::Tensor workspace;
  if (const std::size_t bytes = op.workspace_bytes(a.s)) {
    workspace = at::empty({static_cast<int64_t>(bytes)}, like.options().dtype(at::kByte));
    a.workspace = workspace.data_ptr();
  }
  op.run(a, at::cuda::getCurrentCUDAStream(like.device().index()).stream());
}

// The memory format of s's activations: NHWC is channels_last.
at::MemoryFormat format_of(const dwt::ConvShape& s) {
  return s.layout == dwt::Layout::nhwc ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

// An activation as s's layout reads it (a copy only when it is in neither form).
at::Tensor in_layout(const at::Tensor& t, const dwt::ConvShape& s) { return t.contiguous(format_of(s)); }

// ---- The CUDA kernels of the three operators (registered for CPU too, where the checks refuse) ----

at::Tensor conv2d(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& bias,
                  at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  dwt::ConvShape s = forward_shape(x, w, bias, stride, padding, dilation);
  const c10::cuda::CUDAGuard guard(x.device());
  const dwt::Operation* op = kernel_for(s, x.device());
  if (!op)  // contiguous(fmt) is a no-op unless cuDNN chose another memory format
    return at::conv2d(x, w, bias, stride, padding, dilation, s.c).contiguous(format_of(s));
  at::Tensor y = at::empty({s.n, s.out_c(), s.out_h(), s.out_w()}, x.options(), format_of(s));
  const at::Tensor xs = in_layout(x, s);
  const at::Tensor ws = w.contiguous();
  at::Tensor b;
  if (bias) b = bias->contiguous();
  dwt::ConvArgs a;
  a.s = s;
  a.x = xs.data_ptr();
  a.w = ws.data_ptr();
  a.bias = bias ? b.data_ptr() : nullptr;
  a.y = y.data_ptr();
  run(*op, a, x);
  return y;
}

// The input gradient of the dgrad operator's arguments; the layout is dy's.
dwt::ConvShape dgrad_shape(const at::Tensor& dy, const at::Tensor& w, at::IntArrayRef input_size,
                           at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  const char* fn = "conv2d_dgrad";
  check_tensor(dy, fn, "dy", dy);
  check_tensor(w, fn, "weight", dy);
  TORCH_CHECK(w.dim() == 4 && w.size(1) == 1,
              "dwtune_torch.conv2d_dgrad: weight must be depthwise, (C*M, 1, KH, KW), got shape ", w.sizes());
  dwt::ConvShape s = conv_shape(fn, input_size, w.size(0), w.size(2), w.size(3), stride, padding, dilation,
                                false, dtype_of(dy, fn, "dy"));
  check_dy(dy, s, fn);
  s.pass = dwt::Pass::dgrad;
  s.layout = channels_last(dy) ? dwt::Layout::nhwc : dwt::Layout::nchw;
  return s;
}

at::Tensor conv2d_dgrad(const at::Tensor& dy, const at::Tensor& w, c10::SymIntArrayRef input_size_sym,
                        at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  const at::IntArrayRef input_size = C10_AS_INTARRAYREF_SLOW(input_size_sym);
  const dwt::ConvShape s = dgrad_shape(dy, w, input_size, stride, padding, dilation);
  const c10::cuda::CUDAGuard guard(dy.device());
  const dwt::Operation* op = kernel_for(s, dy.device());
  if (!op) {  // PyTorch's input gradient; the input itself is not read, only its shape
    const at::Tensor x_like = at::empty(input_size, dy.options(), format_of(s));
    return std::get<0>(at::convolution_backward(dy, x_like, w, std::nullopt, stride, padding, dilation, false,
                                                {0, 0}, s.c, {true, false, false}))
        .contiguous(format_of(s));
  }
  at::Tensor dx = at::empty(input_size, dy.options(), format_of(s));
  const at::Tensor dys = in_layout(dy, s);
  const at::Tensor ws = w.contiguous();
  dwt::ConvArgs a;
  a.s = s;
  a.dy = dys.data_ptr();
  a.w = ws.data_ptr();
  a.dx = dx.data_ptr();
  run(*op, a, dy);
  return dx;
}

// The weight gradient of the wgrad operator's arguments; the layout is x's (dy is taken in it).
dwt::ConvShape wgrad_shape(const at::Tensor& x, const at::Tensor& dy, at::IntArrayRef kernel_size, bool bias,
                           at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  const char* fn = "conv2d_wgrad";
  check_tensor(x, fn, "input", x);
  check_tensor(dy, fn, "dy", x);
  TORCH_CHECK(dy.dim() == 4, "dwtune_torch.conv2d_wgrad: dy must be 4-D, got shape ", dy.sizes());
  check_pair(kernel_size, fn, "kernel_size", 1);
  dwt::ConvShape s = conv_shape(fn, x.sizes(), dy.size(1), kernel_size[0], kernel_size[1], stride, padding,
                                dilation, bias, dtype_of(x, fn, "input"));
  check_dy(dy, s, fn);
  s.pass = dwt::Pass::wgrad;
  s.layout = channels_last(x) ? dwt::Layout::nhwc : dwt::Layout::nchw;
  return s;
}

std::tuple<at::Tensor, at::Tensor> conv2d_wgrad(const at::Tensor& x, const at::Tensor& dy,
                                                at::IntArrayRef kernel_size, bool bias, at::IntArrayRef stride,
                                                at::IntArrayRef padding, at::IntArrayRef dilation) {
  const dwt::ConvShape s = wgrad_shape(x, dy, kernel_size, bias, stride, padding, dilation);
  const c10::cuda::CUDAGuard guard(x.device());
  const std::vector<int64_t> w_size{s.out_c(), 1, s.kh, s.kw};
  const dwt::Operation* op = kernel_for(s, x.device());
  if (!op) {  // PyTorch's weight (and bias) gradient; the weight itself is not read, only its shape
    const at::Tensor w_like = at::empty(w_size, x.options());
    const std::vector<int64_t> b_size{s.out_c()};
    auto [unused, dw, db] =
        at::convolution_backward(dy, x, w_like, bias ? at::OptionalIntArrayRef(b_size) : std::nullopt, stride,
                                 padding, dilation, false, {0, 0}, s.c, {false, true, bias});
    return {dw.contiguous(), bias ? db.contiguous() : at::empty({0}, x.options())};
  }
  at::Tensor dw = at::empty(w_size, x.options());
  at::Tensor db = at::empty({bias ? s.out_c() : 0}, x.options());
  const at::Tensor xs = in_layout(x, s);
  const at::Tensor dys = in_layout(dy, s);
  dwt::ConvArgs a;
  a.s = s;
  a.x = xs.data_ptr();
  a.dy = dys.data_ptr();
  a.dw = dw.data_ptr();
  a.db = bias ? db.data_ptr() : nullptr;
  run(*op, a, x);
  return {dw, db};
}

// What a pass of conv2d's arguments runs ("F.conv2d" / "PyTorch" or a dwtune kernel's name), and why.
std::tuple<std::string, std::string> choose(const at::Tensor& x, const at::Tensor& w,
                                            const std::optional<at::Tensor>& bias, std::vector<int64_t> stride,
                                            std::vector<int64_t> padding, std::vector<int64_t> dilation,
                                            const std::string& pass) {
  dwt::ConvShape s = forward_shape(x, w, bias, stride, padding, dilation);
  s.pass = dwt::parse_pass(pass, "pass");
  if (s.pass == dwt::Pass::dgrad) s.bias = false;
  const std::string torch_name = s.pass == dwt::Pass::forward ? "F.conv2d" : "PyTorch";
  if (empty(s)) return {torch_name, "empty input"};
  const c10::cuda::CUDAGuard guard(x.device());
  dwt::Choice c = dwt::choose(s, x.device().index());
  if (!c.op) return {torch_name, "no dwtune kernel: " + c.reason};
  if (c.baseline_faster) return {torch_name, c.reason + "; so " + torch_name};
  return {c.op->desc().name, std::move(c.reason)};
}

}  // namespace

TORCH_LIBRARY(dwtune, m) {
  m.def("conv2d(Tensor x, Tensor weight, Tensor? bias, int[2] stride, int[2] padding, int[2] dilation) "
        "-> Tensor");
  m.def("conv2d_dgrad(Tensor dy, Tensor weight, SymInt[4] input_size, int[2] stride, int[2] padding, "
        "int[2] dilation) -> Tensor");
  m.def("conv2d_wgrad(Tensor x, Tensor dy, int[2] kernel_size, bool bias, int[2] stride, int[2] padding, "
        "int[2] dilation) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(dwtune, CUDA, m) {
  m.impl("conv2d", &conv2d);
  m.impl("conv2d_dgrad", &conv2d_dgrad);
  m.impl("conv2d_wgrad", &conv2d_wgrad);
}
TORCH_LIBRARY_IMPL(dwtune, CPU, m) {
  m.impl("conv2d", &conv2d);
  m.impl("conv2d_dgrad", &conv2d_dgrad);
  m.impl("conv2d_wgrad", &conv2d_wgrad);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "dwtune's depthwise conv2d: the operators torch.ops.dwtune.conv2d{,_dgrad,_wgrad}, choose, tables";
  // dwtune_torch.conv2d's per-call path outside torch.compile: the operator through the dispatcher
  // (autograd included), with pybind11's argument conversion instead of torch.ops'.
  m.def("conv2d",
        [](const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& bias,
           const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
           const std::vector<int64_t>& dilation) {
          try {
            return dwtune_torch::conv2d_op(x, w, bias, stride, padding, dilation);
          } catch (const c10::Error& e) {  // the message, as torch.ops raises it: no C++ backtrace
            throw std::runtime_error(e.what_without_backtrace());
          }
        },
        "torch.ops.dwtune.conv2d", py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"));
  m.def("choose", &choose, "(what a pass of conv2d would run, why)", py::arg("x"), py::arg("weight"),
        py::arg("bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("pass_") = "forward");
  m.def("load_tuning_table", [](const std::string& path) { dwt::load_tuning_table(path); },
        "use a dwtune tuning table (JSON) from now on", py::arg("path"));
  m.def("unload_tuning_table", &dwt::unload_tuning_table, "back to the default kernels");
}
