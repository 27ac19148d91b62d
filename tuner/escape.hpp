// Untrusted text (problem and kernel names from configs and tables) placed into report formats.
#pragma once

#include <string>
#include <string_view>

namespace dwt {

// `s` as one Markdown code span that nothing in it can end early: the fence is one backtick longer
// than the longest run inside, a space pads content that begins or ends with a backtick, line
// breaks become spaces and '|' is escaped so a GFM table cell stays one cell.
std::string md_code_span(std::string_view s);

// `s` as one CSV field (RFC 4180: quoted when it holds a comma, quote or line break, quotes
// doubled). Text a spreadsheet would run as a formula (starting with = + - @, tab or carriage
// return) gets a leading ' — except a plain number such as -1.5, which stays a number.
std::string csv_cell(std::string_view s);

}  // namespace dwt
