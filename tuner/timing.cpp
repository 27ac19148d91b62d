#include "timing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "cuda_check.hpp"
#include "decide.hpp"

namespace dwt {

namespace {

std::size_t flush_size(int device) {
  int l2 = 0;
  DWT_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
  return std::max<std::size_t>(2 * static_cast<std::size_t>(l2), std::size_t{64} << 20);
}

}  // namespace

Timer::Timer(int device, cudaStream_t stream) : st_(stream), flush_(flush_size(device)) {}

Timer::~Timer() {
  for (cudaEvent_t e : events_)
    if (const cudaError_t err = cudaEventDestroy(e); err != cudaSuccess)
      std::fprintf(stderr, "dwtune: cudaEventDestroy failed: %s\n", cudaGetErrorString(err));
}

void Timer::ensure_events(std::size_t n) {
  while (events_.size() < n) {
    cudaEvent_t e;
    DWT_CUDA_CHECK(cudaEventCreate(&e));
    events_.push_back(e);
  }
}

void Timer::enqueue_rep(std::size_t pair, const std::function<void()>& launch) {
  DWT_CUDA_CHECK(cudaMemsetAsync(flush_.get(), static_cast<int>(flushes_++ & 0xFF), flush_.bytes(), st_));
  DWT_CUDA_CHECK(cudaEventRecord(events_[2 * pair], st_));
  launch();
  DWT_CUDA_CHECK(cudaEventRecord(events_[2 * pair + 1], st_));
}

double Timer::elapsed_ms(std::size_t pair) const {
  float t = 0;
  DWT_CUDA_CHECK(cudaEventElapsedTime(&t, events_[2 * pair], events_[2 * pair + 1]));
  return t;
}

TimingStats Timer::time(const std::function<void()>& launch, const TimerSettings& ts) {
  if (ts.reps < 1) throw std::invalid_argument("reps must be at least 1");
  warm_up(launch, ts.warmup);
  return stats_of(samples(launch, ts.reps));
}

void Timer::warm_up(const std::function<void()>& launch, int n) {
  for (int i = 0; i < n; ++i) launch();
}

std::vector<double> Timer::samples(const std::function<void()>& launch, int n) {
  return samples_interleaved({launch}, n).front();
}

std::vector<std::vector<double>> Timer::samples_interleaved(
    const std::vector<std::function<void()>>& launches, int n) {
  if (n < 1) throw std::invalid_argument("reps must be at least 1");
  const std::size_t k = launches.size(), reps = static_cast<std::size_t>(n);
  ensure_events(2 * k * reps);
  for (std::size_t i = 0; i < reps; ++i)
    for (std::size_t j = 0; j < k; ++j) enqueue_rep(i * k + j, launches[j]);
  DWT_CUDA_CHECK(cudaStreamSynchronize(st_));
  std::vector<std::vector<double>> ms(k, std::vector<double>(reps));
  for (std::size_t i = 0; i < reps; ++i)
    for (std::size_t j = 0; j < k; ++j) ms[j][i] = elapsed_ms(i * k + j);
  return ms;
}

double Timer::time_once(const std::function<void()>& launch) {
  ensure_events(2);
  enqueue_rep(0, launch);
  DWT_CUDA_CHECK(cudaEventSynchronize(events_[1]));
  return elapsed_ms(0);
}

double Timer::empty_launch_ms(const TimerSettings& ts) {
  return time([&] { launch_empty_kernel(st_); }, ts).median_ms;
}

double Timer::copy_bandwidth_gbps() {
  std::size_t free_b = 0, total_b = 0;
  DWT_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  std::size_t bytes = std::size_t{1} << 30;
  while (bytes > (std::size_t{16} << 20) && 2 * bytes > free_b / 2) bytes /= 2;
  DeviceBuffer src(bytes), dst(bytes);
  DWT_CUDA_CHECK(cudaMemsetAsync(src.get(), 1, bytes, st_));
  TimerSettings ts;
  ts.warmup = 2;
  ts.reps = 10;
  const TimingStats t = time(
      [&] {
        DWT_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, st_));
      },
      ts);
  return 2.0 * static_cast<double>(bytes) / (t.median_ms * 1e-3) / 1e9;
}

std::string Timer::flush_description() const {
  return fmt::format("cudaMemsetAsync of {} MiB before every repetition", flush_.bytes() >> 20);
}

}  // namespace dwt
