// Reports from hand-made tables: every problem and family shown, speedups computed from the
// times, HTML self-contained with one chart per problem, comparisons between two tables.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "report.hpp"
#include "tuner/sample_table.hpp"

namespace dwt {
namespace {

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) ++n;
  return n;
}

bool has(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// Minimal RFC 4180 reader: enough to check what render_report writes.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"')
        field += '"', ++i;
      else if (ch == '"')
        quoted = false;
      else
        field += ch;
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (ch == '\n') {
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else {
      field += ch;
    }
    any = true;
  }
  if (rows.back().empty()) rows.pop_back();
  (void)any;
  return rows;
}

// The row of `problem` and `row` ("vectorized", "cudnn", ...) as a column-name lookup.
struct CsvRow {
  std::vector<std::string> head, cells;
  const std::string& operator[](const std::string& col) const {
    for (std::size_t i = 0; i < head.size(); ++i)
      if (head[i] == col) return cells.at(i);
    throw std::out_of_range(col);
  }
};
CsvRow csv_row(const std::vector<std::vector<std::string>>& rows, const std::string& problem,
               const std::string& row) {
  for (std::size_t i = 1; i < rows.size(); ++i) {
    CsvRow r{rows[0], rows[i]};
    if (r["problem"] == problem && r["family"] == row) return r;
  }
  ADD_FAILURE() << "no csv row " << problem << " / " << row;
  return {rows[0], std::vector<std::string>(rows[0].size())};
}

double winner_share(const Table& t, std::size_t i) {
  const auto& e = t.entries[i];
  return e.problem.bytes() / (e.winner->time->median_ms * 1e6) / sample::kCopyBandwidth;
}

TEST(Report, ParseFormat) {
  EXPECT_EQ(parse_report_format("md"), ReportFormat::md);
  EXPECT_EQ(parse_report_format("html"), ReportFormat::html);
  EXPECT_EQ(parse_report_format("csv"), ReportFormat::csv);
  try {
    parse_report_format("pdf");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(has(e.what(), "\"pdf\"")) << e.what();
  }
}

