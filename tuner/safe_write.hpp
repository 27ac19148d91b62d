// The one way dwtune writes a file. A unique temporary file in the target's directory (O_EXCL and
// O_NOFOLLOW, so nothing planted there is followed), the data, fsync, rename, fsync of the
// directory: a reader sees the old file or the new one, never half of one. Refused before anything
// is written: a target that is not a regular file (a directory, a device such as /dev/null, a
// symbolic link) and a target that is an input of the same command. The temporary file is removed
// on every error and on SIGINT or SIGTERM.
#pragma once

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dwt {

// An output that may not or cannot be written; the message names the path (exit code 2).
struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws OutputError when `path` could not be written now: its directory is missing or not
// writable, it names something other than a regular file, it is empty, or it is one of `inputs`
// (the same file, whatever the spelling). Leaves nothing behind.
void check_output(const std::filesystem::path& path,
                  const std::vector<std::filesystem::path>& inputs = {});

// check_output, then replaces `path` with `data` atomically.
void write_file_atomic(const std::filesystem::path& path, std::string_view data,
                       const std::vector<std::filesystem::path>& inputs = {});

namespace detail {
// For tests: the temporary file's name at each attempt, and a call between the synced write and
// the rename (e.g. to raise a signal there).
struct WriteHooks {
  std::function<std::string(int attempt)> temp_name;
  std::function<void(const std::filesystem::path& tmp)> before_rename;
};
void write_file_atomic(const std::filesystem::path& path, std::string_view data,
                       const std::vector<std::filesystem::path>& inputs, const WriteHooks& hooks);
}  // namespace detail

}  // namespace dwt
