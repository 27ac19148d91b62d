#include "tuning_table.hpp"

#include <fmt/format.h>

#include "json_node.hpp"

namespace dwt {
namespace {

using json_detail::Node;

TunedEntry read_entry(const Node& n) {
  TunedEntry e;
  const Node key = n.at("key");
  try {
    e.problem = Problem::from_key(key.str());
    e.problem.validate();
  } catch (const ProblemError& err) {
    key.fail(err.what());
  }
  if (auto problem = n.opt("problem"))
    if (auto name = problem->opt("name")) e.problem.name = name->str();
  e.ok = n.at("ok").boolean();
  if (auto winner = n.opt("winner")) {
    e.kernel = winner->at("kernel").str();
    if (auto time = winner->opt("time"))
      if (auto median = time->opt("median_ms")) e.median_ms = median->num();
  } else if (e.ok) {
    n.at("winner").fail("null, but ok is true");
  }
  // A baseline's "time"."median_ms"; absent or null at any level: unknown.
  auto baseline = [&](const char* name, double& ms) {
    if (auto b = n.opt(name))
      if (auto time = b->opt("time"))
        if (auto median = time->opt("median_ms")) ms = median->num();
  };
  baseline("cudnn", e.baseline_ms);
  baseline("pytorch", e.pytorch_ms);
  return e;
}

TuningTable read_table(const Node& root) {
  const Node schema = root.at("schema");
  if (const int v = schema.integer<int>(); v != kTuningTableSchema)
    schema.fail(fmt::format("unsupported table schema {} (this dwtune reads schema {})", v,
                            kTuningTableSchema));
  TuningTable t;
  t.gpu_name = root.at("meta").at("gpu_name").str();
  const Node entries = root.at("entries");
  for (std::size_t i = 0, end = entries.size(); i < end; ++i)
    t.entries.push_back(read_entry(entries[i]));
  return t;
}

}  // namespace

TuningTable read_tuning_table(const std::filesystem::path& path) {
  return json_detail::read_table_file(path, read_table);
}

}  // namespace dwt