TEST(Report, MarkdownFamiliesSpeedupsAndSummary) {
  const Table t = sample::table();
  const std::string md = render_report(t, nullptr, ReportFormat::md);
  // Metadata.
  EXPECT_TRUE(has(md, "# dwtune report: kernelbench-depthwise"));
  EXPECT_TRUE(has(md, "| GPU | NVIDIA H200 |"));
  EXPECT_TRUE(has(md, "4251 GB/s"));
  EXPECT_TRUE(has(md, "13.0 / 13.0 / 9.19.0"));
  EXPECT_TRUE(has(md, "b60533c0ffee"));
  EXPECT_TRUE(has(md, "2025-11-26T01:00:00Z"));
  EXPECT_TRUE(has(md, "10 warm-up and 50 timed runs"));
  // Best of each family, in family order, the winner in bold; missing ones say what happened
  // (issue 16: "not supported" is not a failure; a failure says FAILED, in bold).
  EXPECT_TRUE(has(md, "| `kb85` | 2.000 | 0.8000 | 0.5000 | **0.4000** | 1.000 |")) << md;
  EXPECT_TRUE(has(md, "| `kb82` | 2.400 | 1.200 | **0.6000** | 0.6400 | 1.800 |")) << md;
  EXPECT_TRUE(has(md,
                  "| `edge_s2_f16` | 0.1000 | **0.05000** | not supported | "
                  "**FAILED (1 incorrect, 1 not_supported)** | n/a (cuDNN not built in) |"))
      << md;
  EXPECT_TRUE(has(md,
                  "| `huge` | n/a (problem failed) | n/a (problem failed) | "
                  "n/a (problem failed) | n/a (problem failed) | "
                  "n/a (out of memory) |"))
      << md;
  // Overview: winner, time, GB/s, share, speedups (naive 2.0 / 0.4 = 5, cuDNN 1.0 / 0.4 = 2.5).
  const double gbps85 = t.entries[0].problem.bytes() / (0.4 * 1e6);
  EXPECT_TRUE(has(md, fmt::format("| vectorized | 0.4000 | {:.0f} | {:.1f}% | ", gbps85,
                                  winner_share(t, 0) * 100)))
      << md;
  EXPECT_TRUE(has(md, "| 5.00× | 1.000 | 2.50× | beats cuDNN (2.50×), naive (5.00×) |")) << md;
  EXPECT_TRUE(has(md, "| 4.00× | 1.800 | 3.00× |")) << md;
  EXPECT_TRUE(has(md, "| 2.00× | n/a (cuDNN not built in) | n/a | beats naive (2.00×) |")) << md;
  EXPECT_TRUE(has(md,
                  "| `huge` | N512 C512 H512 W512 k3x3 s1x1 p0x0 d1x1 m1 f32 nchw → 510×510 | "
                  "n/a (out of memory: buffers need 137 GB) |"))
      << md;
  // Summary: geometric means over the problems that have both numbers.
  EXPECT_TRUE(
      has(md, fmt::format("| geometric-mean speedup over naive | {:.2f}× (over 3 problems) |",
                          std::cbrt(5.0 * 4.0 * 2.0))))
      << md;
  EXPECT_TRUE(
      has(md, fmt::format("| geometric-mean speedup over cuDNN | {:.2f}× (over 2 problems); "
                          "cuDNN n/a on 2 |",
                          std::sqrt(2.5 * 3.0))))
      << md;
  const double share = std::cbrt(winner_share(t, 0) * winner_share(t, 1) * winner_share(t, 2));
  EXPECT_TRUE(has(md, fmt::format("| geometric-mean share of copy bandwidth | {:.1f}% (winners) |",
                                  share * 100)))
      << md;
  EXPECT_TRUE(has(md, "| wins per family | naive 0, smem 1, regblock 1, vectorized 1 |")) << md;
  EXPECT_TRUE(has(md, "| problems | 4 (3 tuned, 1 without a passing candidate) |")) << md;
  // Winner launch configuration.
  const auto& w = *t.entries[0].winner;
  EXPECT_TRUE(has(md, fmt::format("| `kb85` | `{}` | th=4, tw=4 | {}x{}x{} | 32x8x1 | 0 | 12 / 16 (unsupported ones included) |",
                                  w.kernel, w.launch.grid[0], w.launch.grid[1], w.launch.grid[2])))
      << md;
  // Per problem: every family's row with its own speedups (smem 0.8: 2.0/0.8 = 2.5x naive).
  EXPECT_TRUE(has(md, "### `kb85`"));
  // Passed / run does not count unsupported candidates where the table kept them.
  EXPECT_TRUE(has(md, "| 12288 | 6 / 8 (2 not supported) |")) << md;
  // Contents: a link to every section and problem.
  EXPECT_TRUE(has(md, "Contents: [Summary](#summary)")) << md;
  EXPECT_TRUE(has(md, "[`huge`](#p3-huge)")) << md;
  EXPECT_TRUE(has(md, "<a id=\"p3-huge\"></a>")) << md;
  EXPECT_TRUE(has(md, "| **vectorized (winner)** | **0.4000** | 0.3920 | 0.4280 | 50 |")) << md;
  EXPECT_TRUE(has(md, "| 2.50× | 1.25× |")) << md;
  EXPECT_TRUE(has(md, "| cuDNN (IMPLICIT_PRECOMP_GEMM) | 1.000 |")) << md;
}

