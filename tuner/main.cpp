// dwtune: autotuning benchmark suite for depthwise 2D convolution. See `dwtune --help`.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "check_dispatch.hpp"
#include "cli.hpp"
#include "config.hpp"
#include "cuda_check.hpp"
#include "device.hpp"
#include "errors.hpp"
#include "format.hpp"
#include "kernel_glob.hpp"
#include "problem_json.hpp"
#include "report.hpp"
#include "safe_write.hpp"
#include "table.hpp"
#include "tune.hpp"
#include "verify.hpp"

namespace {

using namespace dwt;

constexpr const char* kDefaultConfig = "builtin:kernelbench";

// A config names a file unless it is one of the built-in sets.
std::vector<std::filesystem::path> config_inputs(const std::string& config) {
  if (config.starts_with("builtin:")) return {};
  return {config};
}

// Where a command's problems come from: --config (a file or builtin:NAME; builtin:kernelbench when
// neither it nor --problem is given), then each --problem, under --max-problems.
struct ProblemSource {
  std::string config = kDefaultConfig;
  bool config_given = false;
  std::vector<std::string> problems;
  std::size_t max_problems = 0;  // 0: default_config_limits()
};

void add_problem_options(CLI::App* sub, ProblemSource& src) {
  constexpr auto kSizeMax = static_cast<std::uint64_t>(std::numeric_limits<int>::max());
  sub->add_option("--config", src.config,
                  "Shape-set JSON file (see configs/ and README.md), or builtin:kernelbench, builtin:edge, "
                  "builtin:networks, builtin:kernelbench-backward, builtin:networks-backward (default: builtin:kernelbench unless --problem is given)")
      ->each([&src](const std::string&) { src.config_given = true; });
  sub->add_option("--problem", src.problems,
                  "One problem, repeatable, beside --config: n=32,c=128,h=128,w=256,k=3x7 "
                  "[,s=SxS,p=PxP,d=DxD,m=M,bias,dtype=f16,layout=nchw,pass=dgrad,name=NAME]")
      ->check(cli::problem_check());
  sub->add_option("--max-problems", src.max_problems,
                  "Refuse a config that expands to more problems (default 100000, or DWTUNE_MAX_PROBLEMS)")
      ->check(cli::whole_number(1, kSizeMax));
}

ShapeSet load_problems(const ProblemSource& src) {
  ConfigLimits lim = default_config_limits();
  if (src.max_problems) lim.max_problems = src.max_problems;
  if (src.problems.empty()) return load_shape_set(src.config, lim);
  nlohmann::json j = {{"name", "command line"}, {"problems", nlohmann::json::array()}};
  for (const auto& spec : src.problems) j["problems"].push_back(parse_problem_spec(spec));
  ShapeSet extra = parse_config(j, "--problem", lim);
  if (!src.config_given) return extra;
  ShapeSet set = load_shape_set(src.config, lim);
  for (Problem& p : extra.problems) {
    for (const Problem& q : set.problems)
      if (q.name == p.name)
        throw InputError(fmt::format("--problem: problem \"{}\" is also in {}; give it name=...",
                                     p.name, set.source));
    set.problems.push_back(std::move(p));
  }
  if (set.problems.size() > lim.max_problems)
    throw InputError(fmt::format("{} and --problem: {} problems, more than --max-problems {}",
                                 set.source, set.problems.size(), lim.max_problems));
  return set;
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> names;
  for (const Operation* op : registry()) names.push_back(op->desc().name);
  return names;
}

// `-o -` is standard output; anything else goes through the one safe writer.
void write_output(const std::string& text, const std::string& path,
                  const std::vector<std::filesystem::path>& inputs) {
  if (path != "-") return write_file_atomic(path, text, inputs);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw std::runtime_error(fmt::format("writing to standard output: {}", std::strerror(errno)));
}

// The subcommand argv[1] names, when it names none: a message that says which word was not one.
std::optional<std::string> unknown_command(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return std::nullopt;
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == argv[1]) return std::nullopt;
    names.push_back(sub->get_name());
  }
  return fmt::format("unknown command \"{}\" (commands: {}; see dwtune --help)", argv[1],
                     fmt::join(names, ", "));
}

