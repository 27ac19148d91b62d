// The three operators of dwtune_torch, as the autograd layer (autograd.cpp) calls them through the
// dispatcher: dwtune::conv2d, dwtune::conv2d_dgrad, dwtune::conv2d_wgrad (schemas in ext.cpp).
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <tuple>

namespace dwtune_torch {

// channels_last and not also contiguous (as when C == 1 or H == W == 1): such an activation runs in
// NHWC and its result is channels_last too, as F.conv2d gives it. _op.py's fake implementations
// follow the same rule.
inline bool channels_last(const at::Tensor& t) {
  return t.dim() == 4 && !t.is_contiguous() && t.is_contiguous(at::MemoryFormat::ChannelsLast);
}

inline at::MemoryFormat format_of(const at::Tensor& t) {
  return channels_last(t) ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

// y = depthwise conv2d(x, weight) + bias, groups = C.
at::Tensor conv2d_op(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& bias,
                     at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation);
// dx of size input_size from dy and weight.
at::Tensor conv2d_dgrad_op(const at::Tensor& dy, const at::Tensor& w, c10::SymIntArrayRef input_size,
                           at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation);
// (dw [C*M, 1, KH, KW], db [C*M] when bias else [0]) from x and dy.
std::tuple<at::Tensor, at::Tensor> conv2d_wgrad_op(const at::Tensor& x, const at::Tensor& dy,
                                                   at::IntArrayRef kernel_size, bool bias,
                                                   at::IntArrayRef stride, at::IntArrayRef padding,
                                                   at::IntArrayRef dilation);

}  // namespace dwtune_torch
