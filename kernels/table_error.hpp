// The one error type for tuning tables, shared by the tuner's full reader and writer and the
// dispatch library's slim reader (neither depends on the other).
#pragma once

#include <stdexcept>

namespace dwt {

// A table that cannot be read or written, or tables that cannot be merged; the message names the
// file and the field.
struct TableError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace dwt