TEST(Report, CsvOneRowPerProblemAndFamilyPlusCudnn) {
  const Table t = sample::table();
  const std::string csv = render_report(t, nullptr, ReportFormat::csv);
  const auto rows = parse_csv(csv);
  ASSERT_EQ(rows.size(), 1u + 4 * (4 + 1));
  for (const auto& r : rows) EXPECT_EQ(r.size(), rows[0].size());
  EXPECT_EQ(rows[0].at(0), "problem");

  // Issue 16: one column per shape field and tile parameter, the GPU, a disposition, a re-run.
  const CsvRow v = csv_row(rows, "kb85", "vectorized");
  EXPECT_EQ(v["disposition"], "winner");
  EXPECT_EQ(v["n"], "32");
  EXPECT_EQ(v["c"], "128");
  EXPECT_EQ(v["h"], "128");
  EXPECT_EQ(v["w"], "256");
  EXPECT_EQ(v["kh"], "3");
  EXPECT_EQ(v["kw"], "7");
  EXPECT_EQ(v["stride_h"], "1");
  EXPECT_EQ(v["dtype"], "f32");
  EXPECT_EQ(v["layout"], "nchw");
  EXPECT_EQ(v["out_w"], "250");
  EXPECT_EQ(v["gpu"], "NVIDIA H200");
  EXPECT_EQ(v["kernel"], t.entries[0].winner->kernel);
  EXPECT_EQ(v["param_th"], "4");
  EXPECT_EQ(v["param_tw"], "4");
  EXPECT_DOUBLE_EQ(std::stod(v["cudnn_ms"]), 1.0);
  EXPECT_DOUBLE_EQ(std::stod(v["naive_ms"]), 2.0);
  EXPECT_EQ(v["rerun"], "dwtune tune --problem name=kb85,n=32,c=128,h=128,w=256,k=3x7,s=1x1,p=0x0,"
                        "d=1x1,m=1,dtype=f32,layout=nchw --kernels " + t.entries[0].winner->kernel +
                        " --out rerun.json");
  EXPECT_EQ(v["winner"], "true");
  EXPECT_EQ(v["key"], t.entries[0].problem.key());
  EXPECT_DOUBLE_EQ(std::stod(v["median_ms"]), 0.4);
  EXPECT_DOUBLE_EQ(std::stod(v["speedup_vs_naive"]), 5.0);
  EXPECT_DOUBLE_EQ(std::stod(v["speedup_vs_cudnn"]), 2.5);
  EXPECT_DOUBLE_EQ(std::stod(v["gbps"]), t.entries[0].problem.bytes() / 0.4e6);
  EXPECT_DOUBLE_EQ(std::stod(v["bw_share"]), winner_share(t, 0));
  EXPECT_DOUBLE_EQ(std::stod(v["gflops"]), t.entries[0].problem.flops() / 0.4e6);
  EXPECT_EQ(v["block"], "32x8x1");

  const CsvRow s = csv_row(rows, "kb82", "smem");
  EXPECT_EQ(s["winner"], "false");
  EXPECT_EQ(s["disposition"], "slower");
  EXPECT_DOUBLE_EQ(std::stod(s["speedup_vs_naive"]), 2.0);
  EXPECT_DOUBLE_EQ(std::stod(s["speedup_vs_cudnn"]), 1.5);
  EXPECT_EQ(s["smem_bytes"], "12288");

  const CsvRow c = csv_row(rows, "kb82", "cudnn");
  EXPECT_EQ(c["kernel"], "IMPLICIT_PRECOMP_GEMM");
  EXPECT_DOUBLE_EQ(std::stod(c["speedup_vs_naive"]), 2.4 / 1.8);

  const CsvRow nc = csv_row(rows, "edge_s2_f16", "cudnn");
  EXPECT_EQ(nc["disposition"], "unavailable");
  EXPECT_EQ(nc["reason"], "cuDNN not built in");
  EXPECT_EQ(nc["median_ms"], "");
  // A reason with a comma is quoted.
  EXPECT_EQ(csv_row(rows, "edge_s2_f16", "vectorized")["reason"], "1 incorrect, 1 not_supported");
  EXPECT_EQ(csv_row(rows, "edge_s2_f16", "vectorized")["disposition"], "failed");
  EXPECT_EQ(csv_row(rows, "edge_s2_f16", "regblock")["disposition"], "not_supported");
  EXPECT_EQ(csv_row(rows, "edge_s2_f16", "regblock")["reason"], "not supported: stride 2 needs the smem path");
  EXPECT_EQ(csv_row(rows, "edge_s2_f16", "regblock")["rerun"].substr(0, 38), "dwtune tune --problem name=edge_s2_f16");
  EXPECT_NE(csv_row(rows, "edge_s2_f16", "regblock")["rerun"].find("--kernels 'regblock_*'"), std::string::npos);
  EXPECT_TRUE(has(csv, ",\"1 incorrect, 1 not_supported\","));
  EXPECT_EQ(csv_row(rows, "huge", "naive")["disposition"], "problem_failed");
}

