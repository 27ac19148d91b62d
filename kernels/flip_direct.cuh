// Family "flip_direct": the stride-1 input gradient of NCHW layers through the direct forward
// kernels (flip.cuh): the networks' small planes, 3x3, 5x5 and 7x7, and DeepLab's dilation 2.
#pragma once

#include "direct.cuh"
#include "flip.cuh"

namespace dwt {

struct FlipDirectName {
  static constexpr char name[] = "flip_direct";
};

template <class T>
void add_flip_direct(OpList& ops) {
  auto make = [&]<KSize K, DirectTile P> { return Flip<FlipDirectName, Direct<T, K, P>, T>{}; };
  add_grid_by_width<T, kDirectSizes, kDirectS1F32, kDirectS1x16>(ops, make);
  add_grid<T, kDirect3x3, kDirectD2>(ops, make);
}

}  // namespace dwt
