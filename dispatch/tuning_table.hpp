// What the dispatch library needs from a tuning table, and its reader: the GPU the table was tuned
// on and, per problem, the winning kernel, its median time and the baselines' (cuDNN's from the
// tuner's run, PyTorch's where scripts/pytorch_baseline.py --merge wrote it). The reader takes
// these fields from a table file the tuner wrote (`dwtune tune`, `dwtune merge`) and ignores every
// other one, so a field added to tables for reports never breaks dispatch.
#pragma once

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "problem.hpp"
#include "table_error.hpp"

namespace dwt {

// The table schema this reader understands (the tuner writes "schema": 1).
inline constexpr int kTuningTableSchema = 1;

struct TunedEntry {
  Problem problem;     // the shape from the entry's key; the name from problem.name, if any
  bool ok = false;     // the tuner verified at least one candidate
  std::string kernel;  // the winner's registry name; empty when the entry has no winner
  double median_ms = std::numeric_limits<double>::quiet_NaN();  // the winner's; NaN if unknown
  // The baseline's median on the same shape in the same run ("cudnn"."time"."median_ms"); NaN when
  // the tuner did not measure it (no cuDNN, --no-cudnn, cuDNN cannot run the shape).
  double baseline_ms = std::numeric_limits<double>::quiet_NaN();
  // PyTorch's median on the same shape and pass in the entry's layout ("pytorch"."time"."median_ms",
  // written by scripts/pytorch_baseline.py --merge); NaN when not merged.
  double pytorch_ms = std::numeric_limits<double>::quiet_NaN();
  // The framework's time the winner is weighed against: PyTorch's where measured, since that is
  // what a caller falling back to F.conv2d runs (cuDNN as the tuner calls it may be faster than
  // PyTorch's call of it, or than PyTorch's own kernel); cuDNN's otherwise. NaN when neither.
  double framework_ms() const { return std::isnan(pytorch_ms) ? baseline_ms : pytorch_ms; }
  // Which framework_ms() is: "PyTorch" or "cuDNN".
  const char* framework() const { return std::isnan(pytorch_ms) ? "cuDNN" : "PyTorch"; }
  // The framework's measured time beat the winner's.
  bool baseline_faster() const { return framework_ms() < median_ms; }  // false when either is NaN
};

struct TuningTable {
  std::string gpu_name;             // meta.gpu_name: cudaDeviceProp::name of the tuning GPU
  std::vector<TunedEntry> entries;  // in file order
};

// Reads the fields above from a table file. Required: "schema" (kTuningTableSchema),
// "meta"."gpu_name", "entries", and in each entry "key" (a valid Problem key) and "ok"; a
// "winner" (object or null, required to be an object when ok is true) needs "kernel"; its
// "time"."median_ms", the entry's "cudnn"."time"."median_ms", "pytorch"."time"."median_ms" and
// "problem"."name" are read when present (absent or null: unknown). Anything else is
// ignored. Throws TableError naming the file and the JSON path of the bad field.
TuningTable read_tuning_table(const std::filesystem::path& path);

}  // namespace dwt
