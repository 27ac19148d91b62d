// JSON form of a problem, the same in configs (expanded), `shapes --json` and tuning tables.
#pragma once

#include <nlohmann/json.hpp>

#include "problem.hpp"

namespace dwt {

// {"name", "n", "c", "h", "w", "kernel": [kh, kw], "stride": [..], "padding": [..], "dilation": [..],
//  "multiplier", "bias", "dtype", "layout", "out_c", "out_h", "out_w", "key"}
void to_json(nlohmann::json& j, const Problem& p);
// Reads the expanded form written by to_json (pairs as [h, w]); derived fields are ignored.
void from_json(const nlohmann::json& j, Problem& p);

}  // namespace dwt
