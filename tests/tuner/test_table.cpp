// Tuning-table JSON: round trip, refusals that name file and field, atomic writes, merge.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "table.hpp"
#include "tuner/sample_table.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dwt {
namespace {

// ---- field-by-field comparison, so a field that to_json forgets fails the round trip ----

void expect_same(const TimingStats& a, const TimingStats& b) {
  EXPECT_EQ(a.median_ms, b.median_ms);
  EXPECT_EQ(a.min_ms, b.min_ms);
  EXPECT_EQ(a.max_ms, b.max_ms);
  EXPECT_EQ(a.reps, b.reps);
}

void expect_same(const std::optional<TimingStats>& a, const std::optional<TimingStats>& b) {
  ASSERT_EQ(a.has_value(), b.has_value());
  if (a) expect_same(*a, *b);
}

void expect_same(const CandidateResult& a, const CandidateResult& b) {
  SCOPED_TRACE(a.kernel);
  EXPECT_EQ(a.kernel, b.kernel);
  EXPECT_EQ(a.family, b.family);
  ASSERT_EQ(a.params.size(), b.params.size());
  for (std::size_t i = 0; i < a.params.size(); ++i) {
    EXPECT_EQ(a.params[i].name, b.params[i].name);
    EXPECT_EQ(a.params[i].value, b.params[i].value);
  }
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.max_error, b.max_error);
  expect_same(a.time, b.time);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a.launch.grid[i], b.launch.grid[i]);
    EXPECT_EQ(a.launch.block[i], b.launch.block[i]);
  }
  EXPECT_EQ(a.launch.smem_bytes, b.launch.smem_bytes);
  EXPECT_EQ(a.gbps, b.gbps);
  EXPECT_EQ(a.bw_share, b.bw_share);
  EXPECT_EQ(a.gflops, b.gflops);
}

void expect_same(const Problem& a, const Problem& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.key(), b.key());  // every shape field, parameter, dtype and layout
}

void expect_same(const ProblemEntry& a, const ProblemEntry& b) {
  SCOPED_TRACE(a.problem.name);
  expect_same(a.problem, b.problem);
  EXPECT_EQ(a.ok, b.ok);
  EXPECT_EQ(a.reason, b.reason);
  ASSERT_EQ(a.winner.has_value(), b.winner.has_value());
  if (a.winner) expect_same(*a.winner, *b.winner);
  ASSERT_EQ(a.family_best.size(), b.family_best.size());
  for (const auto& [f, c] : a.family_best) {
    ASSERT_TRUE(b.family_best.count(f)) << f;
    expect_same(c, b.family_best.at(f));
  }
  EXPECT_EQ(a.cudnn.available, b.cudnn.available);
  EXPECT_EQ(a.cudnn.reason, b.cudnn.reason);
  EXPECT_EQ(a.cudnn.algo, b.cudnn.algo);
  expect_same(a.cudnn.time, b.cudnn.time);
  EXPECT_EQ(a.cudnn.gbps, b.cudnn.gbps);
  EXPECT_EQ(a.cudnn.bw_share, b.cudnn.bw_share);
  EXPECT_EQ(a.speedup_vs_cudnn, b.speedup_vs_cudnn);
  ASSERT_EQ(a.pytorch.has_value(), b.pytorch.has_value());
  if (a.pytorch) {
    EXPECT_EQ(a.pytorch->median_ms, b.pytorch->median_ms);
    EXPECT_EQ(a.pytorch->layout_run, b.pytorch->layout_run);
  }
  EXPECT_EQ(a.candidates_total, b.candidates_total);
  EXPECT_EQ(a.candidates_passed, b.candidates_passed);
  ASSERT_EQ(a.candidates.size(), b.candidates.size());
  for (std::size_t i = 0; i < a.candidates.size(); ++i)
    expect_same(a.candidates[i], b.candidates[i]);
}

