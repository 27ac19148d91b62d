// dwtune: autotuning benchmark suite for depthwise 2D convolution. See `dwtune --help`.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "config.hpp"
#include "cuda_check.hpp"
#include "device.hpp"
#include "format.hpp"
#include "problem_json.hpp"
#include "report.hpp"
#include "table.hpp"
#include "tune.hpp"
#include "verify.hpp"

namespace {

using namespace dwt;

// Exit codes (DESIGN.md): 0 success; 1 runtime failure; 2 usage or input error; 3 no CUDA device.
constexpr int kOk = 0, kRuntime = 1, kInput = 2, kNoGpu = 3;

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct NoGpu : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr const char* kDefaultConfig = "builtin:kernelbench";

// Exit codes of DESIGN.md by what went wrong: input the user can fix, a missing GPU, or a failure.
int exit_code_of(const std::exception& e) {
  if (dynamic_cast<const NoGpu*>(&e)) return kNoGpu;
  if (dynamic_cast<const ConfigError*>(&e) || dynamic_cast<const InputError*>(&e) ||
      dynamic_cast<const TableError*>(&e) || dynamic_cast<const ProblemError*>(&e))
    return kInput;
  return kRuntime;
}

void require_gpu() {
  std::string why;
  if (!gpu_available(&why)) throw NoGpu("no CUDA device: " + why);
}

std::vector<std::string> parse_variants(const std::string& list) {
  std::vector<std::string> out;
  if (list.empty()) return out;
  const auto known = families();
  std::size_t pos = 0;
  while (true) {
    const auto comma = list.find(',', pos);
    std::string f = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (std::find(known.begin(), known.end(), f) == known.end())
      throw InputError(fmt::format("--variants: unknown family \"{}\" (compiled: {})", f,
                                   fmt::join(known, ", ")));
    out.push_back(f);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

void write_output(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  // Temporary file then rename, like tables: a report is never half-written.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw InputError(fmt::format("-o {}: cannot open for writing", path));
    f << text;
    f.close();
    if (!f) throw InputError(fmt::format("-o {}: write failed", path));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw InputError(fmt::format("-o {}: cannot rename into place", path));
  }
}

int cmd_list(bool json) {
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const Operation* op : registry()) {
      const KernelDesc& d = op->desc();
      nlohmann::json params = nlohmann::json::object();
      for (const auto& p : d.params) params[p.name] = p.value;
      arr.push_back({{"name", d.name}, {"family", d.family}, {"dtype", to_string(d.dtype)},
                     {"layout", to_string(d.layout)}, {"threads", d.threads}, {"params", params},
                     {"requires", {{"min_cc", d.needs.min_cc}, {"unit_stride", d.needs.unit_stride},
                                   {"kh", d.needs.kh}, {"kw", d.needs.kw}, {"smem_bytes", d.needs.smem_bytes}}},
                     {"default", {{"preference", d.rank.preference}, {"default_tile", d.rank.default_tile}}}});
    }
    fmt::print("{}\n", arr.dump(2));
    return kOk;
  }
  fmt::print("{:<44} {:<11} {:<5} {:>7}  {}\n", "name", "family", "dtype", "threads", "parameters");
  for (const Operation* op : registry()) {
    const KernelDesc& d = op->desc();
    std::string params;
    for (const auto& p : d.params) params += fmt::format("{}={} ", p.name, p.value);
    fmt::print("{:<44} {:<11} {:<5} {:>7}  {}\n", d.name, d.family, d.dtype, d.threads, params);
  }
  fmt::print("{} instantiations\n", registry().size());
  return kOk;
}

int cmd_shapes(const std::string& config, bool json) {
  const ShapeSet set = load_shape_set(config);
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const Problem& p : set.problems) arr.push_back(p);
    fmt::print("{}\n", arr.dump(2));
    return kOk;
  }
  fmt::print("{} ({}): {} problems\n", set.name, set.source, set.problems.size());
  for (const Problem& p : set.problems)
    fmt::print("  {:<28} {} -> out {}x{}x{}x{}, {:.1f} MB moved\n", p.name,
               static_cast<const ConvShape&>(p), p.n, p.out_c(), p.out_h(), p.out_w(), p.bytes() / 1e6);
  return kOk;
}

