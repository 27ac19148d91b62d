#include "tune.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>
#include <thread>

#include "cuda_check.hpp"
#include "cudnn_baseline.hpp"
#include "kernel_glob.hpp"
#include "device.hpp"
#include "errors.hpp"
#include "format.hpp"
#include "progress.hpp"
#include "rates.hpp"
#include "safe_write.hpp"
#include "verify.hpp"

namespace dwt {

std::atomic<bool> g_interrupted{false};

// ---------------------------------------------------------------- pieces without a GPU

std::vector<const Operation*> candidates_for(const ConvShape& s, const DeviceLimits& lim,
                                             const std::vector<std::string>& families,
                                             std::vector<CandidateResult>* refused,
                                             const std::vector<std::string>& kernels) {
  std::vector<const Operation*> out;
  for (const Operation* op : registry()) {
    const KernelDesc& d = op->desc();
    if (d.dtype != s.dtype || d.layout != s.layout || d.pass != s.pass) continue;
    if (!families.empty() && std::find(families.begin(), families.end(), d.family) == families.end())
      continue;
    if (!kernel_selected(d.name, kernels)) continue;
    const Support sup = op->supports(s, lim);
    if (sup) {
      out.push_back(op);
    } else if (refused) {
      CandidateResult r;
      r.kernel = d.name;
      r.family = d.family;
      r.params = d.params;
      r.status = Disposition::not_supported;
      r.reason = sup.reason;
      refused->push_back(std::move(r));
    }
  }
  return out;
}

Search search_for(const std::vector<const Operation*>& ops, const Problem& p, const TuneOptions& opt,
                  const CostModel* model, double floor_ms) {
  int budget = opt.budget_fraction > 0 ? budget_for(ops.size(), opt.budget_fraction) : opt.budget;
  if (budget <= 0) budget = static_cast<int>(ops.size());  // no budget given: all of them
  std::vector<SearchCandidate> cands;
  for (const Operation* op : ops) {
    const KernelDesc& d = op->desc();
    cands.push_back({d.family, tile_signature(d.family, d.dtype, d.params), d.params});
  }
  return Search(opt.strategy, p, std::move(cands), budget, opt.seed, model, floor_ms);
}

std::string describe_strategy(const TuneOptions& opt) {
  if (opt.strategy == Strategy::exhaustive) return "exhaustive";
  const std::string budget = opt.budget_fraction > 0 ? fmt::format("budget fraction {:g}", opt.budget_fraction)
                                                     : fmt::format("budget {}", opt.budget);
  if (opt.strategy == Strategy::random) return fmt::format("random ({}, seed {})", budget, opt.seed);
  std::vector<std::string> names;
  for (const auto& t : opt.model_tables) names.push_back(t.filename().string());
  return fmt::format("model ({}, cost model fitted on {})", budget, fmt::join(names, ", "));
}

std::vector<std::size_t> pending_problems(const ShapeSet& set, const Table* done, int shard_index,
                                          int shard_count) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < set.problems.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(shard_count)) != shard_index) continue;
    if (done && done->find(set.problems[i].key())) continue;
    out.push_back(i);
  }
  return out;
}

ProblemEntry summarize(const Problem& p, std::vector<CandidateResult> results, BaselineResult cudnn,
                       double copy_bw, bool keep_all, const std::string& winner_kernel) {
  ProblemEntry e;
  e.problem = p;
  e.candidates_total = static_cast<int>(results.size());
  for (CandidateResult& r : results) {
    if (r.status == Disposition::stopped_early) ++e.candidates_passed;  // verified, never a winner
    if (r.status != Disposition::passed || !r.time) continue;
    const Rates rt = rates_of(p, r.time->median_ms, copy_bw);
    r.gbps = rt.gbps;
    r.gflops = rt.gflops;
    r.bw_share = rt.bw_share.value_or(0);
    ++e.candidates_passed;
    if (winner_kernel.empty() ? !e.winner || r.time->median_ms < e.winner->time->median_ms
                              : r.kernel == winner_kernel)
      e.winner = r;
    auto it = e.family_best.find(r.family);
    if (it == e.family_best.end() || r.time->median_ms < it->second.time->median_ms)
      e.family_best[r.family] = r;
  }
  e.ok = e.winner.has_value();
  if (!e.ok) {
    std::set<std::string> why;
    for (const CandidateResult& r : results) why.insert(std::string(to_string(r.status)));
    e.reason = results.empty() ? "no candidate for this problem (no instantiation matches its dtype)"
                               : fmt::format("no candidate passed ({} candidates: {})", results.size(),
                                             fmt::join(why, ", "));
  }
  if (cudnn.available && cudnn.time) {
    const Rates rt = rates_of(p, cudnn.time->median_ms, copy_bw);
    cudnn.gbps = rt.gbps;
    cudnn.bw_share = rt.bw_share.value_or(0);
    if (e.winner) e.speedup_vs_cudnn = cudnn.time->median_ms / e.winner->time->median_ms;
  }
  e.cudnn = std::move(cudnn);
  if (keep_all) e.candidates = std::move(results);
  return e;
}

