// Hostile and broken input files through the built binary, as issue 19 found them: each must be
// refused with exit 2, a message naming the file and the field, and within a few seconds (no
// crash, no waiting on a FIFO, no memory runaway). No GPU needed: shapes, report and merge only.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "problem_json.hpp"
#include "sample_table.hpp"

namespace dwt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kTimeLimitS = 20;  // a refusal is instant; this only catches hangs and runaways

struct CmdResult {
  int code = -1;  // -1: killed by a signal
  std::string out;
  double seconds = 0;
};

std::string binary() {
  const char* b = std::getenv("DWTUNE_BINARY");
  return b ? b : DWTUNE_BINARY_PATH;
}

// Under `timeout`, memory capped at 4 GB, so a hang or a runaway fails the test instead of the
// machine. Exit 124: timed out.
CmdResult run(const std::string& args, const std::string& env = "") {
  const std::string cmd = fmt::format("ulimit -v 4000000; {} timeout -s KILL {} {} {} 2>&1", env,
                                      kTimeLimitS, binary(), args);
  CmdResult r;
  const auto start = std::chrono::steady_clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  // Keep the head only: a refusal is one line, a runaway message should not fill memory here.
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    if (r.out.size() < (1 << 20)) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "dwtune-bad-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  fs::path fifo(const std::string& name) {
    const fs::path p = dir_ / name;
    EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0);
    return p;
  }
  fs::path dir_;
};

json problem(json changes = json::object()) {
  json p = {{"name", "p"}, {"n", 1}, {"c", 4}, {"h", 8}, {"w", 8}, {"kernel", {3, 3}}};
  for (auto& [k, v] : changes.items()) p[k] = v;
  return p;
}
std::string config(const json& p) { return json{{"problems", {p}}}.dump(); }

// A valid table whose first entry's problem (or anything) is then edited.
json table() { return json(sample::table()); }

// Exit 2, naming the file and every one of `names`, quickly.
void expect_refused(const CmdResult& r, const fs::path& file,
                    std::initializer_list<std::string> names) {
  EXPECT_EQ(r.code, 2) << r.out.substr(0, 2000);
  EXPECT_LT(r.seconds, kTimeLimitS / 2.0);
  EXPECT_NE(r.out.find(file.string()), std::string::npos) << r.out.substr(0, 2000);
  for (const auto& s : names) EXPECT_NE(r.out.find(s), std::string::npos) << s << ": " << r.out.substr(0, 2000);
  EXPECT_LT(r.out.size(), 2000u) << "message not shortened";
}

// Every table-reading command: report, and merge of the bad table with a good one.
void expect_table_refused(const fs::path& bad, const fs::path& good,
                          std::initializer_list<std::string> names) {
  expect_refused(run("report " + bad.string()), bad, names);
  const fs::path out = bad.parent_path() / "merged.json";
  expect_refused(run("merge " + good.string() + " " + bad.string() + " -o " + out.string()), bad,
                 names);
  EXPECT_FALSE(fs::exists(out));
}

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

// --- configs: dwtune shapes --config ---

TEST_F(BadInput, ConfigNestedDeeply) {
  const fs::path f = write("deep.json", "{\"problems\": [{\"name\": \"p\", \"n\": " +
                                            nested(100000) + "}]}");
  expect_refused(run("shapes --config " + f.string()), f, {"field \"n\"", "nested"});
}

TEST_F(BadInput, ConfigNumberBeyondDouble) {
  std::string text = config(problem({{"n", 7}}));
  text.replace(text.find("\"n\":7"), 5, "\"n\":1e400");
  const fs::path f = write("big.json", text);
  expect_refused(run("shapes --config " + f.string()), f, {"field \"n\"", "too large"});
  // A 5 MB literal: the message stays short.
  text.replace(text.find("1e400"), 5, "1" + std::string(5 << 20, '0') + ".5");
  const fs::path g = write("long.json", text);
  expect_refused(run("shapes --config " + g.string()), g, {"field \"n\""});
}

TEST_F(BadInput, ConfigFifoWithoutWriter) {
  const fs::path f = fifo("pipe.json");
  expect_refused(run("shapes --config " + f.string()), f, {"FIFO"});
}

TEST_F(BadInput, ConfigDirectoryAndDevices) {
  expect_refused(run("shapes --config " + dir_.string()), dir_, {"directory"});
  expect_refused(run("shapes --config /dev/zero"), "/dev/zero", {"device"});
}

