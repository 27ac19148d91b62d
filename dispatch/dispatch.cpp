#include "dispatch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "cuda_check.hpp"
#include "format.hpp"
#include "tuning_table.hpp"

namespace dwt {
namespace {

// Entries the rules may use: those that passed and name a winner.
bool usable(const TunedEntry& e) { return e.ok && !e.kernel.empty(); }

std::string label(const TunedEntry& e) {
  return e.problem.name.empty() ? e.problem.key() : e.problem.name;
}

const Operation* find_in(const std::vector<const Operation*>& ops, std::string_view name) {
  for (const Operation* op : ops)
    if (op->desc().name == name) return op;
  return nullptr;
}

bool same_class(const ConvShape& a, const ConvShape& b) {
  return a.kh == b.kh && a.kw == b.kw && a.sh == b.sh && a.sw == b.sw && a.dh == b.dh &&
         a.dw == b.dw && a.dtype == b.dtype && a.layout == b.layout && a.pass == b.pass;
}

double log_ratio(double a, double b) { return std::abs(std::log(a / b)); }

// Lexicographic distance for the nearest rule (see dispatch.hpp); the entry index breaks ties.
using Distance = std::tuple<double, double, double, int, std::size_t>;

Distance distance(const ConvShape& s, const ConvShape& e, std::size_t index) {
  const int differences = (s.ph != e.ph) + (s.pw != e.pw) + (s.m != e.m) + (s.bias != e.bias);
  return {log_ratio(static_cast<double>(s.output_elems()), static_cast<double>(e.output_elems())),
          log_ratio(static_cast<double>(s.c), static_cast<double>(e.c)),
          log_ratio(static_cast<double>(s.out_w()), static_cast<double>(e.out_w())), differences,
          index};
}

// The winner of `e` if it is compiled and serves s; otherwise null with `why` filled.
const Operation* usable_winner(const TunedEntry& e, const ConvShape& s, const DeviceLimits& lim,
                               const std::vector<const Operation*>& ops, std::string& why) {
  const std::string& name = e.kernel;
  const Operation* op = find_in(ops, name);
  if (!op) {
    why = fmt::format("its winner {} is not compiled into this build", name);
    return nullptr;
  }
  if (Support sup = op->supports(s, lim); !sup) {
    why = fmt::format("its winner {} does not support the shape: {}", name, sup.reason);
    return nullptr;
  }
  return op;
}

// A choice from a table entry: baseline_faster and its note when the entry's framework time
// (TunedEntry::framework_ms: PyTorch's, else cuDNN's) beat the winner.
Choice from_entry(const Operation* op, const TunedEntry& e, std::string reason) {
  Choice c{op, std::move(reason)};
  if (e.baseline_faster()) {
    c.baseline_faster = true;
    c.reason += fmt::format("; baseline faster: {} {:.4g} ms vs {:.4g} ms on entry {}", e.framework(),
                            e.framework_ms(), e.median_ms, label(e));
  }
  return c;
}

// What a default step says of the kernel it took.
std::string default_what(const KernelDesc& d) {
  if (d.needs.kh != 0)
    return fmt::format("{} kernel for the {}x{} filter", d.family, d.needs.kh, d.needs.kw);
  return fmt::format("{} kernel for any filter size", d.family);
}

// Where a kernel stands in the default order (smaller first); the model's tie-break too.
auto default_rank(const KernelDesc& d) {
  return std::tuple(d.needs.kh == 0, d.rank.preference < 0, d.rank.preference, !d.rank.default_tile);
}

// The default rule, from what families declare (KernelDesc::rank): kernels compiled for a filter size
// before run-time-size ones; then families by preference; within one, the declared default tile
// first, then registry order. The first that supports s wins.
Choice default_choice(const ConvShape& s, const DeviceLimits& lim,
                      const std::vector<const Operation*>& ops, const std::string& note) {
  std::vector<const Operation*> order;
  for (const Operation* op : ops) {
    const KernelDesc& d = op->desc();
    if (d.rank.preference >= 0 && d.dtype == s.dtype && d.layout == s.layout && d.pass == s.pass)
      order.push_back(op);
  }
  std::stable_sort(order.begin(), order.end(), [](const Operation* a, const Operation* b) {
    return default_rank(a->desc()) < default_rank(b->desc());
  });
  std::string last_no;
  for (const Operation* op : order) {
    const KernelDesc& d = op->desc();
    if (Support sup = op->supports(s, lim))
      return {op, fmt::format("default: {}; {}: {}", note, default_what(d), d.name)};
    else if (d.needs.kh == 0 || (d.needs.kh == s.kh && d.needs.kw == s.kw))
      last_no = fmt::format("{}: {}", d.name, sup.reason);  // not merely another filter size
  }
  return {nullptr,
          fmt::format("default: {}; no compiled {} {} kernel supports {}{}", note, to_string(s.dtype),
                      to_string(s.layout), s, last_no.empty() ? "" : " (last refusal: " + last_no + ")")};
}

// ---- The process-wide state: the table, the devices seen, the cache of choices ----

struct DeviceInfo {
  std::string name;
  DeviceLimits lim;
};

struct ShapeKey {
  int device = -1;
  ConvShape s;
  bool operator==(const ShapeKey& o) const {
    const ConvShape& a = s;
    const ConvShape& b = o.s;
    return device == o.device && a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w &&
           a.ph == b.ph && a.pw == b.pw && a.m == b.m && a.bias == b.bias && same_class(a, b);
  }
};

struct ShapeKeyHash {
  std::size_t operator()(const ShapeKey& k) const {
    const ConvShape& s = k.s;
    std::size_t h = 0;
    auto mix = [&h](std::int64_t v) {
      h ^= std::hash<std::int64_t>{}(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    };
    for (std::int64_t v : {std::int64_t{k.device}, s.n, s.c, s.h, s.w})
      mix(v);
    for (int v : {s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.dh, s.dw, s.m, int{s.bias},
                  static_cast<int>(s.dtype), static_cast<int>(s.layout), static_cast<int>(s.pass)})
      mix(v);
    return h;
  }
};

constexpr std::size_t kMaxCachedChoices = 4096;

class Dispatcher {
 public:
  static Dispatcher& get() {
    static Dispatcher d;
    return d;
  }

