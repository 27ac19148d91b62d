#include "verify.hpp"

#include <fmt/format.h>

#include <cmath>

#include "cuda_check.hpp"

namespace dwt {

Verifier::Verifier(ProblemBuffers& buffers, cudaStream_t stream) : buf_(buffers), st_(stream) {
  const ConvShape& s = buf_.shape;
  if (s.output_elems() > kCpuLimit) return;
  const auto x = download_as_float(buf_.x.get(), s.input_elems(), s.dtype, st_);
  const auto w = download_as_float(buf_.w.get(), s.weight_elems(), s.dtype, st_);
  const auto b = download_as_float(buf_.b.get(), s.bias_elems(), s.dtype, st_);
  ref_ = reference_cpu(s, x.data(), w.data(), s.bias ? b.data() : nullptr);
}

VerifyResult Verifier::check(const Operation& op) {
  buf_.poison_output(st_);
  op.run(buf_.args(), st_);
  DWT_CUDA_CHECK(cudaStreamSynchronize(st_));
  return compare_output();
}

VerifyResult Verifier::compare_output() {
  const ConvShape& s = buf_.shape;
  const double tol = tolerance(s.dtype);
  VerifyResult r;
  std::int64_t first_bad = -1;
  if (ref_) {
    const auto y = download_as_float(buf_.y.get(), s.output_elems(), s.dtype, st_);
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double e = verification_error(y[i], ref_->value[i], ref_->magnitude[i], s.dtype);
      if (!(e <= tol)) {
        if (r.bad++ == 0) first_bad = static_cast<std::int64_t>(i);
      }
      if (!(e <= r.max_error)) r.max_error = e;
    }
  } else {
    const GpuCheck g = check_on_gpu(buf_.args(), tol, st_);
    r.bad = g.bad;
    r.max_error = g.max_error;
    first_bad = g.first_bad;
  }
  r.ok = r.bad == 0;
  if (!r.ok) {
    const ConvShape::OutPos o = s.output_pos(first_bad);
    r.reason = fmt::format(
        "{} of {} outputs wrong (max error {:.3g} > tolerance {:.0e}); first at n={} c={} h={} w={} "
        "({} reference)",
        r.bad, s.output_elems(), r.max_error, tol, o.n, o.oc, o.oh, o.ow, ref_ ? "CPU" : "GPU");
  }
  return r;
}

}  // namespace dwt
