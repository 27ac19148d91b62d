// Family "flip_nhwc": the stride-1 input gradient of NHWC layers through the nhwc forward kernels
// (flip.cuh): the strips that serve KernelBench's large planes, and the direct kernels and strips
// that serve the networks' 3x3, 5x5 and 7x7 layers (with run-time dilation for 3x3).
#pragma once

#include "flip.cuh"
#include "nhwc.cuh"

namespace dwt {

struct FlipNhwcName {
  static constexpr char name[] = "flip_nhwc";
};

inline constexpr auto kFlipNhwcDirect32 = unit_stride_tiles<kNhwcDirectTiles32>();
inline constexpr auto kFlipNhwcDirect16 = unit_stride_tiles<kNhwcDirectTiles16>();
inline constexpr auto kFlipNhwcDirectLarge32 = unit_stride_tiles<kNhwcDirectTilesLarge32>();
inline constexpr auto kFlipNhwcDirectLarge16 = unit_stride_tiles<kNhwcDirectTilesLarge16>();

template <class T>
void add_flip_nhwc(OpList& ops) {
  auto make = [&]<KSize K, NhwcTile P> { return Flip<FlipNhwcName, Nhwc<T, K, P>, T>{}; };
  add_grid_by_width<T, kNhwcStripSizes, kNhwcStripTiles32, kNhwcStripTiles16>(ops, make);
  add_grid_by_width<T, kNhwcStripSizesLarge, kNhwcStripTilesLarge32, kNhwcStripTilesLarge16>(ops, make);
  add_grid_by_width<T, kNhwcDirectSizes, kFlipNhwcDirect32, kFlipNhwcDirect16>(ops, make);
  add_grid_by_width<T, kNhwcDirectSizesLarge, kFlipNhwcDirectLarge32, kFlipNhwcDirectLarge16>(ops, make);
  add_grid_by_width<T, kNhwcDilatedSizes, kNhwcDilatedTiles32, kNhwcDilatedTiles16>(ops, make);
}

}  // namespace dwt
