// The tables and the cost model the build embedded from results/ (embedded.hpp), as the types the
// rules take; built once, on first use.
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "cost_model.hpp"
#include "dispatch.hpp"
#include "embedded.hpp"

namespace dwt {

namespace {

// GPU name -> every shipped entry measured on that model; of one key in two tables, the faster.
const std::map<std::string, std::shared_ptr<const TuningTable>, std::less<>>& shipped_tables() {
  static const auto tables = [] {
    std::map<std::string, std::shared_ptr<const TuningTable>, std::less<>> out;
    std::map<std::string, TuningTable> build;
    std::map<std::string, std::map<std::string, std::size_t>> index;  // gpu -> key -> entry
    const embedded::Data& d = embedded::data();
    for (std::size_t t = 0; t < d.table_count; ++t) {
      const embedded::Table& tab = d.tables[t];
      TuningTable& into = build[tab.gpu_name];
      into.gpu_name = tab.gpu_name;
      for (std::size_t i = 0; i < tab.count; ++i) {
        const embedded::Entry& e = tab.entries[i];
        TunedEntry te;
        te.problem = Problem::from_key(e.key);
        te.problem.name = e.name;
        te.ok = true;
        te.kernel = e.kernel;
        te.median_ms = e.median_ms;
        te.baseline_ms = e.cudnn_ms;
        te.pytorch_ms = e.pytorch_ms;
        auto [it, added] = index[tab.gpu_name].emplace(e.key, into.entries.size());
        if (added)
          into.entries.push_back(std::move(te));
        else if (e.median_ms < into.entries[it->second].median_ms)
          into.entries[it->second] = std::move(te);
      }
    }
    for (auto& [gpu, t] : build) out.emplace(gpu, std::make_shared<const TuningTable>(std::move(t)));
    return out;
  }();
  return tables;
}

}  // namespace

std::shared_ptr<const TuningTable> shipped_table(std::string_view gpu_name) {
  const auto& all = shipped_tables();
  auto it = all.find(gpu_name);
  return it == all.end() ? nullptr : it->second;
}

std::vector<std::string> shipped_table_sources() {
  std::vector<std::string> out;
  const embedded::Data& d = embedded::data();
  for (std::size_t t = 0; t < d.table_count; ++t)
    out.push_back(std::string(d.tables[t].source) + " (" + d.tables[t].gpu_name + ", " +
                  std::to_string(d.tables[t].count) + " entries)");
  return out;
}

const DispatchModel& builtin_model() {
  static const DispatchModel model = [] {
    const embedded::Data& d = embedded::data();
    std::vector<std::string> sigs(d.signatures, d.signatures + d.signature_count);
    std::vector<ModelSample> samples;
    for (std::size_t i = 0; i < d.sample_count; ++i) {
      const embedded::Sample& s = d.samples[i];
      ModelSample m;
      m.problem = Problem::from_key(s.key);
      m.key = s.key;
      m.gpu_name = s.gpu_name;
      for (std::size_t r = 0; r < s.count; ++r) m.rel.emplace_back(s.rels[r].signature, s.rels[r].log_rel);
      samples.push_back(std::move(m));
    }
    return DispatchModel(std::move(sigs), std::move(samples));
  }();
  return model;
}

}  // namespace dwt
