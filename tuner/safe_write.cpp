#include "safe_write.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <random>

namespace dwt {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

[[noreturn]] void cannot(const fs::path& path, std::string_view why) {
  throw OutputError(fmt::format("cannot write {}: {}", path.string(), why));
}
[[noreturn]] void refuse(const fs::path& path, std::string_view why) {
  throw OutputError(fmt::format("refusing to write {}: {}", path.string(), why));
}

const char* kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISLNK(m)) return "a symbolic link";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISFIFO(m)) return "a named pipe";
  if (S_ISSOCK(m)) return "a socket";
  return "something other than a file";
}

fs::path dir_of(const fs::path& p) { return p.has_parent_path() ? p.parent_path() : fs::path("."); }

// ---- Temporary files alive now, for the signal handler.

// A slot points into a TempFile's own string, which outlives the slot's registration.
std::array<std::atomic<const char*>, 16> g_live{};

extern "C" void remove_temps_and_reraise(int sig) {
  for (auto& slot : g_live)
    if (const char* p = slot.load()) ::unlink(p);
  std::signal(sig, SIG_DFL);
  std::raise(sig);  // delivered with the default action once this handler returns
}

// Only where the signal would kill the process outright: a command that handles it itself (tune
// stops at the next checkpoint) keeps its handler and lets the write finish or fail cleanly.
void install_cleanup_handler() {
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction cur {};
    if (::sigaction(sig, nullptr, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL)
      continue;
    struct sigaction sa {};
    sa.sa_handler = remove_temps_and_reraise;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

// SIGINT and SIGTERM held back while in scope: a file is never created without being registered.
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
  }
  ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t old_;
};

std::string random_temp_name(const fs::path& target) {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   static_cast<std::uint64_t>(::getpid()) ^
                                   static_cast<std::uint64_t>(
                                       std::chrono::steady_clock::now().time_since_epoch().count()));
  return fmt::format(".{}.{:012x}.tmp", target.filename().string(), rng() & 0xFFFFFFFFFFFFull);
}

// A file created new beside the target, removed again unless it was renamed into place.
class TempFile {
 public:
  TempFile(const fs::path& target, const detail::WriteHooks& hooks) : target_(target) {
    install_cleanup_handler();
    const fs::path dir = dir_of(target);
    constexpr int kAttempts = 100;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      path_ = (dir / (hooks.temp_name ? hooks.temp_name(attempt) : random_temp_name(target))).string();
      SignalsHeld held;
      // O_EXCL fails on anything already there, links included; O_NOFOLLOW says so twice.
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
      if (fd_ >= 0) {
        enlist();
        return;
      }
      if (errno != EEXIST)
        cannot(target, fmt::format("creating a temporary file in {}: {}", dir.string(), errno_text(errno)));
    }
    cannot(target, fmt::format("no free temporary file name in {} after {} attempts", dir.string(), kAttempts));
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(path_.c_str());
    delist();
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }

  // All of `data`, then fsync and close: the rename publishes complete contents.
  void write(std::string_view data) {
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_writing(errno);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd_) != 0) fail_writing(errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail_writing(errno);
  }

  void rename_into_place() {
    if (::rename(path_.c_str(), target_.c_str()) != 0)
      cannot(target_, fmt::format("renaming {} into place: {}", path_, errno_text(errno)));
    renamed_ = true;
    delist();
    // Make the rename itself durable; failing here loses nothing already published.
    const int dfd = ::open(dir_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }

 private:
  [[noreturn]] void fail_writing(int err) {
    cannot(target_, fmt::format("writing {}: {}", path_, errno_text(err)));
  }
  void enlist() {
    for (auto& slot : g_live) {
      const char* expected = nullptr;
      if (slot.compare_exchange_strong(expected, path_.c_str())) {
        slot_ = &slot;
        return;
      }
    }
  }
  void delist() {
    if (slot_) slot_->store(nullptr);
    slot_ = nullptr;
  }

  fs::path target_;
  std::string path_;
  int fd_ = -1;
  bool renamed_ = false;
  std::atomic<const char*>* slot_ = nullptr;
};

// Every refusal that needs no file to be created.
void check_target(const fs::path& path, const std::vector<fs::path>& inputs) {
  if (path.empty()) throw OutputError("cannot write to an empty path");
  if (!path.has_filename()) refuse(path, "the path names a directory");
  const fs::path dir = dir_of(path);
  struct stat ds {};
  if (::stat(dir.c_str(), &ds) != 0)
    cannot(path, errno == ENOENT ? fmt::format("directory {} does not exist", dir.string())
                                 : fmt::format("directory {}: {}", dir.string(), errno_text(errno)));
  if (!S_ISDIR(ds.st_mode)) cannot(path, fmt::format("{} is not a directory", dir.string()));
  struct stat ts {};
  if (::lstat(path.c_str(), &ts) != 0) {
    if (errno == ENOENT) return;
    cannot(path, errno_text(errno));
  }
  if (!S_ISREG(ts.st_mode))
    refuse(path, fmt::format("it is {}, not a regular file; only regular files are replaced",
                             kind_of(ts.st_mode)));
  for (const fs::path& in : inputs) {
    struct stat is {};
    if (::stat(in.c_str(), &is) == 0 && is.st_dev == ts.st_dev && is.st_ino == ts.st_ino)
      refuse(path, in == path ? std::string("it is an input of this command")
                              : fmt::format("it is an input of this command ({})", in.string()));
  }
}

}  // namespace

void check_output(const fs::path& path, const std::vector<fs::path>& inputs) {
  check_target(path, inputs);
  TempFile probe(path, {});  // can a file be created there? Removed at once.
}

void write_file_atomic(const fs::path& path, std::string_view data, const std::vector<fs::path>& inputs) {
  detail::write_file_atomic(path, data, inputs, {});
}

namespace detail {

void write_file_atomic(const fs::path& path, std::string_view data, const std::vector<fs::path>& inputs,
                       const WriteHooks& hooks) {
  check_target(path, inputs);
  TempFile tmp(path, hooks);
  tmp.write(data);
  if (hooks.before_rename) hooks.before_rename(tmp.path());
  tmp.rename_into_place();
}

}  // namespace detail

}  // namespace dwt
