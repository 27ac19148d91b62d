// The dwtune binary as a user meets it: output sizes, exit codes and messages for bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "device.hpp"

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
  EXPECT_EQ(run("frobnicate").code, 2);
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
  EXPECT_FALSE(fs::exists(out));
}

TEST(Cli, BadTableIsRefusedWithExitTwo) {
  const fs::path bad = write_temp("dwtune-cli-badtable.json", "{\"schema\": 7}");
  const CmdResult r = run("report " + bad.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("dwtune-cli-badtable.json"), std::string::npos) << r.out;
}

}  // namespace
