// dwtune_bench: Google Benchmark suite over a shape-set config. For every problem and every kernel
// family one benchmark `<problem>/<family>/<kernel>` (the table's family best, or the first
// instantiation in registry order that supports the problem), `<problem>/dispatch/<kernel>` (the
// kernel the dispatch library's rules choose with the same table: what dwt::conv2d runs), plus
// `<problem>/cudnn`. Problems of any pass (forward, dgrad, wgrad): families with no kernel of a
// problem's pass get no benchmark on it, and cuDNN runs that pass (backward data, backward filter).
//
// Own flags, taken out of argv before Google Benchmark sees it:
//   --config FILE|builtin:NAME   shape set (default: builtin:kernelbench)
//   --table FILE                 tuning table: use each problem's family_best kernels
//   --no-cudnn                   no cuDNN benchmarks
//   --cudnn-iterations N         fixed iterations of each cuDNN benchmark (default 20; 0: follow
//                                Google Benchmark's own --benchmark_min_time)
// Everything else is Google Benchmark's (--benchmark_filter, --benchmark_format=json, ...).
//
// Timing (DESIGN.md, "Measuring"): manual time, one value per iteration from CUDA events around the
// launch alone, L2 flushed (cudaMemsetAsync of 2x L2, at least 64 MiB) before every iteration,
// random inputs, and each kernel verified against the reference before it is timed.
//
// cuDNN: CudnnBaseline exposes only run() (find the best algorithm, verify, time). Each iteration
// calls run() with one repetition and no warm-up and reports that one event-timed launch (L2 flushed
// before it, like ours); the algorithm search and verification around it are not timed but make an
// iteration slow, hence the fixed iteration count.
//
// Exit codes (as dwtune): 0 ok; 1 the CUDA context was lost; 2 usage or input error; 3 no CUDA
// device (listing with --benchmark_list_tests needs none).
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "cuda_check.hpp"
#include "cudnn_baseline.hpp"
#include "device.hpp"
#include "dispatch.hpp"
#include "errors.hpp"
#include "operation.hpp"
#include "table.hpp"
#include "timing.hpp"
#include "tune.hpp"
#include "verify.hpp"

namespace {

using namespace dwt;

constexpr int kWarmup = 3;              // launches before the timed loop of a kernel benchmark
constexpr std::uint64_t kSeed = 1;      // inputs, as `dwtune tune` fills them
constexpr int kDefaultCudnnIterations = 20;

struct Options {
  std::string config = "builtin:kernelbench";
  std::string table;
  bool cudnn = true;
  int cudnn_iterations = kDefaultCudnnIterations;
};

// Removes argv[i] .. argv[i + n - 1].
void drop_args(int& argc, char** argv, int i, int n) {
  for (int j = i; j + n <= argc; ++j) argv[j] = argv[j + n];
  argc -= n;
}

// Takes --name VALUE or --name=VALUE at argv[i]; nullopt when argv[i] is another flag.
std::optional<std::string> take_value(int& argc, char** argv, int i, std::string_view name) {
  const std::string_view a = argv[i];
  if (a == name) {
    if (i + 1 >= argc) throw InputError(fmt::format("{} needs a value", name));
    std::string v = argv[i + 1];
    drop_args(argc, argv, i, 2);
    return v;
  }
  if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=') {
    std::string v(a.substr(name.size() + 1));
    drop_args(argc, argv, i, 1);
    return v;
  }
  return std::nullopt;
}

// Our flags out of argv (after "--" nothing is ours).
Options take_own_flags(int& argc, char** argv) {
  Options o;
  int i = 1;
  while (i < argc) {
    const std::string_view a = argv[i];
    if (a == "--") break;
    if (auto v = take_value(argc, argv, i, "--config")) {
      o.config = *v;
    } else if (auto t = take_value(argc, argv, i, "--table")) {
      o.table = *t;
    } else if (auto n = take_value(argc, argv, i, "--cudnn-iterations")) {
      char* end = nullptr;
      const long k = std::strtol(n->c_str(), &end, 10);
      if (n->empty() || *end != '\0' || k < 0 || k > 1000000)
        throw InputError(fmt::format("--cudnn-iterations: \"{}\" is not a count (0 .. 1000000)", *n));
      o.cudnn_iterations = static_cast<int>(k);
    } else if (a == "--no-cudnn") {
      o.cudnn = false;
      drop_args(argc, argv, i, 1);
    } else {
      ++i;
    }
  }
  return o;
}

