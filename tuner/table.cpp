#include "table.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "json_input.hpp"
#include "json_node.hpp"
#include "problem_json.hpp"
#include "safe_write.hpp"

namespace dwt {

using nlohmann::json;

const char* to_string(Disposition d) {
  switch (d) {
    case Disposition::passed: return "passed";
    case Disposition::incorrect: return "incorrect";
    case Disposition::not_supported: return "not_supported";
    case Disposition::launch_failed: return "launch_failed";
    case Disposition::out_of_memory: return "out_of_memory";
    case Disposition::stopped_early: return "stopped_early";
  }
  return "?";
}

Disposition parse_disposition(const std::string& s) {
  for (auto d : {Disposition::passed, Disposition::incorrect, Disposition::not_supported,
                 Disposition::launch_failed, Disposition::out_of_memory, Disposition::stopped_early})
    if (s == to_string(d)) return d;
  throw TableError(fmt::format(
      "unknown disposition \"{}\" (expected passed, incorrect, not_supported, launch_failed, "
      "out_of_memory or stopped_early)",
      s));
}

namespace {

using json_detail::Node;
using json_detail::strip_json_prefix;

json opt_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// A time a run can have produced: finite, not negative, below a day. Reports scale axes by
// times, so 1e308 must not get that far.
double time_ms(const Node& n) {
  constexpr double kMaxMs = 86400e3;
  const double v = n.num();
  if (!(v >= 0 && v <= kMaxMs))
    n.fail(fmt::format("{} is not a time a run can take (0 to {} ms)", shorten(n.j.dump()), kMaxMs));
  return v;
}

// A wall time in seconds: finite, not negative, below a year.
double seconds(const Node& n) {
  constexpr double kMaxS = 365 * 86400.0;
  const double v = n.num();
  if (!(v >= 0 && v <= kMaxS))
    n.fail(fmt::format("{} is not a wall time a sweep can take (0 to {} s)", shorten(n.j.dump()), kMaxS));
  return v;
}

TimingStats read_timing(const Node& n) {
  TimingStats t;
  t.median_ms = time_ms(n.at("median_ms"));
  t.min_ms = time_ms(n.at("min_ms"));
  t.max_ms = time_ms(n.at("max_ms"));
  t.reps = n.at("reps").integer<int>();
  return t;
}

void read_dim3(const Node& n, unsigned (&out)[3]) {
  if (n.size() != 3) n.fail(fmt::format("expected 3 values [x, y, z], got {}", n.j.size()));
  for (std::size_t i = 0; i < 3; ++i) out[i] = n[i].integer<unsigned>();
}

LaunchShape read_launch(const Node& n) {
  LaunchShape l;
  read_dim3(n.at("grid"), l.grid);
  read_dim3(n.at("block"), l.block);
  l.smem_bytes = n.at("smem_bytes").integer<std::size_t>();
  return l;
}

CandidateResult read_candidate(const Node& n) {
  CandidateResult c;
  c.kernel = n.at("kernel").str();
  c.family = n.at("family").str();
  Node params = n.at("params");
  for (std::size_t i = 0, e = params.size(); i < e; ++i) {
    Node p = params[i];
    c.params.push_back({p.at("name").str(), p.at("value").integer<int>()});
  }
  Node status = n.at("status");
  try {
    c.status = parse_disposition(status.str());
  } catch (const TableError& e) {
    status.fail(e.what());
  }
  c.reason = n.at("reason").str();
  if (auto v = n.opt("max_error")) c.max_error = v->num();
  if (auto v = n.opt("time")) c.time = read_timing(*v);
  c.launch = read_launch(n.at("launch"));
  c.gbps = n.at("gbps").num();
  c.bw_share = n.at("bw_share").num();
  c.gflops = n.at("gflops").num();
  return c;
}

BaselineResult read_baseline(const Node& n) {
  BaselineResult b;
  b.available = n.at("available").boolean();
  b.reason = n.at("reason").str();
  b.algo = n.at("algo").str();
  if (auto v = n.opt("time")) b.time = read_timing(*v);
  b.gbps = n.at("gbps").num();
  b.bw_share = n.at("bw_share").num();
  return b;
}

Problem read_problem(const Node& n) {
  n.expect_object();
  try {
    Problem p = n.j.get<Problem>();
    p.validate();  // sizes whose byte counts would overflow, empty outputs: "c is too large: ..."
    return p;
  } catch (const ProblemJsonError& e) {
    throw TableError(fmt::format("{}{}: {}", n.path, e.pointer, e.what()));
  } catch (const json::exception& e) {
    n.fail(strip_json_prefix(e.what()));
  } catch (const ProblemError& e) {
    n.fail(e.what());
  }
}

PytorchTime read_pytorch_time(const Node& n) {
  PytorchTime t;
  t.median_ms = time_ms(n.at("time").at("median_ms"));
  const Node layout = n.at("layout_run");
  t.layout_run = layout.str();
  if (t.layout_run != "nchw" && t.layout_run != "channels_last")
    layout.fail(fmt::format("\"{}\" is not a layout PyTorch runs (nchw or channels_last)", t.layout_run));
  return t;
}

PytorchSource read_pytorch_source(const Node& n) {
  return {n.at("file").str(), n.at("torch").str(), n.at("gpu").str(), n.at("cudnn").str(),
          n.at("entries").integer<int>()};
}

ProblemEntry read_entry(const Node& n) {
  ProblemEntry e;
  e.problem = read_problem(n.at("problem"));
  // The key is derived; a mismatch means the problem was edited by hand or keys changed meaning,
  // and dispatching from such an entry would run the wrong shape.
  Node key = n.at("key");
  if (key.str() != e.problem.key())
    key.fail(fmt::format("\"{}\" does not match the problem, whose key is \"{}\"", key.str(),
                         e.problem.key()));
  e.ok = n.at("ok").boolean();
  e.reason = n.at("reason").str();
  if (auto w = n.opt("winner")) e.winner = read_candidate(*w);
  if (e.ok && !e.winner) n.at("winner").fail("null, but ok is true");
  Node best = n.at("family_best");
  best.expect_object();
  for (const auto& [family, value] : best.j.items()) {
    Node c{value, best.path + "/" + pointer_token(family)};
    CandidateResult r = read_candidate(c);
    if (r.family != family)
      c.at("family").fail(fmt::format("\"{}\" is filed under family \"{}\"", r.family, family));
    e.family_best.emplace(family, std::move(r));
  }
  e.cudnn = read_baseline(n.at("cudnn"));
  if (auto v = n.opt("speedup_vs_cudnn")) e.speedup_vs_cudnn = v->num();
  if (auto v = n.opt("pytorch")) e.pytorch = read_pytorch_time(*v);
  e.candidates_total = n.at("candidates_total").integer<int>();
  e.candidates_passed = n.at("candidates_passed").integer<int>();
  if (auto all = n.opt("candidates"))
    for (std::size_t i = 0, end = all->size(); i < end; ++i)
      e.candidates.push_back(read_candidate((*all)[i]));
  // Tables written before issue 17 have neither ties nor times.
  if (auto tied = n.opt("tied_with"))
    for (std::size_t i = 0, end = tied->size(); i < end; ++i) e.tied_with.push_back((*tied)[i].str());
  if (auto v = n.opt("wall_s")) e.wall_s = seconds(*v);
  if (auto phases = n.opt("phase_s")) {
    phases->expect_object();
    for (const auto& [name, value] : phases->j.items())
      e.phase_s.emplace(name, seconds(Node{value, phases->path + "/" + pointer_token(name)}));
  }
  return e;
}

TableMeta read_meta(const Node& n) {
  TableMeta m;
  m.gpu_name = n.at("gpu_name").str();
  m.compute_capability = n.at("compute_capability").str();
  m.sm_count = n.at("sm_count").integer<int>();
  m.l2_bytes = n.at("l2_bytes").integer<std::int64_t>();
  m.memory_bytes = n.at("memory_bytes").integer<std::int64_t>();
  m.driver_version = n.at("driver_version").str();
  m.runtime_version = n.at("runtime_version").str();
  m.cudnn_version = n.at("cudnn_version").str();
  m.dwtune_version = n.at("dwtune_version").str();
  m.git_revision = n.at("git_revision").str();
  m.date = n.at("date").str();
  m.warmup = n.at("warmup").integer<int>();
  m.reps = n.at("reps").integer<int>();
  m.flush = n.at("flush").str();
  m.copy_bandwidth_gbps = n.at("copy_bandwidth_gbps").num();
  if (auto f = n.opt("launch_floor_ms")) m.launch_floor_ms = time_ms(*f);
  m.config_name = n.at("config_name").str();
  m.strategy = n.at("strategy").str();
  m.device_count = n.at("device_count").integer<int>();
  if (auto notes = n.opt("notes"))
    for (std::size_t i = 0, e = notes->size(); i < e; ++i) m.notes.push_back((*notes)[i].str());
  if (auto sources = n.opt("pytorch"))
    for (std::size_t i = 0, e = sources->size(); i < e; ++i) m.pytorch.push_back(read_pytorch_source((*sources)[i]));
  if (auto v = n.opt("wall_s")) m.wall_s = seconds(*v);
  return m;
}

Table read_table_json(const Node& n) {
  Table t;
  Node schema = n.at("schema");
  t.schema = schema.integer<int>();
  if (t.schema != kTableSchema)
    schema.fail(fmt::format("unsupported table schema {} (this dwtune reads schema {})", t.schema,
                            kTableSchema));
  t.meta = read_meta(n.at("meta"));
  Node entries = n.at("entries");
  for (std::size_t i = 0, e = entries.size(); i < e; ++i)
    t.entries.push_back(read_entry(entries[i]));
  return t;
}

std::string errno_text(int err) { return std::strerror(err); }

// The winner's median, or +inf when the entry has none: failed entries lose every comparison.
double winner_ms(const ProblemEntry& e) {
  if (e.ok && e.winner && e.winner->time && std::isfinite(e.winner->time->median_ms))
    return e.winner->time->median_ms;
  return std::numeric_limits<double>::infinity();
}

}  // namespace

void to_json(json& j, const TimingStats& t) {
  j = json{
      {"median_ms", t.median_ms}, {"min_ms", t.min_ms}, {"max_ms", t.max_ms}, {"reps", t.reps}};
}
void from_json(const json& j, TimingStats& t) { t = read_timing(Node{j, ""}); }

void to_json(json& j, const LaunchShape& l) {
  j = json{{"grid", {l.grid[0], l.grid[1], l.grid[2]}},
           {"block", {l.block[0], l.block[1], l.block[2]}},
           {"smem_bytes", l.smem_bytes}};
}
void from_json(const json& j, LaunchShape& l) { l = read_launch(Node{j, ""}); }

void to_json(json& j, const CandidateResult& c) {
  json params = json::array();
  for (const auto& p : c.params) params.push_back({{"name", p.name}, {"value", p.value}});
  j = json{{"kernel", c.kernel},
           {"family", c.family},
           {"params", std::move(params)},
           {"status", to_string(c.status)},
           {"reason", c.reason},
           {"max_error", opt_json(c.max_error)},
           {"time", c.time ? json(*c.time) : json(nullptr)},
           {"launch", c.launch},
           {"gbps", c.gbps},
           {"bw_share", c.bw_share},
           {"gflops", c.gflops}};
}
void from_json(const json& j, CandidateResult& c) { c = read_candidate(Node{j, ""}); }

void to_json(json& j, const BaselineResult& b) {
  j = json{{"available", b.available}, {"reason", b.reason},
           {"algo", b.algo},           {"time", b.time ? json(*b.time) : json(nullptr)},
           {"gbps", b.gbps},           {"bw_share", b.bw_share}};
}
void from_json(const json& j, BaselineResult& b) { b = read_baseline(Node{j, ""}); }

void to_json(json& j, const ProblemEntry& e) {
  json best = json::object();
  for (const auto& [family, c] : e.family_best) best[family] = c;
  j = json{{"key", e.problem.key()},
           {"problem", e.problem},
           {"ok", e.ok},
           {"reason", e.reason},
           {"winner", e.winner ? json(*e.winner) : json(nullptr)},
           {"family_best", std::move(best)},
           {"cudnn", e.cudnn},
           {"speedup_vs_cudnn", opt_json(e.speedup_vs_cudnn)},
           {"candidates_total", e.candidates_total},
           {"candidates_passed", e.candidates_passed}};
  // Only --keep-all fills this; leaving it out keeps ordinary tables short.
  if (!e.candidates.empty()) j["candidates"] = e.candidates;
  if (!e.tied_with.empty()) j["tied_with"] = e.tied_with;
  if (e.wall_s) j["wall_s"] = *e.wall_s;
  if (!e.phase_s.empty()) j["phase_s"] = e.phase_s;
  if (e.pytorch)
    j["pytorch"] = {{"time", {{"median_ms", e.pytorch->median_ms}}}, {"layout_run", e.pytorch->layout_run}};
}
void from_json(const json& j, ProblemEntry& e) { e = read_entry(Node{j, ""}); }

void to_json(json& j, const TableMeta& m) {
  j = json{{"gpu_name", m.gpu_name},
           {"compute_capability", m.compute_capability},
           {"sm_count", m.sm_count},
           {"l2_bytes", m.l2_bytes},
           {"memory_bytes", m.memory_bytes},
           {"driver_version", m.driver_version},
           {"runtime_version", m.runtime_version},
           {"cudnn_version", m.cudnn_version},
           {"dwtune_version", m.dwtune_version},
           {"git_revision", m.git_revision},
           {"date", m.date},
           {"warmup", m.warmup},
           {"reps", m.reps},
           {"flush", m.flush},
           {"copy_bandwidth_gbps", m.copy_bandwidth_gbps},
           {"launch_floor_ms", opt_json(m.launch_floor_ms)},
           {"config_name", m.config_name},
           {"strategy", m.strategy},
           {"device_count", m.device_count},
           {"notes", m.notes}};
  if (m.wall_s) j["wall_s"] = *m.wall_s;
  if (!m.pytorch.empty()) {
    json& sources = j["pytorch"] = json::array();
    for (const auto& p : m.pytorch)
      sources.push_back({{"file", p.file}, {"torch", p.torch}, {"gpu", p.gpu}, {"cudnn", p.cudnn},
                         {"entries", p.entries}});
  }
}
void from_json(const json& j, TableMeta& m) { m = read_meta(Node{j, ""}); }

void to_json(json& j, const Table& t) {
  j = json{{"schema", t.schema}, {"meta", t.meta}, {"entries", t.entries}};
}
void from_json(const json& j, Table& t) { t = read_table_json(Node{j, ""}); }

const ProblemEntry* Table::find(const std::string& key) const {
  for (const auto& e : entries)
    if (e.problem.key() == key) return &e;
  return nullptr;
}

Table read_table(const std::filesystem::path& path) {
  return json_detail::read_table_file(path, [](const Node& root) { return read_table_json(root); });
}

void write_table_atomic(const Table& t, const std::filesystem::path& path) {
  std::string text;
  try {
    // Strings that are not UTF-8 cannot be dumped; replace them rather than lose the table.
    text = json(t).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  } catch (const json::exception& e) {
    throw TableError(
        fmt::format("cannot write table {}: {}", path.string(), strip_json_prefix(e.what())));
  }
  try {
    write_file_atomic(path, text);
  } catch (const OutputError& e) {
    throw TableError(e.what());
  }
}

Table merge_tables(const std::vector<Table>& tables, const std::vector<std::string>& names) {
  if (tables.empty()) throw TableError("merge: no tables given");
  auto name = [&](std::size_t i) {
    return i < names.size() ? names[i] : fmt::format("table {}", i + 1);
  };
  const std::string& gpu = tables.front().meta.gpu_name;
  for (std::size_t i = 1; i < tables.size(); ++i)
    if (tables[i].meta.gpu_name != gpu)
      throw TableError(fmt::format(
          "merge: {} is from \"{}\" but {} is from \"{}\"; tables of different GPU "
          "models are not merged (meta/gpu_name)",
          name(i), tables[i].meta.gpu_name, name(0), gpu));

  Table out;
  out.schema = kTableSchema;
  out.meta = tables.front().meta;
  std::unordered_map<std::string, std::size_t> index;  // problem key -> position in out.entries
  std::set<std::string> dates, revisions;
  double bw_lo = std::numeric_limits<double>::infinity(), bw_hi = 0;
  std::size_t total = 0;
  std::vector<std::string> configs;  // every config joined, in order of first appearance
  for (const auto& t : tables) {
    if (std::find(configs.begin(), configs.end(), t.meta.config_name) == configs.end())
      configs.push_back(t.meta.config_name);
    dates.insert(t.meta.date);
    revisions.insert(t.meta.git_revision);
    bw_lo = std::min(bw_lo, t.meta.copy_bandwidth_gbps);
    bw_hi = std::max(bw_hi, t.meta.copy_bandwidth_gbps);
    for (const auto& e : t.entries) {
      ++total;
      auto [it, fresh] = index.try_emplace(e.problem.key(), out.entries.size());
      if (fresh) {
        out.entries.push_back(e);
        continue;
      }
      ProblemEntry& kept = out.entries[it->second];
      std::optional<PytorchTime> pytorch = kept.pytorch ? kept.pytorch : e.pytorch;
      if (winner_ms(e) < winner_ms(kept)) kept = e;
      if (!kept.pytorch) kept.pytorch = std::move(pytorch);
    }
    for (const auto& p : t.meta.pytorch)
      if (std::find(out.meta.pytorch.begin(), out.meta.pytorch.end(), p) == out.meta.pytorch.end())
        out.meta.pytorch.push_back(p);
  }
  out.meta.config_name = fmt::format("{}", fmt::join(configs, " + "));
  if (tables.size() > 1) {
    auto join = [](const std::set<std::string>& s) {
      return fmt::format("{}", fmt::join(s, ", "));
    };
    out.meta.notes.push_back(fmt::format(
        "merged from {} tables ({} entries, {} problems); dates: {}; git revisions: {}; copy "
        "bandwidth {:.0f}-{:.0f} GB/s, each entry's bw_share is relative to its own run",
        tables.size(), total, out.entries.size(), join(dates), join(revisions), bw_lo, bw_hi));
  }
  return out;
}

}  // namespace dwt
