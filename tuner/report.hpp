// Reports of a tuning table (no GPU): GitHub markdown, one self-contained HTML file with inline SVG
// charts, or CSV for spreadsheets and scripts.
#pragma once

#include <string>
#include <string_view>

#include "table.hpp"

namespace dwt {

enum class ReportFormat { md, html, csv };

// "md", "html" or "csv"; throws std::invalid_argument naming the value.
ReportFormat parse_report_format(std::string_view s);

// Per problem: each family's best time, GB/s, share of the copy bandwidth in t.meta, speedups over
// the naive family and over cuDNN, the winner and its launch; a summary of geometric means and
// wins. GB/s and GFLOP/s are recomputed from the problem and the median time, so every number in a
// report follows from the times shown. Anything missing prints as "n/a (reason)". `vs` (may be
// nullptr) adds a comparison matched by problem key: winner times in both tables and the ratio vs /
// t (above 1: t is faster). In CSV, `vs` replaces the per-family rows with one comparison row per
// problem key, so each CSV stays a single rectangular table. HTML: one <svg class="chart"
// data-problem="NAME"> per problem and one <svg class="roofline">.
std::string render_report(const Table& t, const Table* vs, ReportFormat f);

// `p` as `dwtune tune --problem` reads it (every field written out, so the default of none matters):
// "name=kb85,n=32,c=128,h=128,w=256,k=3x7,s=1x1,p=0x0,d=1x1,m=1,dtype=f32,layout=nchw", with
// ",pass=dgrad" or ",pass=wgrad" for a backward problem. The name is left out when it holds ',' or
// '=' (the spec could not carry it).
std::string problem_spec(const Problem& p);
// The command that re-runs `p`, restricted to `kernels` (a glob; empty: every kernel), e.g.
// dwtune tune --problem name=kb85,... --kernels vectorized_f32_... --out rerun.json
std::string rerun_command(const Problem& p, const std::string& kernels);

}  // namespace dwt
