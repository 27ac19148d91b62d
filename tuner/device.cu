#include "device.hpp"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdio>
#include <cstring>
#include <utility>

#include "common.cuh"
#include "cuda_check.hpp"
#include "tolerance.hpp"

namespace dwt {

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
  if (bytes) DWT_CUDA_CHECK(cudaMalloc(&p_, bytes));
}
DeviceBuffer::~DeviceBuffer() { release(); }
DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept
    : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    release();
    p_ = std::exchange(o.p_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}
void DeviceBuffer::release() noexcept {
  if (!p_) return;
  // A destructor cannot throw: report a failed free instead of losing it.
  if (const cudaError_t err = cudaFree(p_); err != cudaSuccess)
    std::fprintf(stderr, "dwtune: cudaFree failed: %s\n", cudaGetErrorString(err));
  p_ = nullptr;
}

// Every pass allocates all four tensors (ProblemBuffers); the workspace comes on top.
std::size_t problem_device_bytes(const ConvShape& s) {
  const std::int64_t e = s.input_elems() + s.output_elems() + s.weight_elems() + s.bias_elems();
  return static_cast<std::size_t>(e) * dtype_size(s.dtype);
}

ProblemBuffers ProblemBuffers::allocate(const ConvShape& s) {
  ProblemBuffers b;
  b.shape = s;
  const std::size_t es = dtype_size(s.dtype);
  b.x = DeviceBuffer(static_cast<std::size_t>(s.input_elems()) * es);
  b.w = DeviceBuffer(static_cast<std::size_t>(s.weight_elems()) * es);
  if (s.bias) b.b = DeviceBuffer(static_cast<std::size_t>(s.bias_elems()) * es);
  b.y = DeviceBuffer(static_cast<std::size_t>(s.output_elems()) * es);
  return b;
}

void ProblemBuffers::fill_inputs(std::uint64_t seed, cudaStream_t st) {
  const Pass p = shape.pass;
  if (p != Pass::dgrad) fill_uniform(x.get(), shape.input_elems(), shape.dtype, seed * 3 + 1, st);
  if (p != Pass::wgrad) fill_uniform(w.get(), shape.weight_elems(), shape.dtype, seed * 3 + 2, st);
  if (p == Pass::forward && shape.bias)
    fill_uniform(b.get(), shape.bias_elems(), shape.dtype, seed * 3 + 3, st);
  if (p != Pass::forward) fill_uniform(y.get(), shape.output_elems(), shape.dtype, seed * 3 + 4, st);
}

void ProblemBuffers::poison_output(cudaStream_t st) {
  auto poison = [&](const DeviceBuffer& d) {
    if (d.bytes()) DWT_CUDA_CHECK(cudaMemsetAsync(d.get(), 0xFF, d.bytes(), st));
  };
  switch (shape.pass) {
    case Pass::forward: poison(y); break;
    case Pass::dgrad: poison(x); break;
    case Pass::wgrad:
      poison(w);
      poison(b);
      break;
  }
}

void ProblemBuffers::reserve_workspace(std::size_t bytes) {
  if (bytes > workspace.bytes()) {
    workspace = DeviceBuffer();  // free first: the old and new need not fit together
    workspace = DeviceBuffer(bytes);
  }
}

ConvArgs ProblemBuffers::args() const {
  ConvArgs a;
  a.s = shape;
  void* bias = shape.bias ? b.get() : nullptr;
  switch (shape.pass) {
    case Pass::forward:
      a.x = x.get();
      a.w = w.get();
      a.bias = bias;
      a.y = y.get();
      break;
    case Pass::dgrad:
      a.dy = y.get();
      a.w = w.get();
      a.dx = x.get();
      break;
    case Pass::wgrad:
      a.x = x.get();
      a.dy = y.get();
      a.dw = w.get();
      a.db = bias;
      break;
  }
  a.workspace = workspace.bytes() ? workspace.get() : nullptr;
  return a;
}

