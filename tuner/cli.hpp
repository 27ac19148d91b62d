// The command line's values, checked where they are parsed: every flag is refused with a message
// naming it before any file is written or any device is opened. CLI11 validators for the options
// of dwtune, and the parsers behind them (tested without the binary).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dwt {

// "I/N" -> (I, N) with 0 <= I < N, digits only; throws std::invalid_argument naming the value.
std::pair<int, int> parse_shard(std::string_view s);
// "all" -> every visible device; "0,2" -> {0, 2} (repeats dropped). `visible` is the device count;
// throws std::invalid_argument naming the value.
std::vector<int> parse_devices(std::string_view s, int visible);
// "regblock,vectorized" -> those families, each one compiled in; "" -> {} (all). Throws
// std::invalid_argument naming the unknown family and the known ones.
std::vector<std::string> parse_families(std::string_view list);

// One problem written on the command line, as the config's problem object it stands for:
// "n=32,c=128,h=128,w=256,k=3x7" -> {"name": "n32_c128_h128_w256_k3x7", "n": 32, ..., "kernel": [3, 7]}.
// Fields: name, n, c, h, w, k|kernel, s|stride, p|padding, d|dilation (a number, or HxW),
// m|multiplier, bias (alone, or bias=true|false), dtype, layout, pass. The config parser checks the values
// (required fields, ranges); this refuses what it cannot read, naming the piece, with
// std::invalid_argument. Without name=, the name is the spec with ',' as '_' and '=' dropped.
nlohmann::json parse_problem_spec(std::string_view spec);

// Comma-separated shell globs (*, ?, [...]) over kernel instantiation names; each must match at
// least one of `names`, else std::invalid_argument names it. "" -> {} (every kernel).
std::vector<std::string> parse_kernel_globs(std::string_view list, const std::vector<std::string>& names);

namespace cli {

// I/N, as parse_shard reads it.
CLI::Validator shard_check();
// all, or comma-separated device indices (whether they exist is known only once the GPU is open).
CLI::Validator devices_check();
// Comma-separated compiled families.
CLI::Validator families_check();
// NAME=VALUE,... as parse_problem_spec reads it.
CLI::Validator problem_check();
// Comma-separated globs, each matching a compiled instantiation.
CLI::Validator kernels_check();
// A path that is not empty.
CLI::Validator path_check();
// A whole number in [lo, hi], digits only (no sign, no spaces); the message gives the range.
CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi);

}  // namespace cli

}  // namespace dwt
