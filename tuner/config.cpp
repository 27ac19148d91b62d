#include "config.hpp"

#include <algorithm>
#include <climits>
#include <functional>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "json_input.hpp"

namespace dwt {
namespace {

using json = nlohmann::json;

// Where an error lies: the file, and the problem once we are inside one.
struct Where {
  const std::string& source;
  std::string problem;  // `problem "kb85"` or `problems[3]`; empty for top-level fields
};

[[noreturn]] void fail(const Where& at, std::string_view field, std::string_view what) {
  if (at.problem.empty())
    throw ConfigError(fmt::format("{}: field \"{}\": {}", at.source, field, what));
  throw ConfigError(fmt::format("{}: {} field \"{}\": {}", at.source, at.problem, field, what));
}

// The offending value as written, cut short so the message stays on one readable line.
std::string shown(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// A value the field cannot take; the caller adds file, problem and field.
struct BadValue : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// JSON integers only: 3.0 and "3" are refused rather than guessed at.
std::int64_t integer_in(const json& v, std::int64_t lo, std::int64_t hi, std::string_view noun) {
  if (!v.is_number_integer()) throw BadValue(fmt::format("expected {}, got {}", noun, shown(v)));
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
    throw BadValue(fmt::format("{} is too large (at most {})", shown(v), hi));
  const auto x = v.get<std::int64_t>();
  if (x < lo) throw BadValue(fmt::format("expected {}, got {}", noun, x));
  if (x > hi) throw BadValue(fmt::format("{} is too large (at most {})", x, hi));
  return x;
}

using Pair = std::pair<int, int>;

// A flat array of two integers is always one pair; anything else array-shaped is not a pair.
Pair read_pair(const json& v, int lo, std::string_view noun) {
  const auto bad = [&] {
    // A flat array of another length is most likely a sweep written without the outer brackets.
    const bool flat = v.is_array() && v.size() != 2;
    return BadValue(
        fmt::format("expected {} or a pair of them, got {}{}", noun, shown(v),
                    flat ? " (to list alternatives, nest them: [[1, 1], [2, 2]])" : ""));
  };
  try {
    if (v.is_number_integer()) {
      const int x = static_cast<int>(integer_in(v, lo, INT_MAX, noun));
      return {x, x};
    }
    if (v.is_array() && v.size() == 2)
      return {static_cast<int>(integer_in(v[0], lo, INT_MAX, noun)),
              static_cast<int>(integer_in(v[1], lo, INT_MAX, noun))};
  } catch (const BadValue&) {
    throw bad();
  }
  throw bad();
}

// One alternative of one field: how it changes the problem and the suffix it gives the name.
struct Alt {
  std::function<void(Problem&)> apply;
  std::string suffix;
};
using Alts = std::vector<Alt>;

// Reads one value or, when `is_list`, a non-empty list of distinct values.
template <class T, class Read, class Make>
Alts alternatives(const json& v, bool is_list, Read read, Make make) {
  if (!is_list) return {make(read(v))};
  if (v.empty()) throw BadValue("empty list; give at least one value");
  std::set<T> seen;  // a set: a list of 300,000 values must not take quadratic time
  Alts out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::optional<T> x;
    try {
      x = read(v[i]);
    } catch (const BadValue& e) {
      throw BadValue(fmt::format("list element {}: {}", i, e.what()));
    }
    if (!seen.insert(*x).second)
      throw BadValue(fmt::format("list element {} repeats the value {}", i, shown(v[i])));
    out.push_back(make(*x));
  }
  return out;
}

Alts sizes(const json& v, std::int64_t ConvShape::*member, char letter) {
  return alternatives<std::int64_t>(
      v, v.is_array(),
      [](const json& x) { return integer_in(x, 1, INT64_MAX, "a positive integer"); },
      [=](std::int64_t x) {
        return Alt{[=](Problem& p) { p.*member = x; }, fmt::format("{}{}", letter, x)};
      });
}

// Pair fields expand only when the array holds an array, so [3, 7] stays one kernel shape.
Alts pairs(const json& v, int ConvShape::*first, int ConvShape::*second, char letter, int lo) {
  const bool is_list =
      v.is_array() && std::any_of(v.begin(), v.end(), [](const json& e) { return e.is_array(); });
  const std::string_view noun = lo > 0 ? "a positive integer" : "a non-negative integer";
  return alternatives<Pair>(
      v, is_list, [=](const json& x) { return read_pair(x, lo, noun); },
      [=](Pair x) {
        const std::string s = x.first == x.second
                                  ? fmt::format("{}{}", letter, x.first)
                                  : fmt::format("{}{}x{}", letter, x.first, x.second);
        return Alt{[=](Problem& p) {
                     p.*first = x.first;
                     p.*second = x.second;
                   },
                   s};
      });
}

Alts multipliers(const json& v) {
  return alternatives<int>(
      v, v.is_array(),
      [](const json& x) {
        return static_cast<int>(integer_in(x, 1, INT_MAX, "a positive integer"));
      },
      [](int x) {
        return Alt{[=](Problem& p) { p.m = x; }, fmt::format("m{}", x)};
      });
}

Alts biases(const json& v) {
  return alternatives<bool>(
      v, v.is_array(),
      [](const json& x) {
        if (!x.is_boolean())
          throw BadValue(fmt::format("expected true or false, got {}", shown(x)));
        return x.get<bool>();
      },
      [](bool x) {
        return Alt{[=](Problem& p) { p.bias = x; }, x ? "bias" : "nobias"};
      });
}

// parse_dtype/parse_layout own the list of known names; drop their "field: " prefix, ours says it.
template <class E>
Alts enums(const json& v, std::string_view field, E (*parse)(std::string_view, std::string_view),
           E ConvShape::*member) {
  return alternatives<E>(
      v, v.is_array(),
      [=](const json& x) {
        if (!x.is_string()) throw BadValue(fmt::format("expected a string, got {}", shown(x)));
        try {
          return parse(x.get<std::string>(), field);
        } catch (const ProblemError& e) {
          std::string_view what = e.what();
          if (what.starts_with(field) && what.substr(field.size()).starts_with(": "))
            what.remove_prefix(field.size() + 2);
          throw BadValue(std::string(what));
        }
      },
      [=](E x) {
        return Alt{[=](Problem& p) { p.*member = x; }, to_string(x)};
      });
}

struct FieldSpec {
  std::string_view key;
  bool required;
  Alts (*read)(const json&);
};

// Also the order of expansion and of name suffixes.
const FieldSpec kFields[] = {
    {"n", true, [](const json& v) { return sizes(v, &ConvShape::n, 'n'); }},
    {"c", true, [](const json& v) { return sizes(v, &ConvShape::c, 'c'); }},
    {"h", true, [](const json& v) { return sizes(v, &ConvShape::h, 'h'); }},
    {"w", true, [](const json& v) { return sizes(v, &ConvShape::w, 'w'); }},
    {"kernel", true,
     [](const json& v) { return pairs(v, &ConvShape::kh, &ConvShape::kw, 'k', 1); }},
    {"stride", false,
     [](const json& v) { return pairs(v, &ConvShape::sh, &ConvShape::sw, 's', 1); }},
    {"padding", false,
     [](const json& v) { return pairs(v, &ConvShape::ph, &ConvShape::pw, 'p', 0); }},
    {"dilation", false,
     [](const json& v) { return pairs(v, &ConvShape::dh, &ConvShape::dw, 'd', 1); }},
    {"multiplier", false, multipliers},
    {"bias", false, biases},
    {"dtype", false,
     [](const json& v) { return enums(v, "dtype", parse_dtype, &ConvShape::dtype); }},
    {"layout", false,
     [](const json& v) { return enums(v, "layout", parse_layout, &ConvShape::layout); }},
    {"pass", false, [](const json& v) { return enums(v, "pass", parse_pass, &ConvShape::pass); }},
};

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// A typo ("strides") must be refused, not ignored; the nearest known key makes the fix obvious.
std::string unknown_key(std::string_view key, const std::vector<std::string_view>& known) {
  std::string list;
  std::string_view best;
  std::size_t best_d = 3;
  for (auto k : known) {
    list += list.empty() ? "" : ", ";
    list += k;
    if (const auto d = edit_distance(key, k); d < best_d) best_d = d, best = k;
  }
  if (best.empty()) return fmt::format("unknown key (expected one of: {})", list);
  return fmt::format("unknown key; did you mean \"{}\"? (expected one of: {})", best, list);
}

// Names become benchmark names, table keys and file-name parts: keep them to a safe alphabet.
bool valid_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
  });
}

