// Autograd of dwtune's three operators, registered in C++ (Autograd key), so a call costs no Python.
// Each gradient is one of the three operators again, so every order of derivative stays on them:
//   y  = conv2d(x, w, b):   dx = dgrad(dy, w)           dw, db = wgrad(x, dy)
//   dx = dgrad(dy, w):      d(dy) = conv2d(g, w)        dw = wgrad(g, dy)           (g: grad of dx)
//   dw, db = wgrad(x, dy):  dx = dgrad(dy, gw)          d(dy) = conv2d(x, gw, gb)   (gw, gb: grads of dw, db)
// Gradients of the activations are taken in the memory format of x (channels_last x: NHWC kernels).
// A call where nothing requires grad (or grad mode is off) goes straight to the kernel, building no
// autograd node.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>

#include <vector>

#include "ops.hpp"

namespace dwtune_torch {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

at::Tensor conv2d_op(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& bias,
                     at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("dwtune::conv2d", "")
                             .typed<decltype(conv2d_op)>();
  return op.call(x, w, bias, stride, padding, dilation);
}

at::Tensor conv2d_dgrad_op(const at::Tensor& dy, const at::Tensor& w, c10::SymIntArrayRef input_size,
                           at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("dwtune::conv2d_dgrad", "")
                             .typed<decltype(conv2d_dgrad_op)>();
  return op.call(dy, w, input_size, stride, padding, dilation);
}

std::tuple<at::Tensor, at::Tensor> conv2d_wgrad_op(const at::Tensor& x, const at::Tensor& dy,
                                                   at::IntArrayRef kernel_size, bool bias,
                                                   at::IntArrayRef stride, at::IntArrayRef padding,
                                                   at::IntArrayRef dilation) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("dwtune::conv2d_wgrad", "")
                             .typed<decltype(conv2d_wgrad_op)>();
  return op.call(x, dy, kernel_size, bias, stride, padding, dilation);
}

namespace {

bool needs_graph(const at::Tensor& a, const at::Tensor& b, const std::optional<at::Tensor>& c = {}) {
  return at::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad() || (c && c->requires_grad()));
}

// stride, padding, dilation and the bias flag as one saved value (one map entry per call):
// [sh, sw, ph, pw, dh, dw, bias].
struct Conv {
  std::vector<int64_t> v;
  Conv(at::IntArrayRef s, at::IntArrayRef p, at::IntArrayRef d, bool bias)
      : v{s[0], s[1], p[0], p[1], d[0], d[1], bias} {}
  explicit Conv(std::vector<int64_t> saved) : v(std::move(saved)) {}
  at::IntArrayRef stride() const { return at::IntArrayRef(v).slice(0, 2); }
  at::IntArrayRef padding() const { return at::IntArrayRef(v).slice(2, 2); }
  at::IntArrayRef dilation() const { return at::IntArrayRef(v).slice(4, 2); }
  bool bias() const { return v[6] != 0; }
};

void save_conv(AutogradContext* ctx, at::IntArrayRef s, at::IntArrayRef p, at::IntArrayRef d, bool bias) {
  ctx->saved_data["conv"] = Conv(s, p, d, bias).v;
}

// What forward saved: its two tensors and the convolution.
struct Saved {
  at::Tensor first, second;
  Conv conv;
};

Saved load(AutogradContext* ctx) {
  const variable_list v = ctx->get_saved_variables();
  return {v[0], v[1], Conv(ctx->saved_data["conv"].toIntVector())};
}

// The filter size as ints; under symbolic shapes (torch.compile, opcheck's dynamic tracing) this
// specializes on it, as filters are fixed in practice.
std::vector<int64_t> kernel_size(const at::Tensor& w) {
  return {w.sym_size(2).guard_int(__FILE__, __LINE__), w.sym_size(3).guard_int(__FILE__, __LINE__)};
}