// Google Benchmark's reading of a boolean flag value ("", "1", "true", "yes" ... are true).
bool truthy(std::string v) {
  if (v.empty()) return true;
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v.size() == 1) return std::isalnum(static_cast<unsigned char>(v[0])) && v != "0" && v != "f" && v != "n";
  return v != "false" && v != "no" && v != "off";
}

// Whether this run only lists benchmarks (then no GPU is needed). Same sources as the library:
// the flag, else the environment variable BENCHMARK_LIST_TESTS.
bool listing_only(int argc, char** argv) {
  std::optional<bool> flag;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--benchmark_list_tests") flag = true;
    else if (a.rfind("--benchmark_list_tests=", 0) == 0) flag = truthy(std::string(a.substr(23)));
  }
  if (flag) return *flag;
  const char* env = std::getenv("BENCHMARK_LIST_TESTS");
  return env && truthy(env);
}

// Google Benchmark answers a bad --benchmark_format with its usage and exit 0, and takes a
// repetition count below 1: both are refused here first, as usage errors. The environment variables
// it reads as defaults (BENCHMARK_FORMAT, ...) are checked the same way.
void check_benchmark_flags(int argc, char** argv) {
  struct Rule {
    std::string_view flag, env;
    bool (*ok)(std::string_view);
    const char* expected;
  };
  const auto format = [](std::string_view v) { return v == "console" || v == "json" || v == "csv"; };
  const auto count = [](std::string_view v) {
    int n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    return !v.empty() && v.front() != '-' && ec == std::errc() && end == v.data() + v.size() && n >= 1;
  };
  const Rule rules[] = {{"--benchmark_format", "BENCHMARK_FORMAT", format, "console, json or csv"},
                        {"--benchmark_out_format", "BENCHMARK_OUT_FORMAT", format, "console, json or csv"},
                        {"--benchmark_repetitions", "BENCHMARK_REPETITIONS", count, "a whole number from 1"}};
  for (const Rule& r : rules) {
    auto check = [&](std::string_view value, std::string_view where) {
      if (!r.ok(value))
        throw InputError(fmt::format("{}: \"{}\" is not {} ({})", r.flag, value, r.expected, where));
    };
    if (const char* env = std::getenv(std::string(r.env).c_str())) check(env, fmt::format("environment variable {}", r.env));
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (a == "--") break;
      if (a.size() > r.flag.size() && a.starts_with(r.flag) && a[r.flag.size()] == '=')
        check(a.substr(r.flag.size() + 1), "command line");
    }
  }
}

void print_own_usage() {
  std::printf(
      "dwtune_bench: Google Benchmark suite of dwtune's kernels and cuDNN.\n"
      "Own flags:\n"
      "  --config FILE|builtin:NAME  shape set (default builtin:kernelbench; also builtin:edge,\n"
      "                              builtin:networks, builtin:kernelbench-backward,\n"
      "                              builtin:networks-backward)\n"
      "  --table FILE                tuning table: benchmark each problem's family_best kernels\n"
      "                              (default: the first supporting instantiation of each family)\n"
      "  --no-cudnn                  no cuDNN benchmarks\n"
      "  --cudnn-iterations N        iterations of each cuDNN benchmark (default %d; 0 follows\n"
      "                              --benchmark_min_time; every iteration re-runs the algorithm\n"
      "                              search, untimed)\n"
      "Benchmarks are named <problem>/<family>/<kernel>, <problem>/dispatch/<kernel> and\n"
      "<problem>/cudnn.\n\n",
      kDefaultCudnnIterations);
}

// ---- GPU state: one stream, the flush buffer, the buffers of at most one problem. ----

struct Gpu {
  int device = 0;
  cudaStream_t st{};
  std::unique_ptr<Timer> timer;  // L2 flush and events, for our kernels and the cuDNN baseline
  std::unique_ptr<CudnnBaseline> cudnn;
  double copy_gbps = 0;
  std::string fatal;  // set when the CUDA context is lost: every later benchmark is skipped

  // The problem whose buffers are alive (index into the shape set), or -1.
  long current = -1;
  std::unique_ptr<ProblemBuffers> buf;
  std::unique_ptr<Verifier> verifier;
  std::map<std::string, VerifyResult> verified;  // by kernel name, for `current`
  std::optional<BaselineResult> cudnn_check;     // first cuDNN run on `current`
  std::map<long, std::string> unusable;          // problems whose buffers could not be made