// The checks of one expanded problem, blaming the config field a user would change.
void check(const Problem& p, const Where& at) {
  const auto empty_axis = [&](std::string_view axis, std::int64_t in, int k, int s, int pad,
                              int dil, int i) {
    fail(at, axis,
         fmt::format("empty output: {} + 2*padding[{}] = {} is smaller than the kernel's extent "
                     "dilation[{}]*(kernel[{}] - 1) + 1 = {} (stride[{}] {})",
                     axis, i, in + 2 * static_cast<std::int64_t>(pad), i, i,
                     static_cast<std::int64_t>(dil) * (k - 1) + 1, i, s));
  };
  // Before the output size, whose arithmetic assumes rows below 2^31.
  constexpr std::int64_t kMaxDim = std::int64_t{1} << 31;
  if (p.h >= kMaxDim) fail(at, "h", fmt::format("{} is too large (must be below 2^31)", p.h));
  if (p.w >= kMaxDim) fail(at, "w", fmt::format("{} is too large (must be below 2^31)", p.w));
  if (p.out_h() <= 0) empty_axis("h", p.h, p.kh, p.sh, p.ph, p.dh, 0);
  if (p.out_w() <= 0) empty_axis("w", p.w, p.kw, p.sw, p.pw, p.dw, 1);
  try {
    p.validate();
  } catch (const ProblemError& e) {
    // ProblemError messages begin with the field they blame ("stride[0] must be positive", "c is
    // too large: ..."), sizes included.
    const std::string_view what = e.what();
    const auto end = what.find_first_not_of("abcdefghijklmnopqrstuvwxyz_");
    fail(at, end == 0 ? std::string_view("?") : what.substr(0, end), what);
  }
}

