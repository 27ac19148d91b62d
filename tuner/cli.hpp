// The command line's values, checked where they are parsed: every flag is refused with a message
// naming it before any file is written or any device is opened. CLI11 validators for the options
// of dwtune, and the parsers behind them (tested without the binary).
#pragma once

#include <CLI/CLI.hpp>

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

namespace cli {

// I/N, as parse_shard reads it.
CLI::Validator shard_check();
// all, or comma-separated device indices (whether they exist is known only once the GPU is open).
CLI::Validator devices_check();
// Comma-separated compiled families.
CLI::Validator families_check();
// A path that is not empty.
CLI::Validator path_check();
// A whole number in [lo, hi], digits only (no sign, no spaces); the message gives the range.
CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi);

}  // namespace cli

}  // namespace dwt
