// The CSV report: one rectangular table, RFC 4180 quoting.
#include <fmt/format.h>

#include <cmath>
#include <string_view>

#include "report_model.hpp"

namespace dwt::report {

namespace {

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

}  // namespace

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

}  // namespace dwt::report
