// What a time means for a problem: GB/s, GFLOP/s and the share of the copy bandwidth. The one
// formula for the tuner's table and the reports, so every number in either follows from the times.
#pragma once

#include <cmath>
#include <optional>

#include "problem.hpp"

namespace dwt {

struct Rates {
  double gbps = 0;    // Problem::bytes() (the tensors the pass moves, each once) / median time
  double gflops = 0;  // 2 * outputs * KH * KW / median time, in every pass
  std::optional<double> bw_share;  // gbps / copy bandwidth; none without a copy bandwidth
};

// Zeros when the time is not positive.
inline Rates rates_of(const Problem& p, double median_ms, double copy_bandwidth_gbps) {
  Rates r;
  if (!(std::isfinite(median_ms) && median_ms > 0)) return r;
  r.gbps = p.bytes() / (median_ms * 1e6);
  r.gflops = p.flops() / (median_ms * 1e6);
  if (std::isfinite(copy_bandwidth_gbps) && copy_bandwidth_gbps > 0)
    r.bw_share = r.gbps / copy_bandwidth_gbps;
  return r;
}

// The time `p` cannot beat: its bytes at the copy bandwidth plus an empty launch (0 when unknown);
// 0 without a copy bandwidth.
inline double floor_ms(const Problem& p, double copy_bandwidth_gbps, double launch_floor_ms) {
  if (!(std::isfinite(copy_bandwidth_gbps) && copy_bandwidth_gbps > 0)) return 0;
  return p.bytes() / (copy_bandwidth_gbps * 1e6) + launch_floor_ms;
}

}  // namespace dwt
