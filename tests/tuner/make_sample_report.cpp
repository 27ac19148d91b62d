// Writes the HTML report of the sample table to argv[1] and prints how many problems it has, so
// the browser check can run without the CLI or a GPU.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>

#include "report.hpp"
#include "tuner/sample_table.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: {} OUT.html\n", argv[0]);
    return 2;
  }
  const dwt::Table t = dwt::sample::table();
  std::ofstream out(argv[1], std::ios::binary);
  out << dwt::render_report(t, nullptr, dwt::ReportFormat::html);
  out.close();
  if (!out) {
    fmt::print(stderr, "make_sample_report: cannot write {}\n", argv[1]);
    return 1;
  }
  fmt::print("{}\n", t.entries.size());
  return 0;
}
