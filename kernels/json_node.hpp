// Reading JSON tables with errors that name the field: a value with its JSON-pointer path, and a
// file reader that puts the file name in front of every error. Shared by the tuner's full table
// reader and the dispatch library's slim one; internal (it includes nlohmann, so it is never
// installed), for .cpp files only.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "table_error.hpp"

namespace dwt::json_detail {

using nlohmann::json;

// nlohmann's messages start with "[json.exception.type_error.302] "; the path we add says more.
inline std::string strip_json_prefix(const char* what) {
  std::string_view s = what;
  if (s.starts_with("[json.exception.")) {
    auto end = s.find("] ");
    if (end != std::string_view::npos) s.remove_prefix(end + 2);
  }
  return std::string(s);
}

// RFC 6901 escaping, so family names with '/' or '~' still give a usable pointer.
inline std::string pointer_token(std::string_view key) {
  std::string out;
  for (char ch : key) {
    if (ch == '~')
      out += "~0";
    else if (ch == '/')
      out += "~1";
    else
      out += ch;
  }
  return out;
}

// A JSON value with the JSON-pointer path that leads to it: every error names the bad field.
struct Node {
  const json& j;
  std::string path;  // "" is the root, else "/entries/3/winner"

  std::string where() const { return path.empty() ? "/" : path; }
  [[noreturn]] void fail(std::string_view what) const {
    throw TableError(fmt::format("{}: {}", where(), what));
  }
  void expect_object() const {
    if (!j.is_object()) fail(fmt::format("expected an object, got {}", j.type_name()));
  }
  Node at(std::string_view key) const {
    expect_object();
    auto it = j.find(std::string(key));
    if (it == j.end())
      throw TableError(fmt::format("{}/{}: missing required field", path, pointer_token(key)));
    return {*it, path + "/" + pointer_token(key)};
  }
  // Absent and null both mean "no value" for optional fields.
  std::optional<Node> opt(std::string_view key) const {
    expect_object();
    auto it = j.find(std::string(key));
    if (it == j.end() || it->is_null()) return std::nullopt;
    return Node{*it, path + "/" + pointer_token(key)};
  }
  std::size_t size() const {
    if (!j.is_array()) fail(fmt::format("expected an array, got {}", j.type_name()));
    return j.size();
  }
  Node operator[](std::size_t i) const { return {j[i], fmt::format("{}/{}", path, i)}; }

  std::string str() const {
    if (!j.is_string()) fail(fmt::format("expected a string, got {}", j.type_name()));
    return j.get<std::string>();
  }
  bool boolean() const {
    if (!j.is_boolean()) fail(fmt::format("expected true or false, got {}", j.type_name()));
    return j.get<bool>();
  }
  // Non-finite doubles are written as null by nlohmann; read them back as NaN.
  double num() const {
    if (j.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!j.is_number()) fail(fmt::format("expected a number, got {}", j.type_name()));
    return j.get<double>();
  }
  template <class I>
  I integer() const {
    if (!j.is_number_integer()) fail(fmt::format("expected an integer, got {}", j.dump()));
    if (j.is_number_unsigned()) {
      auto v = j.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<I>::max()))
        fail(fmt::format("{} is out of range", v));
      return static_cast<I>(v);
    }
    auto v = j.get<std::int64_t>();
    if (v < static_cast<std::int64_t>(std::numeric_limits<I>::min()) ||
        (v > 0 &&
         static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<I>::max())))
      fail(fmt::format("{} is out of range", v));
    return static_cast<I>(v);
  }
};

// Parses the file at `path` and gives its root to `read`; every TableError, from here or from
// `read`, starts with the file name.
template <class Read>
auto read_table_file(const std::filesystem::path& path, Read&& read) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      throw TableError(fmt::format("{}: no such table file", path.string()));
    throw TableError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(err)));
  }
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw TableError(
        fmt::format("{}: not valid JSON: {}", path.string(), strip_json_prefix(e.what())));
  }
  try {
    return read(Node{j, ""});
  } catch (const TableError& e) {
    throw TableError(fmt::format("{}: {}", path.string(), e.what()));
  }
}

}  // namespace dwt::json_detail