// A comma-separated list of dtype or pass names; ProblemError naming `option` and the bad name.
template <class E>
std::vector<E> parse_names(std::string_view list, E (*parse)(std::string_view, std::string_view),
                           std::string_view option) {
  std::vector<E> out;
  for (std::string_view rest = list; !rest.empty();) {
    const auto comma = rest.find(',');
    out.push_back(parse(rest.substr(0, comma), option));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return out;
}

int cmd_list(bool json) {
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const Operation* op : registry()) {
      const KernelDesc& d = op->desc();
      nlohmann::json params = nlohmann::json::object();
      for (const auto& p : d.params) params[p.name] = p.value;
      arr.push_back({{"name", d.name}, {"family", d.family}, {"dtype", to_string(d.dtype)},
                     {"layout", to_string(d.layout)}, {"pass", to_string(d.pass)}, {"threads", d.threads}, {"params", params},
                     {"requires", {{"min_cc", d.needs.min_cc}, {"unit_stride", d.needs.unit_stride},
                                   {"kh", d.needs.kh}, {"kw", d.needs.kw}, {"smem_bytes", d.needs.smem_bytes}}},
                     {"default", {{"preference", d.rank.preference}, {"default_tile", d.rank.default_tile}}}});
    }
    fmt::print("{}\n", arr.dump(2));
    return kExitOk;
  }
  fmt::print("{:<44} {:<11} {:<5} {:<7} {:>7}  {}\n", "name", "family", "dtype", "pass", "threads", "parameters");
  for (const Operation* op : registry()) {
    const KernelDesc& d = op->desc();
    std::string params;
    for (const auto& p : d.params) params += fmt::format("{}={} ", p.name, p.value);
    fmt::print("{:<44} {:<11} {:<5} {:<7} {:>7}  {}\n", d.name, d.family, d.dtype, d.pass, d.threads, params);
  }
  fmt::print("{} instantiations\n", registry().size());
  return kExitOk;
}

int cmd_shapes(const ProblemSource& src, bool json) {
  const ShapeSet set = load_problems(src);
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const Problem& p : set.problems) arr.push_back(p);
    fmt::print("{}\n", arr.dump(2));
    return kExitOk;
  }
  fmt::print("{} ({}): {} problems\n", set.name, set.source, set.problems.size());
  for (const Problem& p : set.problems) {
    // What the pass writes: y (forward), dx (dgrad), dw and db (wgrad).
    std::string result;
    switch (p.pass) {
      case Pass::forward: result = fmt::format("out {}x{}x{}x{}", p.n, p.out_c(), p.out_h(), p.out_w()); break;
      case Pass::dgrad: result = fmt::format("dx {}x{}x{}x{}", p.n, p.c, p.h, p.w); break;
      case Pass::wgrad:
        result = fmt::format("dw {}x1x{}x{}{}", p.out_c(), p.kh, p.kw, p.bias ? fmt::format(", db {}", p.out_c()) : "");
        break;
    }
    fmt::print("  {:<28} {} -> {}, {:.1f} MB moved\n", p.name, static_cast<const ConvShape&>(p), result,
               p.bytes() / 1e6);
  }
  return kExitOk;
}

