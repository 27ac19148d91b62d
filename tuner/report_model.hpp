// The report model (internal to the report files): what every format shows, computed once from a
// table; the numbers as reports print them; and the format-neutral grids that markdown and HTML
// both render. report.cpp holds these, report_md.cpp, report_csv.cpp and report_html.cpp one format
// each.
#pragma once

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "table.hpp"

namespace dwt::report {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline bool positive(double x) { return std::isfinite(x) && x > 0; }

// What GB/s and the share of copy bandwidth count (Problem::bytes), as the reports say it.
inline constexpr const char* kBytesNote =
    "GB/s counts the tensors a problem's pass moves, once each (forward: input, weights, bias, output; "
    "dgrad: output gradient, weights, input gradient; wgrad: input, output gradient, weight and bias "
    "gradients); % copy bw is of the copy bandwidth above.";

// ---- Numbers as the reports print them.

// `digits` significant digits in fixed notation: 2.270, 0.2513, 0.01580, 1234.
std::string sig(double x, int digits = 4);
std::string ms_text(double ms);
std::string rate_text(double r);
std::string pct_text(double share);
std::string x_text(double s);
std::string opt_x_text(const std::optional<double>& s);
std::string na_text(const std::string& why);
// "win 2.50×" / "LOSS 0.79×" against one baseline, "n/a" without one.
std::string verdict_text(const std::optional<double>& speedup);
double geomean(const std::vector<double>& v);
std::string params_text(const std::vector<KernelParam>& ps, std::string_view sep);
std::string dim3_text(const unsigned (&d)[3]);

// ---- What every format shows.

// One timed thing on one problem: a family's best candidate, cuDNN, or the winner.
struct Measure {
  std::string label;   // family name, "cuDNN" or "winner"
  std::string kernel;  // kernel name, or cuDNN's algorithm
  bool has = false;
  std::string na;  // why there is no time
  // What happened, as the CSV's disposition column says it: passed, not_supported, failed,
  // not_run (no candidate of this family was tried), not_recorded (the table kept no candidates
  // to tell), problem_failed, or unavailable (cuDNN).
  std::string state;
  TimingStats time;
  double gbps = 0, share = kNaN, gflops = 0;
  std::optional<double> vs_naive, vs_cudnn;  // naive / cuDNN median over this median
  const CandidateResult* cand = nullptr;
  bool winner = false;
};

struct Row {
  const ProblemEntry* e = nullptr;
  double bytes = 0, flops = 0, intensity = 0;
  double floor_ms = kNaN;        // bytes / copy bandwidth, + the empty launch where the table has it
  double floor_share = kNaN;     // floor_ms / the winner's median: the share of the floor reached
  std::vector<Measure> fam;  // in Model::families order
  Measure cudnn, win;
  // From the kept candidates; -1 when the table kept none (tuned without --keep-all).
  int not_supported = -1;
  // PyTorch's median (merged into the table) over the winner's; absent when either is missing.
  std::optional<double> vs_pytorch;
  // The baselines that beat the winner ("cuDNN", "PyTorch", "naive"); empty when it beats every one timed.
  std::vector<std::string> losses;
};

struct Model {
  explicit Model(const Table& table) : t(table) {}
  const Table& t;
  double bw = 0;  // copy bandwidth of the table's run, GB/s
  std::vector<std::string> families;
  std::vector<Row> rows;  // forward, dgrad, then wgrad problems, each in table order
  // Summary.
  std::vector<double> sp_naive, sp_cudnn, shares;
  std::map<std::string, int> wins;
  int tuned = 0, cudnn_na = 0, cudnn_faster = 0;
};

// Rows in table order, grouped by pass (forward, dgrad, wgrad), each family's best, cuDNN and the
// winner related to naive and cuDNN.
Model build_model(const Table& t);

// One problem key seen from two tables.
struct VsRow {
  VsRow(const ProblemEntry& e, const ProblemEntry* in_a, const ProblemEntry* in_b)
      : name(e.problem.name), key(e.problem.key()), a(in_a), b(in_b) {}
  std::string name, key;
  const ProblemEntry* a = nullptr;  // the report's table
  const ProblemEntry* b = nullptr;  // the --vs table
  std::optional<double> ratio;      // b median / a median
};

// The winner's median when it has a positive one.
std::optional<double> winner_ms(const ProblemEntry* e);
// Every problem key of a, then those only in b.
std::vector<VsRow> build_vs(const Table& a, const Table& b);
std::string table_label(const Table& t);

// ---- Format-neutral tables, rendered as markdown or HTML.

struct Cell {
  std::string text;
  bool strong = false, code = false, na = false, num = false;
  bool bad = false;  // a loss or a failure: HTML marks it, markdown makes it bold
};
inline Cell txt(std::string s) { return Cell{std::move(s)}; }
inline Cell num(std::string s, bool strong = false) {
  return Cell{std::move(s), strong, false, false, true};
}
inline Cell code(std::string s) { return Cell{std::move(s), false, true}; }
inline Cell na_cell(const std::string& why) { return Cell{na_text(why), false, false, true}; }
// A measure without a time, as its state reads: "not supported", "FAILED (1 incorrect)", ...
Cell state_cell(const Measure& x);
inline Cell bad_num(std::string s) {
  Cell c = num(std::move(s));
  c.bad = true;
  return c;
}
// An anchor-safe id for a problem's section (letters, digits, '-' and '_').
std::string anchor_of(std::size_t index, const std::string& name);

struct Grid {
  Grid(std::vector<std::string> h) : head(std::move(h)) {}
  std::vector<std::string> head;
  std::vector<std::vector<Cell>> rows;
};

Grid meta_grid(const Table& t);
Grid summary_grid(const Model& m);
Grid overview_grid(const Model& m);
Grid family_grid(const Model& m);
Grid launch_grid(const Model& m);
Grid problem_grid(const Row& r);
// Candidates of a problem as counted: passed / run (not counting unsupported ones) / supported.
std::string candidates_text(const Row& r);
std::string problem_line(const Row& r, double bw);
Grid vs_grid(const std::vector<VsRow>& rows);
std::string vs_summary(const std::vector<VsRow>& rows);

// ---- The formats.

std::string render_md(const Model& m, const Table* vs);
// One rectangular table: a row per family and cuDNN per problem.
std::string render_csv(const Model& m);
// One comparison row per problem key.
std::string render_csv_vs(const Table& a, const Table& b);
std::string render_html(const Model& m, const Table* vs);

}  // namespace dwt::report
