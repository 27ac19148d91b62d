// The one writer: atomic replacement, refusals (non-regular targets, inputs), nothing followed,
// nothing left behind on errors or SIGINT. No GPU.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>

#include "safe_write.hpp"
#include "scratch_dir.hpp"

namespace dwt {
namespace {

namespace fs = std::filesystem;

class SafeWrite : public testing::ScratchDir {
 protected:
  static void put(const fs::path& p, const std::string& content) { std::ofstream(p) << content; }
  // The OutputError message of writing `path`, or "" when it was written.
  static std::string error_of(const fs::path& path, const std::vector<fs::path>& inputs = {}) {
    try {
      write_file_atomic(path, "new", inputs);
    } catch (const OutputError& e) {
      return e.what();
    }
    return {};
  }
};

TEST_F(SafeWrite, ReplacesWholeAndLeavesOnlyTheTarget) {
  const fs::path t = dir_ / "t.json";
  put(t, std::string(10000, 'x'));
  write_file_atomic(t, "short");
  EXPECT_EQ(text(t), "short");
  EXPECT_EQ(listing(), std::set<std::string>{"t.json"});
}

TEST_F(SafeWrite, PlantedSymlinkAtTheTemporaryNameIsNotFollowed) {
  const fs::path victim = dir_ / "victim";
  put(victim, "precious");
  fs::create_symlink(victim, dir_ / "planted");
  detail::WriteHooks hooks;
  hooks.temp_name = [](int attempt) { return attempt == 0 ? std::string("planted") : std::string("fresh"); };
  detail::write_file_atomic(dir_ / "t.json", "data", {}, hooks);
  EXPECT_EQ(text(victim), "precious");
  EXPECT_EQ(text(dir_ / "t.json"), "data");
  EXPECT_TRUE(fs::is_symlink(dir_ / "planted"));  // someone else's file: not removed either
  EXPECT_EQ(listing(), (std::set<std::string>{"victim", "planted", "t.json"}));
}

TEST_F(SafeWrite, NonRegularTargetsAreRefusedAndKept) {
  const fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string msg = error_of(fifo);
  EXPECT_NE(msg.find(fifo.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("named pipe"), std::string::npos) << msg;
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(fifo)));

  put(dir_ / "real", "real");
  fs::create_symlink(dir_ / "real", dir_ / "link");
  msg = error_of(dir_ / "link");
  EXPECT_NE(msg.find("symbolic link"), std::string::npos) << msg;
  EXPECT_TRUE(fs::is_symlink(dir_ / "link"));
  EXPECT_EQ(text(dir_ / "real"), "real");

  fs::create_directory(dir_ / "d");
  EXPECT_NE(error_of(dir_ / "d").find("a directory"), std::string::npos);
  EXPECT_NE(error_of(dir_ / "d" / "").find("names a directory"), std::string::npos);
  EXPECT_EQ(listing(), (std::set<std::string>{"fifo", "real", "link", "d"}));
  EXPECT_THROW(check_output(fifo), OutputError);
  // The device itself is only asked, never written: check_output creates nothing there.
  if (fs::exists("/dev/null")) EXPECT_THROW(check_output("/dev/null"), OutputError);
}

TEST_F(SafeWrite, AnInputOfTheCommandIsRefusedWhateverItsSpelling) {
  const fs::path t = dir_ / "t.json";
  put(t, "input");
  std::string msg = error_of(t, {dir_ / "other.json", t});
  EXPECT_NE(msg.find("input of this command"), std::string::npos) << msg;
  EXPECT_NE(msg.find(t.string()), std::string::npos) << msg;
  EXPECT_NE(error_of(dir_ / "." / "t.json", {t}), "");
  fs::create_hard_link(t, dir_ / "hard.json");
  EXPECT_NE(error_of(dir_ / "hard.json", {t}), "");
  EXPECT_EQ(text(t), "input");
  EXPECT_EQ(error_of(dir_ / "out.json", {t}), "");  // another file is fine
}

TEST_F(SafeWrite, FailedWriteLeavesNoTemporaryAndTheOldFile) {
  const fs::path t = dir_ / "t.json";
  put(t, "old");
  detail::WriteHooks hooks;
  fs::path seen;
  hooks.before_rename = [&](const fs::path& tmp) {
    seen = tmp;
    EXPECT_TRUE(fs::exists(tmp));
    throw std::runtime_error("disk on fire");
  };
  EXPECT_THROW(detail::write_file_atomic(t, "new", {}, hooks), std::runtime_error);
  EXPECT_EQ(seen.parent_path(), dir_);  // beside the target
  EXPECT_FALSE(fs::exists(seen));
  EXPECT_EQ(text(t), "old");
  EXPECT_EQ(listing(), std::set<std::string>{"t.json"});
}

TEST_F(SafeWrite, MissingOrUnwritableDirectoryIsRefusedNamingThePath) {
  const fs::path missing = dir_ / "no" / "t.json";
  const std::string msg = error_of(missing);
  EXPECT_NE(msg.find(missing.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  EXPECT_THROW(check_output(""), OutputError);
  if (::geteuid() != 0) {
    fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(check_output(dir_ / "t.json"), OutputError);
    EXPECT_NE(error_of(dir_ / "t.json"), "");
    fs::permissions(dir_, fs::perms::owner_all);
  }
  EXPECT_TRUE(listing().empty());
}

TEST_F(SafeWrite, SigintDuringAWriteRemovesTheTemporaryFile) {
  const fs::path t = dir_ / "t.json";
  EXPECT_EXIT(
      {
        std::signal(SIGINT, SIG_DFL);
        detail::WriteHooks hooks;
        hooks.before_rename = [](const fs::path&) { std::raise(SIGINT); };
        detail::write_file_atomic(t, "data", {}, hooks);
        std::exit(0);  // not reached: SIGINT ends the process
      },
      ::testing::KilledBySignal(SIGINT), "");
  EXPECT_TRUE(listing().empty());
}

}  // namespace
}  // namespace dwt