void expect_same(const TableMeta& a, const TableMeta& b) {
  EXPECT_EQ(a.gpu_name, b.gpu_name);
  EXPECT_EQ(a.compute_capability, b.compute_capability);
  EXPECT_EQ(a.sm_count, b.sm_count);
  EXPECT_EQ(a.l2_bytes, b.l2_bytes);
  EXPECT_EQ(a.memory_bytes, b.memory_bytes);
  EXPECT_EQ(a.driver_version, b.driver_version);
  EXPECT_EQ(a.runtime_version, b.runtime_version);
  EXPECT_EQ(a.cudnn_version, b.cudnn_version);
  EXPECT_EQ(a.dwtune_version, b.dwtune_version);
  EXPECT_EQ(a.git_revision, b.git_revision);
  EXPECT_EQ(a.date, b.date);
  EXPECT_EQ(a.warmup, b.warmup);
  EXPECT_EQ(a.reps, b.reps);
  EXPECT_EQ(a.flush, b.flush);
  EXPECT_EQ(a.copy_bandwidth_gbps, b.copy_bandwidth_gbps);
  EXPECT_EQ(a.config_name, b.config_name);
  EXPECT_EQ(a.strategy, b.strategy);
  EXPECT_EQ(a.device_count, b.device_count);
  EXPECT_EQ(a.notes, b.notes);
  EXPECT_EQ(a.pytorch, b.pytorch);
}

void expect_same(const Table& a, const Table& b) {
  EXPECT_EQ(a.schema, b.schema);
  expect_same(a.meta, b.meta);
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (std::size_t i = 0; i < a.entries.size(); ++i) expect_same(a.entries[i], b.entries[i]);
}

// The sample with every optional and rarely-set field filled, and values that are not defaults.
Table full_table() {
  Table t = sample::table();
  t.meta.device_count = 2;
  t.meta.notes = {"resumed once", "shard 1/2"};
  t.meta.pytorch = {{"pytorch.json", "2.11.0+cu130", "NVIDIA H200", "91900", 1}};
  auto& e = t.entries[0];
  e.pytorch = PytorchTime{0.0097, "channels_last"};
  e.problem.sh = 2;
  e.problem.pw = 3;
  e.problem.dh = 2;
  e.problem.m = 2;
  e.problem.bias = true;
  e.problem.dtype = DType::bf16;
  e.winner->launch = {{7, 8, 9}, {64, 2, 1}, 40960};
  e.winner->max_error = 1.25e-6;
  e.candidates = {*e.winner,
                  sample::failed(e.problem, "smem", Disposition::launch_failed, "too many regs"),
                  sample::failed(e.problem, "naive", Disposition::out_of_memory, "OOM")};
  return t;
}

Table round_trip(const Table& t) { return json::parse(json(t).dump()).get<Table>(); }

// A fresh directory per test, removed afterwards.
class TableFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / fmt::format("dwtune_{}_{}", info->name(), ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_text(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }
  // The message of the TableError that reading `json_text` raises.
  std::string read_error(const json& j) { return read_error_text(j.dump(2)); }
  std::string read_error_text(const std::string& text) {
    fs::path p = write_text("table.json", text);
    try {
      read_table(p);
    } catch (const TableError& e) {
      return e.what();
    }
    ADD_FAILURE() << "read_table accepted " << p;
    return {};
  }
  std::set<std::string> listing() const {
    std::set<std::string> names;
    for (const auto& f : fs::directory_iterator(dir_)) names.insert(f.path().filename().string());
    return names;
  }

  fs::path dir_;
};

TEST(Table, DispositionStrings) {
  for (auto d : {Disposition::passed, Disposition::incorrect, Disposition::not_supported,
                 Disposition::launch_failed, Disposition::out_of_memory, Disposition::stopped_early})
    EXPECT_EQ(parse_disposition(to_string(d)), d);
  EXPECT_STREQ(to_string(Disposition::stopped_early), "stopped_early");
  EXPECT_STREQ(to_string(Disposition::not_supported), "not_supported");
  EXPECT_STREQ(to_string(Disposition::out_of_memory), "out_of_memory");
  EXPECT_THROW(parse_disposition("skipped"), TableError);
}

TEST(Table, JsonRoundTripKeepsEveryField) {
  const Table t = full_table();
  expect_same(t, round_trip(t));
}

