#include "verify.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda_check.hpp"
#include "format.hpp"

namespace dwt {

namespace {

// The device reference against the CPU one. Both accumulate the same exact products in the same
// order, so they agree to rounding; the magnitude is stored in float on the device.
void check_against_cpu(const Reference& cpu, const DeviceBuffer& value, const DeviceBuffer& mag,
                       const ConvShape& s, cudaStream_t st) {
  const std::size_t n = cpu.value.size();
  std::vector<double> v(n);
  std::vector<float> m(n);
  DWT_CUDA_CHECK(cudaMemcpyAsync(v.data(), value.get(), n * sizeof(double), cudaMemcpyDeviceToHost, st));
  DWT_CUDA_CHECK(cudaMemcpyAsync(m.data(), mag.get(), n * sizeof(float), cudaMemcpyDeviceToHost, st));
  DWT_CUDA_CHECK(cudaStreamSynchronize(st));
  for (std::size_t i = 0; i < n; ++i) {
    const double scale = std::max(cpu.magnitude[i], 1e-300);
    const bool value_ok = std::abs(v[i] - cpu.value[i]) <= 1e-12 * scale;
    const bool mag_ok = std::abs(static_cast<double>(m[i]) - cpu.magnitude[i]) <= 1e-6 * scale;
    if (!value_ok || !mag_ok)
      throw ReferenceMismatch(fmt::format(
          "the GPU reference disagrees with the CPU reference at output {} of {} ({}): value {} vs "
          "{}, magnitude {} vs {}; nothing can be verified",
          i, n, s, v[i], cpu.value[i], m[i], cpu.magnitude[i]));
  }
}

// Where result element i is, in words: "n=0 c=3 h=5 w=7" (forward: output; dgrad: input), "dw[c=3
// kh=1 kw=2]" or "db[c=3]" (wgrad).
std::string result_position(const ConvShape& s, std::int64_t i) {
  switch (s.pass) {
    case Pass::forward: {
      const ConvShape::OutPos o = s.output_pos(i);
      return fmt::format("n={} c={} h={} w={}", o.n, o.oc, o.oh, o.ow);
    }
    case Pass::dgrad: {
      const ConvShape::InPos p = s.input_pos(i);
      return fmt::format("dx at n={} c={} h={} w={}", p.n, p.c, p.h, p.w);
    }
    case Pass::wgrad:
      if (i >= s.weight_elems()) return fmt::format("db[c={}]", i - s.weight_elems());
      return fmt::format("dw[c={} kh={} kw={}]", i / (std::int64_t{s.kh} * s.kw), (i / s.kw) % s.kh, i % s.kw);
  }
  return "?";
}

}  // namespace

Reference cpu_reference(const ProblemBuffers& buf, cudaStream_t st) {
  const ConvShape& s = buf.shape;
  const ConvArgs a = buf.args();
  auto get = [&](const void* p, std::int64_t n) {
    return p ? download_as_float(p, n, s.dtype, st) : std::vector<float>();
  };
  const auto x = get(a.x, s.input_elems());
  const auto w = get(a.w, s.weight_elems());
  const auto b = get(a.bias, s.bias_elems());
  const auto dy = get(a.dy, s.output_elems());
  auto ptr = [](const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); };
  return reference_cpu(s, HostInputs{.x = ptr(x), .w = ptr(w), .bias = ptr(b), .dy = ptr(dy)});
}

Verifier::Verifier(ProblemBuffers& buffers, cudaStream_t stream) : buf_(buffers), st_(stream) {
  const ConvShape& s = buf_.shape;
  const auto n = static_cast<std::size_t>(s.result_elems());
  // The CPU's cost is the reference's terms: outputs (or inputs) times taps, or for wgrad the whole
  // batch per weight.
  const std::int64_t cpu_work = s.pass == Pass::wgrad ? s.n * s.out_h() * s.out_w() * s.out_c() : s.result_elems();
  const bool small = cpu_work <= kCpuLimit;
  std::size_t free_b = 0, total_b = 0;
  DWT_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  if (n * (sizeof(double) + sizeof(float)) <= free_b / 2) {
    try {
      ref_value_ = DeviceBuffer(n * sizeof(double));
      ref_mag_ = DeviceBuffer(n * sizeof(float));
    } catch (const CudaError& e) {
      if (e.code != cudaErrorMemoryAllocation) throw;
      (void)cudaGetLastError();  // not sticky; clear it so later launch checks do not see it
      ref_value_ = DeviceBuffer();
      ref_mag_ = DeviceBuffer();
    }
  }
  if (shared_on_device()) {
    reference_on_gpu(buf_.args(), static_cast<double*>(ref_value_.get()),
                     static_cast<float*>(ref_mag_.get()), st_);
    if (small) {
      check_against_cpu(cpu_reference(buf_, st_), ref_value_, ref_mag_, s, st_);
      cpu_checked_ = true;
    }
  } else if (small) {
    host_ref_ = cpu_reference(buf_, st_);
  }
}

std::string Verifier::reference_kind() const {
  if (shared_on_device()) return cpu_checked_ ? "GPU, checked against CPU" : "GPU";
  return host_ref_ ? "CPU" : "GPU, recomputed per check";
}

VerifyResult Verifier::check(const Operation& op) {
  buf_.reserve_workspace(op.workspace_bytes(buf_.shape));
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
  if (shared_on_device()) {
    const GpuCheck g = compare_on_gpu(buf_.args(), static_cast<const double*>(ref_value_.get()),
                                      static_cast<const float*>(ref_mag_.get()), tol, st_);
    r.bad = g.bad;
    r.max_error = g.max_error;
    first_bad = g.first_bad;
  } else if (host_ref_) {
    const auto y = download_result(buf_.args(), st_);
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double e = verification_error(y[i], host_ref_->value[i], host_ref_->magnitude[i], s.dtype);
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
    r.reason = fmt::format("{} of {} {} wrong (max error {:.3g} > tolerance {:.0e}); first at {} ({} reference)",
                           r.bad, s.result_elems(),
                           s.pass == Pass::forward ? "outputs" : fmt::format("{} results", to_string(s.pass)),
                           r.max_error, tol, result_position(s, first_bad), reference_kind());
  }
  return r;
}

}  // namespace dwt
