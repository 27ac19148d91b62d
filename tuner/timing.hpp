// Timing you can trust: CUDA events around the launch alone, warm-up first, L2 flushed before every
// repetition so no problem is timed from cache, median and spread.
#pragma once

#include <cuda_runtime_api.h>

#include <functional>
#include <string>
#include <vector>

#include "device.hpp"
#include "table.hpp"

namespace dwt {

struct TimerSettings {
  int warmup = 5;
  int reps = 25;
};

class Timer {
 public:
  // Allocates the flush buffer: twice the device's L2 (at least 64 MiB).
  Timer(int device, cudaStream_t stream);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Times `launch` (which enqueues work on the stream): warm-up runs, then per repetition an L2
  // flush, a start event, the launch, a stop event.
  TimingStats time(const std::function<void()>& launch, const TimerSettings& ts);
  // The pieces of time(), for the sweep's screening and confirmation rounds (decide.hpp):
  // `n` launches, not timed.
  void warm_up(const std::function<void()>& launch, int n);
  // `n` repetitions (flush, start event, launch, stop event), waited for: each one's milliseconds.
  std::vector<double> samples(const std::function<void()>& launch, int n);
  // `n` rounds over all of `launches` in turn, each repetition flushed and timed on its own, so
  // that drift of clocks or temperature falls on every launch alike: per launch, its n times.
  std::vector<std::vector<double>> samples_interleaved(const std::vector<std::function<void()>>& launches,
                                                       int n);
  // One such repetition, waited for: its milliseconds (no warm-up; for callers that time one
  // iteration at a time, as Google Benchmark's manual time does).
  double time_once(const std::function<void()>& launch);
  // Device-to-device copy bandwidth in GB/s, counting bytes read plus bytes written (median of 10).
  double copy_bandwidth_gbps();
  // Median time of an empty kernel launch, timed as candidates are (flush, events around the
  // launch): what the smallest problem cannot go below.
  double empty_launch_ms(const TimerSettings& ts);
  std::string flush_description() const;
  std::size_t flush_bytes() const { return flush_.bytes(); }

 private:
  cudaStream_t st_;
  DeviceBuffer flush_;
  std::vector<cudaEvent_t> events_;
  unsigned flushes_ = 0;
  void ensure_events(std::size_t n);
  // Flush, start event `pair`, launch, stop event `pair`, all enqueued; then the time between them.
  void enqueue_rep(std::size_t pair, const std::function<void()>& launch);
  double elapsed_ms(std::size_t pair) const;
};

}  // namespace dwt
