#include "errors.hpp"

#include "config.hpp"
#include "problem.hpp"
#include "safe_write.hpp"
#include "table.hpp"

namespace dwt {

int exit_code_of(const std::exception& e) {
  if (dynamic_cast<const NoGpu*>(&e)) return kExitNoGpu;
  if (dynamic_cast<const InputError*>(&e) || dynamic_cast<const ConfigError*>(&e) ||
      dynamic_cast<const ProblemError*>(&e) || dynamic_cast<const TableError*>(&e) ||
      dynamic_cast<const OutputError*>(&e))
    return kExitInput;
  return kExitRuntime;
}

}  // namespace dwt