// A table of forward and backward problems (as a networks-backward run writes them, passes
// interleaved): every format names each problem's pass, groups the rows by pass, re-runs the same
// pass, and counts each pass's own bytes.
TEST(Report, BackwardPassesAreNamedGroupedAndCountTheirOwnBytes) {
  Table t = sample::table();
  t.entries.resize(2);  // kb85, kb82 forward
  Problem wg = t.entries[0].problem;
  wg.name = "kb85_wgrad";
  wg.pass = Pass::wgrad;
  wg.bias = true;
  Problem dg = t.entries[0].problem;
  dg.name = "kb85_dgrad";
  dg.pass = Pass::dgrad;
  t.entries.insert(t.entries.begin(), sample::entry(wg, {{"naive", 4.0}}, 2.0));  // 2x slower than cuDNN
  t.entries.insert(t.entries.begin() + 2, sample::entry(dg, {{"naive", 1.0}}, 3.0));
  const std::string md = render_report(t, nullptr, ReportFormat::md);
  EXPECT_TRUE(has(md, "| `kb85_dgrad` | N32 C128 H128 W256 k3x7 s1x1 p0x0 d1x1 m1 f32 nchw dgrad → 126×250 |")) << md;
  EXPECT_TRUE(has(md, "| `kb85_wgrad` | N32 C128 H128 W256 k3x7 s1x1 p0x0 d1x1 m1 f32 nchw bias wgrad → 126×250 |")) << md;
  EXPECT_TRUE(has(md, "| `kb85` | N32 C128 H128 W256 k3x7 s1x1 p0x0 d1x1 m1 f32 nchw → 126×250 |")) << md;
  // Forward, then dgrad, then wgrad, in every grid and section.
  const auto at = [&](const std::string& s) { return md.find(s); };
  EXPECT_LT(at("| `kb85` |"), at("| `kb82` |"));
  EXPECT_LT(at("| `kb82` |"), at("| `kb85_dgrad` |"));
  EXPECT_LT(at("| `kb85_dgrad` |"), at("| `kb85_wgrad` |"));
  EXPECT_LT(at("### `kb85_dgrad`"), at("### `kb85_wgrad`"));
  // A summary line per pass.
  EXPECT_TRUE(has(md, "| pass forward | 2 problems (2 tuned); over cuDNN ")) << md;
  EXPECT_TRUE(has(md, "| pass dgrad | 1 problem (1 tuned); over cuDNN 3.00× (over 1 problem); ")) << md;
  EXPECT_TRUE(has(md, "| pass wgrad | 1 problem (1 tuned); over cuDNN 0.50× (over 1 problem); ")) << md;
  EXPECT_TRUE(has(md, "cuDNN faster on 1 |")) << md;
  // A single-pass table has no per-pass lines.
  EXPECT_FALSE(has(render_report(sample::table(), nullptr, ReportFormat::md), "| pass forward |"));

  const auto rows = parse_csv(render_report(t, nullptr, ReportFormat::csv));
  for (const char* name : {"kb85", "kb85_dgrad", "kb85_wgrad"}) {
    const CsvRow r = csv_row(rows, name, "naive");
    const Problem& p = name == std::string("kb85") ? t.entries[1].problem
                       : name == std::string("kb85_dgrad") ? dg : wg;
    EXPECT_EQ(r["pass"], to_string(p.pass)) << name;
    EXPECT_EQ(r["key"], p.key()) << name;
    const bool fwd = p.pass == Pass::forward;
    EXPECT_EQ(r["rerun"].find(",pass="), fwd ? std::string::npos : r["rerun"].find(std::string(",pass=") + to_string(p.pass)))
        << r["rerun"];
    EXPECT_DOUBLE_EQ(std::stod(r["gbps"]), p.bytes() / (std::stod(r["median_ms"]) * 1e6)) << name;
  }
  // wgrad with a bias moves db too; dgrad never moves a bias.
  EXPECT_GT(wg.bytes(), t.entries[1].problem.bytes());
  EXPECT_TRUE(has(rerun_command(dg, ""), ",layout=nchw,pass=dgrad --out"));

  const std::string html = render_report(t, nullptr, ReportFormat::html);
  EXPECT_TRUE(has(html, "f32 nchw dgrad → 126×250")) << html.substr(0, 2000);
  EXPECT_EQ(count(html, "<svg class=\"chart\""), 4u);
}

