#include "report.hpp"

#include <fmt/format.h>

#include <algorithm>
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

namespace dwt {

ReportFormat parse_report_format(std::string_view s) {
  if (s == "md") return ReportFormat::md;
  if (s == "html") return ReportFormat::html;
  if (s == "csv") return ReportFormat::csv;
  throw std::invalid_argument(
      fmt::format("unknown report format \"{}\" (expected md, html or csv)", s));
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool positive(double x) { return std::isfinite(x) && x > 0; }

// ---------------------------------------------------------------------------------------------
// Numbers as the reports print them.

// `digits` significant digits in fixed notation: 2.270, 0.2513, 0.01580, 1234.
std::string sig(double x, int digits = 4) {
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
std::string bytes_text(double b) {
  if (b >= 1e9) return fmt::format("{:.2f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
  return fmt::format("{:.1f} kB", b / 1e3);
}
std::string na_text(const std::string& why) { return fmt::format("n/a ({})", why); }

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

// One timed thing on one problem: a family's best candidate, cuDNN, or the winner.
struct Measure {
  std::string label;   // family name, "cuDNN" or "winner"
  std::string kernel;  // kernel name, or cuDNN's algorithm
  bool has = false;
  std::string na;  // why there is no time
  TimingStats time;
  double gbps = 0, share = kNaN, gflops = 0;
  std::optional<double> vs_naive, vs_cudnn;  // naive / cuDNN median over this median
  const CandidateResult* cand = nullptr;
  bool winner = false;
};

struct Row {
  const ProblemEntry* e = nullptr;
  double bytes = 0, flops = 0, intensity = 0, floor_ms = kNaN;
  std::vector<Measure> fam;  // in Model::families order
  Measure cudnn, win;
};

struct Model {
  explicit Model(const Table& table) : t(table) {}
  const Table& t;
  double bw = 0;  // copy bandwidth of the table's run, GB/s
  std::vector<std::string> families;
  std::vector<Row> rows;
  // Summary.
  std::vector<double> sp_naive, sp_cudnn, shares;
  std::map<std::string, int> wins;
  int tuned = 0, cudnn_na = 0, cudnn_faster = 0;
};

// GB/s, GFLOP/s and share follow from the problem and the median, so every number is checkable.
Measure timed(std::string label, std::string kernel, const TimingStats& t, const Problem& p,
              double bw) {
  Measure m;
  m.label = std::move(label);
  m.kernel = std::move(kernel);
  if (!positive(t.median_ms)) {
    m.na = fmt::format("invalid median time {}", t.median_ms);
    return m;
  }
  m.has = true;
  m.time = t;
  m.gbps = p.bytes() / (t.median_ms * 1e6);
  m.gflops = p.flops() / (t.median_ms * 1e6);
  m.share = positive(bw) ? m.gbps / bw : kNaN;
  return m;
}

Measure missing(std::string label, std::string why) {
  Measure m;
  m.label = std::move(label);
  m.na = std::move(why);
  return m;
}

// Why a family has no best on this problem, from the kept candidates when there are any.
std::string family_na(const ProblemEntry& e, const std::string& family) {
  std::map<std::string, int> count;
  for (const auto& c : e.candidates)
    if (c.family == family) ++count[to_string(c.status)];
  if (count.empty()) return "no passing candidate";
  std::string out;
  for (const auto& [status, n] : count)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, status);
  return out;
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

Model build_model(const Table& t) {
  Model m(t);
  m.bw = t.meta.copy_bandwidth_gbps;
  m.families = family_order(t);
  for (const auto& f : m.families) m.wins[f] = 0;
  for (const auto& e : t.entries) {
    Row r;
    r.e = &e;
    const Problem& p = e.problem;
    r.bytes = p.bytes();
    r.flops = p.flops();
    r.intensity = r.bytes > 0 ? r.flops / r.bytes : kNaN;
    if (positive(m.bw)) r.floor_ms = r.bytes / (m.bw * 1e6);

    if (e.cudnn.available && e.cudnn.time)
      r.cudnn = timed("cuDNN", e.cudnn.algo, *e.cudnn.time, p, m.bw);
    else
      r.cudnn = missing("cuDNN", e.cudnn.available        ? "no time recorded"
                                 : e.cudnn.reason.empty() ? "cuDNN not available"
                                                          : e.cudnn.reason);
    if (e.winner && e.winner->time) {
      r.win = timed("winner", e.winner->kernel, *e.winner->time, p, m.bw);
      r.win.cand = &*e.winner;
    } else {
      r.win = missing("winner", !e.reason.empty() ? e.reason
                                : e.winner        ? "winner has no time"
                                                  : "no candidate passed");
    }
    for (const auto& f : m.families) {
      auto it = e.family_best.find(f);
      if (it != e.family_best.end() && it->second.time) {
        Measure fm = timed(f, it->second.kernel, *it->second.time, p, m.bw);
        fm.cand = &it->second;
        fm.winner = fm.has && e.winner && e.winner->kernel == it->second.kernel;
        r.fam.push_back(std::move(fm));
      } else {
        r.fam.push_back(missing(f, family_na(e, f)));
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

// One problem key seen from two tables.
struct VsRow {
  VsRow(const ProblemEntry& e, const ProblemEntry* in_a, const ProblemEntry* in_b)
      : name(e.problem.name), key(e.problem.key()), a(in_a), b(in_b) {}
  std::string name, key;
  const ProblemEntry* a = nullptr;  // the report's table
  const ProblemEntry* b = nullptr;  // the --vs table
  std::optional<double> ratio;      // b median / a median
};

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
// Format-neutral tables, rendered as markdown or HTML.

struct Cell {
  std::string text;
  bool strong = false, code = false, na = false, num = false;
};
Cell txt(std::string s) { return Cell{std::move(s)}; }
Cell num(std::string s, bool strong = false) {
  return Cell{std::move(s), strong, false, false, true};
}
Cell code(std::string s) { return Cell{std::move(s), false, true}; }
Cell na_cell(const std::string& why) { return Cell{na_text(why), false, false, true}; }

struct Grid {
  Grid(std::vector<std::string> h) : head(std::move(h)) {}
  std::vector<std::string> head;
  std::vector<std::vector<Cell>> rows;
};

std::string md_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '\n' || ch == '\r') {
      out += ' ';
      continue;
    }
    if (std::string_view("\\|*`<>[]").find(ch) != std::string_view::npos) out += '\\';
    out += ch;
  }
  return out;
}

std::string md_cell(const Cell& c) {
  if (c.code) {
    // GitHub still splits table cells on '|' inside code spans.
    std::string s;
    for (char ch : c.text) s += ch == '|' ? std::string("\\|") : std::string(1, ch);
    return fmt::format("`{}`", s);
  }
  return c.strong ? fmt::format("**{}**", md_escape(c.text)) : md_escape(c.text);
}

std::string md_grid(const Grid& g) {
  std::string out = "|";
  for (const auto& h : g.head) out += fmt::format(" {} |", md_escape(h));
  out += "\n|";
  for (std::size_t i = 0; i < g.head.size(); ++i) {
    bool numeric = false;
    for (const auto& row : g.rows) numeric = numeric || (i < row.size() && row[i].num);
    out += numeric ? "---:|" : "---|";
  }
  out += "\n";
  for (const auto& row : g.rows) {
    out += "|";
    for (const auto& c : row) out += fmt::format(" {} |", md_cell(c));
    out += "\n";
  }
  return out + "\n";
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string html_grid(const Grid& g, std::string_view cls) {
  std::string out = fmt::format("<div class=\"scroll\"><table class=\"{}\">", cls);
  // Key-value tables have no header; markdown needs one, HTML does not.
  if (std::any_of(g.head.begin(), g.head.end(), [](const auto& h) { return !h.empty(); })) {
    out += "<thead><tr>";
    for (const auto& h : g.head) out += fmt::format("<th>{}</th>", html_escape(h));
    out += "</tr></thead>";
  }
  out += "<tbody>\n";
  for (const auto& row : g.rows) {
    out += "<tr>";
    for (const auto& c : row) {
      std::string body = html_escape(c.text);
      if (c.code) body = fmt::format("<code>{}</code>", body);
      if (c.strong) body = fmt::format("<strong>{}</strong>", body);
      const char* klass = c.na ? " class=\"na\"" : c.num ? " class=\"num\"" : "";
      out += fmt::format("<td{}>{}</td>", klass, body);
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

std::string shape_text(const Problem& p) {
  return fmt::format("{} → {}×{}", static_cast<const ConvShape&>(p), p.out_h(), p.out_w());
}

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
  add("driver / runtime / cuDNN",
      fmt::format("{} / {} / {}", m.driver_version, m.runtime_version, m.cudnn_version));
  add("dwtune", fmt::format("{} (git {})", m.dwtune_version, m.git_revision));
  add("date", m.date);
  add("timing", fmt::format("{} warm-up and {} timed runs per candidate, median; L2: {}", m.warmup,
                            m.reps, m.flush));
  add("config", fmt::format("{} ({} search, {} device{})", m.config_name, m.strategy,
                            m.device_count, m.device_count == 1 ? "" : "s"));
  for (const auto& n : m.notes) add("note", n);
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
  return g;
}

Grid overview_grid(const Model& m) {
  Grid g{{"problem", "shape", "winner", "median ms", "GB/s", "% copy bw", "GFLOP/s", "× naive",
          "cuDNN ms", "× cuDNN"}};
  for (const auto& r : m.rows) {
    std::vector<Cell> row{txt(r.e->problem.name), txt(shape_text(r.e->problem))};
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
    row.push_back(num(opt_x_text(w.vs_cudnn)));
    g.rows.push_back(std::move(row));
  }
  return g;
}

Grid family_grid(const Model& m) {
  Grid g{{"problem"}};
  for (const auto& f : m.families) g.head.push_back(f);
  g.head.push_back("cuDNN");
  for (const auto& r : m.rows) {
    std::vector<Cell> row{txt(r.e->problem.name)};
    for (const auto& fm : r.fam)
      row.push_back(fm.has ? num(ms_text(fm.time.median_ms), fm.winner) : na_cell(fm.na));
    row.push_back(r.cudnn.has ? num(ms_text(r.cudnn.time.median_ms)) : na_cell(r.cudnn.na));
    g.rows.push_back(std::move(row));
  }
  return g;
}

Grid launch_grid(const Model& m) {
  Grid g{{"problem", "winner", "params", "grid", "block", "smem bytes", "passed / candidates"}};
  for (const auto& r : m.rows) {
    const ProblemEntry& e = *r.e;
    std::vector<Cell> row{txt(e.problem.name)};
    if (r.win.has) {
      const CandidateResult& w = *r.win.cand;
      row.insert(row.end(),
                 {code(w.kernel), txt(params_text(w.params, ", ")), num(dim3_text(w.launch.grid)),
                  num(dim3_text(w.launch.block)), num(fmt::format("{}", w.launch.smem_bytes))});
    } else {
      row.push_back(na_cell(r.win.na));
      for (int i = 0; i < 4; ++i) row.push_back(txt("-"));
    }
    row.push_back(num(fmt::format("{} / {}", e.candidates_passed, e.candidates_total)));
    g.rows.push_back(std::move(row));
  }
  return g;
}

Grid problem_grid(const Row& r) {
  Grid g{{"kernel", "median ms", "min ms", "max ms", "reps", "GB/s", "% copy bw", "GFLOP/s",
          "× naive", "× cuDNN"}};
  auto add = [&](const Measure& x, std::string label) {
    if (!x.has) {
      g.rows.push_back({txt(std::move(label)), na_cell(x.na), txt(""), txt(""), txt(""), txt(""),
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
  return fmt::format("{} · {} moved · {} GFLOP · {} FLOP/byte · floor {} ms at {:.0f} GB/s",
                     shape_text(r.e->problem), bytes_text(r.bytes), sig(r.flops / 1e9, 3),
                     sig(r.intensity, 3), ms_text(r.floor_ms), bw);
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
    std::vector<Cell> row{txt(r.name)};
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

// ---------------------------------------------------------------------------------------------
// Markdown.

std::string render_md(const Model& m, const Table* vs) {
  const Table& t = m.t;
  std::string out = fmt::format("# dwtune report: {}\n\n", md_escape(t.meta.config_name));
  out += md_grid(meta_grid(t));
  out += "## Summary\n\n" + md_grid(summary_grid(m));
  if (vs) {
    auto rows = build_vs(t, *vs);
    out += "## Comparison\n\n";
    out += fmt::format("A: this table ({}). B: {}. Problems are matched by key.\n\n",
                       md_escape(table_label(t)), md_escape(table_label(*vs)));
    out += md_grid(vs_grid(rows)) + md_escape(vs_summary(rows)) + "\n\n";
  }
  out +=
      "## Problems\n\nGB/s counts input, output and weights once each; % copy bw is of the "
      "copy bandwidth above.\n\n";
  out += md_grid(overview_grid(m));
  out += "## Best of each family (median ms; the winner in bold)\n\n" + md_grid(family_grid(m));
  out += "## Winners and launch configurations\n\n" + md_grid(launch_grid(m));
  out += "## Per problem\n\n";
  for (const auto& r : m.rows) {
    out += fmt::format("### {}\n\n{}\n\n", md_escape(r.e->problem.name),
                       md_escape(problem_line(r, m.bw)));
    out += md_grid(problem_grid(r));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CSV: one rectangular table, RFC 4180 quoting.

std::string csv_field(std::string_view s) {
  bool quote = s.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!quote) return std::string(s);
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}
std::string csv_num(double x) { return std::isfinite(x) ? fmt::format("{}", x) : ""; }
std::string csv_opt(const std::optional<double>& x) { return x ? csv_num(*x) : ""; }

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + csv_field(fields[i]);
  return out + "\n";
}

std::string render_csv(const Model& m) {
  std::string out = csv_line({"problem",
                              "key",
                              "row",
                              "kernel",
                              "status",
                              "reason",
                              "median_ms",
                              "min_ms",
                              "max_ms",
                              "reps",
                              "gbps",
                              "bw_share",
                              "gflops",
                              "speedup_vs_naive",
                              "speedup_vs_cudnn",
                              "winner",
                              "params",
                              "grid",
                              "block",
                              "smem_bytes"});
  for (const auto& r : m.rows) {
    auto emit = [&](const Measure& x, const std::string& row) {
      std::vector<std::string> f{r.e->problem.name, r.e->problem.key(), row, x.kernel};
      if (!x.has) {
        f.insert(f.end(), {"n/a", x.na});
        f.resize(20);
        f[15] = "false";
        out += csv_line(f);
        return;
      }
      f.insert(f.end(), {"ok", "", csv_num(x.time.median_ms), csv_num(x.time.min_ms),
                         csv_num(x.time.max_ms), fmt::format("{}", x.time.reps), csv_num(x.gbps),
                         csv_num(x.share), csv_num(x.gflops), csv_opt(x.vs_naive),
                         csv_opt(x.vs_cudnn), x.winner ? "true" : "false"});
      if (x.cand)
        f.insert(f.end(),
                 {params_text(x.cand->params, ";"), dim3_text(x.cand->launch.grid),
                  dim3_text(x.cand->launch.block), fmt::format("{}", x.cand->launch.smem_bytes)});
      f.resize(20);
      out += csv_line(f);
    };
    for (const auto& fm : r.fam) emit(fm, fm.label);
    emit(r.cudnn, "cudnn");
  }
  return out;
}

std::string render_csv_vs(const Table& a, const Table& b) {
  std::string out =
      csv_line({"problem", "key", "presence", "a_kernel", "a_family", "a_median_ms", "a_note",
                "b_kernel", "b_family", "b_median_ms", "b_note", "b_over_a"});
  for (const auto& r : build_vs(a, b)) {
    std::vector<std::string> f{r.name, r.key, r.a && r.b ? "both" : r.a ? "a_only" : "b_only"};
    for (const ProblemEntry* e : {r.a, r.b}) {
      auto ms = winner_ms(e);
      if (ms)
        f.insert(f.end(), {e->winner->kernel, e->winner->family, csv_num(*ms), ""});
      else
        f.insert(f.end(), {"", "", "",
                           !e                  ? "absent"
                           : e->reason.empty() ? "no candidate passed"
                                               : e->reason});
    }
    f.push_back(csv_opt(r.ratio));
    out += csv_line(f);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTML with inline SVG: nothing is fetched, nothing is scripted.

const char* family_color(const Model& m, const std::string& family) {
  static constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1",
                                             "#76b7b2", "#edc948", "#ff9da7", "#9c755f"};
  if (family == "naive") return "#a9a9a9";
  if (family == "cuDNN") return "#4d4d4d";
  auto it = std::find(m.families.begin(), m.families.end(), family);
  const auto i = static_cast<std::size_t>(it - m.families.begin());
  return kPalette[i % std::size(kPalette)];
}

// A step of 1, 2 or 5 times a power of ten giving about `ticks` intervals over [0, v].
double nice_step(double v, int ticks) {
  const double raw = v / ticks;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

std::string clip(std::string s, std::size_t n) {
  if (s.size() <= n) return s;
  s.resize(n - 3);
  return s + "...";
}

// Horizontal bars: GB/s of each family's best and cuDNN, with the copy bandwidth as the floor line.
std::string bar_chart(const Model& m, const Row& r) {
  std::vector<const Measure*> bars;
  for (const auto& fm : r.fam) bars.push_back(&fm);
  bars.push_back(&r.cudnn);
  double vmax = positive(m.bw) ? m.bw : 0;
  for (const auto* b : bars)
    if (b->has) vmax = std::max(vmax, b->gbps);
  if (!positive(vmax)) vmax = 1;
  const double step = nice_step(vmax * 1.04, 5);
  const double top_v = std::ceil(vmax * 1.04 / step) * step;

  const int W = 780, x0 = 110, x1 = 540, top = 30, rowh = 24;
  const int n = static_cast<int>(bars.size());
  const int bottom = top + n * rowh, H = bottom + 40;
  auto X = [&](double v) { return x0 + (x1 - x0) * v / top_v; };
  const std::string name = html_escape(r.e->problem.name);

  std::string s = fmt::format(
      "<svg class=\"chart\" data-problem=\"{}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\">\n<title>{}: GB/s of each family's best and of cuDNN</title>\n",
      name, W, H, W, H, name);
  for (double v = 0; v <= top_v * (1 + 1e-9); v += step) {
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#e1e4e8\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#57606a\">{4}</text>\n",
        X(v), top - 4, bottom, bottom + 14, rate_text(v));
  }
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#57606a\">GB/s (input "
      "+ output + weights, each once, over the median time)</text>\n",
      (x0 + x1) / 2, H - 6);
  for (int i = 0; i < n; ++i) {
    const Measure& b = *bars[i];
    const int y = top + i * rowh;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\"{}>{}</text>\n", x0 - 8, y + 16,
                     b.winner ? " font-weight=\"bold\"" : "", html_escape(b.label));
    if (!b.has) {
      s += fmt::format(
          "<text x=\"{}\" y=\"{}\" fill=\"#6e7781\" font-style=\"italic\">{}<title>{}"
          "</title></text>\n",
          x0 + 6, y + 16, html_escape(clip(na_text(b.na), 90)), html_escape(na_text(b.na)));
      continue;
    }
    s += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"16\" fill=\"{}\"{}><title>{} {}: {} ms"
        "</title></rect>\n",
        x0, y + 4, std::max(1.0, X(b.gbps) - x0), family_color(m, b.label),
        b.winner ? " stroke=\"#1f2328\" stroke-width=\"1.5\"" : "", html_escape(b.label),
        html_escape(b.kernel), ms_text(b.time.median_ms));
    // A white halo keeps the label readable where it crosses the floor line.
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{}\" paint-order=\"stroke\" stroke=\"#fff\" "
        "stroke-width=\"3\"{}>{} GB/s · {} · {} ms{}</text>\n",
        X(b.gbps) + 5, y + 16, b.winner ? " font-weight=\"bold\"" : "", rate_text(b.gbps),
        pct_text(b.share), ms_text(b.time.median_ms), b.winner ? " · winner" : "");
  }
  if (positive(m.bw)) {
    const double xb = X(m.bw);
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#cf222e\" "
        "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#cf222e\">copy "
        "bandwidth {4:.0f} GB/s (floor)</text>\n",
        xb, top - 8, bottom, top - 12, m.bw);
  }
  return s + "</svg>\n";
}

std::string decade_text(int k) {
  if (k >= 0 && k <= 6) return fmt::format("{:.0f}", std::pow(10.0, k));
  if (k < 0 && k >= -3) return fmt::format("{:.{}f}", std::pow(10.0, k), -k);
  return fmt::format("1e{}", k);
}

// Log-log: achieved GFLOP/s against FLOP per byte, under the roof that the copy bandwidth sets.
std::string roofline(const Model& m) {
  struct Point {
    double x, y;
    std::string name, tip;
    const char* color;
    bool cudnn;
  };
  std::vector<Point> pts;
  for (const auto& r : m.rows) {
    if (!positive(r.intensity)) continue;
    const std::string& name = r.e->problem.name;
    if (r.win.has)
      pts.push_back({r.intensity, r.win.gflops, name,
                     fmt::format("{}: {} {} GFLOP/s, {} FLOP/byte", name, r.win.kernel,
                                 rate_text(r.win.gflops), sig(r.intensity, 3)),
                     family_color(m, r.win.cand->family), false});
    if (r.cudnn.has)
      pts.push_back({r.intensity, r.cudnn.gflops, name,
                     fmt::format("{}: cuDNN {} GFLOP/s", name, rate_text(r.cudnn.gflops)),
                     family_color(m, "cuDNN"), true});
  }
  const int W = 780, H = 440, l = 70, rgt = 180, t = 20, b = 50;
  const int px0 = l, px1 = W - rgt, py0 = t, py1 = H - b;
  std::string s = fmt::format(
      "<svg class=\"roofline\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\">"
      "\n<title>Roofline: achieved GFLOP/s of each problem's winner and of cuDNN</title>\n",
      W, H);
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
      "stroke=\"#8c959f\"/>\n",
      px0, py0, px1 - px0, py1 - py0);
  if (pts.empty()) {
    s += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no problem has a time to "
        "plot</text>\n</svg>\n",
        (px0 + px1) / 2, (py0 + py1) / 2);
    return s;
  }
  double xlo = pts[0].x, xhi = xlo, ylo = pts[0].y, yhi = ylo;
  for (const auto& p : pts) {
    xlo = std::min(xlo, p.x), xhi = std::max(xhi, p.x);
    ylo = std::min(ylo, p.y), yhi = std::max(yhi, p.y);
  }
  const int dx0 = static_cast<int>(std::floor(std::log10(xlo / 1.3)));
  const int dx1 = std::max(dx0 + 1, static_cast<int>(std::ceil(std::log10(xhi * 1.3))));
  if (positive(m.bw)) {  // the roof must fit over the whole x range
    ylo = std::min(ylo, m.bw * std::pow(10.0, dx0));
    yhi = std::max(yhi, m.bw * std::pow(10.0, dx1));
  }
  const int dy0 = static_cast<int>(std::floor(std::log10(ylo / 1.3)));
  const int dy1 = std::max(dy0 + 1, static_cast<int>(std::ceil(std::log10(yhi * 1.3))));
  auto X = [&](double v) { return px0 + (px1 - px0) * (std::log10(v) - dx0) / (dx1 - dx0); };
  auto Y = [&](double v) { return py1 - (py1 - py0) * (std::log10(v) - dy0) / (dy1 - dy0); };

  for (int k = dx0; k <= dx1; ++k) {
    for (int f = 2; f <= 9 && k < dx1; ++f)
      s += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" "
          "stroke=\"#f0f2f4\"/>",
          X(f * std::pow(10.0, k)), py0, py1);
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#d0d7de\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#57606a\">{4}"
        "</text>\n",
        X(std::pow(10.0, k)), py0, py1, py1 + 15, decade_text(k));
  }
  for (int k = dy0; k <= dy1; ++k)
    s += fmt::format(
        "<line x1=\"{1}\" y1=\"{0:.1f}\" x2=\"{2}\" y2=\"{0:.1f}\" stroke=\"#d0d7de\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\" fill=\"#57606a\">{5}</text>\n",
        Y(std::pow(10.0, k)), px0, px1, px0 - 6, Y(std::pow(10.0, k)) + 4, decade_text(k));
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#57606a\">arithmetic "
      "intensity (FLOP per byte moved)</text>\n",
      (px0 + px1) / 2, H - 12);
  s += fmt::format(
      "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" "
      "fill=\"#57606a\">achieved GFLOP/s</text>\n",
      (py0 + py1) / 2);
  if (positive(m.bw)) {
    const double a = std::pow(10.0, dx0), z = std::pow(10.0, dx1);
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
        "stroke=\"#cf222e\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n",
        X(a), Y(m.bw * a), X(z), Y(m.bw * z));
  }
  for (const auto& p : pts) {
    const double x = X(p.x), y = Y(p.y);
    if (p.cudnn)
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"8\" height=\"8\" fill=\"none\" "
          "stroke=\"{}\" stroke-width=\"1.5\"><title>{}</title></rect>\n",
          x - 4, y - 4, p.color, html_escape(p.tip));
    else
      s += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\" stroke=\"#1f2328\" "
          "stroke-width=\"0.6\"><title>{}</title></circle>\n"
          "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\">{}</text>\n",
          x, y, p.color, html_escape(p.tip), x + 7, y - 6, html_escape(p.name));
  }
  // Legend: winner colours by family, cuDNN, the roof.
  int ly = py0 + 10;
  const int lx = px1 + 16;
  std::set<std::string> used;
  for (const auto& r : m.rows)
    if (r.win.has) used.insert(r.win.cand->family);
  for (const auto& f : m.families) {
    if (!used.count(f)) continue;
    s += fmt::format(
        "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{}\" stroke=\"#1f2328\" "
        "stroke-width=\"0.6\"/><text x=\"{}\" y=\"{}\">winner: {}</text>\n",
        lx, ly, family_color(m, f), lx + 12, ly + 4, html_escape(f));
    ly += 18;
  }
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"{}\" "
      "stroke-width=\"1.5\"/><text x=\"{}\" y=\"{}\">cuDNN</text>\n",
      lx - 4, ly - 4, family_color(m, "cuDNN"), lx + 12, ly + 4);
  ly += 18;
  if (positive(m.bw))
    s += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#cf222e\" "
        "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/><text x=\"{}\" y=\"{}\">"
        "roof: {:.0f} GB/s × intensity</text>\n",
        lx - 6, ly, lx + 6, ly, lx + 12, ly + 4, m.bw);
  return s + "</svg>\n";
}

