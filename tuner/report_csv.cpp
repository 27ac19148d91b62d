// The CSV report: one rectangular table, RFC 4180 quoting, every text cell through csv_cell. One
// column per shape field and per tile parameter, so a pivot table needs no string splitting; each
// row ends with the command that re-runs it.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>

#include "escape.hpp"
#include "report.hpp"
#include "report_model.hpp"

namespace dwt::report {

namespace {

std::string csv_num(double x) { return std::isfinite(x) ? fmt::format("{}", x) : ""; }
std::string csv_opt(const std::optional<double>& x) { return x ? csv_num(*x) : ""; }

// Every field through csv_cell: quoted where needed, and never read as a formula.
std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + csv_cell(fields[i]);
  return out + "\n";
}

// The tile parameters of every kernel in the report, in order of first appearance.
std::vector<std::string> param_names(const Model& m) {
  std::vector<std::string> out;
  for (const auto& r : m.rows)
    for (const auto& fm : r.fam)
      if (fm.cand)
        for (const auto& p : fm.cand->params)
          if (std::find(out.begin(), out.end(), p.name) == out.end()) out.push_back(p.name);
  return out;
}

}  // namespace

std::string render_csv(const Model& m) {
  const std::vector<std::string> params = param_names(m);
  std::vector<std::string> head{"problem", "n", "c", "h", "w", "kh", "kw", "stride_h", "stride_w",
                                "pad_h", "pad_w", "dil_h", "dil_w", "multiplier", "bias", "dtype",
                                "layout", "pass", "out_c", "out_h", "out_w", "gpu", "family", "kernel",
                                "disposition", "reason", "winner", "median_ms", "min_ms", "max_ms",
                                "reps", "gbps", "bw_share", "gflops", "naive_ms", "cudnn_ms",
                                "speedup_vs_naive", "speedup_vs_cudnn"};
  for (const auto& p : params) head.push_back("param_" + p);
  head.insert(head.end(), {"grid", "block", "smem_bytes", "key", "rerun"});
  std::string out = csv_line(head);
  for (const auto& r : m.rows) {
    const Problem& p = r.e->problem;
    const Measure* naive = nullptr;
    for (const auto& fm : r.fam)
      if (fm.label == "naive" && fm.has) naive = &fm;
    auto emit = [&](const Measure& x, const std::string& family) {
      std::vector<std::string> f{p.name, fmt::format("{}", p.n), fmt::format("{}", p.c),
                                 fmt::format("{}", p.h), fmt::format("{}", p.w),
                                 fmt::format("{}", p.kh), fmt::format("{}", p.kw),
                                 fmt::format("{}", p.sh), fmt::format("{}", p.sw),
                                 fmt::format("{}", p.ph), fmt::format("{}", p.pw),
                                 fmt::format("{}", p.dh), fmt::format("{}", p.dw),
                                 fmt::format("{}", p.m), p.bias ? "true" : "false",
                                 to_string(p.dtype), to_string(p.layout), to_string(p.pass),
                                 fmt::format("{}", p.out_c()), fmt::format("{}", p.out_h()),
                                 fmt::format("{}", p.out_w()), m.t.meta.gpu_name, family, x.kernel,
                                 x.state, x.has ? "" : x.na, x.winner ? "true" : "false"};
      if (x.has)
        f.insert(f.end(), {csv_num(x.time.median_ms), csv_num(x.time.min_ms), csv_num(x.time.max_ms),
                           fmt::format("{}", x.time.reps), csv_num(x.gbps), csv_num(x.share),
                           csv_num(x.gflops)});
      else
        f.resize(f.size() + 7);
      f.push_back(naive ? csv_num(naive->time.median_ms) : "");
      f.push_back(r.cudnn.has ? csv_num(r.cudnn.time.median_ms) : "");
      f.push_back(csv_opt(x.vs_naive));
      f.push_back(csv_opt(x.vs_cudnn));
      for (const auto& name : params) {
        std::string v;
        if (x.cand)
          for (const auto& kp : x.cand->params)
            if (kp.name == name) v = fmt::format("{}", kp.value);
        f.push_back(v);
      }
      if (x.cand)
        f.insert(f.end(), {dim3_text(x.cand->launch.grid), dim3_text(x.cand->launch.block),
                           fmt::format("{}", x.cand->launch.smem_bytes)});
      else
        f.resize(f.size() + 3);
      f.push_back(p.key());
      // cuDNN is timed beside whatever the sweep runs: re-run it with the winner.
      const bool kernel_known = x.has && x.cand;
      f.push_back(rerun_command(p, kernel_known                     ? x.kernel
                                   : family == "cudnn" && r.win.has ? r.win.kernel
                                   : family == "cudnn"              ? std::string()
                                                                    : family + "_*"));
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

}  // namespace dwt::report
