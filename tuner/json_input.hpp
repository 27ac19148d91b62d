// Reading a JSON input file (a config, a tuning table) without trusting it: regular files only,
// opened without blocking (a FIFO with no writer is refused, not waited on), a size cap checked
// before reading, a nesting-depth cap checked while parsing (deep documents crash recursive code
// later), numbers beyond a double and keys repeated within one object refused. Linear in the input.
// A gzip file (told by its magic bytes, not its name) is decompressed first, under the same size cap:
// the large --keep-all tables of results/ are stored as .json.gz.
// Every refusal names the file and, where parsing reached one, the JSON pointer of the bad value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dwt {

struct JsonInputLimits {
  std::uint64_t max_bytes = std::uint64_t{1} << 30;
  std::size_t max_depth = 64;  // containers nested deeper than this are refused
};

// An input that cannot be read or parsed. Callers rethrow it as their own error type (ConfigError,
// TableError), which the command line maps to exit code 2.
struct JsonInputError : std::runtime_error {
  JsonInputError(std::string source, std::string pointer, std::string detail,
                 std::string object_name = {});
  std::string source;       // the file name as given
  std::string pointer;      // RFC 6901 pointer of the value being read ("/problems/3/n"); "" if none
  std::string detail;       // what is wrong, without the location
  std::string object_name;  // the "name" member of the object holding a repeated key, if any
};

// `kind` names the file in messages ("config", "table").
nlohmann::json read_json_file(const std::filesystem::path& path, std::string_view kind,
                              const JsonInputLimits& lim = {});
// The same checks on text already in memory (built-in configs, tests).
nlohmann::json parse_json_input(std::string_view text, const std::string& source,
                                const JsonInputLimits& lim = {});

// RFC 6901 escaping of one key ('~' and '/'), so any key gives a usable pointer.
std::string pointer_token(std::string_view key);

// `s` cut to at most about `max` characters for a one-line message ("...", and the full length).
std::string shorten(std::string_view s, std::size_t max = 60);

}  // namespace dwt
