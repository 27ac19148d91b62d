#include "reference_cpu.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>
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

// dx of input plane (n, ic): every (m, kh, kw) whose output position is whole and in range.
void dgrad_plane(const ConvShape& s, const float* dy, const float* w, std::int64_t plane, Reference& r) {
  const std::int64_t OH = s.out_h(), OW = s.out_w();
  const std::int64_t ic = plane % s.c, n = plane / s.c;
  for (std::int64_t ih = 0; ih < s.h; ++ih)
    for (std::int64_t iw = 0; iw < s.w; ++iw) {
      double acc = 0, mag = 0;
      for (int mm = 0; mm < s.m; ++mm) {
        const std::int64_t oc = ic * s.m + mm;
        const float* wp = w + oc * s.kh * s.kw;
        for (int kh = 0; kh < s.kh; ++kh) {
          const std::int64_t th = ih + s.ph - std::int64_t{kh} * s.dh;  // oh * sh
          if (th < 0 || th % s.sh != 0 || th / s.sh >= OH) continue;
          for (int kw = 0; kw < s.kw; ++kw) {
            const std::int64_t tw = iw + s.pw - std::int64_t{kw} * s.dw;
            if (tw < 0 || tw % s.sw != 0 || tw / s.sw >= OW) continue;
            const double t =
                static_cast<double>(dy[s.output_index(n, oc, th / s.sh, tw / s.sw)]) * wp[kh * s.kw + kw];
            acc += t;
            mag += std::abs(t);
          }
        }
      }
      const std::int64_t i = s.input_index(n, ic, ih, iw);
      r.value[i] = acc;
      r.magnitude[i] = mag;
    }
}

// dw of output channel oc (and db[oc]): sums over batch and output positions.
void wgrad_channel(const ConvShape& s, const float* x, const float* dy, std::int64_t oc, Reference& r) {
  const std::int64_t OH = s.out_h(), OW = s.out_w(), ic = oc / s.m;
  for (int kh = 0; kh < s.kh; ++kh)
    for (int kw = 0; kw < s.kw; ++kw) {
      double acc = 0, mag = 0;
      for (std::int64_t n = 0; n < s.n; ++n)
        for (std::int64_t oh = 0; oh < OH; ++oh) {
          const std::int64_t ih = oh * s.sh - s.ph + std::int64_t{kh} * s.dh;
          if (ih < 0 || ih >= s.h) continue;
          for (std::int64_t ow = 0; ow < OW; ++ow) {
            const std::int64_t iw = ow * s.sw - s.pw + std::int64_t{kw} * s.dw;
            if (iw < 0 || iw >= s.w) continue;
            const double t = static_cast<double>(x[s.input_index(n, ic, ih, iw)]) *
                             dy[s.output_index(n, oc, oh, ow)];
            acc += t;
            mag += std::abs(t);
          }
        }
      const std::int64_t i = (oc * s.kh + kh) * s.kw + kw;
      r.value[i] = acc;
      r.magnitude[i] = mag;
    }
  if (!s.bias) return;
  double acc = 0, mag = 0;
  for (std::int64_t n = 0; n < s.n; ++n)
    for (std::int64_t oh = 0; oh < OH; ++oh)
      for (std::int64_t ow = 0; ow < OW; ++ow) {
        const double t = dy[s.output_index(n, oc, oh, ow)];
        acc += t;
        mag += std::abs(t);
      }
  r.value[s.weight_elems() + oc] = acc;
  r.magnitude[s.weight_elems() + oc] = mag;
}

}  // namespace

Reference reference_cpu(const ConvShape& s, const HostInputs& in, unsigned threads) {
  Reference r;
  const auto total = static_cast<std::size_t>(s.result_elems());
  r.value.resize(total);
  r.magnitude.resize(total);
  // Units of work: output planes (forward), input planes (dgrad), output channels (wgrad).
  const std::int64_t units = s.pass == Pass::forward ? s.n * s.out_c()
                             : s.pass == Pass::dgrad ? s.n * s.c
                                                     : s.out_c();
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, units)));
  std::atomic<std::int64_t> next{0};
  auto work = [&] {
    for (std::int64_t p = next++; p < units; p = next++) switch (s.pass) {
        case Pass::forward: reference_plane(s, in.x, in.w, s.bias ? in.bias : nullptr, p, r); break;
        case Pass::dgrad: dgrad_plane(s, in.dy, in.w, p, r); break;
        case Pass::wgrad: wgrad_channel(s, in.x, in.dy, p, r); break;
      }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return r;
}

Reference reference_cpu(const ConvShape& s, const float* x, const float* w, const float* bias,
                        unsigned threads) {
  if (s.pass != Pass::forward)
    throw std::invalid_argument("reference_cpu(s, x, w, bias): s.pass is not forward; pass HostInputs");
  return reference_cpu(s, HostInputs{.x = x, .w = w, .bias = bias}, threads);
}

double tolerance(DType d) { return d == DType::f32 ? 1e-5 : 1e-2; }

}  // namespace dwt