  explicit Gpu(int dev) : device(dev) {
    DWT_CUDA_CHECK(cudaSetDevice(device));
    DWT_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    timer = std::make_unique<Timer>(device, st);
    cudnn = std::make_unique<CudnnBaseline>(st);
    copy_gbps = timer->copy_bandwidth_gbps();
  }
  ~Gpu() {
    release_problem();
    cudnn.reset();
    timer.reset();
    cudaStreamDestroy(st);
  }
  Gpu(const Gpu&) = delete;
  Gpu& operator=(const Gpu&) = delete;

  void release_problem() {
    verifier.reset();
    buf.reset();
    verified.clear();
    cudnn_check.reset();
    current = -1;
  }

  // Makes the buffers of problem `idx` the live ones (inputs random, CPU reference computed for
  // small problems). Throws std::runtime_error when they cannot be made.
  void use_problem(long idx, const Problem& p) {
    if (current == idx) return;
    release_problem();
    if (auto it = unusable.find(idx); it != unusable.end()) throw std::runtime_error(it->second);
    std::string too_large;
    std::optional<ProblemBuffers> fitted = allocate_if_fits(p, too_large);
    if (!fitted) throw std::runtime_error(unusable[idx] = too_large);
    buf = std::make_unique<ProblemBuffers>(std::move(*fitted));
    buf->fill_inputs(kSeed, st);
    verifier = std::make_unique<Verifier>(*buf, st);
    current = idx;
  }

  const VerifyResult& verify(const Operation& op) {
    const std::string& name = op.desc().name;
    if (auto it = verified.find(name); it != verified.end()) return it->second;
    VerifyResult v;
    try {
      v = verifier->check(op);
    } catch (const CudaError& e) {
      note_cuda_error(e);
      v.ok = false;
      v.reason = e.what();
    }
    return verified[name] = v;
  }

  // After a CUDA error: if the context is gone, nothing later can run.
  void note_cuda_error(const CudaError& e) {
    if (context_lost() && fatal.empty()) fatal = fmt::format("the CUDA context is lost: {}", e.what());
  }
};

Gpu* g_gpu = nullptr;

void skip(benchmark::State& state, const std::string& why) { state.SkipWithError(why.c_str()); }

void set_counters(benchmark::State& state, const Problem& p) {
  using benchmark::Counter;
  const double copy_bytes_per_second = g_gpu->copy_gbps * 1e9;
  state.counters["bytes_per_second"] = Counter(p.bytes(), Counter::kIsIterationInvariantRate);
  // bytes / time / copy bandwidth: a fraction of the device-to-device copy rate of this run.
  state.counters["bw_share"] =
      Counter(p.bytes() / copy_bytes_per_second, Counter::kIsIterationInvariantRate);
  state.counters["GFLOPS"] = Counter(p.flops() / 1e9, Counter::kIsIterationInvariantRate);
}

// Runs `body` on the GPU with problem idx's buffers live; any failure becomes the benchmark's error
// (and a lost context ends every later benchmark).
template <class Body>
void on_problem(benchmark::State& state, long idx, const Problem& p, Body body) {
  Gpu& g = *g_gpu;
  if (!g.fatal.empty()) return skip(state, g.fatal);
  try {
    g.use_problem(idx, p);
    body(g);
  } catch (const CudaError& e) {
    g.note_cuda_error(e);
    skip(state, e.what());
  } catch (const std::exception& e) {
    skip(state, e.what());
  }
}

void bench_kernel(benchmark::State& state, long idx, const Problem& p, const Operation& op) {
  on_problem(state, idx, p, [&](Gpu& g) {
    const VerifyResult& v = g.verify(op);
    if (!v.ok) return skip(state, "verification failed: " + v.reason);
    g.buf->reserve_workspace(op.workspace_bytes(p));  // before args() takes its address
    const ConvArgs a = g.buf->args();
    for (int i = 0; i < kWarmup; ++i) op.run(a, g.st);
    for (auto _ : state) state.SetIterationTime(g.timer->time_once([&] { op.run(a, g.st); }) * 1e-3);
    set_counters(state, p);
  });
}

