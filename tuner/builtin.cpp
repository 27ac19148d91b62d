#include <fmt/format.h>

#include "builtin_configs.hpp"
#include "config.hpp"

namespace dwt {

ShapeSet load_shape_set(const std::string& path, const ConfigLimits& lim) {
  if (path.rfind("builtin:", 0) == 0) {
    const std::string name = path.substr(8);
    const char* text = builtin_config(name);
    if (!text)
      throw ConfigError(fmt::format("{}: no built-in config named \"{}\" (built in: kernelbench, edge, networks, kernelbench-backward, networks-backward)",
                                    path, name));
    return parse_config_text(text, path, lim);
  }
  return load_config(path, lim);
}

}  // namespace dwt
