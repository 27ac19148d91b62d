#include "cli.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <stdexcept>

#include "kernel_glob.hpp"
#include "operation.hpp"

namespace dwt {

namespace {

// The whole of `s` as a number of type T (no sign, no spaces, no trailing characters).
template <class T>
bool whole(std::string_view s, T& out) {
  if (s.empty() || s.front() == '-' || s.front() == '+') return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Calls f on each comma-separated piece of `s` (empty pieces included).
template <class F>
void for_each_piece(std::string_view s, F f) {
  std::size_t pos = 0;
  while (true) {
    const auto comma = s.find(',', pos);
    f(s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (comma == std::string_view::npos) return;
    pos = comma + 1;
  }
}

// " in \"0,x\"" when the piece is not the whole value.
std::string within(std::string_view whole_value, std::string_view piece) {
  return whole_value == piece ? std::string() : fmt::format(" in \"{}\"", whole_value);
}

// A validator from a parser that throws std::invalid_argument: its message is CLI11's error.
template <class F>
CLI::Validator from_parser(F parse, std::string desc) {
  return CLI::Validator(
      [parse](std::string& s) -> std::string {
        try {
          parse(s);
          return {};
        } catch (const std::invalid_argument& e) {
          return e.what();
        }
      },
      std::move(desc));
}

}  // namespace

std::pair<int, int> parse_shard(std::string_view s) {
  const auto slash = s.find('/');
  int i = -1, n = -1;
  if (slash == std::string_view::npos || !whole(s.substr(0, slash), i) || !whole(s.substr(slash + 1), n) ||
      i >= n)
    throw std::invalid_argument(fmt::format("\"{}\": expected I/N with 0 <= I < N", s));
  return {i, n};
}

std::vector<int> parse_devices(std::string_view s, int visible) {
  std::vector<int> out;
  if (s == "all") {
    for (int i = 0; i < visible; ++i) out.push_back(i);
    return out;
  }
  for_each_piece(s, [&](std::string_view tok) {
    int d = -1;
    if (!whole(tok, d))
      throw std::invalid_argument(fmt::format(
          "\"{}\" is not a device index (expected all, or indices such as 0,1){}", tok, within(s, tok)));
    if (d >= visible)
      throw std::invalid_argument(fmt::format("device {} does not exist ({} visible){}", d, visible, within(s, tok)));
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  });
  return out;
}

std::vector<std::string> parse_families(std::string_view list) {
  std::vector<std::string> out;
  if (list.empty()) return out;
  const auto known = families();
  for_each_piece(list, [&](std::string_view f) {
    if (std::find(known.begin(), known.end(), f) == known.end())
      throw std::invalid_argument(
          fmt::format("unknown family \"{}\" (compiled: {})", f, fmt::join(known, ", ")));
    out.emplace_back(f);
  });
  return out;
}

namespace {

// A problem field on the command line: its short and config names, and what its value is.
enum class SpecKind { integer, pair, text, flag };
struct SpecField {
  std::string_view shorthand, field;
  SpecKind kind;
};
constexpr std::array kSpecFields{
    SpecField{"name", "name", SpecKind::text},       SpecField{"n", "n", SpecKind::integer},
    SpecField{"c", "c", SpecKind::integer},          SpecField{"h", "h", SpecKind::integer},
    SpecField{"w", "w", SpecKind::integer},          SpecField{"k", "kernel", SpecKind::pair},
    SpecField{"s", "stride", SpecKind::pair},        SpecField{"p", "padding", SpecKind::pair},
    SpecField{"d", "dilation", SpecKind::pair},      SpecField{"m", "multiplier", SpecKind::integer},
    SpecField{"bias", "bias", SpecKind::flag},       SpecField{"dtype", "dtype", SpecKind::text},
    SpecField{"layout", "layout", SpecKind::text},   SpecField{"pass", "pass", SpecKind::text}};

const SpecField* spec_field(std::string_view key) {
  for (const SpecField& f : kSpecFields)
    if (key == f.shorthand || key == f.field) return &f;
  return nullptr;
}

std::int64_t spec_integer(std::string_view v, std::string_view piece) {
  std::int64_t x = 0;
  if (!whole(v, x))
    throw std::invalid_argument(fmt::format("\"{}\": \"{}\" is not a whole number", piece, v));
  return x;
}

}  // namespace

nlohmann::json parse_problem_spec(std::string_view spec) {
  nlohmann::json j = nlohmann::json::object();
  std::string name;
  for_each_piece(spec, [&](std::string_view piece) {
    const auto eq = piece.find('=');
    const std::string_view key = piece.substr(0, eq);
    const std::string_view val = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    const SpecField* f = spec_field(key);
    if (!f) {
      std::vector<std::string_view> known;
      for (const SpecField& k : kSpecFields) known.push_back(k.shorthand);
      throw std::invalid_argument(fmt::format("\"{}\" in \"{}\": unknown field (fields: {})", piece,
                                              spec, fmt::join(known, ", ")));
    }
    if (j.contains(std::string(f->field)))
      throw std::invalid_argument(fmt::format("\"{}\": field \"{}\" given twice", spec, f->field));
    if (f->kind != SpecKind::flag && (eq == std::string_view::npos || val.empty()))
      throw std::invalid_argument(fmt::format("\"{}\" in \"{}\": expected {}=VALUE", piece, spec, key));
    switch (f->kind) {
      case SpecKind::integer: j[std::string(f->field)] = spec_integer(val, piece); break;
      case SpecKind::pair: {
        const auto x = val.find('x');
        if (x == std::string_view::npos)
          j[std::string(f->field)] = spec_integer(val, piece);
        else
          j[std::string(f->field)] = {spec_integer(val.substr(0, x), piece), spec_integer(val.substr(x + 1), piece)};
        break;
      }
      case SpecKind::text: j[std::string(f->field)] = std::string(val); break;
      case SpecKind::flag:
        if (eq == std::string_view::npos || val == "true")
          j[std::string(f->field)] = true;
        else if (val == "false")
          j[std::string(f->field)] = false;
        else
          throw std::invalid_argument(fmt::format("\"{}\": expected bias, bias=true or bias=false", piece));
        break;
    }
    if (f->field != "name") {
      if (!name.empty()) name += '_';
      for (char ch : piece)
        if (ch != '=') name += ch;
    }
  });
  if (!j.contains("name")) j["name"] = name;
  return j;
}

std::vector<std::string> parse_kernel_globs(std::string_view list, const std::vector<std::string>& names) {
  std::vector<std::string> out;
  if (list.empty()) return out;
  for_each_piece(list, [&](std::string_view g) {
    if (g.empty()) throw std::invalid_argument(fmt::format("\"{}\": an empty pattern", list));
    const std::vector<std::string> one{std::string(g)};
    if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return kernel_selected(n, one); }))
      throw std::invalid_argument(fmt::format(
          "\"{}\" matches no compiled kernel{} (see dwtune list)", g, within(list, g)));
    out.emplace_back(g);
  });
  return out;
}

