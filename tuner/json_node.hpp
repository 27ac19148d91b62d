// Reading JSON tables with errors that name the field: a value with its JSON-pointer path, and a
// file reader (the hardened one of json_input.hpp) that puts the file name in front of every error. Shared by the tuner's full table
// reader and the dispatch library's slim one; internal (it includes nlohmann, so it is never
// installed), for .cpp files only.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "json_input.hpp"
#include "table_error.hpp"

namespace dwt::json_detail {

using nlohmann::json;
using dwt::pointer_token;
using dwt::shorten;

// nlohmann's messages start with "[json.exception.type_error.302] "; the path we add says more.
inline std::string strip_json_prefix(const char* what) {
  std::string_view s = what;
  if (s.starts_with("[json.exception.")) {
    auto end = s.find("] ");
    if (end != std::string_view::npos) s.remove_prefix(end + 2);
  }
  return std::string(s);
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
    if (!j.is_number_integer()) fail(fmt::format("expected an integer, got {}", shorten(j.dump())));
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

// Reads the file at `path` through the one hardened JSON reader (json_input.hpp) and gives its root
// to `read`; every TableError, from here or from `read`, starts with the file name.
template <class Read>
auto read_table_file(const std::filesystem::path& path, Read&& read) {
  json j;
  try {
    j = read_json_file(path, "table");
  } catch (const JsonInputError& e) {
    throw TableError(e.what());
  }
  try {
    return read(Node{j, ""});
  } catch (const TableError& e) {
    throw TableError(fmt::format("{}: {}", path.string(), e.what()));
  }
}

}  // namespace dwt::json_detail