TEST(Table, JsonFieldNames) {
  const Table t = full_table();
  const json j = t;
  EXPECT_EQ(j.at("schema"), 1);
  const json& e = j.at("entries").at(0);
  std::set<std::string> keys;
  for (const auto& [k, v] : e.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"key", "problem", "ok", "reason", "winner", "family_best",
                                         "cudnn", "speedup_vs_cudnn", "candidates_total",
                                         "candidates_passed", "candidates", "pytorch"}));
  // As scripts/pytorch_baseline.py --merge writes them.
  EXPECT_EQ(e.at("pytorch"), json::parse(R"({"time": {"median_ms": 0.0097}, "layout_run": "channels_last"})"));
  EXPECT_EQ(j.at("meta").at("pytorch"),
            json::parse(R"([{"file": "pytorch.json", "torch": "2.11.0+cu130", "gpu": "NVIDIA H200",)"
                        R"( "cudnn": "91900", "entries": 1}])"));
  EXPECT_FALSE(j.at("entries").at(1).contains("pytorch"));  // none merged: left out, as in old tables
  EXPECT_FALSE(json(sample::table()).at("meta").contains("pytorch"));
  EXPECT_EQ(e.at("key"), t.entries[0].problem.key());
  EXPECT_EQ(e.at("problem").at("name"), "kb85");
  EXPECT_EQ(e.at("winner").at("launch"),
            json::parse(R"({"grid": [7, 8, 9], "block": [64, 2, 1], "smem_bytes": 40960})"));
  EXPECT_EQ(e.at("winner").at("status"), "passed");
  EXPECT_EQ(e.at("winner").at("params").at(0), json::parse(R"({"name": "th", "value": 4})"));
  EXPECT_EQ(e.at("candidates").at(1).at("status"), "launch_failed");
  EXPECT_EQ(e.at("candidates").at(2).at("status"), "out_of_memory");
  EXPECT_TRUE(e.at("candidates").at(1).at("time").is_null());
  EXPECT_EQ(j.at("meta").at("gpu_name"), "NVIDIA H200");
  // No candidates kept: the field is left out, and reading gives an empty list.
  EXPECT_FALSE(j.at("entries").at(1).contains("candidates"));
  EXPECT_TRUE(round_trip(t).entries[1].candidates.empty());
  // A failed entry: no winner, no speedup.
  EXPECT_TRUE(j.at("entries").at(3).at("winner").is_null());
  EXPECT_TRUE(j.at("entries").at(3).at("speedup_vs_cudnn").is_null());
}

TEST(Table, NestedTypesOnTheirOwn) {
  const Table t = full_table();
  const CandidateResult& w = *t.entries[0].winner;
  expect_same(w, json(w).get<CandidateResult>());
  json bad = w;
  bad["launch"]["grid"] = {1, 2};
  try {
    (void)bad.get<CandidateResult>();
    FAIL() << "accepted a 2-element grid";
  } catch (const TableError& e) {
    EXPECT_NE(std::string(e.what()).find("/launch/grid"), std::string::npos) << e.what();
  }
}

// Backward problems keep their pass through a table file; an entry without "pass" (tables from
// before the pass axis) is forward, and one whose key names another pass than its problem is refused.
TEST_F(TableFiles, PassSurvivesWriteAndRead) {
  Table t = sample::table();
  for (const Pass pass : {Pass::dgrad, Pass::wgrad}) {
    Problem p = t.entries[0].problem;
    p.pass = pass;
    p.name += std::string("_") + to_string(pass);
    t.entries.push_back(sample::entry(p, {{"naive", 1.0}}, 0.5));
  }
  write_table_atomic(t, dir_ / "t.json");
  const Table back = read_table(dir_ / "t.json");
  ASSERT_EQ(back.entries.size(), t.entries.size());
  EXPECT_EQ(back.entries[4].problem.pass, Pass::dgrad);
  EXPECT_EQ(back.entries[5].problem.pass, Pass::wgrad);
  EXPECT_EQ(back.find(t.entries[5].problem.key()), &back.entries[5]);
  json j = t;
  EXPECT_EQ(j["entries"][5]["problem"]["pass"], "wgrad");
  j["entries"][0]["problem"].erase("pass");
  j["entries"][5]["problem"]["pass"] = "dgrad";  // the key still says wgrad
  const std::string msg = read_error(j);
  EXPECT_NE(msg.find("_wgrad\" does not match the problem"), std::string::npos) << msg;
  j["entries"][5]["problem"]["pass"] = "wgrad";
  EXPECT_EQ(read_table(write_text("old.json", j.dump())).entries[0].problem.pass, Pass::forward);
}

TEST(Table, FindByProblemKey) {
  const Table t = sample::table();
  const auto* e = t.find(t.entries[2].problem.key());
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->problem.name, "edge_s2_f16");
  EXPECT_EQ(t.find("n1_no_such_key"), nullptr);
}