constexpr const char* kCss = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2328; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin-top: 0; } h2 { margin-top: 32px; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.na { color: #6e7781; font-style: italic; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.scroll { overflow-x: auto; }
section.problem { margin-top: 28px; }
section.problem h3 { margin-bottom: 2px; }
p.shape { color: #57606a; margin-top: 0; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-size: 11px; fill: #1f2328; }
)";

std::string render_html(const Model& m, const Table* vs) {
  const Table& t = m.t;
  const std::string title = html_escape(fmt::format("dwtune report: {}", t.meta.config_name));
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0}</title>\n<style>{1}</style>\n</head>\n<body>\n<main id=\"dwtune-report\">\n"
      "<h1>{0}</h1>\n",
      title, kCss);
  out += html_grid(meta_grid(t), "meta");
  out += "<h2>Summary</h2>\n" + html_grid(summary_grid(m), "summary");
  out +=
      "<h2>Roofline</h2>\n<p>Each problem's winner (dots, coloured by family) and cuDNN "
      "(squares); the dashed roof is the copy bandwidth times the arithmetic intensity.</p>\n";
  out += roofline(m);
  if (vs) {
    auto rows = build_vs(t, *vs);
    out += "<h2>Comparison</h2>\n";
    out += fmt::format("<p>A: this table ({}). B: {}. Problems are matched by key.</p>\n",
                       html_escape(table_label(t)), html_escape(table_label(*vs)));
    out += html_grid(vs_grid(rows), "vs");
    out += fmt::format("<p>{}</p>\n", html_escape(vs_summary(rows)));
  }
  out +=
      "<h2>Problems</h2>\n<p>GB/s counts input, output and weights once each; % copy bw is of "
      "the copy bandwidth above.</p>\n";
  out += html_grid(overview_grid(m), "overview");
  out += "<h2>Best of each family (median ms; the winner in bold)</h2>\n";
  out += html_grid(family_grid(m), "families");
  out += "<h2>Winners and launch configurations</h2>\n" + html_grid(launch_grid(m), "launch");
  out += "<h2>Per problem</h2>\n";
  for (std::size_t i = 0; i < m.rows.size(); ++i) {
    const Row& r = m.rows[i];
    out += fmt::format(
        "<section class=\"problem\" id=\"problem-{}\">\n<h3>{}</h3>\n"
        "<p class=\"shape\">{}</p>\n",
        i, html_escape(r.e->problem.name), html_escape(problem_line(r, m.bw)));
    out += bar_chart(m, r);
    out += html_grid(problem_grid(r), "problem");
    out += "</section>\n";
  }
  return out + "</main>\n</body>\n</html>\n";
}

}  // namespace

std::string render_report(const Table& t, const Table* vs, ReportFormat f) {
  const Model m = build_model(t);
  switch (f) {
    case ReportFormat::md: return render_md(m, vs);
    case ReportFormat::csv: return vs ? render_csv_vs(t, *vs) : render_csv(m);
    case ReportFormat::html: return render_html(m, vs);
  }
  throw std::invalid_argument("render_report: unknown format");
}

}  // namespace dwt
