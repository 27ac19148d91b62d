// Issue 13: how good dispatch's choice is on shapes it has not seen. For each problem of a table that
// timed every candidate (--keep-all), the kernel dispatch chooses with that problem's own key
// excluded from every source (user table, shipped tables, the cost model's samples), its time in
// the table, and the best candidate's: the ratio is what a user without that entry pays.
// `dwtune check-dispatch --config FILE --out MEASURED.json` measures (GPU); `--measured` replays a
// table on any machine.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dispatch.hpp"
#include "random_problems.hpp"
#include "table.hpp"

namespace dwt {

inline constexpr const char* kCheckDispatchNote = "check-dispatch: held-out shapes, never built into dispatch";

struct DispatchCheckRow {
  std::string problem, key;
  std::string chosen, reason;  // dispatch's kernel and why
  std::string best;            // the fastest candidate
  double chosen_ms = std::numeric_limits<double>::quiet_NaN();  // NaN: not timed (see status)
  double best_ms = 0;
  std::string status;  // the chosen candidate's disposition in the table; "absent" if not there
  double ratio() const;  // chosen / best; +inf when the choice was not timed
};

struct DispatchCheck {
  std::string gpu_name, source;
  std::vector<DispatchCheckRow> rows;
  int skipped = 0;  // problems of a dtype/layout/pass this build has no kernel for
  double geomean() const;                  // of the ratios (+inf if any is)
  double worst() const;
  int over(double limit) const;            // rows whose ratio exceeds limit
};

// The limits of the device a table was measured on, from its metadata (compute capability and
// the opt-in shared memory of that architecture), for replaying without it.
DeviceLimits limits_of(const TableMeta& m);

// Rows for the entries of `measured` that recorded candidates. `base` gives the sources (its
// exclude_key is set per row); `ops` the kernels to choose from.
DispatchCheck check_dispatch(const Table& measured, Knowledge base, const DeviceLimits& lim,
                             const std::vector<const Operation*>& ops);
// Markdown: one row per problem, then the geometric mean, the worst, and counts over 10% and 30%.
std::string render_dispatch_check(const DispatchCheck& c);

// A shape-set config (the JSON `dwtune tune --config` reads) of random problems.
std::string random_config_json(std::uint64_t seed, std::size_t count, const RandomProblemOptions& opt);

}  // namespace dwt