void expand_entry(const json& e, std::size_t index, const std::string& source,
                  const ConfigLimits& lim, std::vector<Problem>& out,
                  std::unordered_map<std::string, std::size_t>& made_by) {
  Where at{source, fmt::format("problems[{}]", index)};
  if (!e.is_object())
    throw ConfigError(fmt::format("{}: {}: expected an object describing a problem, got {}", source,
                                  at.problem, shown(e)));
  if (!e.contains("name")) fail(at, "name", "missing required field");
  const json& name = e.at("name");
  if (!name.is_string() || !valid_name(name.get_ref<const std::string&>()))
    fail(at, "name",
         fmt::format("expected a non-empty name of letters, digits, '_', '-' and '.', got {}",
                     shown(name)));
  const std::string base = name.get<std::string>();
  at.problem = fmt::format("problem \"{}\"", base);

  std::vector<std::string_view> known{"name"};
  for (const auto& f : kFields) known.push_back(f.key);
  for (const auto& [key, value] : e.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      fail(at, key, unknown_key(key, known));

  // Refused before anything is expanded: the count of problems so far times this entry's lists.
  const std::size_t room = lim.max_problems - std::min(lim.max_problems, out.size());
  const auto too_many = [&](std::string_view field, std::string_view count) {
    fail(at, field,
         fmt::format("this entry expands to {} problems; with the {} before it that is more than "
                     "the limit of {} (--max-problems or DWTUNE_MAX_PROBLEMS raises it)",
                     count, out.size(), lim.max_problems));
  };
  std::vector<Alts> axes;
  std::size_t product = 1, widest = 0;
  bool saturated = false;
  std::string_view widest_field;
  for (const auto& f : kFields) {
    if (!e.contains(f.key)) {
      if (f.required) fail(at, f.key, "missing required field");
      continue;  // the ConvShape default
    }
    const json& v = e.at(f.key);
    // A pair field's [3, 7] is one value, so only lists longer than 2 can be refused unread.
    if (v.is_array() && v.size() > std::max<std::size_t>(room, 2))
      too_many(f.key, fmt::format("at least {}", v.size()));
    try {
      axes.push_back(f.read(v));
    } catch (const BadValue& err) {
      fail(at, f.key, err.what());
    }
    const std::size_t k = axes.back().size();
    if (k > widest) widest = k, widest_field = f.key;
    saturated |= __builtin_mul_overflow(product, k, &product);
  }
  if (saturated) too_many(widest_field, fmt::format("more than {}", room));
  if (product > room) too_many(widest_field, std::to_string(product));

  // Odometer over the axes, the last varying fastest.
  std::vector<std::size_t> pick(axes.size(), 0);
  std::set<std::string> dgrad_keys;  // the input gradient involves no bias
  for (;;) {
    Problem p;
    p.name = base;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const Alt& alt = axes[a][pick[a]];
      alt.apply(p);
      if (axes[a].size() > 1) p.name += "_" + alt.suffix;
    }
    if (p.pass == Pass::dgrad) p.bias = false;
    // Alternatives that differed only in bias are one dgrad problem: the first of them is kept.
    if (p.pass != Pass::dgrad || dgrad_keys.insert(p.key()).second) {
      const Where here{source, fmt::format("problem \"{}\"", p.name)};
      check(p, here);
      if (const auto [it, fresh] = made_by.emplace(p.name, index); !fresh)
        fail(here, "name",
             fmt::format("duplicate problem name (also made by problems[{}])", it->second));
      out.push_back(std::move(p));
    }

    std::size_t a = axes.size();
    while (a > 0 && ++pick[a - 1] == axes[a - 1].size()) pick[--a] = 0;
    if (a == 0) break;
  }
}

