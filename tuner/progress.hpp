// The sweep's progress on stderr: a live line per candidate on a terminal, one line per finished
// problem (winner, GB/s, share of copy bandwidth, cuDNN) everywhere, nothing with --quiet.
// Thread-safe: every device's worker reports through one.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

#include "table.hpp"

namespace dwt {

enum class Progress { automatic, quiet };

class ProgressLine {
 public:
  ProgressLine(Progress mode, std::size_t problems);

  // Candidate j of m on p is about to run; `best` is the fastest passed so far (live line only).
  void candidate(const Problem& p, std::size_t j, std::size_t m,
                 const std::optional<CandidateResult>& best);
  void problem_done(const ProblemEntry& e);
  void log(const std::string& s);

 private:
  std::string eta() const;
  bool live_, quiet_;
  std::size_t total_, done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
};

}  // namespace dwt