ResultView result_of(const ConvArgs& a) {
  switch (a.s.pass) {
    case Pass::forward: return {a.y, a.s.output_elems(), nullptr};
    case Pass::dgrad: return {a.dx, a.s.input_elems(), nullptr};
    case Pass::wgrad: return {a.dw, a.s.weight_elems(), a.db};
  }
  return {};
}

std::vector<float> download_result(const ConvArgs& a, cudaStream_t st) {
  const ResultView r = result_of(a);
  std::vector<float> v = download_as_float(r.first, r.first_elems, a.s.dtype, st);
  const std::int64_t rest = a.s.result_elems() - r.first_elems;
  if (rest > 0) {
    const std::vector<float> tail = download_as_float(r.second, rest, a.s.dtype, st);
    v.insert(v.end(), tail.begin(), tail.end());
  }
  return v;
}

namespace {

__device__ __forceinline__ std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

template <class T>
__global__ void fill_uniform_kernel(T* p, std::int64_t n, std::uint64_t seed) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const std::uint64_t r = mix64(seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(i));
    const float u = static_cast<float>(r >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    p[i] = from_float<T>(2.0f * u - 1.0f);
  }
}

template <class T>
__global__ void to_float_kernel(const T* src, float* dst, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x)
    dst[i] = to_float(src[i]);
}

template <class T>
__device__ __forceinline__ double load_d(const void* p, std::int64_t i) {
  return static_cast<double>(to_float(static_cast<const T*>(p)[i]));
}

// Reference value and magnitude of output i, accumulated in float64.
template <class T>
__device__ void ref_point(const ConvArgs& a, std::int64_t i, double& value, double& magnitude) {
  const ConvShape& s = a.s;
  const ConvShape::OutPos o = s.output_pos(i);
  const std::int64_t ow = o.ow, oh = o.oh, oc = o.oc, n = o.n, ic = oc / s.m;
  double acc = a.bias ? load_d<T>(a.bias, oc) : 0.0;
  double mag = fabs(acc);
  for (int kh = 0; kh < s.kh; ++kh) {
    const std::int64_t ih = oh * s.sh - s.ph + std::int64_t{kh} * s.dh;
    if (ih < 0 || ih >= s.h) continue;
    for (int kw = 0; kw < s.kw; ++kw) {
      const std::int64_t iw = ow * s.sw - s.pw + std::int64_t{kw} * s.dw;
      if (iw < 0 || iw >= s.w) continue;
      const double t = load_d<T>(a.x, s.input_index(n, ic, ih, iw)) * load_d<T>(a.w, (oc * s.kh + kh) * s.kw + kw);
      acc += t;
      mag += fabs(t);
    }
  }
  value = acc;
  magnitude = mag;
}

// Reference value and magnitude of dx at input offset i (dgrad): every (m, kh, kw) whose output
// position is whole and in range, as reference_cpu sums them.
template <class T>
__device__ void dgrad_point(const ConvArgs& a, std::int64_t i, double& value, double& magnitude) {
  const ConvShape& s = a.s;
  const ConvShape::InPos p = s.input_pos(i);
  const std::int64_t OH = s.out_h(), OW = s.out_w();
  double acc = 0, mag = 0;
  for (int mm = 0; mm < s.m; ++mm) {
    const std::int64_t oc = p.c * s.m + mm;
    for (int kh = 0; kh < s.kh; ++kh) {
      const std::int64_t th = p.h + s.ph - std::int64_t{kh} * s.dh;
      if (th < 0 || th % s.sh != 0 || th / s.sh >= OH) continue;
      for (int kw = 0; kw < s.kw; ++kw) {
        const std::int64_t tw = p.w + s.pw - std::int64_t{kw} * s.dw;
        if (tw < 0 || tw % s.sw != 0 || tw / s.sw >= OW) continue;
        const double t = load_d<T>(a.dy, s.output_index(p.n, oc, th / s.sh, tw / s.sw)) *
                         load_d<T>(a.w, (oc * s.kh + kh) * s.kw + kw);
        acc += t;
        mag += fabs(t);
      }
    }
  }
  value = acc;
  magnitude = mag;
}