TEST(Report, CsvQuotesNamesWithCommasAndQuotes) {
  Table t = sample::table();
  t.entries[0].problem.name = "a,\"b\"";
  const std::string csv = render_report(t, nullptr, ReportFormat::csv);
  EXPECT_TRUE(has(csv, "\n\"a,\"\"b\"\"\","));
  const auto rows = parse_csv(csv);
  EXPECT_EQ(rows.at(1).at(0), "a,\"b\"");
  for (const auto& r : rows) EXPECT_EQ(r.size(), rows[0].size());
}

TEST(Report, HtmlSelfContainedWithOneChartPerProblem) {
  const Table t = sample::table();
  const std::string html = render_report(t, nullptr, ReportFormat::html);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(html, "<svg class=\"chart\""), t.entries.size());
  EXPECT_EQ(count(html, "<svg class=\"roofline\""), 1u);
  // Plus the chart of every candidate (the sample keeps candidates for one problem).
  EXPECT_EQ(count(html, "<svg class=\"candidates\""), 1u);
  EXPECT_EQ(count(html, "<svg"), t.entries.size() + 2);
  // Contents with a link to every problem's section.
  EXPECT_TRUE(has(html, "<nav class=\"toc\">"));
  for (std::size_t i = 0; i < t.entries.size(); ++i)
    EXPECT_TRUE(has(html, fmt::format("<a href=\"#p{}-", i))) << i;
  EXPECT_TRUE(has(html, "<section class=\"problem\" id=\"p0-kb85\">"));
  // The roofline's points have hover titles and no text labels that could overlap.
  const auto roof = html.substr(html.find("<svg class=\"roofline\""));
  const auto roof_svg = roof.substr(0, roof.find("</svg>"));
  EXPECT_FALSE(has(roof_svg, ">kb85</text>")) << roof_svg;
  EXPECT_TRUE(has(roof_svg, "<title>1. kb85: "));
  for (const auto& e : t.entries) {
    EXPECT_TRUE(has(html, fmt::format("data-problem=\"{}\"", e.problem.name))) << e.problem.name;
    EXPECT_TRUE(has(html, fmt::format("<h3>{}</h3>", e.problem.name)));
  }
  // Nothing fetched, nothing scripted.
  EXPECT_FALSE(has(html, "http://"));
  EXPECT_FALSE(has(html, "https://"));
  EXPECT_FALSE(has(html, "<script"));
  EXPECT_FALSE(has(html, "<link"));
  EXPECT_FALSE(has(html, "@import"));
  EXPECT_FALSE(has(html, "url("));
  // The numbers are there too, and the floor line.
  EXPECT_TRUE(has(html, "<td class=\"num\"><strong>0.4000</strong></td>"));
  EXPECT_TRUE(has(html, "<td class=\"num\">5.00×</td>"));
  EXPECT_TRUE(has(html, "n/a (cuDNN not built in)"));
  EXPECT_TRUE(has(html, "copy bandwidth 4251 GB/s (floor)"));
  EXPECT_TRUE(has(html, "roof: 4251 GB/s × intensity"));
}

TEST(Report, HtmlEscapesText) {
  Table t = sample::table();
  t.entries[0].problem.name = "x<y&\"z'";
  t.entries[2].cudnn.reason = "<b>not built</b>";
  const std::string html = render_report(t, nullptr, ReportFormat::html);
  EXPECT_FALSE(has(html, "x<y"));
  EXPECT_FALSE(has(html, "<b>not built"));
  EXPECT_TRUE(has(html, "data-problem=\"x&lt;y&amp;&quot;z&#39;\""));
  EXPECT_TRUE(has(html, "n/a (&lt;b&gt;not built&lt;/b&gt;)"));
  const std::string md = render_report(t, nullptr, ReportFormat::md);
  EXPECT_TRUE(has(md, "`x<y&\"z'`"));  // a code span: nothing inside is markup
}