TEST_F(BadInput, ConfigExpandingPastTheLimit) {
  json many = json::array();
  for (int i = 1; i <= 1000; ++i) many.push_back(i);
  // 10^12 problems.
  const fs::path f = write("many.json", config(problem({{"n", many}, {"c", many}, {"h", many},
                                                         {"w", many}})));
  expect_refused(run("shapes --config " + f.string()), f, {"field \"n\"", "DWTUNE_MAX_PROBLEMS"});
  // The override sets the limit: 1000 problems are refused at 999, accepted at 1000.
  const fs::path g = write("thousand.json", config(problem({{"n", many}})));
  expect_refused(run("shapes --config " + g.string(), "DWTUNE_MAX_PROBLEMS=999"), g,
                 {"field \"n\"", "999"});
  EXPECT_EQ(run("shapes --config " + g.string(), "DWTUNE_MAX_PROBLEMS=1000").code, 0);
  const CmdResult bad = run("shapes --config " + g.string(), "DWTUNE_MAX_PROBLEMS=lots");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("DWTUNE_MAX_PROBLEMS"), std::string::npos) << bad.out;
}

TEST_F(BadInput, ConfigSizesOverflowingByteCounts) {
  const json big = std::int64_t{1} << 40;
  const fs::path f = write("nc.json", config(problem({{"n", big}, {"c", big}})));
  expect_refused(run("shapes --config " + f.string()), f, {"too large"});
  // Weights of 8 x 2^30 x 2^30 elements: 2^63.
  const fs::path g = write("weights.json", config(problem({{"c", 8}, {"h", 1}, {"w", 1},
                                                           {"kernel", {1 << 30, 1 << 30}},
                                                           {"padding", 1 << 29}})));
  expect_refused(run("shapes --config " + g.string()), g, {"field \"kernel\"", "too large"});
  // c alone too large: the message blames c, not n.
  const fs::path h = write("c.json", config(problem({{"c", std::int64_t{1} << 61}})));
  expect_refused(run("shapes --config " + h.string()), h, {"field \"c\"", "too large"});
}

TEST_F(BadInput, ConfigIntegersThatAreNot) {
  const fs::path f = write("half.json", config(problem({{"n", 1.5}})));
  expect_refused(run("shapes --config " + f.string()), f, {"field \"n\""});
  const fs::path g = write("wrap.json", config(problem({{"kernel", {4294967299LL, 3}}})));
  expect_refused(run("shapes --config " + g.string()), g, {"field \"kernel\""});
  const fs::path h = write("three.json", config(problem({{"kernel", {3, 3, 3}}})));
  expect_refused(run("shapes --config " + h.string()), h, {"field \"kernel\""});
}

// --- tables: dwtune report, dwtune merge ---

TEST_F(BadInput, TableNestedDeeply) {
  const fs::path good = write("good.json", table().dump());
  const fs::path f = write("deep.json", "{\"schema\": " + nested(100000) + "}");
  expect_table_refused(f, good, {"/schema", "nested"});
}

TEST_F(BadInput, TableNumberBeyondDouble) {
  const fs::path good = write("good.json", table().dump());
  json t = table();
  t["entries"][0]["winner"]["time"]["median_ms"] = 12345.25;
  std::string text = t.dump();
  text.replace(text.find("12345.25"), 8, "1e400");
  const fs::path f = write("big.json", text);
  expect_table_refused(f, good, {"/entries/0/winner/time/median_ms", "too large"});
}

TEST_F(BadInput, TableAbsurdTime) {
  const fs::path good = write("good.json", table().dump());
  json t = table();
  t["entries"][0]["winner"]["time"]["median_ms"] = 1e308;
  const fs::path f = write("slow.json", t.dump());
  expect_table_refused(f, good, {"/entries/0/winner/time/median_ms"});
}

TEST_F(BadInput, TableThatIsNotARegularFile) {
  const fs::path good = write("good.json", table().dump());
  expect_table_refused(fifo("pipe.json"), good, {"FIFO"});
  const fs::path sub = dir_ / "sub";
  fs::create_directory(sub);
  expect_table_refused(sub, good, {"directory"});
  expect_refused(run("report /dev/zero"), "/dev/zero", {"device"});
  if (fs::exists("/proc/self/mem"))
    expect_refused(run("report /proc/self/mem"), "/proc/self/mem", {"cannot read"});
}

TEST_F(BadInput, TableProblemFieldsThatAreWrong) {
  const fs::path good = write("good.json", table().dump());
  const auto with = [&](const char* name, const char* field, const json& v) {
    json t = table();
    t["entries"][0]["problem"][field] = v;
    return write(name, t.dump());
  };
  expect_table_refused(with("half.json", "n", 1.5), good, {"/entries/0/problem/n"});
  expect_table_refused(with("wrap.json", "kernel", {4294967299LL, 3}), good,
                       {"/entries/0/problem/kernel/0"});
  expect_table_refused(with("three.json", "kernel", {3, 3, 3}), good,
                       {"/entries/0/problem/kernel"});
  json t = table();
  t["entries"][0]["problem"]["n"] = std::int64_t{1} << 40;
  t["entries"][0]["problem"]["c"] = std::int64_t{1} << 40;
  const fs::path f = write("huge.json", t.dump());
  expect_table_refused(f, good, {"/entries/0/problem", "too large"});
}

}  // namespace
}  // namespace dwt