// The shared reader's location (a JSON pointer) in this file's words: problems[3] or the problem's
// name, and the field.
ConfigError config_error(const JsonInputError& e) {
  std::vector<std::string_view> tok;
  std::string_view p = e.pointer;
  while (!p.empty()) {
    p.remove_prefix(1);
    const auto slash = p.find('/');
    tok.push_back(p.substr(0, slash));
    p = slash == std::string_view::npos ? std::string_view() : p.substr(slash);
  }
  if (tok.empty()) return ConfigError(e.what());
  if (tok[0] != "problems" || tok.size() < 2)
    return ConfigError(fmt::format("{}: field \"{}\": {}", e.source, tok[0], e.detail));
  const std::string problem = tok.size() == 3 && !e.object_name.empty()
                                  ? fmt::format("problem \"{}\"", shorten(e.object_name))
                                  : fmt::format("problems[{}]", tok[1]);
  if (tok.size() < 3) return ConfigError(fmt::format("{}: {}: {}", e.source, problem, e.detail));
  return ConfigError(fmt::format("{}: {} field \"{}\": {}", e.source, problem, tok[2], e.detail));
}

}  // namespace

ShapeSet parse_config(const nlohmann::json& j, const std::string& source,
                      const ConfigLimits& lim) {
  const Where top{source, ""};
  if (!j.is_object())
    throw ConfigError(
        fmt::format("{}: expected a JSON object with a \"problems\" array at the top level, got {}",
                    source, shown(j)));
  const std::vector<std::string_view> known{"name", "description", "problems"};
  for (const auto& [key, value] : j.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      fail(top, key, unknown_key(key, known));

  ShapeSet set;
  set.source = source;
  set.name = std::filesystem::path(source).stem().string();
  if (j.contains("name")) {
    const json& n = j.at("name");
    if (!n.is_string() || n.get_ref<const std::string&>().empty())
      fail(top, "name", fmt::format("expected a non-empty string, got {}", shown(n)));
    set.name = n.get<std::string>();
  }
  if (j.contains("description") && !j.at("description").is_string())
    fail(top, "description", fmt::format("expected a string, got {}", shown(j.at("description"))));

  if (!j.contains("problems"))
    fail(top, "problems", "missing required field (an array of problems)");
  const json& problems = j.at("problems");
  if (!problems.is_array())
    fail(top, "problems", fmt::format("expected an array of problems, got {}", shown(problems)));
  if (problems.empty()) fail(top, "problems", "empty; a shape set needs at least one problem");

  std::unordered_map<std::string, std::size_t> made_by;
  for (std::size_t i = 0; i < problems.size(); ++i)
    expand_entry(problems[i], i, source, lim, set.problems, made_by);
  return set;
}

ShapeSet parse_config_text(std::string_view text, const std::string& source,
                           const ConfigLimits& lim) {
  json j;
  try {
    j = parse_json_input(text, source, {lim.max_bytes, lim.max_depth});
  } catch (const JsonInputError& e) {
    throw config_error(e);
  }
  return parse_config(j, source, lim);
}

ShapeSet load_config(const std::filesystem::path& file, const ConfigLimits& lim) {
  json j;
  try {
    j = read_json_file(file, "config", {lim.max_bytes, lim.max_depth});
  } catch (const JsonInputError& e) {
    throw config_error(e);
  }
  return parse_config(j, file.string(), lim);
}

ConfigLimits default_config_limits() {
  ConfigLimits lim;
  if (const char* env = std::getenv("DWTUNE_MAX_PROBLEMS"); env && *env) {
    const std::string_view s = env;
    std::size_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v == 0)
      throw ConfigError(fmt::format("DWTUNE_MAX_PROBLEMS: expected a positive integer, got \"{}\"",
                                    shorten(s)));
    lim.max_problems = v;
  }
  return lim;
}

}  // namespace dwt
