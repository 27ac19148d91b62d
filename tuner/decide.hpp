// The sweep's decisions over measured times, without a GPU: when a candidate's screening reps prove
// it slower than the best so far (it stops early), which candidates are close enough to the best to
// be confirmed, and which of those the measurements cannot tell apart (a declared tie).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "table.hpp"

namespace dwt {

// Median, min, max and count of repetition times (ms). Throws std::invalid_argument when empty.
TimingStats stats_of(std::vector<double> ms);
// The q-quantile (0..1) of `ms`, linearly interpolated. Throws std::invalid_argument when empty.
double quantile(std::vector<double> ms, double q);

struct StopRule {
  int screen_reps = 3;     // flushed repetitions (after one warm-up) that every verified candidate gets
  double margin = 0.02;    // a candidate stops only if even its fastest screening rep is this much
                           // (relative) and the best's own range above the best's slowest rep
  double tie_floor = 0.005;  // medians closer than this (relative) are never told apart
};

// The time above which a screening rep proves a candidate slower than `best` (fully timed):
// best's slowest rep plus the larger of best's range (max - min) and margin * best's median.
double stop_threshold(const TimingStats& best, const StopRule& rule);
// Whether the fastest of `screen_ms` lies above stop_threshold(best): the candidate stops early.
bool clearly_slower(const std::vector<double>& screen_ms, const TimingStats& best, const StopRule& rule);
// Whether a fully timed candidate is close enough to `best` to be confirmed beside it: its median
// within best's range, or their ranges overlap, or its median within margin of best's.
bool within_spread(const TimingStats& best, const TimingStats& other, const StopRule& rule);

// Two rounds of full repetitions per finalist (the first round, then the confirmation round run
// interleaved with the other finalists), and what they decide.
struct FinalistTimes {
  std::vector<double> first, confirm;
};
struct TieDecision {
  std::size_t winner = 0;            // index into the finalists: the smallest median of both rounds
  std::vector<std::size_t> tied;     // other finalists the measurements cannot tell from the winner
  std::vector<TimingStats> stats;    // per finalist, over both rounds
  std::vector<double> noise_ms;      // per finalist: max(|median(first) - median(confirm)|, IQR / 2)
};
// A finalist b ties the winner w when median(b) - median(w) <= noise(w) + noise(b) + tie_floor *
// median(w). Deterministic: equal medians go to the lower index. Throws std::invalid_argument when
// `f` is empty or a round is empty.
TieDecision decide_ties(const std::vector<FinalistTimes>& f, const StopRule& rule);

// One line for the table's metadata: the rule in words.
std::string describe(const StopRule& rule);

}  // namespace dwt
