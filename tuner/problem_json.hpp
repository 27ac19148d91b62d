// JSON form of a problem, the same in configs (expanded), `shapes --json` and tuning tables.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "problem.hpp"

namespace dwt {

// {"name", "n", "c", "h", "w", "kernel": [kh, kw], "stride": [..], "padding": [..], "dilation": [..],
//  "multiplier", "bias", "dtype", "layout", "pass", "out_c", "out_h", "out_w", "key"}
void to_json(nlohmann::json& j, const Problem& p);
// Reads the expanded form written by to_json (pairs as [h, w]); derived fields are ignored. "pass" may
// be absent (forward: tables from before the pass axis).
// Strict: sizes must be JSON integers in range (1.5 and 2^32 + 3 are refused, not rounded or
// wrapped), pairs exactly two of them. Throws ProblemJsonError; does not call validate().
void from_json(const nlohmann::json& j, Problem& p);

// A problem's JSON that cannot be read; `pointer` leads from the problem to the bad value
// ("/kernel/0"), and what() says what is wrong without it.
struct ProblemJsonError : ProblemError {
  ProblemJsonError(std::string pointer_, const std::string& what)
      : ProblemError(what), pointer(std::move(pointer_)) {}
  std::string pointer;
};

}  // namespace dwt
