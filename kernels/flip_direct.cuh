// Family "flip_direct": the stride-1 input gradient of NCHW layers through the direct forward
// kernels (flip.cuh): the networks' small planes, 3x3, 5x5 and 7x7, and DeepLab's dilation 2; and
// KernelBench's 3x1 and 3x7 (on an H200 at 61cdf22, flip_staged did not win KB85's float32 input
// gradient, where the forward staged kernels reach 91%: its dy rows are 250 wide, not 256).
#pragma once

#include "direct.cuh"
#include "flip.cuh"

namespace dwt {

struct FlipDirectName {
  static constexpr char name[] = "flip_direct";
};

inline constexpr KSize kFlipDirectSizes[] = {{3, 3}, {5, 5}, {7, 7}, {3, 1}, {3, 7}};

template <class T>
void add_flip_direct(OpList& ops) {
  auto make = [&]<KSize K, DirectTile P> { return Flip<FlipDirectName, Direct<T, K, P>, T>{}; };
  add_grid_by_width<T, kFlipDirectSizes, kDirectS1F32, kDirectS1x16>(ops, make);
  add_grid<T, kDirect3x3, kDirectD2>(ops, make);
}

}  // namespace dwt
