// A small, realistic tuning table built by hand: the table and report tests and the HTML browser
// check use it instead of a GPU run.
#pragma once

#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "table.hpp"

namespace dwt::sample {

inline constexpr double kCopyBandwidth = 4251;  // GB/s, as measured on an H200

inline Problem problem(std::string name, std::int64_t n, std::int64_t c, std::int64_t h,
                       std::int64_t w, int kh, int kw, int stride = 1, int pad = 0,
                       DType dtype = DType::f32) {
  Problem p;
  p.name = std::move(name);
  p.n = n, p.c = c, p.h = h, p.w = w;
  p.kh = kh, p.kw = kw;
  p.sh = p.sw = stride;
  p.ph = p.pw = pad;
  p.dtype = dtype;
  return p;
}

inline TimingStats timing(double median_ms) {
  return {median_ms, median_ms * 0.98, median_ms * 1.07, 50};
}

// A passed candidate with its rates derived from the problem, as the tuner fills them.
inline CandidateResult passed(const Problem& p, const std::string& family, double median_ms,
                              std::vector<KernelParam> params = {}) {
  CandidateResult c;
  c.family = family;
  c.params = std::move(params);
  std::string suffix;
  for (const auto& kp : c.params) suffix += fmt::format("_{}{}", kp.name, kp.value);
  c.kernel = fmt::format("{}_{}_nchw_k{}x{}{}", family, to_string(p.dtype), p.kh, p.kw, suffix);
  c.status = Disposition::passed;
  c.max_error = 3e-7;
  c.time = timing(median_ms);
  const unsigned outputs_per_block = 256;
  c.launch.block[0] = 32;
  c.launch.block[1] = 8;
  c.launch.grid[0] = static_cast<unsigned>((p.out_w() + 31) / 32);
  c.launch.grid[1] =
      static_cast<unsigned>((p.out_h() * 32 + outputs_per_block - 1) / outputs_per_block);
  c.launch.grid[2] = static_cast<unsigned>(p.n * p.out_c());
  c.launch.smem_bytes = family == "smem" ? 12288 : 0;
  c.gbps = p.bytes() / (median_ms * 1e6);
  c.bw_share = c.gbps / kCopyBandwidth;
  c.gflops = p.flops() / (median_ms * 1e6);
  return c;
}

inline CandidateResult failed(const Problem& p, const std::string& family, Disposition d,
                              std::string reason) {
  CandidateResult c = passed(p, family, 1.0);
  c.status = d;
  c.reason = std::move(reason);
  c.time.reset();
  c.max_error.reset();
  c.gbps = c.bw_share = c.gflops = 0;
  return c;
}

// An entry whose winner is the fastest of `best` (family -> median ms); cuDNN absent when
// `cudnn_ms` is empty, with `cudnn_reason` saying why.
inline ProblemEntry entry(const Problem& p, const std::map<std::string, double>& best,
                          std::optional<double> cudnn_ms,
                          std::string cudnn_reason = "cuDNN not built in") {
  ProblemEntry e;
  e.problem = p;
  for (const auto& [family, ms] : best)
    e.family_best.emplace(family, passed(p, family, ms, {{"th", 4}, {"tw", 4}}));
  for (const auto& [family, c] : e.family_best)
    if (!e.winner || c.time->median_ms < e.winner->time->median_ms) e.winner = c;
  e.ok = e.winner.has_value();
  if (!e.ok) e.reason = "no candidate passed";
  if (cudnn_ms) {
    e.cudnn.available = true;
    e.cudnn.algo = "IMPLICIT_PRECOMP_GEMM";
    e.cudnn.time = timing(*cudnn_ms);
    e.cudnn.gbps = p.bytes() / (*cudnn_ms * 1e6);
    e.cudnn.bw_share = e.cudnn.gbps / kCopyBandwidth;
    if (e.winner) e.speedup_vs_cudnn = *cudnn_ms / e.winner->time->median_ms;
  } else {
    e.cudnn.reason = std::move(cudnn_reason);
  }
  e.candidates_passed = static_cast<int>(best.size()) * 3;
  e.candidates_total = e.candidates_passed + 4;
  return e;
}

inline TableMeta meta() {
  TableMeta m;
  m.gpu_name = "NVIDIA H200";
  m.compute_capability = "9.0";
  m.sm_count = 132;
  m.l2_bytes = 60 << 20;
  m.memory_bytes = std::int64_t{143771} << 20;
  m.driver_version = "13.0";
  m.runtime_version = "13.0";
  m.cudnn_version = "9.19.0";
  m.dwtune_version = "0.1.0";
  m.git_revision = "b60533c0ffee";
  m.date = "2025-11-26T01:00:00Z";
  m.warmup = 10;
  m.reps = 50;
  m.flush = "input buffers rotated past 3x L2";
  m.copy_bandwidth_gbps = kCopyBandwidth;
  m.config_name = "kernelbench-depthwise";
  m.strategy = "exhaustive";
  return m;
}

// Four problems: two tuned against cuDNN, one without cuDNN (some families unsupported, with the
// candidates kept), one where nothing passed. Speedups are round numbers on purpose.
inline Table table() {
  Table t;
  t.meta = meta();
  // naive 2.0 / vectorized 0.4 = 5x; cuDNN 1.0 / 0.4 = 2.5x.
  t.entries.push_back(entry(problem("kb85", 32, 128, 128, 256, 3, 7),
                            {{"naive", 2.0}, {"smem", 0.8}, {"regblock", 0.5}, {"vectorized", 0.4}},
                            1.0));
  // naive 2.4 / regblock 0.6 = 4x; cuDNN 1.8 / 0.6 = 3x.
  t.entries.push_back(
      entry(problem("kb82", 16, 64, 512, 512, 3, 3),
            {{"naive", 2.4}, {"smem", 1.2}, {"regblock", 0.6}, {"vectorized", 0.64}}, 1.8));
  // naive 0.1 / smem 0.05 = 2x; no cuDNN.
  ProblemEntry edge = entry(problem("edge_s2_f16", 8, 32, 250, 250, 5, 5, 2, 2, DType::f16),
                            {{"naive", 0.1}, {"smem", 0.05}}, std::nullopt);
  edge.candidates = {
      edge.family_best.at("naive"), edge.family_best.at("smem"),
      failed(edge.problem, "regblock", Disposition::not_supported, "stride 2 needs the smem path"),
      failed(edge.problem, "vectorized", Disposition::not_supported,
             "rows not aligned to 16 bytes"),
      failed(edge.problem, "vectorized", Disposition::incorrect, "max error 0.5 at (0, 3, 17, 2)")};
  t.entries.push_back(std::move(edge));
  ProblemEntry big =
      entry(problem("huge", 512, 512, 512, 512, 3, 3), {}, std::nullopt, "out of memory");
  big.reason = "out of memory: buffers need 137 GB";
  big.candidates_passed = 0;
  big.candidates_total = 12;
  t.entries.push_back(std::move(big));
  return t;
}

}  // namespace dwt::sample