  std::shared_ptr<const TuningTable> table() {
    std::lock_guard lk(table_mu_);
    if (!env_read_) {
      env_read_ = true;
      const char* path = std::getenv("DWTUNE_TABLE");
      if (path && *path) {
        try {
          table_ = std::make_shared<const TuningTable>(read_tuning_table(path));
        } catch (const std::exception& e) {
          std::fprintf(stderr, "dwtune: warning: DWTUNE_TABLE not used, built-in choices apply: %s\n",
                       e.what());
        }
      }
    }
    return table_;
  }

  void set_table(std::shared_ptr<const TuningTable> t) {
    {
      std::lock_guard lk(table_mu_);
      env_read_ = true;
      table_ = std::move(t);
      warned_.clear();
    }
    std::unique_lock lk(cache_mu_);
    generation_.fetch_add(1, std::memory_order_release);
    cache_.clear();
  }

  // Warns once per device (until the next load) when the table is for another GPU model.
  void warn_if_foreign(const TuningTable& t, int device, const std::string& gpu_name) {
    if (t.gpu_name == gpu_name) return;
    std::lock_guard lk(table_mu_);
    if (!warned_.insert(device).second) return;
    std::fprintf(stderr,
                 "dwtune: warning: the tuning table is for \"%s\", device %d is \"%s\"; the table is "
                 "not used on it, built-in choices apply\n",
                 t.gpu_name.c_str(), device, gpu_name.c_str());
  }

  DeviceInfo device(int device) {
    {
      std::lock_guard lk(dev_mu_);
      if (auto it = devices_.find(device); it != devices_.end()) return it->second;
    }
    cudaDeviceProp prop{};
    DWT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    DeviceInfo info{prop.name, query_device_limits(device)};
    std::lock_guard lk(dev_mu_);
    return devices_.emplace(device, std::move(info)).first->second;
  }