namespace cli {

CLI::Validator problem_check() {
  return from_parser([](const std::string& s) { parse_problem_spec(s); }, "n=N,c=C,h=H,w=W,k=KHxKW,...");
}

CLI::Validator kernels_check() {
  return from_parser(
      [](const std::string& s) {
        std::vector<std::string> names;
        for (const Operation* op : registry()) names.push_back(op->desc().name);
        parse_kernel_globs(s, names);
      },
      "GLOB,...");
}

CLI::Validator shard_check() {
  return from_parser([](const std::string& s) { parse_shard(s); }, "I/N");
}

CLI::Validator devices_check() {
  // Every index may exist until the GPU is open; "all" is not expanded here.
  return from_parser(
      [](const std::string& s) {
        if (s != "all") parse_devices(s, std::numeric_limits<int>::max());
      },
      "all|I,J,...");
}

CLI::Validator families_check() {
  return from_parser([](const std::string& s) { parse_families(s); }, "FAMILY,...");
}

CLI::Validator path_check() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        return s.empty() ? "an empty path names no file" : std::string();
      },
      "PATH");
}

CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        std::uint64_t v = 0;
        if (whole(s, v) && v >= lo && v <= hi) return {};
        return fmt::format("\"{}\" is not a whole number from {} to {}", s, lo, hi);
      },
      fmt::format("{}..{}", lo, hi));
}

}  // namespace cli

}  // namespace dwt