// ---------------------------------------------------------------- the GPU sweep

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

LaunchShape launch_shape(const LaunchConfig& c) {
  LaunchShape l;
  l.grid[0] = c.grid.x, l.grid[1] = c.grid.y, l.grid[2] = c.grid.z;
  l.block[0] = c.block.x, l.block[1] = c.block.y, l.block[2] = c.block.z;
  l.smem_bytes = c.smem_bytes;
  return l;
}

}  // namespace

TableMeta device_meta(int device) {
  cudaDeviceProp prop{};
  DWT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  TableMeta m;
  m.gpu_name = prop.name;
  m.compute_capability = fmt::format("{}.{}", prop.major, prop.minor);
  m.sm_count = prop.multiProcessorCount;
  m.l2_bytes = prop.l2CacheSize;
  m.memory_bytes = static_cast<std::int64_t>(prop.totalGlobalMem);
  int drv = 0, rt = 0;
  DWT_CUDA_CHECK(cudaDriverGetVersion(&drv));
  DWT_CUDA_CHECK(cudaRuntimeGetVersion(&rt));
  m.driver_version = cuda_version_text(drv);
  m.runtime_version = cuda_version_text(rt);
  m.cudnn_version = cudnn_version_string();
  m.dwtune_version = DWTUNE_VERSION;
  m.git_revision = DWTUNE_GIT_REV;
  m.date = utc_now();
  return m;
}

