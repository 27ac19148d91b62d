// The dwtune binary as a user meets it: output sizes, exit codes and messages for bad input.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <fstream>
#include <regex>
#include <string>

#include "device.hpp"
#include "scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;

struct CmdResult {
  int code = -1;
  std::string out;  // stdout and stderr
};

std::string binary() {
  const char* b = std::getenv("DWTUNE_BINARY");
  return b ? b : DWTUNE_BINARY_PATH;
}

fs::path source_dir() {
  const char* s = std::getenv("DWTUNE_SOURCE_DIR");
  return s ? fs::path(s) : fs::path(__FILE__).parent_path().parent_path().parent_path();
}

CmdResult run(const std::string& args, bool merge_stderr = true) {
  const std::string cmd = binary() + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  CmdResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

fs::path write_temp(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p;
}

std::int64_t out_size(std::int64_t in, int k, int s, int p, int d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;  // all terms positive in edge.json
}

TEST(Cli, ShapesOfEdgeConfigHaveTheRightOutputSizes) {
  const CmdResult r = run("shapes --config " + (source_dir() / "configs/edge.json").string() + " --json", false);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto arr = nlohmann::json::parse(r.out);
  ASSERT_GT(arr.size(), 20u);
  bool saw_stride = false;
  for (const auto& p : arr) {
    const auto k = p.at("kernel"), s = p.at("stride"), pad = p.at("padding"), d = p.at("dilation");
    EXPECT_EQ(p.at("out_h").get<std::int64_t>(),
              out_size(p.at("h"), k[0], s[0], pad[0], d[0])) << p.at("name");
    EXPECT_EQ(p.at("out_w").get<std::int64_t>(),
              out_size(p.at("w"), k[1], s[1], pad[1], d[1])) << p.at("name");
    if (p.at("name") == "w43_s2") {  // h31 w43, 3x3, stride 2, padding 1: by hand 16 x 22
      saw_stride = true;
      EXPECT_EQ(p.at("out_h"), 16);
      EXPECT_EQ(p.at("out_w"), 22);
    }
  }
  EXPECT_TRUE(saw_stride);
}

// Shapes on the command line, beside or instead of a config; the same default config everywhere.
TEST(Cli, ProblemsOnTheCommandLine) {
  CmdResult r = run("shapes --json --problem n=32,c=128,h=128,w=256,k=3x7 --problem name=s2,n=1,c=8,h=9,w=9,k=3,s=2,p=1",
                    false);
  ASSERT_EQ(r.code, 0) << r.out;
  auto arr = nlohmann::json::parse(r.out);
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0].at("name"), "n32_c128_h128_w256_k3x7");
  EXPECT_EQ(arr[0].at("out_h"), 126);
  EXPECT_EQ(arr[0].at("out_w"), 250);
  EXPECT_EQ(arr[1].at("name"), "s2");
  EXPECT_EQ(arr[1].at("out_w"), 5);
  // Beside --config: the config's problems, then these.
  r = run("shapes --json --config builtin:kernelbench --problem n=1,c=8,h=9,w=9,k=3", false);
  ASSERT_EQ(r.code, 0) << r.out;
  arr = nlohmann::json::parse(r.out);
  EXPECT_EQ(arr.back().at("name"), "n1_c8_h9_w9_k3");
  // A name taken by the config is refused.
  r = run("shapes --config builtin:kernelbench --problem name=kb85,n=1,c=8,h=9,w=9,k=3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("\"kb85\""), std::string::npos) << r.out;
  // No --config and no --problem: builtin:kernelbench, for shapes as for tune.
  r = run("shapes");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("kb85"), std::string::npos) << r.out;
}

