// Family "flip_staged": the stride-1 input gradient of NCHW layers through the staged forward
// kernels (flip.cuh), for large planes such as KernelBench's: the staged tiles that won its forward
// problems on the H200, at every filter size staged compiles.
#pragma once

#include "flip.cuh"
#include "staged.cuh"

namespace dwt {

struct FlipStagedName {
  static constexpr char name[] = "flip_staged";
};

inline constexpr StagedTile kFlipStagedF32[] = {
    {.rows = 16, .tw = 4, .bx = 128}, {.rows = 16, .tw = 4, .bx = 64}, {.rows = 16, .tw = 4, .bx = 32, .by = 4}};
inline constexpr StagedTile kFlipStaged16[] = {
    {.rows = 64, .tw = 4, .bx = 128}, {.rows = 32, .tw = 8, .bx = 32}, {.rows = 16, .tw = 8, .bx = 32}};

template <class T>
void add_flip_staged(OpList& ops) {
  add_grid_by_width<T, kStripSizes, kFlipStagedF32, kFlipStaged16>(
      ops, [&]<KSize K, StagedTile P> { return Flip<FlipStagedName, Staged<T, K, P>, T>{}; });
}

}  // namespace dwt
