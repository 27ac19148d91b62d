#include "escape.hpp"

#include <algorithm>
#include <charconv>

namespace dwt {

std::string md_code_span(std::string_view s) {
  std::string body;
  body.reserve(s.size() + 2);
  std::size_t run = 0, longest = 0;
  for (const char ch : s) {
    run = ch == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
    if (ch == '\n' || ch == '\r')
      body += ' ';
    else if (ch == '|')
      body += "\\|";
    else
      body += ch;
  }
  // CommonMark strips one space from each end when both ends have one, so pad those too.
  const bool pad = body.empty() || body.front() == '`' || body.back() == '`' ||
                   (body.front() == ' ' && body.back() == ' ');
  const std::string fence(longest + 1, '`');
  return pad ? fence + " " + body + " " + fence : fence + body + fence;
}

namespace {

bool plain_number(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string csv_cell(std::string_view s) {
  std::string cell;
  if (!s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos &&
      !plain_number(s))
    cell = "'";
  cell += s;
  if (cell.find_first_of(",\"\n\r") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (const char ch : cell) {
    if (ch == '"') quoted += '"';
    quoted += ch;
  }
  return quoted + '"';
}

}  // namespace dwt
