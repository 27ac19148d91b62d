#include "reference_cpu.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

namespace dwt {

namespace {

void reference_plane(const ConvShape& s, const float* x, const float* w, const float* bias,
                     std::int64_t plane, Reference& r) {
  const std::int64_t OH = s.out_h(), OW = s.out_w(), OC = s.out_c();
  const std::int64_t oc = plane % OC, n = plane / OC, ic = oc / s.m;
  const float* wp = w + oc * s.kh * s.kw;
  const double b = bias ? static_cast<double>(bias[oc]) : 0.0;
  for (std::int64_t oh = 0; oh < OH; ++oh)
    for (std::int64_t ow = 0; ow < OW; ++ow) {
      double acc = b, mag = std::abs(b);
      for (int kh = 0; kh < s.kh; ++kh) {
        const std::int64_t ih = oh * s.sh - s.ph + std::int64_t{kh} * s.dh;
        if (ih < 0 || ih >= s.h) continue;
        for (int kw = 0; kw < s.kw; ++kw) {
          const std::int64_t iw = ow * s.sw - s.pw + std::int64_t{kw} * s.dw;
          if (iw < 0 || iw >= s.w) continue;
          const double t = static_cast<double>(x[s.input_index(n, ic, ih, iw)]) * wp[kh * s.kw + kw];
          acc += t;
          mag += std::abs(t);
        }
      }
      const std::int64_t i = s.output_index(n, oc, oh, ow);
      r.value[i] = acc;
      r.magnitude[i] = mag;
    }
}

}  // namespace

Reference reference_cpu(const ConvShape& s, const float* x, const float* w, const float* bias,
                        unsigned threads) {
  Reference r;
  const auto total = static_cast<std::size_t>(s.output_elems());
  r.value.resize(total);
  r.magnitude.resize(total);
  const std::int64_t planes = s.n * s.out_c();
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::int64_t>(threads, planes));
  std::atomic<std::int64_t> next{0};
  auto work = [&] {
    for (std::int64_t p = next++; p < planes; p = next++) reference_plane(s, x, w, s.bias ? bias : nullptr, p, r);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return r;
}

double tolerance(DType d) { return d == DType::f32 ? 1e-5 : 1e-2; }

}  // namespace dwt