void bench_cudnn(benchmark::State& state, long idx, const Problem& p) {
  on_problem(state, idx, p, [&](Gpu& g) {
    TimerSettings once;
    once.warmup = 0;
    once.reps = 1;
    // The first run on a problem decides availability (and warms up); later calls reuse its answer.
    if (!g.cudnn_check) g.cudnn_check = g.cudnn->run(p, *g.buf, *g.verifier, *g.timer, once);
    if (!g.cudnn_check->available) return skip(state, "cuDNN: " + g.cudnn_check->reason);
    std::set<std::string> algos;
    for (auto _ : state) {
      const BaselineResult r = g.cudnn->run(p, *g.buf, *g.verifier, *g.timer, once);
      if (!r.available || !r.time) return skip(state, "cuDNN: " + r.reason);
      state.SetIterationTime(r.time->median_ms * 1e-3);
      algos.insert(r.algo);
    }
    std::string label;
    for (const auto& a : algos) label += (label.empty() ? "" : ",") + a;
    state.SetLabel(label);
    set_counters(state, p);
  });
}

void bench_unsupported(benchmark::State& state, std::string why) { skip(state, why); }

// The kernel of `family` to benchmark on `p`: the table's family best when it names a compiled
// instantiation that supports p, else the first supporting one in registry order; nullptr when
// none does (`why` then says why).
const Operation* choose(const Problem& p, const std::string& family, const DeviceLimits& lim,
                        const Table* table, std::string& why) {
  std::vector<CandidateResult> refused;
  const std::vector<const Operation*> ops = candidates_for(p, lim, {family}, &refused);
  if (table) {
    if (const ProblemEntry* e = table->find(p.key())) {
      if (auto it = e->family_best.find(family); it != e->family_best.end()) {
        const std::string& name = it->second.kernel;
        const Operation* op = find_operation(name);
        if (!op)
          std::fprintf(stderr, "dwtune_bench: %s/%s: table kernel %s is not compiled in; using the default\n",
                       p.name.c_str(), family.c_str(), name.c_str());
        else if (std::find(ops.begin(), ops.end(), op) == ops.end())
          std::fprintf(stderr, "dwtune_bench: %s/%s: table kernel %s does not support the problem here; using the default\n",
                       p.name.c_str(), family.c_str(), name.c_str());
        else
          return op;
      }
    }
  }
  if (!ops.empty()) return ops.front();
  why = refused.empty()
            ? fmt::format("no {} instantiation for {} {} {}", family, to_string(p.dtype), to_string(p.layout),
                          to_string(p.pass))
            : fmt::format("no {} instantiation supports the problem (first refusal: {}: {})", family,
                          refused.front().kernel, refused.front().reason);
  return nullptr;
}

// `slim` and `gpu_name`: what the dispatch benchmark gives dwt::choose_kernel.
void register_all(const ShapeSet& set, const DeviceLimits& lim, const Table* table,
                  const TuningTable* slim, const std::string& gpu_name, const Options& opt) {
  const std::vector<std::string> fams = families();
  // A family computes one pass: it gets no benchmark, not even an "unsupported" one, on the others.
  std::set<std::pair<std::string, Pass>> serves;
  for (const Operation* op : registry()) serves.emplace(op->desc().family, op->desc().pass);
  for (std::size_t i = 0; i < set.problems.size(); ++i) {
    const Problem& p = set.problems[i];
    const long idx = static_cast<long>(i);
    for (const std::string& f : fams) {
      if (!serves.count({f, p.pass})) continue;
      std::string why;
      if (const Operation* op = choose(p, f, lim, table, why)) {
        const std::string name = fmt::format("{}/{}/{}", p.name, f, op->desc().name);
        benchmark::RegisterBenchmark(name.c_str(),
                                     [idx, p, op](benchmark::State& s) { bench_kernel(s, idx, p, *op); })
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      } else {
        const std::string name = fmt::format("{}/{}/unsupported", p.name, f);
        benchmark::RegisterBenchmark(name.c_str(), [why](benchmark::State& s) { bench_unsupported(s, why); });
      }
    }
    // The dispatch library's own reader and rules pick this one; the label says why.
    const Choice c = choose_kernel(p, slim, gpu_name, lim);
    const std::string name = fmt::format("{}/dispatch/{}", p.name, c.op ? c.op->desc().name : "unsupported");
    benchmark::RegisterBenchmark(name.c_str(), [idx, p, c](benchmark::State& s) {
      if (!c.op) return bench_unsupported(s, c.reason);
      bench_kernel(s, idx, p, *c.op);
      s.SetLabel(c.reason);
    })->UseManualTime()->Unit(benchmark::kMicrosecond);
    if (opt.cudnn) {
      const std::string name = fmt::format("{}/cudnn", p.name);
      auto* b = benchmark::RegisterBenchmark(name.c_str(),
                                             [idx, p](benchmark::State& s) { bench_cudnn(s, idx, p); })
                    ->UseManualTime()
                    ->Unit(benchmark::kMicrosecond);
      if (opt.cudnn_iterations > 0) b->Iterations(opt.cudnn_iterations);
    }
  }
}