  // The choice for s on `dev`, computed once per shape and device (until the next table change).
  Choice choose(const ConvShape& s, int dev) {
    const ShapeKey key{dev, s};
    std::uint64_t gen = 0;
    {
      std::shared_lock lk(cache_mu_);
      if (auto it = cache_.find(key); it != cache_.end()) return it->second;
      gen = generation_.load(std::memory_order_acquire);
    }
    const std::shared_ptr<const TuningTable> t = table();
    const DeviceInfo info = device(dev);
    if (t) warn_if_foreign(*t, dev, info.name);
    const std::shared_ptr<const TuningTable> shipped = shipped_table(info.name);
    Knowledge k;
    k.table = t.get();
    k.shipped = shipped.get();
    k.model = &builtin_model();
    Choice c = choose_kernel(s, k, info.name, info.lim, registry());
    std::unique_lock lk(cache_mu_);
    if (gen == generation_.load(std::memory_order_relaxed)) {
      if (cache_.size() >= kMaxCachedChoices) cache_.clear();
      cache_.emplace(key, c);
    }
    return c;
  }

  // The per-call path (conv2d, choose_quick): the kernel and the baseline flag. The thread's previous
  // shape answers with a comparison, a shape seen before with a hash lookup under a shared lock;
  // neither allocates nor builds a string.
  QuickChoice quick(const ConvShape& s, int dev) {
    struct Last {
      std::uint64_t gen = ~std::uint64_t{0};
      ShapeKey key{};
      QuickChoice c;
    };
    thread_local Last last;
    const ShapeKey key{dev, s};
    const std::uint64_t gen = generation_.load(std::memory_order_acquire);
    if (last.gen == gen && last.key == key) return last.c;
    QuickChoice c;
    bool found = false;
    {
      std::shared_lock lk(cache_mu_);
      if (auto it = cache_.find(key); it != cache_.end())
        c = {it->second.op, it->second.baseline_faster}, found = true;
    }
    if (!found) {
      const Choice full = choose(s, dev);
      c = {full.op, full.baseline_faster};
    }
    last = {gen, key, c};
    return c;
  }

  const Operation* kernel_for(const ConvShape& s, int dev) {
    if (const Operation* op = quick(s, dev).op) return op;
    throw std::runtime_error("dwt::conv2d: " + choose(s, dev).reason);
  }

 private:
  std::mutex table_mu_;  // table_, env_read_, warned_
  std::shared_ptr<const TuningTable> table_;
  bool env_read_ = false;
  std::set<int> warned_;

  std::mutex dev_mu_;
  std::map<int, DeviceInfo> devices_;