// Backward problems from the command line, the built-in backward configs and random-config.
TEST(Cli, PassesFromProblemSpecsBuiltinsAndRandomConfig) {
  CmdResult r = run("shapes --json --problem n=1,c=8,h=9,w=9,k=3,pass=dgrad,bias", false);
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json arr = nlohmann::json::parse(r.out);
  EXPECT_EQ(arr[0].at("pass"), "dgrad");
  EXPECT_EQ(arr[0].at("bias"), false);  // the input gradient has none
  EXPECT_EQ(arr[0].at("key"), "n1_c8_h9_w9_k3x3_s1x1_p0x0_d1x1_m1_nobias_f32_nchw_dgrad");
  r = run("shapes --problem n=1,c=8,h=9,w=9,k=3,pass=backward");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown pass \"backward\""), std::string::npos) << r.out;
  for (const char* b : {"kernelbench-backward", "networks-backward"}) {
    r = run(std::string("shapes --json --config builtin:") + b, false);
    ASSERT_EQ(r.code, 0) << b << ": " << r.out;
    std::set<std::string> passes;
    for (const auto& p : nlohmann::json::parse(r.out)) passes.insert(p.at("pass").get<std::string>());
    EXPECT_EQ(passes, (std::set<std::string>{"dgrad", "wgrad"})) << b;
  }
  r = run("random-config --count 40 --passes forward,wgrad", false);
  ASSERT_EQ(r.code, 0) << r.out;
  const fs::path cfg = write_temp("dwtune_random_passes.json", r.out);
  r = run("shapes --json --config " + cfg.string(), false);
  ASSERT_EQ(r.code, 0) << r.out;
  std::set<std::string> passes;
  for (const auto& p : nlohmann::json::parse(r.out)) passes.insert(p.at("pass").get<std::string>());
  EXPECT_EQ(passes, (std::set<std::string>{"forward", "wgrad"}));
  fs::remove(cfg);
  r = run("random-config --passes backward");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--passes"), std::string::npos) << r.out;
}

