#include "report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "family_names.hpp"
#include "format.hpp"
#include "rates.hpp"
#include "report_model.hpp"

namespace dwt {

ReportFormat parse_report_format(std::string_view s) {
  if (s == "md") return ReportFormat::md;
  if (s == "html") return ReportFormat::html;
  if (s == "csv") return ReportFormat::csv;
  throw std::invalid_argument(
      fmt::format("unknown report format \"{}\" (expected md, html or csv)", s));
}

std::string problem_spec(const Problem& p) {
  std::string out;
  if (!p.name.empty() && p.name.find_first_of(",=") == std::string::npos) out = "name=" + p.name + ",";
  out += fmt::format("n={},c={},h={},w={},k={}x{},s={}x{},p={}x{},d={}x{},m={}", p.n, p.c, p.h, p.w,
                     p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.m);
  if (p.bias) out += ",bias";
  out += fmt::format(",dtype={},layout={}", to_string(p.dtype), to_string(p.layout));
  if (p.pass != Pass::forward) out += fmt::format(",pass={}", to_string(p.pass));
  return out;
}

namespace {
// A POSIX shell word: as is when it is plain, else in single quotes.
std::string shell_word(std::string_view s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("_-.,=/:+").find(ch) != std::string_view::npos;
  });
  if (plain) return std::string(s);
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

}  // namespace

std::string rerun_command(const Problem& p, const std::string& kernel) {
  std::string cmd = "dwtune tune --problem " + shell_word(problem_spec(p));
  if (!kernel.empty()) cmd += " --kernels " + shell_word(kernel);
  return cmd + " --out rerun.json";
}

