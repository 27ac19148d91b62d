// What the build embeds of results/<gpu>/*table*.json (dispatch/embed_results.cpp writes it into a
// generated source): the slim view of each table (GPU, key -> winner, its median, cuDNN's and
// PyTorch's medians)
// and, of the tables that recorded every candidate (--keep-all), each candidate's time relative to
// its problem's best: the cost model's samples (cost_model.hpp). Internal to the library.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dwt::embedded {

struct Entry {
  const char* key;     // Problem::key()
  const char* name;    // the problem's name in its config
  const char* kernel;  // the winner
  double median_ms;    // the winner's; NaN when unknown
  double cudnn_ms;     // cuDNN's in the same run; NaN when unknown
  double pytorch_ms;   // PyTorch's ("pytorch", merged by scripts/pytorch_baseline.py); NaN when unknown
};

struct Table {
  const char* gpu_name;  // meta.gpu_name
  const char* source;    // e.g. "results/h200/table.json"
  const Entry* entries;  // passed entries only
  std::size_t count;
};

struct Rel {
  std::uint32_t signature;  // index into Data::signatures
  float log_rel;            // log(median / best median); log(10) for a failed candidate
};

struct Sample {
  const char* gpu_name;
  const char* key;
  const Rel* rels;
  std::size_t count;
};

struct Data {
  const Table* tables;
  std::size_t table_count;
  const char* const* signatures;
  std::size_t signature_count;
  const Sample* samples;
  std::size_t sample_count;
};

// Defined in the generated source.
const Data& data();

}  // namespace dwt::embedded
