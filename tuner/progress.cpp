#include "progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace dwt {

ProgressLine::ProgressLine(Progress mode, std::size_t problems)
    : live_(mode == Progress::automatic && ::isatty(STDERR_FILENO)),
      quiet_(mode == Progress::quiet),
      total_(problems),
      start_(std::chrono::steady_clock::now()) {}

void ProgressLine::candidate(const Problem& p, std::size_t j, std::size_t m,
                             const std::optional<CandidateResult>& best) {
  if (!live_) return;
  std::lock_guard lock(mu_);
  const std::string b = best ? fmt::format("best {:.4f} ms {}", best->time->median_ms, best->kernel)
                             : std::string("best -");
  fmt::print(stderr, "\r\033[K[{}/{}] {}: candidate {}/{}, {}, ETA {}", done_ + 1, total_, p.name, j,
             m, b, eta());
  std::fflush(stderr);
}

void ProgressLine::problem_done(const ProblemEntry& e) {
  std::lock_guard lock(mu_);
  ++done_;
  if (quiet_) return;
  if (live_) fmt::print(stderr, "\r\033[K");
  if (e.ok) {
    const auto& w = *e.winner;
    const std::string cudnn =
        e.speedup_vs_cudnn ? fmt::format("cuDNN {:.4f} ms, {:.2f}x", e.cudnn.time->median_ms, *e.speedup_vs_cudnn)
                           : fmt::format("cuDNN n/a: {}", e.cudnn.reason);
    fmt::print(stderr, "[{}/{}] {}: {} {:.4f} ms, {:.0f} GB/s ({:.0f}% of copy), {}/{} passed; {}\n",
               done_, total_, e.problem.name, w.kernel, w.time->median_ms, w.gbps, 100 * w.bw_share,
               e.candidates_passed, e.candidates_total, cudnn);
  } else {
    fmt::print(stderr, "[{}/{}] {}: FAILED: {}\n", done_, total_, e.problem.name, e.reason);
  }
}

void ProgressLine::log(const std::string& s) {
  if (quiet_) return;
  std::lock_guard lock(mu_);
  if (live_) fmt::print(stderr, "\r\033[K");
  fmt::print(stderr, "{}\n", s);
}

std::string ProgressLine::eta() const {
  if (done_ == 0) return "-";
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const auto left = static_cast<long>(el / static_cast<double>(done_) * static_cast<double>(total_ - done_));
  return fmt::format("{}:{:02}", left / 60, left % 60);
}

}  // namespace dwt
