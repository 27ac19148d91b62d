#include "check_dispatch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "format.hpp"

namespace dwt {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::optional<double> timed_ms(const CandidateResult& c) {
  const bool timed = c.status == Disposition::passed || c.status == Disposition::stopped_early;
  return timed && c.time ? std::optional(c.time->median_ms) : std::nullopt;
}

}  // namespace

double DispatchCheckRow::ratio() const { return std::isfinite(chosen_ms) ? chosen_ms / best_ms : kInf; }

double DispatchCheck::geomean() const {
  if (rows.empty()) return 0;
  double s = 0;
  for (const DispatchCheckRow& r : rows) s += std::log(r.ratio());
  return std::exp(s / static_cast<double>(rows.size()));
}

double DispatchCheck::worst() const {
  double w = 0;
  for (const DispatchCheckRow& r : rows) w = std::max(w, r.ratio());
  return w;
}

int DispatchCheck::over(double limit) const {
  return static_cast<int>(std::count_if(rows.begin(), rows.end(), [&](const auto& r) { return r.ratio() > limit; }));
}

DeviceLimits limits_of(const TableMeta& m) {
  DeviceLimits lim;
  lim.sm_count = m.sm_count;
  const auto dot = m.compute_capability.find('.');
  if (dot != std::string::npos) {
    try {
      lim.cc = std::stoi(m.compute_capability.substr(0, dot)) * 10 + std::stoi(m.compute_capability.substr(dot + 1));
    } catch (const std::exception&) {
      lim.cc = 0;
    }
  }
  // cudaDevAttrMaxSharedMemoryPerBlockOptin by architecture (CUDA programming guide, table 21).
  const std::size_t kib = lim.cc >= 90 ? 227 : lim.cc == 80 || lim.cc == 87 ? 163 : lim.cc >= 86 ? 99
                        : lim.cc == 75 ? 64 : lim.cc >= 70 ? 96 : 48;
  lim.max_smem_per_block = kib * 1024;
  return lim;
}

DispatchCheck check_dispatch(const Table& measured, Knowledge base, const DeviceLimits& lim,
                             const std::vector<const Operation*>& ops) {
  DispatchCheck out;
  out.gpu_name = measured.meta.gpu_name;
  out.source = measured.meta.config_name;
  for (const ProblemEntry& e : measured.entries) {
    DispatchCheckRow row;
    row.problem = e.problem.name;
    row.key = e.problem.key();
    row.best_ms = kInf;
    for (const CandidateResult& c : e.candidates)
      if (const auto ms = timed_ms(c); ms && *ms < row.best_ms) row.best_ms = *ms, row.best = c.kernel;
    if (!std::isfinite(row.best_ms)) continue;  // nothing timed (or no --keep-all): nothing to compare
    const bool compiled = std::any_of(ops.begin(), ops.end(), [&](const Operation* op) {
      const KernelDesc& d = op->desc();
      return d.dtype == e.problem.dtype && d.layout == e.problem.layout && d.pass == e.problem.pass;
    });
    if (!compiled) {  // a build narrowed by DWTUNE_DTYPES cannot choose for it
      ++out.skipped;
      continue;
    }
    base.exclude_key = row.key;
    const Choice ch = choose_kernel(e.problem, base, measured.meta.gpu_name, lim, ops);
    row.reason = ch.reason;
    row.chosen = ch.op ? ch.op->desc().name : "";
    row.status = "absent";
    for (const CandidateResult& c : e.candidates)
      if (c.kernel == row.chosen) {
        row.status = to_string(c.status);
        if (const auto ms = timed_ms(c)) row.chosen_ms = *ms;
      }
    out.rows.push_back(std::move(row));
  }
  return out;
}

std::string render_dispatch_check(const DispatchCheck& c) {
  std::string s = fmt::format(
      "# Dispatch without the problem's own entry, {} ({})\n\n"
      "Each problem: the kernel dispatch chooses with that problem's key excluded from every table and "
      "from the cost model's samples, timed in the same run as the best candidate.\n\n"
      "| problem | chosen | chosen ms | best | best ms | ratio | why |\n|---|---|---|---|---|---|---|\n",
      c.gpu_name, c.source);
  for (const DispatchCheckRow& r : c.rows)
    s += fmt::format("| {} | {} | {} | {} | {:.4f} | {:.3f} | {} |\n", r.problem, r.chosen.empty() ? "-" : r.chosen,
                     std::isfinite(r.chosen_ms) ? fmt::format("{:.4f}", r.chosen_ms) : r.status, r.best,
                     r.best_ms, r.ratio(), r.reason);
  s += fmt::format(
      "\n{} problems: geometric mean {:.3f}x of the best, worst {:.3f}x; {} over 1.10x, {} over 1.30x{}\n",
      c.rows.size(), c.geomean(), c.worst(), c.over(1.10), c.over(1.30),
      c.skipped ? fmt::format(" ({} skipped: no kernel of their dtype, layout and pass compiled in)", c.skipped) : "");
  return s;
}

std::string random_config_json(std::uint64_t seed, std::size_t count, const RandomProblemOptions& opt) {
  nlohmann::json j = {{"name", fmt::format("random-seed{}", seed)}, {"problems", nlohmann::json::array()}};
  for (const Problem& p : random_problems(seed, count, opt)) {
    j["problems"].push_back({{"name", fmt::format("r{}_{}", seed, p.name.substr(4))},
                             {"n", p.n}, {"c", p.c}, {"h", p.h}, {"w", p.w},
                             {"kernel", {p.kh, p.kw}}, {"stride", {p.sh, p.sw}},
                             {"padding", {p.ph, p.pw}}, {"dilation", {p.dh, p.dw}},
                             {"multiplier", p.m}, {"bias", p.bias}, {"dtype", to_string(p.dtype)},
                             {"layout", to_string(p.layout)}, {"pass", to_string(p.pass)}});
  }
  return j.dump(1) + "\n";
}

}  // namespace dwt
