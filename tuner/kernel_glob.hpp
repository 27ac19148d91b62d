// `--kernels GLOB,...`: which instantiations a command runs, by name (shell globs: * ? [...]).
#pragma once

#include <fnmatch.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace dwt {

// Whether `name` matches one of `globs`; an empty list selects every kernel.
inline bool kernel_selected(std::string_view name, const std::vector<std::string>& globs) {
  if (globs.empty()) return true;
  const std::string n(name);
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& g) { return ::fnmatch(g.c_str(), n.c_str(), 0) == 0; });
}

}  // namespace dwt