// Issue 19: untrusted names stay text in every format.
TEST(Report, NamesCannotBreakOutOfCodeSpansOrBecomeFormulas) {
  Table t = sample::table();
  t.entries[0].problem.name = "=cmd|calc";
  t.entries[0].winner->kernel = "k`` | **x**";
  t.entries[0].family_best.at("vectorized").kernel = "k`` | **x**";
  const std::string md = render_report(t, nullptr, ReportFormat::md);
  EXPECT_TRUE(has(md, "| ```k`` \\| **x**``` |")) << md;
  EXPECT_TRUE(has(md, "| `=cmd\\|calc` |")) << md;
  const std::string csv = render_report(t, nullptr, ReportFormat::csv);
  const auto rows = parse_csv(csv);
  EXPECT_EQ(rows.at(1).at(0), "'=cmd|calc");
  for (const auto& r : rows) EXPECT_EQ(r.size(), rows[0].size());
  // A negative plain number stays a number, and nothing starts with a formula character.
  for (const auto& r : rows)
    for (const auto& cell : r)
      if (!cell.empty() && std::string_view("=+@").find(cell[0]) != std::string_view::npos)
        ADD_FAILURE() << cell;
}

// Issue 16: every row where a baseline beats the winner says so, in every format.
TEST(Report, EveryLossAgainstABaselineIsMarked) {
  Table t = sample::table();
  t.entries[1].cudnn.time = sample::timing(0.3);  // cuDNN beats regblock's 0.6
  const std::string md = render_report(t, nullptr, ReportFormat::md);
  EXPECT_TRUE(has(md, "| **0.50×** | **LOSES to cuDNN (0.50×); beats naive (4.00×)** |")) << md;
  EXPECT_EQ(count(md, "LOSES to"), 1u);
  EXPECT_TRUE(has(md, "| cuDNN faster than the winner | 1 problem |")) << md;
  const std::string html = render_report(t, nullptr, ReportFormat::html);
  EXPECT_EQ(count(html, "<td class=\"bad\">LOSES to"), 1u);
  EXPECT_EQ(count(html, "<td class=\"num bad\">0.50×</td>"), 1u);
  const auto rows = parse_csv(render_report(t, nullptr, ReportFormat::csv));
  EXPECT_DOUBLE_EQ(std::stod(csv_row(rows, "kb82", "regblock")["speedup_vs_cudnn"]), 0.5);
}

// Issue 15: PyTorch's time, where merged into the table, is a baseline like cuDNN's, and the
// report says where it came from.
TEST(Report, PytorchTimeIsABaselineWhereMerged) {
  Table t = sample::table();
  t.entries[1].pytorch = PytorchTime{0.4, "nchw"};  // beats regblock's 0.6; cuDNN's 1.8 does not
  t.entries[0].pytorch = PytorchTime{1.0, "channels_last"};
  t.meta.pytorch = {{"networks-pytorch.json", "2.11.0+cu130", "NVIDIA H200", "91900", 2}};
  const std::string md = render_report(t, nullptr, ReportFormat::md);
  EXPECT_TRUE(has(md, "**LOSES to PyTorch (0.67×); beats cuDNN (3.00×), naive (4.00×)** |")) << md;
  EXPECT_EQ(count(md, "LOSES to"), 1u);
  EXPECT_TRUE(has(md, "beats cuDNN (2.50×), PyTorch (2.50×), naive (5.00×)")) << md;
  EXPECT_TRUE(has(md, "| PyTorch times | 2 entries from networks-pytorch.json (PyTorch 2.11.0+cu130, cuDNN 91900, "
                      "NVIDIA H200;")) << md;
  EXPECT_FALSE(has(render_report(sample::table(), nullptr, ReportFormat::md), "PyTorch"));
}

// Issue 19: axis ticks are bounded whatever the values (no loop that runs away).
TEST(Report, HtmlAxesStayBoundedOnExtremeValues) {
  for (const double ms : {1e-300, 1e-30, 1e30, 5e-324}) {
    Table t = sample::table();
    t.entries[0].winner->time = sample::timing(ms);
    t.entries[0].family_best.at("vectorized").time = sample::timing(ms);
    t.entries[1].cudnn.time = sample::timing(1 / ms);
    const std::string html = render_report(t, nullptr, ReportFormat::html);
    EXPECT_LT(count(html, "<line"), 400u) << ms;
    EXPECT_FALSE(has(html, "nan")) << ms;
    EXPECT_FALSE(has(html, "=\"inf")) << ms;
  }
}