struct Conv2dFn : torch::autograd::Function<Conv2dFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w,
                            const std::optional<at::Tensor>& bias, at::IntArrayRef stride,
                            at::IntArrayRef padding, at::IntArrayRef dilation) {
    ctx->save_for_backward({x, w});
    save_conv(ctx, stride, padding, dilation, bias.has_value());
    at::AutoDispatchBelowADInplaceOrView below;
    return conv2d_op(x, w, bias, stride, padding, dilation);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto [x, w, c] = load(ctx);
    const bool has_bias = c.bias();
    // Edges: x, w, then bias when there is one.
    const bool want_db = has_bias && ctx->needs_input_grad(2);
    const at::Tensor dy = grads[0].contiguous(format_of(x));
    at::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) dx = conv2d_dgrad_op(dy, w, x.sym_sizes(), c.stride(), c.padding(), c.dilation());
    if (ctx->needs_input_grad(1) || want_db) {
      auto [gw, gb] = conv2d_wgrad_op(x, dy, kernel_size(w), want_db, c.stride(), c.padding(), c.dilation());
      if (ctx->needs_input_grad(1)) dw = std::move(gw);
      if (want_db) db = std::move(gb);
    }
    return {dx, dw, db, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct DgradFn : torch::autograd::Function<DgradFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& dy, const at::Tensor& w,
                            c10::SymIntArrayRef input_size, at::IntArrayRef stride, at::IntArrayRef padding,
                            at::IntArrayRef dilation) {
    ctx->save_for_backward({dy, w});
    save_conv(ctx, stride, padding, dilation, false);
    at::AutoDispatchBelowADInplaceOrView below;
    return conv2d_dgrad_op(dy, w, input_size, stride, padding, dilation);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto [dy, w, c] = load(ctx);
    const at::Tensor g = grads[0].contiguous(format_of(dy));  // shaped as dx
    at::Tensor d_dy, d_w;
    if (ctx->needs_input_grad(0)) d_dy = conv2d_op(g, w, std::nullopt, c.stride(), c.padding(), c.dilation());
    if (ctx->needs_input_grad(1))
      d_w = std::get<0>(conv2d_wgrad_op(g, dy, kernel_size(w), false, c.stride(), c.padding(), c.dilation()));
    return {d_dy, d_w, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct WgradFn : torch::autograd::Function<WgradFn> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& dy,
                               at::IntArrayRef kernel_size, bool bias, at::IntArrayRef stride,
                               at::IntArrayRef padding, at::IntArrayRef dilation) {
    ctx->save_for_backward({x, dy});
    save_conv(ctx, stride, padding, dilation, bias);
    at::AutoDispatchBelowADInplaceOrView below;
    auto [dw, db] = conv2d_wgrad_op(x, dy, kernel_size, bias, stride, padding, dilation);
    return {dw, db};
  }

  // Undefined incoming gradients arrive as zeros (materialized).
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto [x, dy, c] = load(ctx);
    const at::Tensor& gw = grads[0];
    std::optional<at::Tensor> gb;
    if (c.bias()) gb = grads[1];
    at::Tensor d_x, d_dy;
    if (ctx->needs_input_grad(0))
      d_x = conv2d_dgrad_op(dy.contiguous(format_of(x)), gw, x.sym_sizes(), c.stride(), c.padding(), c.dilation());
    if (ctx->needs_input_grad(1)) d_dy = conv2d_op(x, gw, gb, c.stride(), c.padding(), c.dilation());
    return {d_x, d_dy, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor conv2d_autograd(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& bias,
                           at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  if (needs_graph(x, w, bias)) return Conv2dFn::apply(x, w, bias, stride, padding, dilation);
  at::AutoDispatchBelowADInplaceOrView below;
  return conv2d_op(x, w, bias, stride, padding, dilation);
}

at::Tensor conv2d_dgrad_autograd(const at::Tensor& dy, const at::Tensor& w, c10::SymIntArrayRef input_size,
                                 at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  if (needs_graph(dy, w)) return DgradFn::apply(dy, w, input_size, stride, padding, dilation);
  at::AutoDispatchBelowADInplaceOrView below;
  return conv2d_dgrad_op(dy, w, input_size, stride, padding, dilation);
}

std::tuple<at::Tensor, at::Tensor> conv2d_wgrad_autograd(const at::Tensor& x, const at::Tensor& dy,
                                                         at::IntArrayRef kernel_size, bool bias,
                                                         at::IntArrayRef stride, at::IntArrayRef padding,
                                                         at::IntArrayRef dilation) {
  if (needs_graph(x, dy)) {
    variable_list r = WgradFn::apply(x, dy, kernel_size, bias, stride, padding, dilation);
    return {r[0], r[1]};
  }
  at::AutoDispatchBelowADInplaceOrView below;
  return conv2d_wgrad_op(x, dy, kernel_size, bias, stride, padding, dilation);
}

}  // namespace

}  // namespace dwtune_torch

TORCH_LIBRARY_IMPL(dwtune, Autograd, m) {
  m.impl("conv2d", &dwtune_torch::conv2d_autograd);
  m.impl("conv2d_dgrad", &dwtune_torch::conv2d_dgrad_autograd);
  m.impl("conv2d_wgrad", &dwtune_torch::conv2d_wgrad_autograd);
}
