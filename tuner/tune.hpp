// The sweep: for each problem, every registered instantiation that supports it (or the share a
// budgeted strategy picks, search.hpp), verified against one shared reference before it may be
// timed; screened, clearly slower ones stopped early, the best and those within its spread timed in
// full and confirmed, ties declared (decide.hpp); cuDNN is timed beside it. Wall times per problem
// and per sweep go in the table. Checkpointed after every problem, resumable, one worker per GPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "decide.hpp"
#include "operation.hpp"
#include "progress.hpp"
#include "search.hpp"
#include "table.hpp"
#include "timing.hpp"

namespace dwt {

struct TuneOptions {
  std::filesystem::path out;
  std::vector<std::string> variants;  // families to sweep; empty: all
  Strategy strategy = Strategy::exhaustive;  // --strategy
  int budget = 0;                     // candidates per problem with random or model (--budget)
  double budget_fraction = 0;         // or this share of each problem's candidates (--budget-fraction)
  std::vector<std::filesystem::path> model_tables;  // --model: tables the cost model is fitted on
  bool early_stop = true;             // --no-early-stop: every verified candidate gets the full count
  StopRule stop;
  std::vector<std::string> kernels;   // --kernels: globs over instantiation names; empty: all
  std::uint64_t seed = 1;
  std::vector<int> devices;  // empty: device 0
  int shard_index = 0, shard_count = 1;
  bool resume = false;
  bool keep_all = false;
  bool with_cudnn = true;
  Progress progress = Progress::automatic;
  TimerSettings timing;
  std::vector<std::string> notes;  // added to the table's meta.notes (e.g. "check-dispatch: ...")
};

// Exit code: 0 all problems tuned; 1 a problem failed, the run was interrupted or CUDA failed.
int run_tune(const ShapeSet& set, const TuneOptions& opt);
// What the table records of device `device` and of the software: GPU, SMs, L2, memory, driver,
// runtime and cuDNN versions, dwtune's version and git revision, the date.
TableMeta device_meta(int device);

// --- Pieces without a GPU, tested on the CPU. ---

// The candidates for `s` on a device with `lim`, restricted to `families` and to names matching
// `kernels` (globs; empty: all). Those whose support check says no are appended to `refused` as
// not_supported (when non-null).
std::vector<const Operation*> candidates_for(const ConvShape& s, const DeviceLimits& lim,
                                             const std::vector<std::string>& families,
                                             std::vector<CandidateResult>* refused,
                                             const std::vector<std::string>& kernels = {});
// Indices of the problems this run must do: those of shard I/N, less those `done` holds.
std::vector<std::size_t> pending_problems(const ShapeSet& set, const Table* done, int shard_index,
                                          int shard_count);
// Fills winner, family_best, rates and the cuDNN speedup from the candidates' results. The winner
// is the passed candidate of smallest median, or `winner_kernel` when given (the confirmation
// round's pick, decide.hpp); stopped_early candidates count as verified but never win.
ProblemEntry summarize(const Problem& p, std::vector<CandidateResult> results,
                       BaselineResult cudnn, double copy_bandwidth_gbps, bool keep_all,
                       const std::string& winner_kernel = {});
// The search a run with `opt` makes over `ops` (search.hpp): its budget from --budget or
// --budget-fraction (all of them when neither is given); `model` is needed for Strategy::model,
// `floor_ms` (rates.hpp) lets it tell when the problem is unlike those the model saw.
Search search_for(const std::vector<const Operation*>& ops, const Problem& p, const TuneOptions& opt,
                  const CostModel* model, double floor_ms);
// The strategy and its budget in words, for the table's metadata.
std::string describe_strategy(const TuneOptions& opt);
// Set by SIGINT: workers stop after the candidate in hand; what finished is in the table.
extern std::atomic<bool> g_interrupted;

}  // namespace dwt