namespace {

struct Shared {
  Shared(const ShapeSet& s, const TuneOptions& o, std::vector<std::size_t> todo)
      : set(s), opt(o), pending(std::move(todo)), reporter(o.progress, pending.size()) {}
  const ShapeSet& set;
  const TuneOptions& opt;
  std::vector<std::size_t> pending;
  std::atomic<std::size_t> next{0};
  std::mutex mu;  // guards table and the file
  Table table;
  ProgressLine reporter;
  std::atomic<bool> fatal{false};
  std::string fatal_message;
  std::optional<CostModel> model;  // --strategy model
};

void checkpoint(Shared& sh) { write_table_atomic(sh.table, sh.opt.out); }

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Runs `f` for the candidate `r`; a CUDA error becomes its disposition, unless the context is lost.
template <class F>
void guarded(CandidateResult& r, const Problem& p, F&& f) {
  try {
    f();
  } catch (const CudaError& e) {
    r.status = e.code == cudaErrorMemoryAllocation ? Disposition::out_of_memory : Disposition::launch_failed;
    r.reason = e.what();
    r.time.reset();
    if (context_lost())
      throw CudaError(e.code, fmt::format("{} (while running {} on {}; the CUDA context is lost)",
                                          e.what(), r.kernel, p.name));
  }
}

// The sweep of one problem (decide.hpp has the rules):
//   reference  computed once on the device (checked against the CPU on small problems)
//   search     the candidates the strategy asks for (search.hpp), one at a time: each verified
//              against the reference, then measured (1 warm-up and stop_rule.screen_reps flushed
//              reps; with --no-early-stop the full count) and its median told to the search
//   time       fastest screened first: the full warm-up and reps, unless the screening reps are
//              clearly slower than the best fully timed so far (stopped_early)
//   confirm    the best and those within its spread: another full round, interleaved; ties declared
//   cudnn      the baseline
ProblemEntry tune_problem(const Problem& p, cudaStream_t st, Timer& timer, CudnnBaseline& cudnn, double copy_bw,
                          double launch_floor, const DeviceLimits& lim, const CostModel* model, Shared& sh) {
  const TuneOptions& opt = sh.opt;
  const Clock::time_point start = Clock::now();
  Clock::time_point last = start;
  std::map<std::string, double> phase;
  auto lap = [&](const char* name) {
    const Clock::time_point now = Clock::now();
    phase[name] += seconds_between(last, now);
    last = now;
  };
  std::vector<CandidateResult> results;
  const std::vector<const Operation*> ops = candidates_for(p, lim, opt.variants, &results, opt.kernels);
  Search search = search_for(ops, p, opt, model, floor_ms(p, copy_bw, launch_floor));

  std::string too_large;
  std::optional<ProblemBuffers> buf = allocate_if_fits(p, too_large);
  if (!buf) {
    ProblemEntry e;
    e.problem = p;
    e.reason = too_large;
    return e;
  }
  // One workspace, the largest any candidate needs, before `args` takes its address.
  std::size_t workspace = 0;
  for (const Operation* op : ops) workspace = std::max(workspace, op->workspace_bytes(p));
  buf->reserve_workspace(workspace);
  buf->fill_inputs(opt.seed, st);
  Verifier verifier(*buf, st);
  const ConvArgs args = buf->args();
  lap("reference");

  // Verified candidates: their result's index, the operation, their times so far.
  struct Live {
    std::size_t at;
    const Operation* op;
    std::vector<double> screen, full;
  };
  std::vector<Live> live;
  std::optional<CandidateResult> best_shown;
  auto launcher = [&](const Operation* op) { return std::function<void()>([op, &args, st] { op->run(args, st); }); };
  const StopRule& rule = opt.stop;
  while (!g_interrupted && !sh.fatal) {
    const std::optional<std::size_t> j = search.next();
    if (!j) break;
    const Operation& op = *ops[*j];
    sh.reporter.candidate(p, search.evaluated().size(), static_cast<std::size_t>(search.budget()), best_shown);
    CandidateResult r;
    r.kernel = op.desc().name;
    r.family = op.desc().family;
    r.params = op.desc().params;
    r.launch = launch_shape(op.config(p));
    guarded(r, p, [&] {
      const VerifyResult v = verifier.check(op);
      r.max_error = v.max_error;
      r.status = v.ok ? Disposition::passed : Disposition::incorrect;
      r.reason = v.reason;
    });
    lap("verify");
    std::optional<double> measured;
    if (r.status == Disposition::passed) {
      Live l{results.size(), &op, {}, {}};
      guarded(r, p, [&] {
        if (opt.early_stop) {
          timer.warm_up(launcher(&op), 1);
          l.screen = timer.samples(launcher(&op), rule.screen_reps);
          measured = stats_of(l.screen).median_ms;
        } else {
          timer.warm_up(launcher(&op), opt.timing.warmup);
          l.full = timer.samples(launcher(&op), opt.timing.reps);
          r.time = stats_of(l.full);
          measured = r.time->median_ms;
        }
      });
      if (r.status == Disposition::passed) live.push_back(std::move(l));
      lap(opt.early_stop ? "screen" : "time");
    }
    search.tell(*j, measured);
    results.push_back(std::move(r));
  }
  if (opt.early_stop) {
    // Fastest first: the best is found early, and most of the rest stop after their screening.
    std::stable_sort(live.begin(), live.end(), [](const Live& a, const Live& b) {
      return (a.screen.empty() ? 0 : stats_of(a.screen).median_ms) < (b.screen.empty() ? 0 : stats_of(b.screen).median_ms);
    });
  }

  std::optional<TimingStats> best;
  for (Live& l : live) {
    if (g_interrupted || sh.fatal) break;
    CandidateResult& r = results[l.at];
    if (opt.early_stop && best && !l.screen.empty() && clearly_slower(l.screen, *best, rule)) {
      r.status = Disposition::stopped_early;
      r.time = stats_of(l.screen);
      r.reason = fmt::format(
          "stopped after {} screening reps: fastest {:.4f} ms > {:.4f} ms (the best's slowest rep "
          "{:.4f} ms + max(its range, {:g}%))",
          l.screen.size(), r.time->min_ms, stop_threshold(*best, rule), best->max_ms, rule.margin * 100);
      continue;
    }
    guarded(r, p, [&] {
      if (l.full.empty()) {  // with --no-early-stop the search timed it in full already
        timer.warm_up(launcher(l.op), opt.timing.warmup);
        l.full = timer.samples(launcher(l.op), opt.timing.reps);
        r.time = stats_of(l.full);
      }
      if (!best || r.time->median_ms < best->median_ms) {
        best = r.time;
        best_shown = r;
      }
    });
  }
  lap("time");

  // The confirmation round: the best and everything within its spread, interleaved.
  std::string winner_kernel;
  std::vector<std::string> tied;
  if (opt.early_stop && best && !g_interrupted && !sh.fatal) {
    std::vector<Live*> fin;
    for (Live& l : live)
      if (results[l.at].status == Disposition::passed && results[l.at].time &&
          within_spread(*best, *results[l.at].time, rule))
        fin.push_back(&l);
    std::vector<std::function<void()>> launches;
    for (Live* l : fin) launches.push_back(launcher(l->op));
    std::vector<std::vector<double>> again;
    CandidateResult guard_result;  // a failure here is a failure of the round, not of one kernel
    guard_result.kernel = "confirmation round";
    guarded(guard_result, p, [&] {
      for (auto& f : launches) timer.warm_up(f, std::max(1, opt.timing.warmup / 2));
      again = timer.samples_interleaved(launches, opt.timing.reps);
    });
    if (!again.empty()) {
      std::vector<FinalistTimes> ft;
      for (std::size_t i = 0; i < fin.size(); ++i) ft.push_back({fin[i]->full, again[i]});
      const TieDecision d = decide_ties(ft, rule);
      for (std::size_t i = 0; i < fin.size(); ++i) results[fin[i]->at].time = d.stats[i];
      winner_kernel = results[fin[d.winner]->at].kernel;
      for (std::size_t i : d.tied) tied.push_back(results[fin[i]->at].kernel);
    }
    lap("confirm");
  }

  BaselineResult base;
  if (!opt.with_cudnn) {
    base.reason = "cuDNN baseline disabled (--no-cudnn)";
  } else if (!g_interrupted) {
    base = cudnn.run(p, *buf, verifier, timer, opt.timing);
  }
  lap("cudnn");
  ProblemEntry e = summarize(p, std::move(results), std::move(base), copy_bw, opt.keep_all, winner_kernel);
  e.tied_with = std::move(tied);
  e.wall_s = seconds_between(start, Clock::now());
  e.phase_s = std::move(phase);
  return e;
}

void worker(int device, Shared& sh) {
  try {
    DWT_CUDA_CHECK(cudaSetDevice(device));
    cudaStream_t st;
    DWT_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    const DeviceLimits lim = query_device_limits(device);
    Timer timer(device, st);
    CudnnBaseline cudnn(st);
    const double copy_bw = timer.copy_bandwidth_gbps();
    const double launch_floor = timer.empty_launch_ms(sh.opt.timing);
    {
      std::lock_guard lock(sh.mu);
      if (device == sh.opt.devices.front()) {
        sh.table.meta.copy_bandwidth_gbps = copy_bw;
        sh.table.meta.launch_floor_ms = launch_floor;
        sh.table.meta.flush = timer.flush_description();
      }
    }
    sh.reporter.log(fmt::format("device {}: copy bandwidth {:.0f} GB/s, empty launch {:.4f} ms", device,
                                copy_bw, launch_floor));
    while (!g_interrupted && !sh.fatal) {
      const std::size_t k = sh.next++;
      if (k >= sh.pending.size()) break;
      const Problem& p = sh.set.problems[sh.pending[k]];
      ProblemEntry e =
          tune_problem(p, st, timer, cudnn, copy_bw, launch_floor, lim, sh.model ? &*sh.model : nullptr, sh);
      if (g_interrupted) break;  // a problem cut short is not recorded: --resume redoes it
      std::lock_guard lock(sh.mu);
      sh.table.entries.push_back(e);
      checkpoint(sh);
      sh.reporter.problem_done(e);
    }
    DWT_CUDA_CHECK(cudaStreamDestroy(st));
  } catch (const std::exception& e) {
    std::lock_guard lock(sh.mu);
    if (!sh.fatal) sh.fatal_message = fmt::format("device {}: {}", device, e.what());
    sh.fatal = true;
  }
}

extern "C" void on_sigint(int) { g_interrupted = true; }

}  // namespace

