// Seeded random problems for fuzzing the kernels: network-like shapes (common channel counts and
// plane sizes, square 3/5/7 filters, stride 2, "same" padding) mixed with odd ones (any size in
// range, asymmetric filters, stride and dilation up to 3, padding up to the kernel size). Every
// problem has a non-empty output and passes validate(); no GPU needed to make them.
#pragma once

#include <cstdint>
#include <vector>

#include "problem.hpp"

namespace dwt {

struct RandomProblemOptions {
  std::vector<DType> dtypes{DType::f32, DType::f16, DType::bf16};
  // Channels, then batch, are cut until the output is at most this big (fuzzing wants many small
  // problems; the CPU reference checks up to 2^22 outputs).
  std::int64_t max_outputs = std::int64_t{1} << 16;
  int network_percent = 40;  // share of network-like problems (the rest are odd ones)
  // Network-like problems at network scale: channels up to 1152 and batch 1, 8 or 32 (check-dispatch
  // wants real layers, fuzzing small ones). Off: the draws are those of earlier versions.
  bool network_scale = false;
  // Passes drawn from (dgrad problems without bias). One pass: the draws are those of earlier
  // versions, in that pass.
  std::vector<Pass> passes{Pass::forward};
};

// Ranges: n 1-4, c 1-300, h and w 1-130, kernel 1-7 per axis, stride 1-3, padding 0 to the kernel
// size, dilation 1-3, multiplier 1-2, bias or not, layout nchw, a pass of opt.passes. Names are fuzz<i>. The same seed
// gives the same problems on every platform (no std distributions).
std::vector<Problem> random_problems(std::uint64_t seed, std::size_t count,
                                     const RandomProblemOptions& opt = {});

}  // namespace dwt