// One term of wgrad result element i (dw[oc, kh, kw], or db[oc] past the weights) at the j-th of
// its n * OH * OW sums; 0 where the tap falls in the padding.
template <class T>
__device__ double wgrad_term(const ConvArgs& a, std::int64_t i, std::int64_t j) {
  const ConvShape& s = a.s;
  const std::int64_t OH = s.out_h(), OW = s.out_w();
  const std::int64_t ow = j % OW, oh = (j / OW) % OH, n = j / (OW * OH);
  if (i >= s.weight_elems()) return load_d<T>(a.dy, s.output_index(n, i - s.weight_elems(), oh, ow));
  const std::int64_t kw = i % s.kw, kh = (i / s.kw) % s.kh, oc = i / (std::int64_t{s.kw} * s.kh);
  const std::int64_t ih = oh * s.sh - s.ph + kh * s.dh, iw = ow * s.sw - s.pw + kw * s.dw;
  if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) return 0.0;
  return load_d<T>(a.x, s.input_index(n, oc / s.m, ih, iw)) * load_d<T>(a.dy, s.output_index(n, oc, oh, ow));
}

// wgrad's reference: one block per result element (grid-stride over them), each thread summing a
// strided share of the n * OH * OW terms, then a fixed-order tree in shared memory.
constexpr int kWgradRefThreads = 256;

template <class T, class M>
__global__ void __launch_bounds__(kWgradRefThreads) wgrad_reference_kernel(ConvArgs a, double* value, M* magnitude) {
  __shared__ double sv[kWgradRefThreads], sm[kWgradRefThreads];
  const std::int64_t terms = a.s.n * a.s.out_h() * a.s.out_w();
  for (std::int64_t i = blockIdx.x; i < a.s.result_elems(); i += gridDim.x) {
    double v = 0, m = 0;
    for (std::int64_t j = threadIdx.x; j < terms; j += kWgradRefThreads) {
      const double t = wgrad_term<T>(a, i, j);
      v += t;
      m += fabs(t);
    }
    sv[threadIdx.x] = v;
    sm[threadIdx.x] = m;
    __syncthreads();
    for (int d = kWgradRefThreads / 2; d > 0; d /= 2) {
      if (threadIdx.x < d) {
        sv[threadIdx.x] += sv[threadIdx.x + d];
        sm[threadIdx.x] += sm[threadIdx.x + d];
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      value[i] = sv[0];
      magnitude[i] = static_cast<M>(sm[0]);
    }
    __syncthreads();
  }
}

// Element i of a pass's result (ResultView order).
template <class T>
__device__ __forceinline__ double result_at(const ResultView& r, std::int64_t i) {
  return i < r.first_elems ? load_d<T>(r.first, i) : load_d<T>(r.second, i - r.first_elems);
}

struct CheckAccum {
  unsigned long long bad;
  unsigned long long max_err_bits;  // non-negative doubles order like their bit patterns
  unsigned long long first_bad;
};

// One thread's tally of outputs over the tolerance.
struct Tally {
  unsigned long long bad = 0;
  double max_err = 0;
  unsigned long long first = ~0ull;

  __device__ void add(std::int64_t i, double err, double tol) {
    if (!(err <= tol)) {
      ++bad;
      if (static_cast<unsigned long long>(i) < first) first = static_cast<unsigned long long>(i);
    }
    max_err = fmax(max_err, err);
  }
  // Reduced over the warp first: one set of atomics per warp, not per thread (a billion-output
  // check would otherwise queue hundreds of millions of atomics on one address).
  __device__ void flush(CheckAccum* out) {
    for (int d = 16; d > 0; d /= 2) {
      bad += __shfl_down_sync(0xffffffffu, bad, d);
      max_err = fmax(max_err, __shfl_down_sync(0xffffffffu, max_err, d));
      const unsigned long long f = __shfl_down_sync(0xffffffffu, first, d);
      first = f < first ? f : first;
    }
    if ((threadIdx.x & 31) != 0) return;
    if (bad) {
      atomicAdd(&out->bad, bad);
      atomicMin(&out->first_bad, first);
    }
    atomicMax(&out->max_err_bits, static_cast<unsigned long long>(__double_as_longlong(max_err)));
  }
};

// Blocks of 256 threads (a multiple of the warp: every lane reaches Tally::flush), grid-stride.
constexpr int kCheckThreads = 256;

// Forward or dgrad: the reference of each result element recomputed beside the comparison (wgrad,
// whose result is small, always has its reference stored: see check_on_gpu).
template <class T>
__global__ void check_kernel(ConvArgs a, ResultView r, double tol, CheckAccum* out) {
  const std::int64_t total = a.s.result_elems();
  Tally t;
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < total;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    double ref, mag;
    if (a.s.pass == Pass::dgrad)
      dgrad_point<T>(a, i, ref, mag);
    else
      ref_point<T>(a, i, ref, mag);
    t.add(i, verification_error(result_at<T>(r, i), ref, mag, a.s.dtype), tol);
  }
  t.flush(out);
}