int run_tune(const ShapeSet& set, const TuneOptions& opt_in) {
  TuneOptions opt = opt_in;
  if (opt.devices.empty()) opt.devices = {0};
  check_output(opt.out);

  // All devices of one run must be one GPU model: the table holds one GPU's results.
  TableMeta meta = device_meta(opt.devices.front());
  for (int d : opt.devices) {
    const TableMeta m = device_meta(d);
    if (m.gpu_name != meta.gpu_name)
      throw TableError(fmt::format("--devices mixes GPU models ({} and {}): tune them into separate tables",
                                   meta.gpu_name, m.gpu_name));
  }
  meta.warmup = opt.timing.warmup;
  meta.reps = opt.timing.reps;
  meta.config_name = set.name;
  meta.strategy = describe_strategy(opt);
  meta.notes.push_back(opt.early_stop ? "timing: " + describe(opt.stop)
                                      : "timing: every verified candidate timed in full (--no-early-stop)");
  meta.device_count = static_cast<int>(opt.devices.size());
  meta.notes.insert(meta.notes.end(), opt.notes.begin(), opt.notes.end());

  Table done;
  bool have_done = false;
  if (opt.resume && std::filesystem::exists(opt.out)) {
    done = read_table(opt.out);
    if (done.meta.gpu_name != meta.gpu_name)
      throw TableError(fmt::format("--resume: {} was tuned on {}, this GPU is {}", opt.out.string(),
                                   done.meta.gpu_name, meta.gpu_name));
    have_done = true;
  }
  Shared sh(set, opt,
            pending_problems(set, have_done ? &done : nullptr, opt.shard_index, opt.shard_count));
  if (have_done) {
    sh.table = done;
    sh.table.meta.date = meta.date;
    sh.reporter.log(fmt::format("resuming {}: {} problems done, {} to go", opt.out.string(),
                                done.entries.size(), sh.pending.size()));
  } else {
    sh.table.meta = meta;
  }

  if (opt.strategy == Strategy::model) {
    if (opt.model_tables.empty()) throw InputError("--strategy model needs --model TABLE (a --keep-all table to fit on)");
    sh.model.emplace(meta.gpu_name);  // tables of other GPUs count as further away
    for (const auto& path : opt.model_tables)
      for (const RecordedProblem& r : recorded_problems(read_table(path))) sh.model->add(r);
    if (sh.model->size() == 0)
      throw InputError("--model: the tables recorded no candidates (tune them with --keep-all)");
  }

  const auto sweep_start = std::chrono::steady_clock::now();
  auto previous = std::signal(SIGINT, on_sigint);
  std::vector<std::thread> workers;
  for (int d : opt.devices) workers.emplace_back(worker, d, std::ref(sh));
  for (auto& t : workers) t.join();
  std::signal(SIGINT, previous);

  {
    std::lock_guard lock(sh.mu);
    // Keep the table in config order whatever order the workers finished in.
    std::vector<ProblemEntry> ordered;
    for (const Problem& p : set.problems)
      for (const ProblemEntry& e : sh.table.entries)
        if (e.problem.key() == p.key() && e.problem.name == p.name) ordered.push_back(e);
    for (const ProblemEntry& e : sh.table.entries)
      if (std::none_of(ordered.begin(), ordered.end(), [&](const ProblemEntry& o) {
            return o.problem.key() == e.problem.key() && o.problem.name == e.problem.name;
          }))
        ordered.push_back(e);
    sh.table.entries = std::move(ordered);
    // With --resume, the time of the runs before this one is already in the table.
    sh.table.meta.wall_s = sh.table.meta.wall_s.value_or(0) +
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - sweep_start).count();
    write_table_atomic(sh.table, opt.out);
  }
  if (sh.fatal) {
    fmt::print(stderr, "dwtune tune: {}\n{} problems are in {}; --resume continues.\n", sh.fatal_message,
               sh.table.entries.size(), opt.out.string());
    return 1;
  }
  if (g_interrupted) {
    fmt::print(stderr, "dwtune tune: interrupted; {} problems are in {}; --resume continues.\n",
               sh.table.entries.size(), opt.out.string());
    return 1;
  }
  const auto failed = std::count_if(sh.table.entries.begin(), sh.table.entries.end(),
                                    [](const ProblemEntry& e) { return !e.ok; });
  if (failed) {
    fmt::print(stderr, "dwtune tune: {} problem(s) failed; see {}\n", failed, opt.out.string());
    return 1;
  }
  return 0;
}

}  // namespace dwt
