// The tuning table: versioned JSON, device and software metadata, one entry per problem.
// No GPU code here: reports and merge read tables on any machine. The dispatch library reads only
// a slim view of it (dispatch/tuning_table.hpp), never this schema.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel_desc.hpp"
#include "problem.hpp"
#include "table_error.hpp"

namespace dwt {

inline constexpr int kTableSchema = 1;

struct TimingStats {
  double median_ms = 0, min_ms = 0, max_ms = 0;
  int reps = 0;
};

// Disposition of one candidate, in the order of the sweep.
//   passed        verified and timed
//   incorrect     ran but its output differs from the reference (never timed, never wins)
//   not_supported the instantiation's support check said no (reason says why)
//   launch_failed the launch or the run raised a CUDA error
//   out_of_memory the problem's buffers did not fit
//   stopped_early verified, but its screening reps were clearly slower than the best so far
//                 (decide.hpp); `time` holds those reps only. Never a winner.
// Tables name them in words; a word not listed here is refused when a table is read.
enum class Disposition { passed, incorrect, not_supported, launch_failed, out_of_memory, stopped_early };
const char* to_string(Disposition d);
Disposition parse_disposition(const std::string& s);

struct LaunchShape {
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  std::size_t smem_bytes = 0;
};

struct CandidateResult {
  std::string kernel;  // registry name, e.g. vectorized_f32_nchw_k3x7_t4x4_b32x4
  std::string family;
  std::vector<KernelParam> params;
  Disposition status = Disposition::passed;
  std::string reason;               // empty when passed
  std::optional<double> max_error;  // verification error (relative to the magnitude of the terms)
  std::optional<TimingStats> time;  // only when passed
  LaunchShape launch;
  double gbps = 0;        // bytes / median time
  double bw_share = 0;    // gbps / copy bandwidth of the run
  double gflops = 0;
};

struct BaselineResult {
  bool available = false;  // false: cuDNN not built in, or it cannot run this problem
  std::string reason;      // why not available
  std::string algo;        // e.g. "IMPLICIT_PRECOMP_GEMM"
  std::optional<TimingStats> time;
  double gbps = 0, bw_share = 0;
};

// PyTorch's time of an entry's problem, written beside it by scripts/pytorch_baseline.py --merge:
// F.conv2d (or its backward pass) in the entry's own layout and pass, from another run on the
// same GPU model (TableMeta::pytorch says which).
struct PytorchTime {
  double median_ms = 0;
  std::string layout_run;  // the memory format PyTorch ran: "nchw" or "channels_last"
};

// One PyTorch file merged into a table.
struct PytorchSource {
  std::string file;   // its name
  std::string torch;  // torch.__version__
  std::string gpu;    // torch.cuda.get_device_name()
  std::string cudnn;  // torch.backends.cudnn.version(), or "none"
  int entries = 0;    // the entries that took a time from it
  bool operator==(const PytorchSource&) const = default;
};

struct ProblemEntry {
  Problem problem;
  bool ok = false;     // at least one candidate passed
  std::string reason;  // when !ok: why the problem failed (no candidate passed, too large, ...)
  std::optional<CandidateResult> winner;
  std::map<std::string, CandidateResult> family_best;  // best passed candidate of each family
  BaselineResult cudnn;
  std::optional<double> speedup_vs_cudnn;  // cudnn median / winner median
  std::optional<PytorchTime> pytorch;      // absent until a PyTorch file is merged
  int candidates_total = 0, candidates_passed = 0;  // passed: verified (stopped_early included)
  std::vector<CandidateResult> candidates;  // every candidate, only with --keep-all
  // Kernels the measurements cannot tell from the winner (decide.hpp's tie rule); the winner is
  // the smallest median of them, not a claim that it is faster.
  std::vector<std::string> tied_with;
  std::optional<double> wall_s;          // wall time of this problem's tuning, seconds
  std::map<std::string, double> phase_s; // where that time went: reference, verify, screen, ...
};

struct TableMeta {
  std::string gpu_name;
  std::string compute_capability;  // "9.0"
  int sm_count = 0;
  std::int64_t l2_bytes = 0;
  std::int64_t memory_bytes = 0;
  std::string driver_version, runtime_version, cudnn_version;  // "13.0", "9.14.0" or "none"
  std::string dwtune_version, git_revision;
  std::string date;  // ISO 8601, UTC
  int warmup = 0, reps = 0;
  std::string flush;  // how L2 was kept out of the timings
  double copy_bandwidth_gbps = 0;  // device-to-device copy, bytes read + written, this run
  // Median time of an empty kernel launch, timed like the candidates, this run; absent in tables
  // written before it was measured. A problem's floor is bytes / copy bandwidth + this.
  std::optional<double> launch_floor_ms;
  std::string config_name, strategy;
  int device_count = 1;
  std::vector<std::string> notes;  // provenance that fits no field above, e.g. what merge joined
  std::vector<PytorchSource> pytorch;  // where the entries' PyTorch times came from
  std::optional<double> wall_s;    // wall time of the whole sweep (this run's part with --resume)
};

struct Table {
  int schema = kTableSchema;
  TableMeta meta;
  std::vector<ProblemEntry> entries;

  // nullptr when no entry has that problem key.
  const ProblemEntry* find(const std::string& key) const;
};

void to_json(nlohmann::json& j, const Table& t);
void from_json(const nlohmann::json& j, Table& t);
// The parts on their own (e.g. for checkpoints); from_json throws TableError naming the JSON path.
void to_json(nlohmann::json& j, const TimingStats& t);
void from_json(const nlohmann::json& j, TimingStats& t);
void to_json(nlohmann::json& j, const LaunchShape& l);
void from_json(const nlohmann::json& j, LaunchShape& l);
void to_json(nlohmann::json& j, const CandidateResult& c);
void from_json(const nlohmann::json& j, CandidateResult& c);
void to_json(nlohmann::json& j, const BaselineResult& b);
void from_json(const nlohmann::json& j, BaselineResult& b);
void to_json(nlohmann::json& j, const ProblemEntry& e);
void from_json(const nlohmann::json& j, ProblemEntry& e);
void to_json(nlohmann::json& j, const TableMeta& m);
void from_json(const nlohmann::json& j, TableMeta& m);

// Reads and checks a table (schema version, required fields); TableError names the file and field.
Table read_table(const std::filesystem::path& path);
// Through write_file_atomic (safe_write.hpp): a table on disk is never half-written, and never
// replaces anything but a regular file. Its failures come as TableError.
void write_table_atomic(const Table& t, const std::filesystem::path& path);

// Joins tables. Entries are keyed by (GPU name, problem key): the same problem from two tables of
// one GPU model keeps the faster winner; tables of different GPU models are refused (TableError).
// In detail: entries keep the order of first appearance; of two entries with one key, an ok one
// beats a failed one, then the smaller winner median wins, and on a tie the earlier table's entry
// stays. Metadata comes from the first table, with a note in meta.notes naming what was joined
// (each entry's bw_share stays relative to the copy bandwidth of its own run). PyTorch's time stays
// with its entry (the kept entry takes the other's where it has none); meta.pytorch lists the
// sources of every table, each once.
// meta.config_name joins the distinct config names with " + ". `names` (the files, for messages;
// "table I" where absent) name the tables that disagree. No tables at all: TableError.
Table merge_tables(const std::vector<Table>& tables, const std::vector<std::string>& names = {});

}  // namespace dwt