TEST_F(TableFiles, ReadRefusesMalformedJson) {
  const std::string msg = read_error_text("{\n  \"schema\": 1,\n  \"meta\": {\n");
  EXPECT_NE(msg.find((dir_ / "table.json").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 4"), std::string::npos) << msg;  // where the input ended
}

TEST_F(TableFiles, ReadRefusesOtherSchema) {
  json j = sample::table();
  j["schema"] = 2;
  const std::string msg = read_error(j);
  EXPECT_NE(msg.find((dir_ / "table.json").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("/schema"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unsupported table schema 2"), std::string::npos) << msg;
  j.erase("schema");
  EXPECT_NE(read_error(j).find("/schema: missing required field"), std::string::npos);
}

TEST_F(TableFiles, ReadRefusesMissingOrMistypedField) {
  const json good = sample::table();
  {
    json j = good;
    j["entries"][1]["winner"]["launch"].erase("smem_bytes");
    const std::string msg = read_error(j);
    EXPECT_NE(msg.find((dir_ / "table.json").string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("/entries/1/winner/launch/smem_bytes: missing required field"),
              std::string::npos)
        << msg;
  }
  {
    json j = good;
    j["meta"]["sm_count"] = "many";
    EXPECT_NE(read_error(j).find("/meta/sm_count: expected an integer"), std::string::npos);
  }
  {
    json j = good;
    j["entries"][0]["family_best"]["smem"]["gbps"] = "fast";
    const std::string msg = read_error(j);
    EXPECT_NE(msg.find("/entries/0/family_best/smem/gbps: expected a number"), std::string::npos)
        << msg;
  }
  {
    json j = good;
    j["entries"][2]["candidates"][2]["status"] = "skipped";
    const std::string msg = read_error(j);
    EXPECT_NE(msg.find("/entries/2/candidates/2/status: unknown disposition \"skipped\""),
              std::string::npos)
        << msg;
  }
  {
    json j = good;
    j["entries"][0]["problem"].erase("dtype");
    const std::string msg = read_error(j);
    EXPECT_NE(msg.find("/entries/0/problem"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dtype"), std::string::npos) << msg;
  }
  {
    json j = good;
    j["entries"][0]["problem"]["dtype"] = "f64";
    EXPECT_NE(read_error(j).find("unknown dtype \"f64\""), std::string::npos);
  }
  {
    // An edited shape no longer matches its key: dispatching from it would run the wrong shape.
    json j = good;
    j["entries"][0]["problem"]["h"] = 64;
    const std::string msg = read_error(j);
    EXPECT_NE(msg.find("/entries/0/key"), std::string::npos) << msg;
    EXPECT_NE(msg.find("does not match"), std::string::npos) << msg;
  }
  {
    json j = good;
    j["entries"][0]["winner"] = nullptr;
    EXPECT_NE(read_error(j).find("/entries/0/winner: null, but ok is true"), std::string::npos);
  }
  {
    json j = good;
    j["entries"][1]["pytorch"] = {{"time", {{"median_ms", -1}}}, {"layout_run", "nchw"}};
    const std::string msg = read_error(j);
    EXPECT_NE(msg.find("/entries/1/pytorch/time/median_ms"), std::string::npos) << msg;
  }
  {
    json j = good;
    j["entries"][1]["pytorch"] = {{"time", {{"median_ms", 0.5}}}, {"layout_run", "nhwc"}};
    const std::string msg = read_error(j);
    EXPECT_NE(msg.find("/entries/1/pytorch/layout_run: \"nhwc\" is not a layout PyTorch runs"), std::string::npos)
        << msg;
  }
  {
    json j = good;
    j["meta"]["pytorch"] = {{{"file", "p.json"}, {"torch", "2.11"}, {"gpu", "NVIDIA H200"}}};
    const std::string msg = read_error(j);
    EXPECT_NE(msg.find("/meta/pytorch/0/cudnn: missing required field"), std::string::npos) << msg;
  }
}

TEST_F(TableFiles, ReadMissingFile) {
  try {
    read_table(dir_ / "absent.json");
    FAIL();
  } catch (const TableError& e) {
    EXPECT_NE(std::string(e.what()).find("absent.json"), std::string::npos) << e.what();
  }
}

TEST_F(TableFiles, WriteThenRead) {
  const Table t = full_table();
  write_table_atomic(t, dir_ / "t.json");
  expect_same(t, read_table(dir_ / "t.json"));
  EXPECT_EQ(listing(), std::set<std::string>{"t.json"});
}

TEST_F(TableFiles, LaunchFloorIsKeptAndOptional) {
  Table t = full_table();
  t.meta.launch_floor_ms = 0.0042;
  write_table_atomic(t, dir_ / "t.json");
  const Table back = read_table(dir_ / "t.json");
  ASSERT_TRUE(back.meta.launch_floor_ms.has_value());
  EXPECT_DOUBLE_EQ(*back.meta.launch_floor_ms, 0.0042);
  t.meta.launch_floor_ms.reset();  // tables written before it was measured
  write_table_atomic(t, dir_ / "old.json");
  EXPECT_FALSE(read_table(dir_ / "old.json").meta.launch_floor_ms.has_value());
}

TEST_F(TableFiles, WriteReplacesExistingTableWhole) {
  write_table_atomic(full_table(), dir_ / "t.json");
  const auto big = fs::file_size(dir_ / "t.json");
  Table small;
  small.meta = sample::meta();
  small.entries.push_back(sample::table().entries[1]);
  write_table_atomic(small, dir_ / "t.json");
  EXPECT_LT(fs::file_size(dir_ / "t.json"), big);
  expect_same(small, read_table(dir_ / "t.json"));
  EXPECT_EQ(listing(), std::set<std::string>{"t.json"});  // no temporary file left behind
}

TEST_F(TableFiles, WriteIntoMissingDirectoryThrowsAndLeavesNothing) {
  const fs::path target = dir_ / "no" / "such" / "dir" / "t.json";
  try {
    write_table_atomic(sample::table(), target);
    FAIL() << "wrote into a missing directory";
  } catch (const TableError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(target.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  }
  EXPECT_FALSE(fs::exists(dir_ / "no"));
  EXPECT_TRUE(listing().empty());
}

TEST_F(TableFiles, WriteOntoDirectoryThrowsAndLeavesNoTemporary) {
  fs::create_directory(dir_ / "t.json");
  EXPECT_THROW(write_table_atomic(sample::table(), dir_ / "t.json"), TableError);
  EXPECT_EQ(listing(), std::set<std::string>{"t.json"});
}

TEST_F(TableFiles, WriteIntoReadOnlyDirectoryThrowsAndLeavesNothing) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  const fs::path ro = dir_ / "ro";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(write_table_atomic(sample::table(), ro / "t.json"), TableError);
  fs::permissions(ro, fs::perms::owner_all);
  EXPECT_TRUE(fs::is_empty(ro));
}

TEST(Table, WriteToUnwritablePathThrowsNamingIt) {
  // Even root cannot create files in procfs, so this runs everywhere that has it.
  const fs::path target = "/proc/self/dwtune_table.json";
  if (!fs::is_directory(target.parent_path())) GTEST_SKIP() << "no /proc";
  try {
    write_table_atomic(sample::table(), target);
    FAIL() << "wrote " << target;
  } catch (const TableError& e) {
    EXPECT_NE(std::string(e.what()).find(target.string()), std::string::npos) << e.what();
  }
}

// ---- merge ----

Table only(const Table& t, std::initializer_list<std::size_t> which) {
  Table out;
  out.meta = t.meta;
  for (auto i : which) out.entries.push_back(t.entries[i]);
  return out;
}

void set_winner_ms(ProblemEntry& e, double ms) {
  e.winner->time = sample::timing(ms);
  e.winner->kernel += fmt::format("_at{}", ms);
}

TEST(Table, MergeDisjointUnion) {
  const Table s = sample::table();
  Table a = only(s, {0, 1});
  Table b = only(s, {2, 3});
  b.meta.date = "2025-11-27T00:00:00Z";
  const Table m = merge_tables({a, b});
  ASSERT_EQ(m.entries.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_EQ(m.entries[i].problem.name, s.entries[i].problem.name);
  EXPECT_EQ(m.meta.date, a.meta.date);  // metadata of the first table
  ASSERT_EQ(m.meta.notes.size(), 1u);
  EXPECT_NE(m.meta.notes[0].find("merged from 2 tables"), std::string::npos) << m.meta.notes[0];
  EXPECT_NE(m.meta.notes[0].find("2025-11-27"), std::string::npos) << m.meta.notes[0];
}

// Issue 16: a union of configs is named as one, and a refused table by its file.
TEST(Table, MergeNamesEveryConfigAndTheFileThatDiffers) {
  Table a = sample::table(), b = sample::table(), c = sample::table();
  b.meta.config_name = "networks";
  EXPECT_EQ(merge_tables({a, b, c}).meta.config_name, "kernelbench-depthwise + networks");
  EXPECT_EQ(merge_tables({a, c}).meta.config_name, "kernelbench-depthwise");
  b.meta.gpu_name = "NVIDIA H100";
  try {
    merge_tables({a, b}, {"x/a.json", "y/b.json"});
    FAIL();
  } catch (const TableError& e) {
    EXPECT_NE(std::string(e.what()).find("y/b.json is from \"NVIDIA H100\" but x/a.json"), std::string::npos)
        << e.what();
  }
}

TEST(Table, MergeSameKeyKeepsFasterWinner) {
  const Table s = sample::table();
  Table slow = only(s, {0}), fast = only(s, {0});
  set_winner_ms(slow.entries[0], 0.6);
  set_winner_ms(fast.entries[0], 0.35);
  for (const auto& order : {std::vector<Table>{slow, fast}, std::vector<Table>{fast, slow}}) {
    const Table m = merge_tables(order);
    ASSERT_EQ(m.entries.size(), 1u);
    EXPECT_EQ(m.entries[0].winner->time->median_ms, 0.35);
  }
  // A tie keeps the earlier table's entry.
  Table tie = only(s, {0});
  set_winner_ms(tie.entries[0], 0.6);
  tie.entries[0].winner->kernel = "later";
  EXPECT_NE(merge_tables({slow, tie}).entries[0].winner->kernel, "later");
}

TEST(Table, MergeOkEntryBeatsFailedOne) {
  const Table s = sample::table();
  Table ok = only(s, {1});
  Table bad = only(s, {1});
  auto& e = bad.entries[0];
  e.ok = false;
  e.reason = "every candidate failed";
  e.winner.reset();
  e.family_best.clear();
  for (const auto& order : {std::vector<Table>{ok, bad}, std::vector<Table>{bad, ok}}) {
    const Table m = merge_tables(order);
    ASSERT_EQ(m.entries.size(), 1u);
    EXPECT_TRUE(m.entries[0].ok);
  }
}

// dwtune merge keeps PyTorch's times (pytorch_baseline.py --merge): each with its entry, the kept
// entry taking the other's where it has none, and every table's sources listed once.
TEST(Table, MergeKeepsPytorchTimesAndTheirSources) {
  const Table s = sample::table();
  Table slow = only(s, {0, 1}), fast = only(s, {0});
  set_winner_ms(slow.entries[0], 0.6);
  set_winner_ms(fast.entries[0], 0.35);
  slow.entries[0].pytorch = PytorchTime{0.5, "nchw"};
  slow.entries[1].pytorch = PytorchTime{0.25, "nchw"};
  const PytorchSource a{"pytorch.json", "2.11.0", "NVIDIA H200", "91900", 2};
  const PytorchSource b{"networks-pytorch.json", "2.11.0", "NVIDIA H200", "91900", 1};
  slow.meta.pytorch = {a};
  fast.meta.pytorch = {b, a};
  for (const auto& order : {std::vector<Table>{slow, fast}, std::vector<Table>{fast, slow}}) {
    const Table m = merge_tables(order);
    ASSERT_EQ(m.entries.size(), 2u);
    EXPECT_EQ(m.entries[0].winner->time->median_ms, 0.35);  // the faster entry, with the other's PyTorch time
    ASSERT_TRUE(m.entries[0].pytorch);
    EXPECT_EQ(m.entries[0].pytorch->median_ms, 0.5);
    ASSERT_TRUE(m.entries[1].pytorch);
    EXPECT_EQ(m.entries[1].pytorch->median_ms, 0.25);
    ASSERT_EQ(m.meta.pytorch.size(), 2u);
    EXPECT_EQ(round_trip(m).meta.pytorch, m.meta.pytorch);
  }
  // The kept entry's own time stays.
  fast.entries[0].pytorch = PytorchTime{0.3, "nchw"};
  EXPECT_EQ(merge_tables({slow, fast}).entries[0].pytorch->median_ms, 0.3);
}

TEST(Table, MergeRefusesDifferentGpus) {
  const Table s = sample::table();
  Table other = only(s, {0});
  other.meta.gpu_name = "NVIDIA H100 80GB HBM3";
  try {
    merge_tables({s, s, other});
    FAIL();
  } catch (const TableError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("NVIDIA H100 80GB HBM3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("NVIDIA H200"), std::string::npos) << msg;
    EXPECT_NE(msg.find("table 3"), std::string::npos) << msg;
  }
  EXPECT_THROW(merge_tables({}), TableError);
}

}  // namespace
}  // namespace dwt
