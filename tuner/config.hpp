// Shape-set configs: a JSON file of problems, expanded and checked before any GPU work.
//
// Form (README.md, "Config format"):
//   { "name": "...", "description": "...", "problems": [ { "name": "kb85", "n": 32, "c": 128,
//     "h": 128, "w": 256, "kernel": [3, 7], "stride": 1, ... }, ... ] }
// Required per problem: name, n, c, h, w, kernel. Defaults: stride 1, padding 0, dilation 1,
// multiplier 1, bias false, dtype "f32", layout "nchw", pass "forward".
//
// Pair fields (kernel, stride, padding, dilation) take an integer (both axes) or a flat array of
// two integers [h, w], which is always ONE pair. They expand only when the array holds at least one
// array: [[1, 1], [2, 2]] or [1, [2, 1]] are lists of alternatives, whose elements may be integers
// or pairs. Any other flat array ([1, 2, 3], [3]) is refused as ambiguous.
// Scalar fields (n, c, h, w, multiplier, bias, dtype, layout, pass) expand whenever they hold an array.
//
// An entry expands to the cartesian product of its lists, in the field order n, c, h, w, kernel,
// stride, padding, dilation, multiplier, bias, dtype, layout, pass (the last varies fastest). A list of
// one value counts as that value. Each field with two or more alternatives appends a suffix to the
// name, in the same order: _n1 _c64 _h112 _w251, _k3 or _k3x7 (likewise _s, _p, _d; one number
// when both axes agree), _m2, _bias or _nobias, the dtype (_f16), the layout (_nchw) and the pass
// (_dgrad). A dgrad problem has no bias (bias is set false): alternatives that then differ only in
// bias are one problem, named by the first of them. So
// {"name": "kb85", "n": [1, 32], "dtype": ["f32", "f16"]} gives kb85_n1_f32, kb85_n1_f16,
// kb85_n32_f32, kb85_n32_f16; an entry without lists keeps its name exactly.
//
// Errors read "<source>: problem \"<name>\" field \"<field>\": <what>", with problems[<i>] in place
// of the name while it is unknown, and without the problem part for top-level fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "problem.hpp"

namespace dwt {

// A config that cannot be read or is not a valid shape set; the message names the file, the
// problem and the field.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ShapeSet {
  std::string name;               // the config's "name", or the file's stem when it has none
  std::string source;             // the file name used in messages
  std::vector<Problem> problems;  // expanded and validated, in config order
};

// What a config may ask for, checked before the work: a file too large or too deep, or lists that
// expand to too many problems, are refused (ConfigError) rather than run out of memory or time.
struct ConfigLimits {
  std::size_t max_problems = 100000;  // expanded problems in one shape set
  std::uint64_t max_bytes = std::uint64_t{32} << 20;
  std::size_t max_depth = 64;  // a config needs 4 levels
};
// The defaults, with max_problems from the environment variable DWTUNE_MAX_PROBLEMS when set
// (a positive integer; anything else is a ConfigError). `--max-problems N` on shapes, verify and
// tune overrides the field.
ConfigLimits default_config_limits();

// A file, or builtin:NAME for a config built into the binary (configs/NAME.json at build time).
ShapeSet load_shape_set(const std::string& path, const ConfigLimits& lim = default_config_limits());

// Regular files only (a directory, FIFO or device is refused without blocking).
ShapeSet load_config(const std::filesystem::path& file,
                     const ConfigLimits& lim = default_config_limits());
ShapeSet parse_config(const nlohmann::json& j, const std::string& source,
                      const ConfigLimits& lim = default_config_limits());
// Also refuses a key repeated within one object, which a parsed json can no longer show.
ShapeSet parse_config_text(std::string_view text, const std::string& source,
                           const ConfigLimits& lim = default_config_limits());

}  // namespace dwt