// The result against a reference computed once (value in float64, the terms' magnitude in float32:
// it only scales the error, and float's 2^-24 is far below every tolerance).
template <class T>
__global__ void compare_kernel(ResultView r, const double* value, const float* magnitude, std::int64_t total,
                               DType d, double tol, CheckAccum* out) {
  Tally t;
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < total;
       i += std::int64_t{gridDim.x} * blockDim.x)
    t.add(i, verification_error(result_at<T>(r, i), value[i], magnitude[i], d), tol);
  t.flush(out);
}

// Forward and dgrad: one thread per result element.
template <class T, class M>
__global__ void reference_kernel(ConvArgs a, double* value, M* magnitude) {
  const std::int64_t total = a.s.result_elems();
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < total;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    double v, m;
    if (a.s.pass == Pass::dgrad)
      dgrad_point<T>(a, i, v, m);
    else
      ref_point<T>(a, i, v, m);
    value[i] = v;
    magnitude[i] = static_cast<M>(m);
  }
}

unsigned grid_for(std::int64_t n, int threads) {
  const std::int64_t g = (n + threads - 1) / threads;
  return static_cast<unsigned>(g < 1 ? 1 : (g > (1 << 20) ? (1 << 20) : g));
}

template <class F>
void by_dtype(DType d, F&& f) {
  switch (d) {
    case DType::f32: f(float{}); return;
    case DType::f16: f(__half{}); return;
    case DType::bf16: f(__nv_bfloat16{}); return;
  }
}

}  // namespace

__global__ void empty_kernel() {}

void launch_empty_kernel(cudaStream_t st) {
  empty_kernel<<<1, 32, 0, st>>>();
  DWT_CUDA_CHECK_LAUNCH();
}

void fill_uniform(void* p, std::int64_t n, DType d, std::uint64_t seed, cudaStream_t st) {
  if (n == 0) return;
  by_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    fill_uniform_kernel<T><<<grid_for(n, 256), 256, 0, st>>>(static_cast<T*>(p), n, seed);
    DWT_CUDA_CHECK_LAUNCH();
  });
}

std::vector<float> download_as_float(const void* p, std::int64_t n, DType d, cudaStream_t st) {
  std::vector<float> host(static_cast<std::size_t>(n));
  if (n == 0) return host;
  DeviceBuffer tmp(static_cast<std::size_t>(n) * sizeof(float));
  by_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    to_float_kernel<T><<<grid_for(n, 256), 256, 0, st>>>(static_cast<const T*>(p),
                                                         static_cast<float*>(tmp.get()), n);
    DWT_CUDA_CHECK_LAUNCH();
  });
  DWT_CUDA_CHECK(cudaMemcpyAsync(host.data(), tmp.get(), host.size() * sizeof(float),
                                 cudaMemcpyDeviceToHost, st));
  DWT_CUDA_CHECK(cudaStreamSynchronize(st));
  return host;
}