  std::shared_mutex cache_mu_;  // cache_; generation_ changes under it
  std::unordered_map<ShapeKey, Choice, ShapeKeyHash> cache_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace

namespace {

// Step 1 on one table: its entry of s's key, if that entry's winner can run s.
const Operation* exact_in(const TuningTable& t, const ConvShape& s, const std::string& key,
                          const DeviceLimits& lim, const std::vector<const Operation*>& ops,
                          std::string_view what, std::string& reason, std::string& note,
                          const TunedEntry*& used) {
  std::string why;
  for (const TunedEntry& e : t.entries) {
    if (!usable(e) || e.problem.key() != key) continue;
    if (const Operation* op = usable_winner(e, s, lim, ops, why)) {
      reason = fmt::format("exact: {} {} ({})", what, label(e), op->desc().name);
      used = &e;
      return op;
    }
    note += fmt::format("exact {} {}: {}; ", what, label(e), why);
    break;
  }
  return nullptr;
}

// Step 3 on one table: the nearest entry of s's class (see dispatch.hpp), if its winner can run s.
const Operation* nearest_in(const TuningTable& t, const ConvShape& s, std::string_view exclude,
                            const DeviceLimits& lim, const std::vector<const Operation*>& ops,
                            std::string_view what, std::string& reason, std::string& note,
                            const TunedEntry*& used) {
  const TunedEntry* nearest = nullptr;
  Distance best{};
  for (std::size_t i = 0; i < t.entries.size(); ++i) {
    const TunedEntry& e = t.entries[i];
    if (!usable(e) || !same_class(s, e.problem) || e.problem.key() == exclude) continue;
    const Distance d = distance(s, e.problem, i);
    if (!nearest || d < best) nearest = &e, best = d;
  }
  std::string why;
  if (!nearest) {
    note += fmt::format("no {} with a {}x{} filter, stride {}x{}, dilation {}x{}, {} {} {}; ", what, s.kh,
                        s.kw, s.sh, s.sw, s.dh, s.dw, to_string(s.dtype), to_string(s.layout),
                        to_string(s.pass));
  } else if (const Operation* op = usable_winner(*nearest, s, lim, ops, why)) {
    const ConvShape& e = nearest->problem;
    reason = fmt::format("nearest: {} {} ({}; outputs x{:.3g}, channels {} vs {}), its winner {}", what,
                         label(*nearest), e,
                         static_cast<double>(s.output_elems()) / static_cast<double>(e.output_elems()),
                         s.c, e.c, op->desc().name);
    used = nearest;
    return op;
  } else {
    note += fmt::format("nearest {} {}: {}; ", what, label(*nearest), why);
  }
  return nullptr;
}

// Step 2: the supporting kernel of smallest predicted time, if any supporting kernel was measured.
const Operation* model_pick(const ConvShape& s, const DispatchModel& m, std::string_view gpu_name,
                            std::string_view exclude, const DeviceLimits& lim,
                            const std::vector<const Operation*>& ops, std::string& reason,
                            std::string& note) {
  const std::vector<Prediction> pred = m.predict_all(s, gpu_name, exclude);
  const Operation* best = nullptr;
  Prediction best_p;
  int supported = 0;
  for (const Operation* op : ops) {
    const KernelDesc& d = op->desc();
    if (d.dtype != s.dtype || d.layout != s.layout || d.pass != s.pass || !op->supports(s, lim)) continue;
    ++supported;
    const int i = m.signature_index(tile_signature(d.family, d.params));
    Prediction p;
    p.log_rel = m.weights().prior;
    if (i >= 0) p = pred[static_cast<std::size_t>(i)];
    if (!best || p.log_rel < best_p.log_rel ||
        (p.log_rel == best_p.log_rel && default_rank(d) < default_rank(best->desc())))
      best = op, best_p = p;
  }
  if (!best || !best_p.measured()) {
    note += supported ? fmt::format("model: none of the {} supporting kernels was timed on a similar shape; ",
                                    supported)
                      : std::string();
    return nullptr;
  }
  reason = fmt::format("model: {} predicted {:.2f}x of best from {} similar tuned shapes ({} in all)",
                       best->desc().name, std::exp(best_p.log_rel), best_p.similar,
                       m.samples().size());
  return best;
}

}  // namespace

Choice choose_kernel(const ConvShape& s, const Knowledge& k, std::string_view gpu_name,
                     const DeviceLimits& lim, const std::vector<const Operation*>& ops) {
  Problem p;
  static_cast<ConvShape&>(p) = s;
  p.validate();
  const std::string key = p.key();
  const bool excluded = !k.exclude_key.empty() && k.exclude_key == key;

  // The tables that apply on this device, with what a reason calls them.
  std::string note;  // why the sources tried gave no kernel
  std::vector<std::pair<const TuningTable*, const char*>> tables;
  if (!k.table) {
    note = "no tuning table loaded; ";
  } else if (k.table->gpu_name != gpu_name) {
    note = fmt::format("the table is for \"{}\", this device is \"{}\"; ", k.table->gpu_name, gpu_name);
  } else {
    tables.emplace_back(k.table, "tuned entry");
  }
  if (k.shipped && k.shipped->gpu_name == gpu_name) tables.emplace_back(k.shipped, "shipped entry");

  std::string reason;
  const TunedEntry* used = nullptr;  // the entry a table rule took
  if (!excluded)
    for (const auto& [t, what] : tables)
      if (const Operation* op = exact_in(*t, s, key, lim, ops, what, reason, note, used))
        return from_entry(op, *used, reason);
  if (k.model && !k.model->empty())
    if (const Operation* op = model_pick(s, *k.model, gpu_name, k.exclude_key, lim, ops, reason, note))
      return {op, reason};
  for (const auto& [t, what] : tables)
    if (const Operation* op = nearest_in(*t, s, k.exclude_key, lim, ops, what, reason, note, used))
      return from_entry(op, *used, reason);
  if (note.ends_with("; ")) note.resize(note.size() - 2);
  return default_choice(s, lim, ops, note);
}

Choice choose_kernel(const ConvShape& s, const TuningTable* table, std::string_view gpu_name,
                     const DeviceLimits& lim, const std::vector<const Operation*>& ops) {
  Knowledge k;
  k.table = table;
  return choose_kernel(s, k, gpu_name, lim, ops);
}

Choice choose_kernel(const ConvShape& s, const TuningTable* table, std::string_view gpu_name,
                     const DeviceLimits& lim) {
  return choose_kernel(s, table, gpu_name, lim, registry());
}

Choice choose(const ConvShape& s, int device) { return Dispatcher::get().choose(s, device); }

QuickChoice choose_quick(const ConvShape& s, int device) { return Dispatcher::get().quick(s, device); }

std::shared_ptr<const TuningTable> tuning_table() { return Dispatcher::get().table(); }

void load_tuning_table(const std::filesystem::path& path) {
  auto t = std::make_shared<const TuningTable>(read_tuning_table(path));
  Dispatcher& d = Dispatcher::get();
  d.set_table(t);
  // Say at once when the table does not fit the current device (when there is one).
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  try {
    d.warn_if_foreign(*t, dev, d.device(dev).name);
  } catch (const CudaError&) {
    cudaGetLastError();
  }
}

void unload_tuning_table() { Dispatcher::get().set_table(nullptr); }

namespace {

// Runs a (whose pass says which pointers it carries) with the kernel dispatch chooses, giving it a
// stream-ordered workspace when it needs one.
void run_chosen(ConvArgs a, cudaStream_t stream) {
  int dev = 0;
  DWT_CUDA_CHECK(cudaGetDevice(&dev));
  const Operation* op = Dispatcher::get().kernel_for(a.s, dev);
  const std::size_t ws = op->workspace_bytes(a.s);
  if (ws == 0) {
    op->run(a, stream);
    return;
  }
  DWT_CUDA_CHECK(cudaMallocAsync(&a.workspace, ws, stream));
  try {
    op->run(a, stream);
  } catch (...) {
    (void)cudaFreeAsync(a.workspace, stream);
    throw;
  }
  DWT_CUDA_CHECK(cudaFreeAsync(a.workspace, stream));
}

void check_bias(bool has, const void* p, const char* fn, const char* what) {
  if (has != (p != nullptr))
    throw std::invalid_argument(has ? fmt::format("dwt::{}: the shape has a bias but {} is null", fn, what)
                                    : fmt::format("dwt::{}: {} given but the shape says no bias", fn, what));
}

}  // namespace

void conv2d(const ConvShape& s, const void* x, const void* w, const void* bias, void* y,
            cudaStream_t stream) {
  if (!x || !w || !y) throw std::invalid_argument("dwt::conv2d: x, w and y must not be null");
  check_bias(s.bias, bias, "conv2d", "bias");
  ConvArgs a;
  a.s = s;
  a.s.pass = Pass::forward;
  a.x = x;
  a.w = w;
  a.bias = bias;
  a.y = y;
  run_chosen(a, stream);
}

void conv2d_dgrad(const ConvShape& s, const void* dy, const void* w, void* dx, cudaStream_t stream) {
  if (!dy || !w || !dx) throw std::invalid_argument("dwt::conv2d_dgrad: dy, w and dx must not be null");
  ConvArgs a;
  a.s = s;
  a.s.pass = Pass::dgrad;
  a.s.bias = false;
  a.dy = dy;
  a.w = w;
  a.dx = dx;
  run_chosen(a, stream);
}

void conv2d_wgrad(const ConvShape& s, const void* x, const void* dy, void* dw, void* db,
                  cudaStream_t stream) {
  if (!x || !dy || !dw) throw std::invalid_argument("dwt::conv2d_wgrad: x, dy and dw must not be null");
  check_bias(s.bias, db, "conv2d_wgrad", "db");
  ConvArgs a;
  a.s = s;
  a.s.pass = Pass::wgrad;
  a.x = x;
  a.dy = dy;
  a.dw = dw;
  a.db = db;
  run_chosen(a, stream);
}

}  // namespace dwt
