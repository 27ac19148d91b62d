// What went wrong, as the exit code says it (DESIGN.md): the one list for dwtune and dwtune_bench.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace dwt {

// 0 success; 1 runtime failure (CUDA error, nothing verified); 2 usage or input error; 3 no CUDA
// device.
enum ExitCode : int { kExitOk = 0, kExitRuntime = 1, kExitInput = 2, kExitNoGpu = 3 };

// A command-line value the user can fix; the message names the flag.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// No usable CUDA driver or device.
struct NoGpu : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Input the user can fix (InputError, ConfigError, ProblemError, TableError, OutputError): 2;
// NoGpu: 3; anything else: 1.
int exit_code_of(const std::exception& e);

// Throws NoGpu with a plain reason ("no CUDA device: no CUDA driver found ...") when there is none.
void require_gpu();

}  // namespace dwt