TEST(Cli, MaxProblemsCapsWhatAConfigMayExpandTo) {
  CmdResult r = run("shapes --config builtin:networks --max-problems 3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("limit of 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--max-problems"), std::string::npos) << r.out;
  EXPECT_EQ(run("shapes --config builtin:networks --max-problems 100000").code, 0);
  // The flag wins over the environment variable.
  const std::string cmd = "DWTUNE_MAX_PROBLEMS=2 " + binary() + " shapes --max-problems 100 >/dev/null 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
  const std::string env = "DWTUNE_MAX_PROBLEMS=2 " + binary() + " shapes >/dev/null 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(env.c_str())), 2);
  r = run("shapes --problem n=1,c=8,h=9,w=9,k=3 --problem n=2,c=8,h=9,w=9,k=3 --max-problems 1");
  EXPECT_EQ(r.code, 2) << r.out;
}

TEST(Cli, BrokenConfigsExitTwoNamingFileProblemAndField) {
  const fs::path bad_json = write_temp("dwtune-cli-bad.json", "{\"problems\": [");
  CmdResult r = run("shapes --config " + bad_json.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("dwtune-cli-bad.json"), std::string::npos) << r.out;
  const fs::path typo = write_temp(
      "dwtune-cli-typo.json",
      R"({"problems": [{"name": "p", "n": 1, "c": 1, "h": 8, "w": 8, "kernel": 3, "strides": 2}]})");
  r = run("verify --config " + typo.string());  // refused before any GPU work
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("\"p\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("strides"), std::string::npos) << r.out;
  EXPECT_EQ(run("shapes --config /no/such/file.json").code, 2);
}

TEST(Cli, UnwritableTablePathExitsTwoBeforeAnyGpuWork) {
  const CmdResult r = run("tune --out /no/such/dir/table.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("/no/such/dir"), std::string::npos) << r.out;
}

TEST(Cli, UsageErrorsExitTwoAndHelpExitsZero) {
  const CmdResult unknown = run("frobnicate");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.out.find("\"frobnicate\""), std::string::npos) << unknown.out;
  EXPECT_EQ(run("tune --config builtin:kernelbench").code, 2);  // --out is required
  EXPECT_EQ(run("tune --out t.json --strategy greedy").code, 2);
  EXPECT_EQ(run("report t.json --format pdf").code, 2);
  const CmdResult help = run("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("tune"), std::string::npos);
}

TEST(Cli, WithoutAGpuGpuCommandsExitThree) {
  std::string why;
  if (dwt::gpu_available(&why)) GTEST_SKIP() << "a GPU is present; this checks machines without one";
  const CmdResult r = run("verify --config builtin:edge");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.out.find("no CUDA device"), std::string::npos) << r.out;
  // Said plainly, not as the runtime's "driver version is insufficient".
  EXPECT_EQ(r.out.find("nsufficient"), std::string::npos) << r.out;
}

// Every one of these is the user's to fix, and is said so (exit 2, naming the flag) before any
// device is opened: on a machine without a GPU they must not come out as exit 3.
TEST(Cli, BadValuesAreRefusedBeforeAnyDeviceIsOpened) {
  const std::string out = (fs::temp_directory_path() / "dwtune-cli-never.json").string();
  struct Case {
    std::string args, names;
  };
  const Case cases[] = {
      {"tune --out " + out + " --devices abc", "--devices"},
      {"tune --out " + out + " --devices 0,", "--devices"},
      {"tune --out \"\"", "--out"},
      {"tune --out " + out + " --seed -1", "--seed"},
      {"verify --config builtin:edge --seed -1", "--seed"},
      {"tune --out " + out + " --shard \" 0/2\"", "--shard"},
      {"tune --out " + out + " --shard 2/2", "--shard"},
      {"tune --out " + out + " --strategy random --budget 0", "--budget"},
      {"tune --out " + out + " --reps 0", "--reps"},
      {"tune --out " + out + " --warmup -1", "--warmup"},
      {"tune --out " + out + " --variants naive,frobnicate", "frobnicate"},
      {"verify --config builtin:edge --variants frobnicate", "frobnicate"},
      {"report t.json -o \"\"", "--out"},
      {"report t.json --out \"\"", "--out"},
      {"merge t.json --out \"\"", "--out"},
      {"tune -o \"\"", "--out"},
      {"tune --out " + out + " --kernels 'nosuchkernel*'", "nosuchkernel*"},
      {"verify --kernels 'nosuchkernel*'", "nosuchkernel*"},
      {"tune --out " + out + " --problem n=1,c=8,zz=2", "zz=2"},
      {"tune --out " + out + " --problem n=1,c=8,h=9,w=9", "kernel"},
      {"verify --problem n=1,c=8,h=9,w=9,k=3 --max-problems 0", "--max-problems"},
      {"merge t.json -o -", "-o -"},
  };
  for (const Case& c : cases) {
    const CmdResult r = run(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.names), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_LT(r.out.size(), 400u) << c.args << "\n" << r.out;  // no 300-digit ranges
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST(Cli, ReportsRenderTheCommittedTablesInEveryFormat) {
  for (const char* gpu : {"h100", "h200"}) {
    const fs::path table = source_dir() / "results" / gpu / "table.json";
    ASSERT_TRUE(fs::exists(table)) << table;
    for (const char* fmt : {"md", "csv", "html"}) {
      const CmdResult r = run("report " + table.string() + " --format " + fmt, false);
      EXPECT_EQ(r.code, 0) << gpu << " " << fmt;
      EXPECT_NE(r.out.find("kb85"), std::string::npos) << gpu << " " << fmt;
    }
  }
}

TEST(Cli, MergeRefusesTablesOfDifferentGpuModels) {
  const fs::path out = fs::temp_directory_path() / "dwtune-cli-merged.json";
  fs::remove(out);
  const CmdResult r = run("merge " + (source_dir() / "results/h100/table.json").string() + " " +
                    (source_dir() / "results/h200/table.json").string() + " -o " + out.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("H100"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("H200"), std::string::npos) << r.out;
  // Named by file, not by position.
  EXPECT_NE(r.out.find("results/h200/table.json"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

TEST(Cli, BadTableIsRefusedWithExitTwo) {
  const fs::path bad = write_temp("dwtune-cli-badtable.json", "{\"schema\": 7}");
  const CmdResult r = run("report " + bad.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("dwtune-cli-badtable.json"), std::string::npos) << r.out;
}

// ---- Outputs: the one safe writer behind report -o, merge -o and tune --out.

class CliOutput : public dwt::testing::ScratchDir {
 protected:
  void SetUp() override {
    ScratchDir::SetUp();
    table_ = dir_ / "table.json";
    fs::copy_file(source_dir() / "results/h100/table.json", table_);
  }
  fs::path table_;
};

TEST_F(CliOutput, ReportOverItsOwnTableIsRefusedAndTheTableKept) {
  const std::string before = text(table_);
  for (const fs::path& o : {table_, dir_ / "." / "table.json"}) {
    const CmdResult r = run("report " + table_.string() + " -o " + o.string());
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(o.string()), std::string::npos) << r.out;
  }
  const fs::path other = dir_ / "other.json";
  fs::copy_file(table_, other);
  EXPECT_EQ(run("report " + table_.string() + " --vs " + other.string() + " -o " + other.string()).code, 2);
  EXPECT_EQ(run("merge " + table_.string() + " " + other.string() + " -o " + other.string()).code, 2);
  EXPECT_EQ(text(table_), before);
  EXPECT_EQ(text(other), before);
}

TEST_F(CliOutput, TuneNeverWritesOverItsConfig) {
  const fs::path config = dir_ / "config.json";
  fs::copy_file(source_dir() / "configs/edge.json", config);
  const std::string before = text(config);
  const CmdResult r = run("tune --config " + config.string() + " --out " + config.string());
  EXPECT_EQ(r.code, 2) << r.out;  // before the GPU check, so on every machine
  EXPECT_NE(r.out.find(config.string()), std::string::npos) << r.out;
  EXPECT_EQ(text(config), before);
}

TEST_F(CliOutput, NonRegularTargetsAreRefusedNamingThePath) {
  const fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_symlink(dir_ / "elsewhere.md", dir_ / "link.md");
  for (const fs::path& o : {fifo, dir_ / "link.md", dir_})
    for (const std::string cmd : {"report " + table_.string(), "merge " + table_.string()}) {
      const CmdResult r = run(cmd + " -o " + o.string());
      EXPECT_EQ(r.code, 2) << cmd << " -o " << o << "\n" << r.out;
      EXPECT_NE(r.out.find(o.string()), std::string::npos) << r.out;
    }
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(fifo)));
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.md"));
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere.md"));
  EXPECT_EQ(listing(), (std::set<std::string>{"table.json", "fifo", "link.md"}));  // no temporaries
}

TEST_F(CliOutput, ReportGoesToStandardOutputWithDashAndToAFileOtherwise) {
  const CmdResult dash = run("report " + table_.string() + " --format csv -o -", false);
  EXPECT_EQ(dash.code, 0);
  EXPECT_EQ(dash.out.rfind("problem,", 0), 0u) << dash.out.substr(0, 100);
  const fs::path md = dir_ / "r.md";
  EXPECT_EQ(run("report " + table_.string() + " -o " + md.string()).code, 0);
  EXPECT_EQ(text(md), run("report " + table_.string(), false).out);
  // One spelling everywhere: --out works where -o does.
  const fs::path md2 = dir_ / "r2.md";
  EXPECT_EQ(run("report " + table_.string() + " --out " + md2.string()).code, 0);
  EXPECT_EQ(text(md2), text(md));
  const fs::path merged = dir_ / "m.json";
  EXPECT_EQ(run("merge " + table_.string() + " --out " + merged.string()).code, 0);
  EXPECT_TRUE(fs::exists(merged));
}

// Issue 16: every command that README.md and bench/README.md show in a ```sh block is run, from a
// directory laid out like the repository (build/, configs/, results/, a table.json): GPU-free ones
// must succeed, the others must get past every flag and stop only for want of a GPU (exit 3), so
// an example that goes stale (a renamed flag, a missing file) fails here.
TEST_F(CliOutput, EveryCommandInTheReadmesRuns) {
  std::string why;
  const bool gpu = false;
  if (dwt::gpu_available(&why)) GTEST_SKIP() << "a GPU is present: these commands would run for real";
  const fs::path bin = fs::path(binary()).parent_path();
  fs::create_directory_symlink(bin, dir_ / "build");
  fs::create_directory_symlink(source_dir() / "configs", dir_ / "configs");
  fs::create_directory_symlink(source_dir() / "results", dir_ / "results");
  int ran = 0;
  for (const char* doc : {"README.md", "bench/README.md"}) {
    std::ifstream in(source_dir() / doc);
    std::string line, cmd;
    bool in_sh = false;
    while (std::getline(in, line)) {
      if (line.rfind("```", 0) == 0) {
        in_sh = !in_sh && line == "```sh";
        continue;
      }
      if (!in_sh || line.empty() || line[0] == '#') continue;
      cmd += line;
      if (!cmd.empty() && cmd.back() == '\\') {
        cmd.pop_back();
        continue;
      }
      // One command per `&&` piece; setup, ctest and cmake are the build's, not ours.
      std::size_t pos = 0;
      while (pos <= cmd.size()) {
        const auto amp = cmd.find("&&", pos);
        std::string piece = cmd.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
        pos = amp == std::string::npos ? cmd.size() + 1 : amp + 2;
        const auto b = piece.find("build/dwtune");
        if (b == std::string::npos || piece.find("--target") != std::string::npos) continue;
        piece = piece.substr(b);  // compute-sanitizer ... runs the same command
        if (const auto redirect = piece.find(" > "); redirect != std::string::npos)
          piece = piece.substr(0, redirect);
        const bool gpu_free = piece.find("--benchmark_list_tests") != std::string::npos ||
                              piece.find(" --help") != std::string::npos ||
                              std::regex_search(piece, std::regex("^build/dwtune (list|shapes|report|merge)"));
        const std::string full = "cd " + dir_.string() + " && " + piece + " >/dev/null 2>" +
                                 (dir_ / "err.txt").string();
        const int status = std::system(full.c_str());
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        ++ran;
        if (gpu_free || gpu)
          EXPECT_EQ(code, 0) << doc << ": " << piece << "\n" << text(dir_ / "err.txt");
        else
          EXPECT_EQ(code, 3) << doc << ": " << piece << "\n" << text(dir_ / "err.txt");
      }
      cmd.clear();
    }
  }
  EXPECT_GE(ran, 10);
  std::printf("ran %d documented commands\n", ran);
}

}  // namespace
