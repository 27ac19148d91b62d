// Issue 13: the host cost of one dwt::conv2d call on a shape seen before: calls back to back, no
// synchronization inside a timed batch (batches of a few hundred calls keep the launch queue from
// filling, so the GPU's speed does not leak into the host's), beside the bare launch of the same
// kernel (Operation::run) and with heap allocations counted.
//   dispatch_overhead [N C H W KH KW PAD [f32|f16|bf16]]   default: 1 384 14 14 3 3 1 f32
// Prints host microseconds per call (median over batches) and allocations per call.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "dispatch.hpp"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Counts every heap allocation of the process (the timed loops should make none).
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

constexpr int kBatch = 200, kBatches = 60;

// Median host microseconds per call of f over kBatches batches of kBatch calls; allocations per call.
template <class F>
std::pair<double, double> per_call(F f, cudaStream_t st) {
  std::vector<double> us;
  long allocs = 0;
  for (int b = 0; b < kBatches; ++b) {
    DWT_CUDA_CHECK(cudaStreamSynchronize(st));
    const long a0 = g_allocations.load();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kBatch; ++i) f();
    const auto t1 = std::chrono::steady_clock::now();
    allocs += g_allocations.load() - a0;
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / kBatch);
  }
  DWT_CUDA_CHECK(cudaStreamSynchronize(st));
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], static_cast<double>(allocs) / (kBatch * kBatches)};
}

}  // namespace

int main(int argc, char** argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::fprintf(stderr, "dispatch_overhead: no CUDA device\n");
    return 3;
  }
  try {
    dwt::ConvShape s;
    s.n = 1, s.c = 384, s.h = 14, s.w = 14, s.kh = 3, s.kw = 3, s.ph = 1, s.pw = 1;
    if (argc >= 8) {
      s.n = std::atoll(argv[1]), s.c = std::atoll(argv[2]), s.h = std::atoll(argv[3]), s.w = std::atoll(argv[4]);
      s.kh = std::atoi(argv[5]), s.kw = std::atoi(argv[6]);
      s.ph = s.pw = std::atoi(argv[7]);
      if (argc >= 9) s.dtype = dwt::parse_dtype(argv[8]);
    }
    const std::size_t el = dwt::dtype_size(s.dtype);
    void *x, *w, *y;
    DWT_CUDA_CHECK(cudaMalloc(&x, s.input_elems() * el));
    DWT_CUDA_CHECK(cudaMalloc(&w, s.weight_elems() * el));
    DWT_CUDA_CHECK(cudaMalloc(&y, s.output_elems() * el));
    DWT_CUDA_CHECK(cudaMemset(x, 0, s.input_elems() * el));
    DWT_CUDA_CHECK(cudaMemset(w, 0, s.weight_elems() * el));
    cudaStream_t st;
    DWT_CUDA_CHECK(cudaStreamCreate(&st));
    const dwt::Choice c = dwt::choose(s, 0);
    if (!c.op) throw std::runtime_error(c.reason);
    std::printf("shape: n%lld c%lld h%lld w%lld k%dx%d p%d %s\nkernel: %s\nwhy: %s\n", (long long)s.n,
                (long long)s.c, (long long)s.h, (long long)s.w, s.kh, s.kw, s.ph, dwt::to_string(s.dtype),
                c.op->desc().name.c_str(), c.reason.c_str());
    dwt::conv2d(s, x, w, nullptr, y, st);  // the first call chooses and caches
    dwt::ConvArgs a;
    a.s = s, a.x = x, a.w = w, a.y = y;
    const auto [launch_us, launch_allocs] = per_call([&] { c.op->run(a, st); }, st);
    const auto [conv_us, conv_allocs] = per_call([&] { dwt::conv2d(s, x, w, nullptr, y, st); }, st);
    // Two shapes in turn: the thread's last-shape shortcut misses, the hash map answers.
    dwt::ConvShape s2 = s;
    s2.n = s.n + 1;
    void* y2;
    void* x2;
    DWT_CUDA_CHECK(cudaMalloc(&x2, s2.input_elems() * el));
    DWT_CUDA_CHECK(cudaMalloc(&y2, s2.output_elems() * el));
    dwt::conv2d(s2, x2, w, nullptr, y2, st);
    bool flip = false;
    const auto [alt_us, alt_allocs] = per_call(
        [&] {
          flip = !flip;
          if (flip)
            dwt::conv2d(s, x, w, nullptr, y, st);
          else
            dwt::conv2d(s2, x2, w, nullptr, y2, st);
        },
        st);
    std::printf("host us per call (median of %d batches of %d, no sync inside a batch):\n", kBatches, kBatch);
    std::printf("  Operation::run (the launch alone)     %.2f us, %.2f allocations per call\n", launch_us, launch_allocs);
    std::printf("  dwt::conv2d, same shape each call     %.2f us, %.2f allocations per call\n", conv_us, conv_allocs);
    std::printf("  dwt::conv2d, two shapes alternating   %.2f us, %.2f allocations per call\n", alt_us, alt_allocs);
    std::printf("  dispatch overhead over the launch     %.2f us\n", conv_us - launch_us);
    for (void* p : {x, w, y, x2, y2}) DWT_CUDA_CHECK(cudaFree(p));
    DWT_CUDA_CHECK(cudaStreamDestroy(st));
    return conv_allocs == 0 && alt_allocs == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dispatch_overhead: %s\n", e.what());
    return 1;
  }
}
