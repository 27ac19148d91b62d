// GPU tests skip with a clear message where there is no usable CUDA device (CI); on the GPU machine
// they run for real.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "device.hpp"

#define DWT_REQUIRE_GPU()                                                      \
  do {                                                                         \
    std::string why_;                                                          \
    if (!::dwt::gpu_available(&why_)) GTEST_SKIP() << "no CUDA device (" << why_ << ")"; \
  } while (0)