namespace report {

namespace {


std::string bytes_text(double b) {
  if (b >= 1e9) return fmt::format("{:.2f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
  return fmt::format("{:.1f} kB", b / 1e3);
}

// GB/s, GFLOP/s and share follow from the problem and the median, so every number is checkable.
Measure timed(std::string label, std::string kernel, const TimingStats& t, const Problem& p,
              double bw) {
  Measure m;
  m.label = std::move(label);
  m.kernel = std::move(kernel);
  if (!positive(t.median_ms)) {
    m.na = fmt::format("invalid median time {}", t.median_ms);
    m.state = "failed";
    return m;
  }
  m.has = true;
  m.state = "passed";
  m.time = t;
  const Rates r = rates_of(p, t.median_ms, bw);
  m.gbps = r.gbps;
  m.gflops = r.gflops;
  m.share = r.bw_share.value_or(kNaN);
  return m;
}

Measure missing(std::string label, std::string why, std::string state) {
  Measure m;
  m.label = std::move(label);
  m.na = std::move(why);
  m.state = std::move(state);
  return m;
}

// Why a family has no best on this problem, from the kept candidates when there are any: not
// supported (every candidate refused by its support check) is not a failure.
Measure family_missing(const ProblemEntry& e, const std::string& family) {
  Measure m;
  m.label = family;
  std::map<std::string, int> count;
  std::string first_refusal;
  for (const auto& c : e.candidates)
    if (c.family == family) {
      ++count[to_string(c.status)];
      if (c.status == Disposition::not_supported && first_refusal.empty()) first_refusal = c.reason;
    }
  if (!e.ok && e.candidates.empty()) {
    m.state = "problem_failed";
    m.na = "problem failed";
  } else if (e.candidates.empty()) {
    m.state = "not_recorded";
    m.na = "not timed; tune with --keep-all to record why";
  } else if (count.empty()) {
    m.state = "not_run";
    m.na = "no candidate tried";
  } else if (count.size() == 1 && count.count("not_supported")) {
    m.state = "not_supported";
    m.na = first_refusal.empty() ? "not supported" : "not supported: " + first_refusal;
  } else {
    m.state = "failed";
    std::string out;
    for (const auto& [status, n] : count)
      out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, status);
    m.na = out;
  }
  return m;
}

std::vector<std::string> family_order(const Table& t) {
  std::set<std::string> seen;
  for (const auto& e : t.entries) {
    for (const auto& [f, c] : e.family_best) seen.insert(f);
    if (e.winner) seen.insert(e.winner->family);
    for (const auto& c : e.candidates) seen.insert(c.family);
  }
  std::vector<std::string> out;
  for (const char* f : kFamilyNames)
    if (seen.erase(f)) out.push_back(f);
  out.insert(out.end(), seen.begin(), seen.end());
  return out;
}

std::string shape_text(const Problem& p) {
  return fmt::format("{} → {}×{}", static_cast<const ConvShape&>(p), p.out_h(), p.out_w());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Numbers as the reports print them.

std::string sig(double x, int digits) {
  if (!std::isfinite(x)) return "n/a";
  if (x == 0) return "0";
  const int mag = static_cast<int>(std::floor(std::log10(std::fabs(x))));
  return fmt::format("{:.{}f}", x, std::clamp(digits - 1 - mag, 0, 9));
}
std::string ms_text(double ms) { return sig(ms, 4); }
std::string rate_text(double r) { return r >= 100 ? fmt::format("{:.0f}", r) : sig(r, 3); }
std::string pct_text(double share) {
  return std::isfinite(share) ? fmt::format("{:.1f}%", share * 100) : "n/a";
}
std::string x_text(double s) { return fmt::format("{:.2f}×", s); }
std::string opt_x_text(const std::optional<double>& s) { return s ? x_text(*s) : "n/a"; }
std::string na_text(const std::string& why) { return fmt::format("n/a ({})", why); }
std::string verdict_text(const std::optional<double>& s) {
  if (!s) return "n/a";
  return *s < 1 ? fmt::format("LOSS {}", x_text(*s)) : fmt::format("win {}", x_text(*s));
}

Cell state_cell(const Measure& x) {
  if (x.state == "not_supported") return Cell{"not supported", false, false, true};
  Cell c = na_cell(x.na);
  if (x.state == "failed") {
    c.text = fmt::format("FAILED ({})", x.na);
    c.bad = true;
  }
  return c;
}

std::string anchor_of(std::size_t index, const std::string& name) {
  std::string out = fmt::format("p{}-", index);
  for (char ch : name)
    out += std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' ? ch : '-';
  return out;
}

double geomean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double s = 0;
  for (double x : v) s += std::log(x);
  return std::exp(s / static_cast<double>(v.size()));
}

std::string params_text(const std::vector<KernelParam>& ps, std::string_view sep) {
  std::string out;
  for (const auto& p : ps) {
    if (!out.empty()) out += sep;
    out += fmt::format("{}={}", p.name, p.value);
  }
  return out.empty() ? "-" : out;
}
std::string dim3_text(const unsigned (&d)[3]) { return fmt::format("{}x{}x{}", d[0], d[1], d[2]); }


// ---------------------------------------------------------------------------------------------
// What every format shows, computed once.

Model build_model(const Table& t) {
  Model m(t);
  m.bw = t.meta.copy_bandwidth_gbps;
  m.families = family_order(t);
  for (const auto& f : m.families) m.wins[f] = 0;
  // Forward problems first, then dgrad, then wgrad, each in table order.
  std::vector<const ProblemEntry*> entries;
  for (const auto& e : t.entries) entries.push_back(&e);
  std::stable_sort(entries.begin(), entries.end(), [](const ProblemEntry* a, const ProblemEntry* b) {
    return a->problem.pass < b->problem.pass;
  });
  for (const ProblemEntry* ep : entries) {
    const ProblemEntry& e = *ep;
    Row r;
    r.e = &e;
    const Problem& p = e.problem;
    r.bytes = p.bytes();
    r.flops = p.flops();
    r.intensity = r.bytes > 0 ? r.flops / r.bytes : kNaN;
    if (positive(m.bw)) r.floor_ms = floor_ms(p, m.bw, t.meta.launch_floor_ms.value_or(0.0));

    if (e.cudnn.available && e.cudnn.time)
      r.cudnn = timed("cuDNN", e.cudnn.algo, *e.cudnn.time, p, m.bw);
    else
      r.cudnn = missing("cuDNN",
                        e.cudnn.available        ? "no time recorded"
                        : e.cudnn.reason.empty() ? "cuDNN not available"
                                                 : e.cudnn.reason,
                        "unavailable");
    if (e.winner && e.winner->time) {
      r.win = timed("winner", e.winner->kernel, *e.winner->time, p, m.bw);
      r.win.cand = &*e.winner;
      if (positive(r.floor_ms) && positive(r.win.time.median_ms)) r.floor_share = r.floor_ms / r.win.time.median_ms;
    } else {
      r.win = missing("winner",
                      !e.reason.empty() ? e.reason
                      : e.winner        ? "winner has no time"
                                        : "no candidate passed",
                      "failed");
    }
    for (const auto& f : m.families) {
      auto it = e.family_best.find(f);
      if (it != e.family_best.end() && it->second.time) {
        Measure fm = timed(f, it->second.kernel, *it->second.time, p, m.bw);
        fm.cand = &it->second;
        fm.winner = fm.has && e.winner && e.winner->kernel == it->second.kernel;
        r.fam.push_back(std::move(fm));
      } else {
        r.fam.push_back(family_missing(e, f));
      }
    }

    const Measure* naive = nullptr;
    for (const auto& fm : r.fam)
      if (fm.label == "naive" && fm.has) naive = &fm;
    auto relate = [&](Measure& x) {
      if (!x.has) return;
      if (naive) x.vs_naive = naive->time.median_ms / x.time.median_ms;
      if (r.cudnn.has) x.vs_cudnn = r.cudnn.time.median_ms / x.time.median_ms;
    };
    for (auto& fm : r.fam) relate(fm);
    relate(r.cudnn);
    relate(r.win);
    for (auto& fm : r.fam)
      if (fm.has) fm.state = fm.winner ? "winner" : "slower";
    if (!e.candidates.empty()) {
      r.not_supported = 0;
      for (const auto& c : e.candidates) r.not_supported += c.status == Disposition::not_supported;
    }
    if (r.win.has && e.pytorch) r.vs_pytorch = e.pytorch->median_ms / r.win.time.median_ms;
    if (r.win.vs_cudnn && *r.win.vs_cudnn < 1) r.losses.push_back("cuDNN");
    if (r.vs_pytorch && *r.vs_pytorch < 1) r.losses.push_back("PyTorch");
    if (r.win.vs_naive && *r.win.vs_naive < 1) r.losses.push_back("naive");

    if (r.win.has) {
      ++m.tuned;
      ++m.wins[e.winner->family];
      if (r.win.vs_naive) m.sp_naive.push_back(*r.win.vs_naive);
      if (r.win.vs_cudnn) {
        m.sp_cudnn.push_back(*r.win.vs_cudnn);
        if (*r.win.vs_cudnn < 1) ++m.cudnn_faster;
      }
      if (std::isfinite(r.win.share)) m.shares.push_back(r.win.share);
    }
    if (!r.cudnn.has) ++m.cudnn_na;
    m.rows.push_back(std::move(r));
  }
  return m;
}

std::optional<double> winner_ms(const ProblemEntry* e) {
  if (e && e->winner && e->winner->time && positive(e->winner->time->median_ms))
    return e->winner->time->median_ms;
  return std::nullopt;
}

std::vector<VsRow> build_vs(const Table& a, const Table& b) {
  std::unordered_map<std::string, const ProblemEntry*> in_b;
  for (const auto& e : b.entries) in_b.try_emplace(e.problem.key(), &e);
  std::set<std::string> in_a;
  std::vector<VsRow> out;
  for (const auto& e : a.entries) {
    VsRow r(e, &e, nullptr);
    if (!in_a.insert(r.key).second) continue;  // a repeated key compares once
    if (auto it = in_b.find(r.key); it != in_b.end()) r.b = it->second;
    auto ma = winner_ms(r.a), mb = winner_ms(r.b);
    if (ma && mb) r.ratio = *mb / *ma;
    out.push_back(std::move(r));
  }
  for (const auto& e : b.entries)
    if (in_a.insert(e.problem.key()).second) out.emplace_back(e, nullptr, &e);
  return out;
}

std::string table_label(const Table& t) {
  return fmt::format("{}, {}, git {}", t.meta.gpu_name, t.meta.date, t.meta.git_revision);
}

// ---------------------------------------------------------------------------------------------
// Format-neutral tables.

Grid meta_grid(const Table& t) {
  const auto& m = t.meta;
  Grid g{{"", ""}};
  auto add = [&](std::string k, std::string v) {
    g.rows.push_back({txt(std::move(k)), txt(std::move(v))});
  };
  add("GPU", m.gpu_name);
  add("compute capability", fmt::format("{} ({} SMs)", m.compute_capability, m.sm_count));
  add("memory",
      fmt::format("{:.0f} MiB L2, {:.1f} GiB", static_cast<double>(m.l2_bytes) / (1 << 20),
                  static_cast<double>(m.memory_bytes) / (1 << 30)));
  add("copy bandwidth", fmt::format("{:.0f} GB/s (device-to-device, bytes read + written, this "
                                    "run; the bandwidth floor of every problem)",
                                    m.copy_bandwidth_gbps));
  if (m.launch_floor_ms)
    add("empty launch", fmt::format("{} ms (an empty kernel timed like the candidates, this run; a "
                                    "problem's floor is bytes / copy bandwidth + this)",
                                    ms_text(*m.launch_floor_ms)));
  add("driver / runtime / cuDNN",
      fmt::format("{} / {} / {}", m.driver_version, m.runtime_version, m.cudnn_version));
  add("dwtune", fmt::format("{} (git {})", m.dwtune_version, m.git_revision));
  add("date", m.date);
  add("timing", fmt::format("{} warm-up and {} timed runs per candidate, median; L2: {}", m.warmup,
                            m.reps, m.flush));
  add("config", fmt::format("{} ({} search, {} device{})", m.config_name, m.strategy,
                            m.device_count, m.device_count == 1 ? "" : "s"));
  for (const auto& n : m.notes) add("note", n);
  for (const auto& p : m.pytorch)
    add("PyTorch times", fmt::format("{} entries from {} (PyTorch {}, cuDNN {}, {}; F.conv2d in each "
                                     "entry's layout and pass, another run)",
                                     p.entries, p.file, p.torch, p.cudnn, p.gpu));
  return g;
}

Grid summary_grid(const Model& m) {
  Grid g{{"", ""}};
  auto add = [&](std::string k, std::string v) {
    g.rows.push_back({txt(std::move(k)), txt(std::move(v))});
  };
  const int n = static_cast<int>(m.rows.size());
  add("problems",
      fmt::format("{} ({} tuned, {} without a passing candidate)", n, m.tuned, n - m.tuned));
  auto mean_x = [&](const std::vector<double>& v, std::string_view missing_why) {
    if (v.empty()) return na_text(std::string(missing_why));
    return fmt::format("{} (over {} problem{})", x_text(geomean(v)), v.size(),
                       v.size() == 1 ? "" : "s");
  };
  add("geometric-mean speedup over naive", mean_x(m.sp_naive, "no problem has both"));
  add("geometric-mean speedup over cuDNN",
      mean_x(m.sp_cudnn, "no problem has both") +
          (m.cudnn_na ? fmt::format("; cuDNN n/a on {}", m.cudnn_na) : std::string()));
  add("geometric-mean share of copy bandwidth",
      m.shares.empty() ? na_text("no tuned problem")
                       : fmt::format("{} (winners)", pct_text(geomean(m.shares))));
  std::string wins;
  for (const auto& f : m.families)
    wins += fmt::format("{}{} {}", wins.empty() ? "" : ", ", f, m.wins.at(f));
  add("wins per family", wins.empty() ? "none" : wins);
  add("cuDNN faster than the winner",
      fmt::format("{} problem{}", m.cudnn_faster, m.cudnn_faster == 1 ? "" : "s"));
  // Each pass on its own when the table holds several: their baselines and floors differ.
  std::map<Pass, std::vector<const Row*>> by_pass;
  for (const auto& r : m.rows) by_pass[r.e->problem.pass].push_back(&r);
  if (by_pass.size() > 1)
    for (const auto& [pass, rows] : by_pass) {
      std::vector<double> sp, share;
      int tuned = 0, lost = 0;
      for (const Row* r : rows) {
        tuned += r->win.has;
        if (r->win.vs_cudnn) sp.push_back(*r->win.vs_cudnn), lost += *r->win.vs_cudnn < 1;
        if (r->win.has && std::isfinite(r->win.share)) share.push_back(r->win.share);
      }
      add(fmt::format("pass {}", to_string(pass)),
          fmt::format("{} problem{} ({} tuned); over cuDNN {}; {} of copy bandwidth; cuDNN faster on {}",
                      rows.size(), rows.size() == 1 ? "" : "s", tuned, mean_x(sp, "no problem has both"),
                      share.empty() ? std::string("n/a") : pct_text(geomean(share)), lost));
    }
  return g;
}

namespace {

// Every loss said, every win counted: "LOSES to cuDNN (0.79×)", "beats naive, cuDNN".
Cell baselines_cell(const Row& r) {
  if (!r.win.has) return na_cell("no winner");
  std::vector<std::string> lost, won;
  auto side = [&](const char* name, const std::optional<double>& s) {
    if (!s) return;
    (*s < 1 ? lost : won).push_back(fmt::format("{} ({})", name, x_text(*s)));
  };
  side("cuDNN", r.win.vs_cudnn);
  side("PyTorch", r.vs_pytorch);
  side("naive", r.win.vs_naive);
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
    return out;
  };
  if (!lost.empty()) {
    Cell c = txt("LOSES to " + join(lost) + (won.empty() ? "" : "; beats " + join(won)));
    c.bad = true;
    return c;
  }
  return won.empty() ? na_cell("no baseline timed") : txt("beats " + join(won));
}

}  // namespace

Grid overview_grid(const Model& m) {
  Grid g{{"problem", "shape", "winner", "median ms", "GB/s", "% copy bw", "GFLOP/s", "× naive",
          "cuDNN ms", "× cuDNN", "against the baselines"}};
  for (const auto& r : m.rows) {
    std::vector<Cell> row{code(r.e->problem.name), txt(shape_text(r.e->problem))};
    const Measure& w = r.win;
    if (w.has) {
      row.insert(row.end(),
                 {txt(w.cand->family), num(ms_text(w.time.median_ms)), num(rate_text(w.gbps)),
                  num(pct_text(w.share)), num(rate_text(w.gflops)), num(opt_x_text(w.vs_naive))});
    } else {
      row.push_back(na_cell(w.na));
      for (int i = 0; i < 5; ++i) row.push_back(num("n/a"));
    }
    row.push_back(r.cudnn.has ? num(ms_text(r.cudnn.time.median_ms)) : na_cell(r.cudnn.na));
    row.push_back(w.vs_cudnn && *w.vs_cudnn < 1 ? bad_num(opt_x_text(w.vs_cudnn))
                                                 : num(opt_x_text(w.vs_cudnn)));
    row.push_back(baselines_cell(r));
    g.rows.push_back(std::move(row));
  }
  return g;
}

Grid family_grid(const Model& m) {
  Grid g{{"problem"}};
  for (const auto& f : m.families) g.head.push_back(f);
  g.head.push_back("cuDNN");
  for (const auto& r : m.rows) {
    std::vector<Cell> row{code(r.e->problem.name)};
    for (const auto& fm : r.fam)
      row.push_back(fm.has ? num(ms_text(fm.time.median_ms), fm.winner) : state_cell(fm));
    row.push_back(r.cudnn.has ? num(ms_text(r.cudnn.time.median_ms)) : na_cell(r.cudnn.na));
    g.rows.push_back(std::move(row));
  }
  return g;
}

Grid launch_grid(const Model& m) {
  Grid g{{"problem", "winner", "params", "grid", "block", "smem bytes", "passed / run"}};
  for (const auto& r : m.rows) {
    const ProblemEntry& e = *r.e;
    std::vector<Cell> row{code(e.problem.name)};
    if (r.win.has) {
      const CandidateResult& w = *r.win.cand;
      row.insert(row.end(),
                 {code(w.kernel), txt(params_text(w.params, ", ")), num(dim3_text(w.launch.grid)),
                  num(dim3_text(w.launch.block)), num(fmt::format("{}", w.launch.smem_bytes))});
    } else {
      row.push_back(na_cell(r.win.na));
      for (int i = 0; i < 4; ++i) row.push_back(txt("-"));
    }
    row.push_back(num(candidates_text(r)));
    g.rows.push_back(std::move(row));
  }
  return g;
}

std::string candidates_text(const Row& r) {
  const ProblemEntry& e = *r.e;
  if (r.not_supported < 0)
    return fmt::format("{} / {} (unsupported ones included)", e.candidates_passed, e.candidates_total);
  return fmt::format("{} / {} ({} not supported)", e.candidates_passed,
                     e.candidates_total - r.not_supported, r.not_supported);
}

Grid problem_grid(const Row& r) {
  Grid g{{"kernel", "median ms", "min ms", "max ms", "reps", "GB/s", "% copy bw", "GFLOP/s",
          "× naive", "× cuDNN"}};
  auto add = [&](const Measure& x, std::string label) {
    if (!x.has) {
      g.rows.push_back({txt(std::move(label)), state_cell(x), txt(""), txt(""), txt(""), txt(""),
                        txt(""), txt(""), txt(""), txt("")});
      return;
    }
    g.rows.push_back({Cell{std::move(label), x.winner}, num(ms_text(x.time.median_ms), x.winner),
                      num(ms_text(x.time.min_ms)), num(ms_text(x.time.max_ms)),
                      num(fmt::format("{}", x.time.reps)), num(rate_text(x.gbps)),
                      num(pct_text(x.share)), num(rate_text(x.gflops)), num(opt_x_text(x.vs_naive)),
                      num(opt_x_text(x.vs_cudnn))});
  };
  for (const auto& fm : r.fam) add(fm, fm.winner ? fm.label + " (winner)" : fm.label);
  add(r.cudnn, r.cudnn.kernel.empty() ? "cuDNN" : fmt::format("cuDNN ({})", r.cudnn.kernel));
  return g;
}

std::string problem_line(const Row& r, double bw) {
  return fmt::format("{} · {} moved · {} GFLOP · {} FLOP/byte · floor {} ms at {:.0f} GB/s{}",
                     shape_text(r.e->problem), bytes_text(r.bytes), sig(r.flops / 1e9, 3),
                     sig(r.intensity, 3), ms_text(r.floor_ms), bw,
                     std::isfinite(r.floor_share) ? fmt::format(" · winner at {:.0f}% of the floor", 100 * r.floor_share)
                                                  : std::string());
}

Grid vs_grid(const std::vector<VsRow>& rows) {
  Grid g{{"problem", "A winner", "A ms", "B winner", "B ms", "B ms / A ms"}};
  auto side = [](const ProblemEntry* e, std::vector<Cell>& row) {
    if (!e) {
      row.insert(row.end(), {na_cell("not in this table"), num("n/a")});
    } else if (auto ms = winner_ms(e)) {
      row.insert(row.end(), {code(e->winner->kernel), num(ms_text(*ms))});
    } else {
      row.insert(row.end(),
                 {na_cell(e->reason.empty() ? "no candidate passed" : e->reason), num("n/a")});
    }
  };
  for (const auto& r : rows) {
    std::vector<Cell> row{code(r.name)};
    side(r.a, row);
    side(r.b, row);
    if (r.ratio)
      row.push_back(num(x_text(*r.ratio)));
    else if (!r.a)
      row.push_back(na_cell("only in B"));
    else if (!r.b)
      row.push_back(na_cell("only in A"));
    else
      row.push_back(na_cell("no winner in both"));
    g.rows.push_back(std::move(row));
  }
  return g;
}

std::string vs_summary(const std::vector<VsRow>& rows) {
  std::vector<double> ratios;
  int only_a = 0, only_b = 0, a_faster = 0;
  for (const auto& r : rows) {
    if (r.ratio) {
      ratios.push_back(*r.ratio);
      a_faster += *r.ratio > 1;
    }
    only_a += r.a && !r.b;
    only_b += !r.a && r.b;
  }
  return fmt::format(
      "Geometric mean of B ms / A ms: {} over {} problems compared (A faster on {}); {} only in "
      "A, {} only in B.",
      ratios.empty() ? std::string("n/a") : x_text(geomean(ratios)), ratios.size(), a_faster,
      only_a, only_b);
}

}  // namespace report

std::string render_report(const Table& t, const Table* vs, ReportFormat f) {
  using namespace report;
  const Model m = build_model(t);
  switch (f) {
    case ReportFormat::md: return render_md(m, vs);
    case ReportFormat::csv: return vs ? render_csv_vs(t, *vs) : render_csv(m);
    case ReportFormat::html: return render_html(m, vs);
  }
  throw std::invalid_argument("render_report: unknown format");
}

}  // namespace dwt