namespace {

// Runs `launch(accum)` on a zeroed accumulator and reads the tally back.
template <class Launch>
GpuCheck run_check(cudaStream_t st, Launch&& launch) {
  DeviceBuffer acc(sizeof(CheckAccum));
  const CheckAccum init{0, 0, ~0ull};
  DWT_CUDA_CHECK(cudaMemcpyAsync(acc.get(), &init, sizeof init, cudaMemcpyHostToDevice, st));
  launch(static_cast<CheckAccum*>(acc.get()));
  CheckAccum r{};
  DWT_CUDA_CHECK(cudaMemcpyAsync(&r, acc.get(), sizeof r, cudaMemcpyDeviceToHost, st));
  DWT_CUDA_CHECK(cudaStreamSynchronize(st));
  GpuCheck g;
  g.bad = static_cast<std::int64_t>(r.bad);
  long long bits = static_cast<long long>(r.max_err_bits);
  std::memcpy(&g.max_error, &bits, sizeof bits);
  g.first_bad = r.first_bad == ~0ull ? -1 : static_cast<std::int64_t>(r.first_bad);
  return g;
}

// Enough blocks to fill the device several times over; each thread strides through the rest.
unsigned check_grid(std::int64_t n) {
  const unsigned g = grid_for(n, kCheckThreads);
  return g < 8192u ? g : 8192u;
}

}  // namespace

namespace {

template <class M>
void launch_reference(const ConvArgs& a, double* value, M* magnitude, cudaStream_t st) {
  const std::int64_t n = a.s.result_elems();
  by_dtype(a.s.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (a.s.pass == Pass::wgrad) {
      const std::int64_t g = n < 65536 ? n : 65536;
      wgrad_reference_kernel<T, M><<<static_cast<unsigned>(g), kWgradRefThreads, 0, st>>>(a, value, magnitude);
    } else {
      reference_kernel<T, M><<<grid_for(n, 256), 256, 0, st>>>(a, value, magnitude);
    }
    DWT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace

GpuCheck compare_on_gpu(const ConvArgs& a, const double* value, const float* magnitude, double tol,
                        cudaStream_t st) {
  const std::int64_t n = a.s.result_elems();
  const ResultView r = result_of(a);
  return run_check(st, [&](CheckAccum* acc) {
    by_dtype(a.s.dtype, [&](auto tag) {
      using T = decltype(tag);
      compare_kernel<T><<<check_grid(n), kCheckThreads, 0, st>>>(r, value, magnitude, n, a.s.dtype, tol, acc);
      DWT_CUDA_CHECK_LAUNCH();
    });
  });
}

GpuCheck check_on_gpu(const ConvArgs& a, double tol, cudaStream_t st) {
  const std::int64_t n = a.s.result_elems();
  if (a.s.pass == Pass::wgrad) {  // a weight-sized reference always fits
    DeviceBuffer value(static_cast<std::size_t>(n) * sizeof(double)), mag(static_cast<std::size_t>(n) * sizeof(float));
    launch_reference(a, static_cast<double*>(value.get()), static_cast<float*>(mag.get()), st);
    return compare_on_gpu(a, static_cast<const double*>(value.get()), static_cast<const float*>(mag.get()), tol, st);
  }
  const ResultView r = result_of(a);
  return run_check(st, [&](CheckAccum* acc) {
    by_dtype(a.s.dtype, [&](auto tag) {
      using T = decltype(tag);
      check_kernel<T><<<check_grid(n), kCheckThreads, 0, st>>>(a, r, tol, acc);
      DWT_CUDA_CHECK_LAUNCH();
    });
  });
}

void reference_on_gpu(const ConvArgs& a, double* value, double* magnitude, cudaStream_t st) {
  launch_reference(a, value, magnitude, st);
}

void reference_on_gpu(const ConvArgs& a, double* value, float* magnitude, cudaStream_t st) {
  launch_reference(a, value, magnitude, st);
}

}  // namespace dwt
