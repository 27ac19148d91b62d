// Build tool: writes the C++ source that embeds the measured tables of results/ into the dispatch
// library (embedded.hpp says what is kept). Tables that check-dispatch wrote (their shapes are held
// out of fitting) are skipped.
//   dwtune_embed_results OUT.cpp ROOT TABLE.json[.gz]...   (names in OUT are relative to ROOT)
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cost_model.hpp"
#include "json_input.hpp"

namespace {

using nlohmann::json;

// A C++ string literal of any bytes.
std::string literal(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f || ch == '?')
      out += fmt::format("\\{:03o}", ch);
    else
      out += static_cast<char>(ch);
  }
  return out + "\"";
}

std::string number(double v) { return std::isfinite(v) ? fmt::format("{:.9g}", v) : "kNaN"; }

// time.median_ms of an object that may be null or lack it.
double median_of(const json& j) {
  if (!j.is_object() || !j.contains("time") || !j["time"].is_object()) return NAN;
  const json& t = j["time"];
  return t.contains("median_ms") && t["median_ms"].is_number() ? t["median_ms"].get<double>() : NAN;
}

struct Out {
  std::string entries, tables, rels, samples;
  std::size_t entry_count = 0, table_count = 0, rel_count = 0, sample_count = 0;
  std::map<std::string, std::uint32_t> sig_index;
  std::vector<std::string> sigs;

  std::uint32_t sig(const std::string& s) {
    auto [it, added] = sig_index.emplace(s, static_cast<std::uint32_t>(sigs.size()));
    if (added) sigs.push_back(s);
    return it->second;
  }
};

void add_table(Out& o, const json& root, const std::string& source) {
  const json& meta = root.at("meta");
  if (meta.contains("notes"))
    for (const json& n : meta["notes"])
      if (n.is_string() && n.get<std::string>().starts_with("check-dispatch")) {
        std::fprintf(stderr, "embed: %s skipped (written by check-dispatch: held-out shapes)\n", source.c_str());
        return;
      }
  const std::string gpu = meta.at("gpu_name").get<std::string>();
  const std::size_t first = o.entry_count;
  for (const json& e : root.at("entries")) {
    if (!e.at("ok").get<bool>() || !e.contains("winner") || !e["winner"].is_object()) continue;
    const std::string key = e.at("key").get<std::string>();
    std::string name;
    if (e.contains("problem") && e["problem"].is_object() && e["problem"].contains("name"))
      name = e["problem"]["name"].get<std::string>();
    const double cudnn = e.contains("cudnn") ? median_of(e["cudnn"]) : NAN;
    const double pytorch = e.contains("pytorch") ? median_of(e["pytorch"]) : NAN;
    o.entries += fmt::format("    {{{}, {}, {}, {}, {}, {}}},\n", literal(key), literal(name),
                             literal(e["winner"].at("kernel").get<std::string>()),
                             number(median_of(e["winner"])), number(cudnn), number(pytorch));
    ++o.entry_count;
    if (!e.contains("candidates") || !e["candidates"].is_array() || e["candidates"].empty()) continue;
    // A sample: every candidate that cost an evaluation, relative to the best that passed.
    std::vector<std::pair<std::string, double>> cands;
    double best = INFINITY;
    for (const json& c : e["candidates"]) {
      const std::string status = c.at("status").get<std::string>();
      if (status == "not_supported") continue;
      std::vector<dwt::KernelParam> params;
      for (const json& p : c.at("params")) params.push_back({p.at("name").get<std::string>(), p.at("value").get<int>()});
      const bool timed = status == "passed" || status == "stopped_early";
      const double ms = timed ? median_of(c) : NAN;
      if (std::isfinite(ms)) best = std::min(best, ms);
      cands.emplace_back(dwt::tile_signature(c.at("family").get<std::string>(), params), ms);
    }
    if (!std::isfinite(best) || !(best > 0)) continue;
    std::map<std::uint32_t, double> rel;  // one value per signature (the best of duplicates)
    for (const auto& [s, ms] : cands) {
      const double r = std::isfinite(ms) ? std::log(ms / best) : std::log(10.0);
      const std::uint32_t i = o.sig(s);
      auto it = rel.find(i);
      if (it == rel.end() || r < it->second) rel[i] = r;
    }
    const std::size_t rfirst = o.rel_count;
    for (const auto& [i, r] : rel) {
      o.rels += fmt::format("    {{{}, {:.4f}f}},\n", i, r);
      ++o.rel_count;
    }
    o.samples += fmt::format("    {{{}, {}, kRels + {}, {}}},\n", literal(gpu), literal(key), rfirst,
                             o.rel_count - rfirst);
    ++o.sample_count;
  }
  o.tables += fmt::format("    {{{}, {}, kEntries + {}, {}}},\n", literal(gpu), literal(source), first,
                          o.entry_count - first);
  ++o.table_count;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT.cpp ROOT [TABLE.json...]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[2];
  Out o;
  try {
    for (int i = 3; i < argc; ++i) {
      const std::filesystem::path p = argv[i];
      // The project's one JSON file reader: the same checks as every table read, gzip included.
      add_table(o, dwt::read_json_file(p, "table"), std::filesystem::relative(p, root).generic_string());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed: %s\n", e.what());
    return 1;
  }
  std::string sigs;
  for (const std::string& s : o.sigs) sigs += "    " + literal(s) + ",\n";
  // A trailing placeholder keeps every array non-empty; the counts exclude it.
  const std::string text = fmt::format(
      R"(// Generated by dispatch/embed_results.cpp from results/*/*table*.json. Do not edit.
#include <limits>

#include "embedded.hpp"

namespace dwt::embedded {{
namespace {{
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const Entry kEntries[] = {{
{}    {{nullptr, nullptr, nullptr, 0, 0, 0}}}};
const Table kTables[] = {{
{}    {{nullptr, nullptr, nullptr, 0}}}};
const char* const kSignatures[] = {{
{}    nullptr}};
const Rel kRels[] = {{
{}    {{0, 0}}}};
const Sample kSamples[] = {{
{}    {{nullptr, nullptr, nullptr, 0}}}};
}}  // namespace

const Data& data() {{
  static const Data d{{kTables, {}, kSignatures, {}, kSamples, {}}};
  return d;
}}

}}  // namespace dwt::embedded
)",
      o.entries, o.tables, sigs, o.rels, o.samples, o.table_count, o.sigs.size(), o.sample_count);
  const std::filesystem::path out = argv[1];
  const std::filesystem::path tmp = out.string() + ".tmp";
  {
    std::ofstream f(tmp);
    f << text;
    if (!f) {
      std::fprintf(stderr, "embed: cannot write %s\n", tmp.c_str());
      return 1;
    }
  }
  std::filesystem::rename(tmp, out);
  std::fprintf(stderr, "embed: %zu tables, %zu entries, %zu model samples over %zu tiles\n", o.table_count,
               o.entry_count, o.sample_count, o.sigs.size());
  return 0;
}