void add_context(const Gpu& g, const ShapeSet& set, const Options& opt, const DeviceLimits& lim) {
  const TableMeta m = device_meta(g.device);
  benchmark::AddCustomContext("gpu_name", m.gpu_name);
  benchmark::AddCustomContext("compute_capability", m.compute_capability);
  benchmark::AddCustomContext("sm_count", std::to_string(m.sm_count));
  benchmark::AddCustomContext("l2_bytes", std::to_string(m.l2_bytes));
  benchmark::AddCustomContext("max_smem_per_block", std::to_string(lim.max_smem_per_block));
  benchmark::AddCustomContext("driver_version", m.driver_version);
  benchmark::AddCustomContext("runtime_version", m.runtime_version);
  benchmark::AddCustomContext("cudnn_version", m.cudnn_version);
  benchmark::AddCustomContext("copy_bandwidth_gbps", fmt::format("{:.1f}", g.copy_gbps));
  benchmark::AddCustomContext(
      "flush", fmt::format("cudaMemsetAsync of {} MiB before every iteration", g.timer->flush_bytes() >> 20));
  benchmark::AddCustomContext("config", fmt::format("{} ({})", set.name, opt.config));
  benchmark::AddCustomContext("table", opt.table.empty() ? "none (first supporting instantiation per family)"
                                                         : opt.table);
  benchmark::AddCustomContext("cudnn_iterations", opt.cudnn ? std::to_string(opt.cudnn_iterations) : "off");
  benchmark::AddCustomContext("dwtune_version", m.dwtune_version);
  benchmark::AddCustomContext("git_revision", m.git_revision);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (a == "--help" || a == "-h") print_own_usage();
      if (a == "-h") argv[i] = const_cast<char*>("--help");  // Google Benchmark knows only --help
    }
    opt = take_own_flags(argc, argv);
    check_benchmark_flags(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dwtune_bench: %s\n", e.what());
    return exit_code_of(e);
  }
  const bool list_only = listing_only(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return kExitInput;

  ShapeSet set;
  std::optional<Table> table;
  std::optional<TuningTable> slim;  // the same file as the dispatch library reads it
  try {
    set = load_shape_set(opt.config);
    if (!opt.table.empty()) table = read_table(opt.table);
    if (!opt.table.empty()) slim = read_tuning_table(opt.table);
    if (!list_only) require_gpu();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dwtune_bench: %s\n", e.what());
    return exit_code_of(e);
  }

  int rc = kExitOk;
  try {
    // Without a GPU (listing only) kernels are chosen under the default limits (48 KiB of shared
    // memory) and no device name (dispatch then uses no table), so a listing there may name other
    // kernels than a run on the GPU.
    const bool have_gpu = gpu_available();
    const DeviceLimits lim = have_gpu ? query_device_limits(0) : DeviceLimits{};
    cudaDeviceProp prop{};
    if (have_gpu) DWT_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    register_all(set, lim, table ? &*table : nullptr, slim ? &*slim : nullptr, prop.name, opt);
    std::unique_ptr<Gpu> gpu;
    if (!list_only) {
      gpu = std::make_unique<Gpu>(0);
      g_gpu = gpu.get();
      add_context(*gpu, set, opt, lim);
    }
    benchmark::RunSpecifiedBenchmarks();
    if (gpu && !gpu->fatal.empty()) {
      std::fprintf(stderr, "dwtune_bench: %s\n", gpu->fatal.c_str());
      rc = kExitRuntime;
    }
    g_gpu = nullptr;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dwtune_bench: %s\n", e.what());
    rc = exit_code_of(e);
  }
  benchmark::Shutdown();
  return rc;
}