int cmd_verify(const std::string& config, const std::string& variants, std::uint64_t seed) {
  const ShapeSet set = load_shape_set(config);
  const auto fams = parse_variants(variants);
  require_gpu();
  const DeviceLimits lim = query_device_limits(0);
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  int passed = 0, failed = 0, unsupported = 0, problems_failed = 0;
  for (const Problem& p : set.problems) {
    std::vector<CandidateResult> refused;
    const auto ops = candidates_for(p, lim, fams, &refused);
    unsupported += static_cast<int>(refused.size());
    std::size_t free_b = 0, total_b = 0;
    DWT_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    if (problem_device_bytes(p) > free_b) {
      fmt::print("{}: FAILED: needs {:.2f} GiB, {:.2f} GiB free\n", p.name,
                 problem_device_bytes(p) / double(1 << 30), free_b / double(1 << 30));
      ++problems_failed;
      continue;
    }
    ProblemBuffers buf = ProblemBuffers::allocate(p);
    buf.fill_inputs(seed, st);
    Verifier v(buf, st);
    int ok_here = 0;
    for (const Operation* op : ops) {
      VerifyResult r;
      try {
        r = v.check(*op);
      } catch (const CudaError& e) {
        r.ok = false;
        r.reason = e.what();
      }
      if (r.ok) {
        ++passed;
        ++ok_here;
      } else {
        ++failed;
        fmt::print("{}: {} FAILED: {}\n", p.name, op->desc().name, r.reason);
      }
    }
    if (ok_here == 0) ++problems_failed;
    fmt::print("{:<28} {}/{} candidates verified ({} reference), {} not supported\n", p.name, ok_here,
               ops.size(), v.on_cpu() ? "CPU" : "GPU", refused.size());
  }
  DWT_CUDA_CHECK(cudaStreamDestroy(st));
  fmt::print("{} passed, {} failed, {} not supported, {} problems without a passing candidate\n",
             passed, failed, unsupported, problems_failed);
  return failed || problems_failed ? kRuntime : kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "dwtune: autotuning benchmark suite for depthwise 2D convolution on NVIDIA GPUs.\n"
      "Sweeps every compiled kernel instantiation over the problems of a JSON shape set, verifies\n"
      "each against a float64 reference, times it with CUDA events (L2 flushed), and writes the\n"
      "fastest per problem to a JSON tuning table, beside cuDNN's time.\n\n"
      "Start here:  dwtune tune --out table.json          (KernelBench problems, built in)\n"
      "             dwtune report table.json\n\n"
      "Exit codes: 0 success, 1 runtime failure, 2 usage or input error, 3 no CUDA device."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("dwtune ") + DWTUNE_VERSION + " (" + DWTUNE_GIT_REV + ")");

  bool json = false;
  auto* list = app.add_subcommand("list", "List every compiled kernel instantiation (no GPU)");
  list->add_flag("--json", json, "Print as a JSON array");

  std::string config = kDefaultConfig;
  const std::string config_help =
      "Shape-set JSON file (see configs/), or builtin:kernelbench, builtin:edge, builtin:networks";
  auto* shapes = app.add_subcommand("shapes", "Expand a config and print each problem with its output size (no GPU)");
  shapes->add_option("--config", config, config_help)->required();
  shapes->add_flag("--json", json, "Print a JSON array (name, out_h, out_w, ...)");

  std::string variants;
  std::uint64_t seed = 1;
  auto* verify = app.add_subcommand("verify", "Run every candidate once per problem and compare with the reference");
  verify->add_option("--config", config, config_help)->required();
  verify->add_option("--variants", variants, "Comma-separated families (default: all)");
  verify->add_option("--seed", seed, "Seed of the random inputs");

  TuneOptions topt;
  std::string out, strategy = "exhaustive", devices = "0", shard = "0/1";
  bool quiet = false, no_cudnn = false;
  auto* tune = app.add_subcommand("tune", "Sweep, verify and time every candidate; write the tuning table");
  tune->add_option("--config", config, config_help + " (default: builtin:kernelbench)");
  tune->add_option("--out", out, "Tuning table to write (JSON, written atomically)")->required();
  tune->add_option("--variants", variants, "Comma-separated families to sweep (default: all)");
  tune->add_option("--strategy", strategy, "exhaustive (default) or random")
      ->check(CLI::IsMember({"exhaustive", "random"}));
  tune->add_option("--budget", topt.budget, "Candidates per problem with --strategy random")
      ->check(CLI::PositiveNumber);
  tune->add_option("--seed", topt.seed, "Seed of the inputs and of random sampling");
  tune->add_option("--devices", devices, "all, or comma-separated device indices (default 0)");
  tune->add_option("--shard", shard, "I/N: take every N-th problem starting at I (job arrays)");
  tune->add_flag("--resume", topt.resume, "Continue an interrupted sweep in --out");
  tune->add_option("--warmup", topt.timing.warmup, "Warm-up launches per candidate (default 5)")
      ->check(CLI::NonNegativeNumber);
  tune->add_option("--reps", topt.timing.reps, "Timed repetitions per candidate (default 25)")
      ->check(CLI::PositiveNumber);
  tune->add_flag("--keep-all", topt.keep_all, "Record every candidate, failures with their reasons");
  tune->add_flag("--no-cudnn", no_cudnn, "Skip the cuDNN baseline");
  tune->add_flag("--quiet", quiet, "No progress output");

  std::string table, vs, format = "md", output;
  auto* report = app.add_subcommand("report", "Render a tuning table as md, html or csv (no GPU)");
  report->add_option("table", table, "Tuning table")->required();
  report->add_option("--vs", vs, "Second table to compare with, problem by problem");
  report->add_option("--format", format, "md (default), html or csv")
      ->check(CLI::IsMember({"md", "html", "csv"}));
  report->add_option("-o,--output", output, "Write to this file instead of stdout");

  std::vector<std::string> inputs;
  auto* merge = app.add_subcommand("merge", "Join tuning tables of one GPU model (no GPU)");
  merge->add_option("tables", inputs, "Tables to join")->required();
  merge->add_option("-o,--output", output, "Merged table")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kInput;
  }

  try {
    if (*list) return cmd_list(json);
    if (*shapes) return cmd_shapes(config, json);
    if (*verify) return cmd_verify(config, variants, seed);
    if (*tune) {
      const ShapeSet set = load_shape_set(config);
      topt.out = out;
      topt.random = strategy == "random";
      if (topt.random && topt.budget <= 0) throw InputError("--strategy random needs --budget N");
      topt.variants = parse_variants(variants);
      try {
        std::tie(topt.shard_index, topt.shard_count) = parse_shard(shard);
      } catch (const std::invalid_argument& e) {
        throw InputError(e.what());
      }
      topt.with_cudnn = !no_cudnn;
      topt.progress = quiet ? Progress::quiet : Progress::automatic;
      check_writable(topt.out);
      require_gpu();
      int count = 0;
      DWT_CUDA_CHECK(cudaGetDeviceCount(&count));
      try {
        topt.devices = parse_devices(devices, count);
      } catch (const std::invalid_argument& e) {
        throw InputError(e.what());
      }
      return run_tune(set, topt);
    }
    if (*report) {
      const Table t = read_table(table);
      std::optional<Table> t2;
      if (!vs.empty()) t2 = read_table(vs);
      write_output(render_report(t, t2 ? &*t2 : nullptr, parse_report_format(format)), output);
      return kOk;
    }
    if (*merge) {
      std::vector<Table> ts;
      for (const auto& f : inputs) ts.push_back(read_table(f));
      write_table_atomic(merge_tables(ts), output);
      return kOk;
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "dwtune: {}{}\n", dynamic_cast<const CudaError*>(&e) ? "CUDA error: " : "", e.what());
    return exit_code_of(e);
  }
  return kOk;
}
