// The markdown report: GitHub tables, one section per problem.
#include <fmt/format.h>

#include <string_view>

#include "escape.hpp"
#include "report_model.hpp"

namespace dwt::report {

namespace {

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
  if (c.code) return md_code_span(c.text);
  return c.strong || c.bad ? fmt::format("**{}**", md_escape(c.text)) : md_escape(c.text);
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

}  // namespace

std::string render_md(const Model& m, const Table* vs) {
  const Table& t = m.t;
  std::string out = fmt::format("# dwtune report: {}\n\n", md_escape(t.meta.config_name));
  out += md_grid(meta_grid(t));
  // Contents: GitHub gives each heading an anchor from its text; problems get explicit ones.
  out += "Contents: [Summary](#summary)";
  if (vs) out += " · [Comparison](#comparison)";
  out += " · [Problems](#problems) · [Best of each family](#best-of-each-family) · "
         "[Winners and launch configurations](#winners-and-launch-configurations) · "
         "[Per problem](#per-problem):";
  for (std::size_t i = 0; i < m.rows.size(); ++i)
    out += fmt::format(" [{}](#{})", md_code_span(m.rows[i].e->problem.name),
                       anchor_of(i, m.rows[i].e->problem.name));
  out += "\n\n## Summary\n\n" + md_grid(summary_grid(m));
  if (vs) {
    auto rows = build_vs(t, *vs);
    out += "## Comparison\n\n";
    out += fmt::format("A: this table ({}). B: {}. Problems are matched by key.\n\n",
                       md_escape(table_label(t)), md_escape(table_label(*vs)));
    out += md_grid(vs_grid(rows)) + md_escape(vs_summary(rows)) + "\n\n";
  }
  out += fmt::format("## Problems\n\n{}\n\n", kBytesNote);
  out += md_grid(overview_grid(m));
  out += "## Best of each family\n\nMedian ms; the winner in bold. A family that cannot run a "
         "shape says \"not supported\"; one whose candidates ran and failed says FAILED.\n\n" +
         md_grid(family_grid(m));
  out += "## Winners and launch configurations\n\n" + md_grid(launch_grid(m));
  out += "## Per problem\n\n";
  for (std::size_t i = 0; i < m.rows.size(); ++i) {
    const Row& r = m.rows[i];
    out += fmt::format("<a id=\"{}\"></a>\n\n### {}\n\n{}\n\n", anchor_of(i, r.e->problem.name),
                       md_code_span(r.e->problem.name), md_escape(problem_line(r, m.bw)));
    out += md_grid(problem_grid(r));
  }
  return out;
}

}  // namespace dwt::report
