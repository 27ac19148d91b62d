// What the tuner, tables and reports know of a kernel instantiation: no CUDA types.
#pragma once

#include <string>
#include <vector>

#include "problem.hpp"

namespace dwt {

struct KernelParam {
  std::string name;
  int value;
};

struct KernelDesc {
  std::string name;    // procedural, unique: e.g. regblock_f32_nchw_k3x7_t4x4_b32x4
  std::string family;  // naive | smem | regblock | vectorized
  DType dtype = DType::f32;
  Layout layout = Layout::nchw;
  std::vector<KernelParam> params;  // template parameters, in order
  int threads = 0;                  // threads per block
};

}  // namespace dwt
