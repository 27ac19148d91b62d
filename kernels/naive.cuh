// Family "naive": one thread per output, every parameter at run time. The baseline the others beat.
#pragma once

#include "common.cuh"

namespace dwt {

template <class T>
__global__ void naive_kernel(ConvArgs a) {
  const ConvShape s = a.s;
  const std::int64_t oh_n = s.out_h(), ow_n = s.out_w(), oc_n = s.out_c();
  const std::int64_t total = s.output_elems();
  const T* __restrict__ x = static_cast<const T*>(a.x);
  const T* __restrict__ w = static_cast<const T*>(a.w);
  T* __restrict__ y = static_cast<T*>(a.y);
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < total;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t ow = i % ow_n;
    const std::int64_t oh = (i / ow_n) % oh_n;
    const std::int64_t oc = (i / (ow_n * oh_n)) % oc_n;
    const std::int64_t n = i / (ow_n * oh_n * oc_n);
    const std::int64_t ic = oc / s.m;
    const T* xp = x + (n * s.c + ic) * s.h * s.w;
    const T* wp = w + oc * s.kh * s.kw;
    float acc = bias_of<T>(a, oc);
    for (int kh = 0; kh < s.kh; ++kh) {
      const std::int64_t ih = oh * s.sh - s.ph + std::int64_t{kh} * s.dh;
      if (ih < 0 || ih >= s.h) continue;
      for (int kw = 0; kw < s.kw; ++kw) {
        const std::int64_t iw = ow * s.sw - s.pw + std::int64_t{kw} * s.dw;
        if (iw < 0 || iw >= s.w) continue;
        acc += ldg_f(xp + ih * s.w + iw) * ldg_f(wp + kh * s.kw + kw);
      }
    }
    y[i] = from_float<T>(acc);
  }
}

template <class T, int Threads>
struct Naive {
  static KernelDesc describe() {
    KernelDesc d;
    d.family = "naive";
    d.dtype = DTypeOf<T>::value;
    d.params = {{"threads", Threads}};
    d.threads = Threads;
    d.name = cat("naive_", to_string(d.dtype), "_nchw_b", Threads);
    return d;
  }
  static Support supports(const ConvShape&) { return Support::yes(); }
  static LaunchConfig config(const ConvShape& s) {
    const std::int64_t blocks = (s.output_elems() + Threads - 1) / Threads;
    LaunchConfig c;
    c.grid = dim3(static_cast<unsigned>(blocks < (1 << 30) ? blocks : (1 << 30)));
    c.block = dim3(Threads);
    return c;
  }
  static void launch(const ConvArgs& a, const LaunchConfig& c, cudaStream_t st) {
    naive_kernel<T><<<c.grid, c.block, 0, st>>>(a);
    DWT_CUDA_CHECK_LAUNCH();
  }
};

}  // namespace dwt
