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

}  // namespace dwt