TEST(Report, EmptyTableStillRenders) {
  Table t;
  t.meta = sample::meta();
  for (auto f : {ReportFormat::md, ReportFormat::html, ReportFormat::csv})
    EXPECT_FALSE(render_report(t, nullptr, f).empty());
  const std::string html = render_report(t, nullptr, ReportFormat::html);
  EXPECT_EQ(count(html, "<svg class=\"chart\""), 0u);
  EXPECT_EQ(count(html, "<svg class=\"roofline\""), 1u);
}

// B: kb85 twice as slow, kb82 twice as fast, edge missing, an extra problem, huge failed in both.
Table vs_table() {
  Table b = sample::table();
  b.meta.date = "2025-12-01T00:00:00Z";
  b.entries[0].winner->time = sample::timing(0.8);
  b.entries[1].winner->time = sample::timing(0.3);
  b.entries[1].winner->kernel = "smem_f32_nchw_k3x3_b_wins";
  b.entries.erase(b.entries.begin() + 2);
  b.entries.push_back(sample::entry(sample::problem("kb84", 64, 128, 256, 512, 3, 3),
                                    {{"naive", 4.0}, {"vectorized", 1.0}}, 2.0));
  return b;
}

TEST(Report, VsComparisonInEveryFormat) {
  const Table a = sample::table(), b = vs_table();
  const std::string md = render_report(a, &b, ReportFormat::md);
  EXPECT_TRUE(has(md, "## Comparison"));
  EXPECT_TRUE(has(md, "2025-12-01T00:00:00Z"));
  EXPECT_TRUE(has(md, fmt::format("| `kb85` | `{}` | 0.4000 | `{}` | 0.8000 | 2.00× |",
                                  a.entries[0].winner->kernel, b.entries[0].winner->kernel)))
      << md;
  EXPECT_TRUE(has(md, "| 0.6000 | `smem_f32_nchw_k3x3_b_wins` | 0.3000 | 0.50× |")) << md;
  EXPECT_TRUE(has(md,
                  "| `edge_s2_f16` | `smem_f16_nchw_k5x5_th4_tw4` | 0.05000 | "
                  "n/a (not in this table) | n/a | n/a (only in A) |"))
      << md;
  EXPECT_TRUE(has(md,
                  "| `kb84` | n/a (not in this table) | n/a | `vectorized_f32_nchw_k3x3_th4_tw4` "
                  "| 1.000 | n/a (only in B) |"))
      << md;
  EXPECT_TRUE(has(md, "n/a (no winner in both)")) << md;
  EXPECT_TRUE(has(md,
                  "Geometric mean of B ms / A ms: 1.00× over 2 problems compared (A faster "
                  "on 1); 1 only in A, 1 only in B."))
      << md;

  const auto rows = parse_csv(render_report(a, &b, ReportFormat::csv));
  ASSERT_EQ(rows.size(), 1u + 5);
  auto find = [&](const std::string& name) {
    for (const auto& r : rows)
      if (r.at(0) == name) return CsvRow{rows[0], r};
    ADD_FAILURE() << name;
    return CsvRow{rows[0], std::vector<std::string>(rows[0].size())};
  };
  EXPECT_EQ(find("kb85")["presence"], "both");
  EXPECT_DOUBLE_EQ(std::stod(find("kb85")["b_over_a"]), 2.0);
  EXPECT_DOUBLE_EQ(std::stod(find("kb82")["b_over_a"]), 0.3 / 0.6);
  EXPECT_EQ(find("kb82")["b_family"], "regblock");
  EXPECT_EQ(find("edge_s2_f16")["presence"], "a_only");
  EXPECT_EQ(find("edge_s2_f16")["b_note"], "absent");
  EXPECT_EQ(find("kb84")["presence"], "b_only");
  EXPECT_EQ(find("huge")["a_note"], "out of memory: buffers need 137 GB");
  EXPECT_EQ(find("huge")["b_over_a"], "");

  const std::string html = render_report(a, &b, ReportFormat::html);
  EXPECT_TRUE(has(html, "<h2 id=\"comparison\">Comparison</h2>"));
  EXPECT_TRUE(has(html, "<td class=\"num\">2.00×</td>"));
  EXPECT_TRUE(has(html, "<td class=\"num\">0.50×</td>"));
  EXPECT_TRUE(has(html, "n/a (only in B)"));
  EXPECT_EQ(count(html, "<svg class=\"chart\""), a.entries.size());
}

}  // namespace
}  // namespace dwt
