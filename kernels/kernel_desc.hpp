// What the tuner, tables, reports and dispatch know of a kernel instantiation: no CUDA types.
// Every field is derived from the family's declaration (kernels/family.cuh); nothing is retyped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "problem.hpp"

namespace dwt {

struct KernelParam {
  std::string name;
  int value;
};

// What an instantiation needs of a problem and a device, as data that can be read without running
// its support check. supports() enforces every one of these (and whatever a family adds).
struct Requirements {
  int min_cc = 0;           // minimum compute capability, major * 10 + minor; 0: any
  bool unit_stride = false; // stride 1 and dilation 1 only
  int kh = 0, kw = 0;       // compile-time filter size; 0: any (run-time size)
  std::size_t smem_bytes = 0;  // dynamic shared memory of every launch; 0: none, or shape-dependent
};

// Where an instantiation stands in dispatch's default rule (used when no table entry applies).
struct DefaultRank {
  int preference = -1;        // families with a lower value are tried first; -1: never a default
  bool default_tile = false;  // the tile its family tries first
};

struct KernelDesc {
  std::string name;    // procedural, unique: e.g. regblock_f32_nchw_k3x7_t4x4_b32x4
  std::string family;  // naive | smem | regblock | vectorized | staged | ...
  DType dtype = DType::f32;
  Layout layout = Layout::nchw;
  Pass pass = Pass::forward;        // the computation it performs (problem.hpp)
  std::vector<KernelParam> params;  // template parameters, in order
  int threads = 0;                  // threads per block
  Requirements needs;
  DefaultRank rank;

  // The value of template parameter `name`, or `absent` when the kernel has none of that name.
  int param(std::string_view pname, int absent = 0) const {
    for (const KernelParam& p : params)
      if (p.name == pname) return p.value;
    return absent;
  }
};

}  // namespace dwt
