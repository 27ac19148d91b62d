// What the dispatch library needs from a tuning table, and its reader: the GPU the table was tuned
// on and, per problem, the winning kernel, its median time and the baseline's (cuDNN's). The reader takes these fields from
// a table file the tuner wrote (`dwtune tune`, `dwtune merge`) and ignores every other one, so a
// field added to tables for reports never breaks dispatch.
#pragma once

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
  // The tuner measured both and the baseline was faster than the winner.
  bool baseline_faster() const { return baseline_ms < median_ms; }  // false when either is NaN
};

struct TuningTable {
  std::string gpu_name;             // meta.gpu_name: cudaDeviceProp::name of the tuning GPU
  std::vector<TunedEntry> entries;  // in file order
};

// Reads the fields above from a table file. Required: "schema" (kTuningTableSchema),
// "meta"."gpu_name", "entries", and in each entry "key" (a valid Problem key) and "ok"; a
// "winner" (object or null, required to be an object when ok is true) needs "kernel"; its
// "time"."median_ms", the entry's "cudnn"."time"."median_ms" and "problem"."name" are read when
// present (absent or null: unknown). Anything else is
// ignored. Throws TableError naming the file and the JSON path of the bad field.
TuningTable read_tuning_table(const std::filesystem::path& path);

}  // namespace dwt