int cmd_verify(const ProblemSource& src, const std::string& variants, const std::string& kernels,
               std::uint64_t seed) {
  const ShapeSet set = load_problems(src);
  const auto fams = parse_families(variants);
  const auto globs = parse_kernel_globs(kernels, kernel_names());
  require_gpu();
  const DeviceLimits lim = query_device_limits(0);
  cudaStream_t st;
  DWT_CUDA_CHECK(cudaStreamCreate(&st));
  int passed = 0, failed = 0, unsupported = 0, problems_failed = 0;
  for (const Problem& p : set.problems) {
    std::vector<CandidateResult> refused;
    const auto ops = candidates_for(p, lim, fams, &refused, globs);
    unsupported += static_cast<int>(refused.size());
    std::string too_large;
    std::optional<ProblemBuffers> buf = allocate_if_fits(p, too_large);
    if (!buf) {
      fmt::print("{}: FAILED: {}\n", p.name, too_large);
      ++problems_failed;
      continue;
    }
    buf->fill_inputs(seed, st);
    Verifier v(*buf, st);
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
  return failed || problems_failed ? kExitRuntime : kExitOk;
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
  constexpr auto kIntMax = static_cast<std::uint64_t>(std::numeric_limits<int>::max());
  const auto seed_check = cli::whole_number(0, std::numeric_limits<std::uint64_t>::max());

  bool json = false;
  auto* list = app.add_subcommand("list", "List every compiled kernel instantiation (no GPU)");
  list->add_flag("--json", json, "Print as a JSON array");

  ProblemSource src;
  auto* shapes = app.add_subcommand("shapes", "Expand a config and print each problem with its output size (no GPU)");
  add_problem_options(shapes, src);
  shapes->add_flag("--json", json, "Print a JSON array (name, out_h, out_w, ...)");

  std::string variants, kernels;
  const std::string kernels_help =
      "Comma-separated globs over kernel names (dwtune list), e.g. 'vectorized_*_k3x7_*' (default: all)";
  std::uint64_t seed = 1;
  auto* verify = app.add_subcommand("verify", "Run every candidate once per problem and compare with the reference");
  add_problem_options(verify, src);
  verify->add_option("--variants", variants, "Comma-separated families (default: all)")
      ->check(cli::families_check());
  verify->add_option("--kernels", kernels, kernels_help)->check(cli::kernels_check());
  verify->add_option("--seed", seed, "Seed of the random inputs")->check(seed_check);

  TuneOptions topt;
  std::string out, strategy = "exhaustive", devices = "0", shard = "0/1";
  bool quiet = false, no_cudnn = false;
  auto* tune = app.add_subcommand("tune", "Sweep, verify and time every candidate; write the tuning table");
  add_problem_options(tune, src);
  tune->add_option("-o,--out", out, "Tuning table to write (JSON, written atomically; never over the config)")
      ->required()
      ->check(cli::path_check());
  tune->add_option("--variants", variants, "Comma-separated families to sweep (default: all)")
      ->check(cli::families_check());
  tune->add_option("--kernels", kernels, kernels_help)->check(cli::kernels_check());
  tune->add_option("--strategy", strategy,
                   "exhaustive (default), random, or model (one candidate at a time: Bayesian optimisation "
                   "whose prior is a cost model fitted on --model that weighs recorded problems by similarity of "
                   "dtype, layout, pass, stride, dilation, filter area and output size, with tile-space "
                   "correlations learned from them; each time measured updates the others' expectations)")
      ->check(CLI::IsMember({"exhaustive", "random", "model"}));
  std::vector<std::string> model_tables;
  tune->add_option("--model", model_tables, "--keep-all tables to fit the cost model on (--strategy model)");
  tune->add_option("--budget-fraction", topt.budget_fraction,
                   "With random or model: this share of each problem's candidates (0..1]")
      ->check(CLI::Range(0.0, 1.0));
  tune->add_flag("--no-early-stop", [&](std::int64_t) { topt.early_stop = false; },
                 "Time every verified candidate in full (no screening, no confirmation round)");
  tune->add_option("--budget", topt.budget, "Candidates per problem with --strategy random or model")
      ->check(cli::whole_number(1, kIntMax));
  tune->add_option("--seed", topt.seed, "Seed of the inputs and of random sampling")->check(seed_check);
  tune->add_option("--devices", devices, "all, or comma-separated device indices (default 0)")
      ->check(cli::devices_check());
  tune->add_option("--shard", shard, "I/N: take every N-th problem starting at I (job arrays)")
      ->check(cli::shard_check());
  tune->add_flag("--resume", topt.resume, "Continue an interrupted sweep in --out");
  tune->add_option("--warmup", topt.timing.warmup, "Warm-up launches per candidate (default 5)")
      ->check(cli::whole_number(0, kIntMax));
  tune->add_option("--reps", topt.timing.reps, "Timed repetitions per candidate (default 25)")
      ->check(cli::whole_number(1, kIntMax));
  tune->add_flag("--keep-all", topt.keep_all, "Record every candidate, failures with their reasons");
  tune->add_flag("--no-cudnn", no_cudnn, "Skip the cuDNN baseline");
  tune->add_flag("--quiet", quiet, "No progress output");

  std::string table, vs, format = "md", output = "-";
  auto* report = app.add_subcommand("report", "Render a tuning table as md, html or csv (no GPU)");
  report->add_option("table", table, "Tuning table")->required();
  report->add_option("--vs", vs, "Second table to compare with, problem by problem");
  report->add_option("--format", format, "md (default), html or csv")
      ->check(CLI::IsMember({"md", "html", "csv"}));
  report->add_option("-o,--out,--output", output,
                     "Write to this file (atomically; never over an input) instead of stdout; - is stdout")
      ->check(cli::path_check());

  std::vector<std::string> inputs;
  auto* merge = app.add_subcommand("merge", "Join tuning tables of one GPU model (no GPU)");
  merge->add_option("tables", inputs, "Tables to join")->required();
  merge->add_option("-o,--out,--output", output, "Merged table (written atomically; never over an input)")
      ->required()
      ->check(cli::path_check());

  // Issue 17: a budgeted strategy replayed from a --keep-all table, without a GPU.
  std::string replay_table, replay_strategy = "model";
  std::vector<std::string> replay_models, replay_also;
  ReplayOptions ropt;
  auto* replay_cmd = app.add_subcommand(
      "replay", "Replay a search strategy on a --keep-all table: evaluations spent, gap to the exhaustive winner (no GPU)");
  replay_cmd->add_option("table", replay_table, "A table tuned with --keep-all")->required();
  replay_cmd->add_option("--strategy", replay_strategy, "model (default), random or exhaustive")
      ->check(CLI::IsMember({"exhaustive", "random", "model"}));
  replay_cmd->add_option("--budget-fraction", ropt.fraction, "Share of each problem's candidates (default 0.25)")
      ->check(CLI::Range(0.0, 1.0));
  replay_cmd->add_option("--model", replay_models,
                         "Fit the cost model on these tables (default: for each problem, the replayed table's "
                         "other problems, every problem of its shape in any dtype left out)");
  replay_cmd->add_option("--also", replay_also,
                         "Without --model: fit each problem's model on these tables too, every problem of its shape "
                         "left out there as well");
  replay_cmd->add_option("--seeds", ropt.seeds, "Seeds of --strategy random (default 100)")
      ->check(cli::whole_number(1, 100000));
  replay_cmd->add_option("--gap", ropt.gap_limit, "Gap to the exhaustive winner counted as a hit (default 0.03)")
      ->check(CLI::Range(0.0, 10.0));
  replay_cmd->add_option("--trace", ropt.trace, "List these problems' evaluations in order (one seed)");
  replay_cmd->add_flag("--trace-misses", ropt.trace_misses, "List the evaluations of every problem missed");

  // Issue 13: dispatch's choice on shapes it has not seen, against the best candidate.
  std::string measured, user_table, check_report = "-";
  double max_geomean = 0, max_worst = 0;
  auto* check = app.add_subcommand(
      "check-dispatch",
      "Time the kernel dispatch chooses for each problem with the problem's own entry excluded from every "
      "table and from the cost model, against the best candidate (GPU; --measured replays without one)");
  add_problem_options(check, src);
  check->add_option("--out", out, "With --config/--problem: the measured table (every candidate; written atomically)")
      ->check(cli::path_check());
  check->add_option("--measured", measured, "Replay a table measured before (with --keep-all) instead of measuring (no GPU)");
  check->add_option("--table", user_table, "A user tuning table dispatch also consults (as DWTUNE_TABLE)");
  check->add_option("-o,--report", check_report, "Markdown report (default: standard output)")->check(cli::path_check());
  check->add_option("--max-geomean", max_geomean, "Exit 1 when the geometric-mean ratio exceeds this (e.g. 1.10)");
  check->add_option("--max-worst", max_worst, "Exit 1 when any ratio exceeds this (e.g. 1.30)");
  check->add_option("--reps", topt.timing.reps, "Timed repetitions per candidate (default 25)")
      ->check(cli::whole_number(1, kIntMax));
  check->add_option("--kernels", kernels, kernels_help)->check(cli::kernels_check());

  std::uint64_t rseed = 2;
  std::size_t rcount = 120;
  RandomProblemOptions ropts;
  ropts.max_outputs = std::int64_t{1} << 22;
  ropts.network_percent = 60;
  ropts.network_scale = true;
  std::string rdtypes = "f32,f16,bf16", rpasses = "forward";
  auto* rconfig = app.add_subcommand("random-config",
                                     "Write a config of seeded random network-like and odd problems (no GPU)");
  rconfig->add_option("--seed", rseed, "Seed (default 2; fit on another seed than you check on)")->check(seed_check);
  rconfig->add_option("--count", rcount, "Problems (default 120)")->check(cli::whole_number(1, 100000));
  rconfig->add_option("--max-outputs", ropts.max_outputs, "Largest output, in elements (default 2^22)")
      ->check(cli::whole_number(1, std::uint64_t{1} << 34));
  rconfig->add_option("--network-percent", ropts.network_percent, "Share of network-like problems (default 60)")
      ->check(CLI::Range(0, 100));
  rconfig->add_option("--dtypes", rdtypes, "Comma-separated dtypes (default f32,f16,bf16)");
  rconfig->add_option("--passes", rpasses, "Comma-separated passes: forward, dgrad, wgrad (default forward)");
  rconfig->add_option("-o,--out", output, "Config file to write (default: standard output)")->check(cli::path_check());

  if (const auto bad = unknown_command(app, argc, argv)) {
    fmt::print(stderr, "dwtune: {}\n", *bad);
    return kExitInput;
  }
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
    return kExitInput;
  }

  // Every value is checked, and every output found writable, before a device is opened.
  try {
    if (*list) return cmd_list(json);
    if (*shapes) return cmd_shapes(src, json);
    if (*verify) return cmd_verify(src, variants, kernels, seed);
    if (*tune) {
      const ShapeSet set = load_problems(src);
      topt.out = out;
      topt.strategy = parse_strategy(strategy);
      if (topt.strategy != Strategy::exhaustive && topt.budget <= 0 && !(topt.budget_fraction > 0))
        throw InputError(fmt::format("--strategy {} needs --budget N or --budget-fraction F", strategy));
      if (topt.strategy == Strategy::model && model_tables.empty())
        throw InputError("--strategy model needs --model TABLE (a --keep-all table to fit the cost model on)");
      for (const auto& m : model_tables) topt.model_tables.emplace_back(m);
      topt.variants = parse_families(variants);
      topt.kernels = parse_kernel_globs(kernels, kernel_names());
      std::tie(topt.shard_index, topt.shard_count) = parse_shard(shard);
      topt.with_cudnn = !no_cudnn;
      topt.progress = quiet ? Progress::quiet : Progress::automatic;
      check_output(topt.out, src.config_given || src.problems.empty() ? config_inputs(src.config)
                                                                      : std::vector<std::filesystem::path>{});
      require_gpu();
      int count = 0;
      DWT_CUDA_CHECK(cudaGetDeviceCount(&count));
      try {
        topt.devices = parse_devices(devices, count);
      } catch (const std::invalid_argument& e) {
        throw InputError(fmt::format("--devices: {}", e.what()));
      }
      return run_tune(set, topt);
    }
    if (*rconfig) {
      ropts.dtypes = parse_names(rdtypes, parse_dtype, "--dtypes");
      ropts.passes = parse_names(rpasses, parse_pass, "--passes");
      if (output != "-") check_output(output, {});
      write_output(random_config_json(rseed, rcount, ropts), output, {});
      return kExitOk;
    }
    if (*check) {
      if (measured.empty() == out.empty())
        throw InputError("check-dispatch: give --config FILE (or --problem) with --out MEASURED.json to measure, "
                         "or --measured TABLE to replay one");
      std::vector<std::filesystem::path> read;
      if (!measured.empty()) read.emplace_back(measured);
      if (!user_table.empty()) read.emplace_back(user_table);
      if (check_report != "-") check_output(check_report, read);
      std::optional<TuningTable> user;
      if (!user_table.empty()) user = read_tuning_table(user_table);
      Table t;
      DeviceLimits lim;
      int rc = kExitOk;
      if (measured.empty()) {
        const ShapeSet set = load_problems(src);
        topt.out = out;
        topt.keep_all = true;
        topt.early_stop = false;  // the chosen kernel's time in full, whatever it is
        topt.kernels = parse_kernel_globs(kernels, kernel_names());
        topt.notes.push_back(kCheckDispatchNote);
        topt.progress = Progress::automatic;
        check_output(topt.out, config_inputs(src.config));
        require_gpu();
        rc = run_tune(set, topt);
        t = read_table(topt.out);
        lim = query_device_limits(0);
      } else {
        t = read_table(measured);
        lim = limits_of(t.meta);
      }
      const std::shared_ptr<const TuningTable> shipped = shipped_table(t.meta.gpu_name);
      Knowledge k;
      k.table = user ? &*user : nullptr;
      k.shipped = shipped.get();
      k.model = &builtin_model();
      const DispatchCheck res = check_dispatch(t, k, lim, registry());
      if (res.rows.empty())
        throw InputError(fmt::format("check-dispatch: {} has no problem with its candidates recorded", t.meta.config_name));
      write_output(render_dispatch_check(res), check_report, read);
      fmt::print(stderr, "check-dispatch: {} problems, geometric mean {:.3f}x, worst {:.3f}x\n", res.rows.size(),
                 res.geomean(), res.worst());
      if ((max_geomean > 0 && res.geomean() > max_geomean) || (max_worst > 0 && res.worst() > max_worst))
        return kExitRuntime;
      return rc;
    }
    if (*replay_cmd) {
      ropt.strategy = parse_strategy(replay_strategy);
      const Table t = read_table(replay_table);
      std::vector<Table> models;
      for (const auto& m : replay_models) models.push_back(read_table(m));
      for (const Table& m : models) ropt.model_tables.push_back(&m);
      std::vector<Table> also;
      for (const auto& a : replay_also) also.push_back(read_table(a));
      for (const Table& a : also) ropt.also_tables.push_back(&a);
      fmt::print("{}", render_replay(replay(t, ropt)));
      return kExitOk;
    }
    if (*report) {
      std::vector<std::filesystem::path> read{table};
      if (!vs.empty()) read.emplace_back(vs);
      if (output != "-") check_output(output, read);
      const Table t = read_table(table);
      std::optional<Table> t2;
      if (!vs.empty()) t2 = read_table(vs);
      write_output(render_report(t, t2 ? &*t2 : nullptr, parse_report_format(format)), output, read);
      return kExitOk;
    }
    if (*merge) {
      if (output == "-")
        throw InputError("merge -o -: a merged table goes to a file (standard output is for reports)");
      const std::vector<std::filesystem::path> read(inputs.begin(), inputs.end());
      check_output(output, read);
      std::vector<Table> ts;
      for (const auto& f : inputs) ts.push_back(read_table(f));
      write_table_atomic(merge_tables(ts, inputs), output);
      return kExitOk;
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "dwtune: {}{}\n", dynamic_cast<const CudaError*>(&e) ? "CUDA error: " : "", e.what());
    return exit_code_of(e);
  }
  return kExitOk;
}
