// The command line's parsers and validators, without the binary and without a GPU.
#include <gtest/gtest.h>

#include <string>

#include "cli.hpp"

namespace dwt {
namespace {

// CLI11's verdict on `value`: "" when the validator accepts it, else its message.
std::string verdict(const CLI::Validator& v, std::string value) { return v(value); }

TEST(CliArgs, ShardIsDigitsSlashDigits) {
  EXPECT_EQ(parse_shard("2/5"), std::make_pair(2, 5));
  EXPECT_EQ(parse_shard("0/1"), std::make_pair(0, 1));
  for (const char* bad : {"5/5", "1", "a/b", " 0/2", "0/2 ", "0 /2", "+0/2", "-1/2", "0/0", "0/2/3", ""})
    EXPECT_THROW(parse_shard(bad), std::invalid_argument) << '"' << bad << '"';
  EXPECT_EQ(verdict(cli::shard_check(), "1/3"), "");
  EXPECT_NE(verdict(cli::shard_check(), " 0/2").find("\" 0/2\""), std::string::npos);
}

TEST(CliArgs, DevicesAreAllOrIndicesCheckedFirstForFormThenAgainstTheDevices) {
  EXPECT_EQ(parse_devices("all", 3), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(parse_devices("1,0,1", 2), (std::vector<int>{1, 0}));
  EXPECT_THROW(parse_devices("2", 2), std::invalid_argument);
  for (const char* bad : {"x", "abc", "0,", ",0", "-1", " 0", "0;1", ""})
    EXPECT_THROW(parse_devices(bad, 8), std::invalid_argument) << '"' << bad << '"';
  // Without a GPU only the form is known: 7 may exist, abc never does.
  EXPECT_EQ(verdict(cli::devices_check(), "7"), "");
  EXPECT_EQ(verdict(cli::devices_check(), "all"), "");
  EXPECT_NE(verdict(cli::devices_check(), "abc").find("abc"), std::string::npos);
}

TEST(CliArgs, FamiliesMustBeCompiledIn) {
  EXPECT_TRUE(parse_families("").empty());
  EXPECT_EQ(parse_families("naive"), std::vector<std::string>{"naive"});
  EXPECT_THROW(parse_families("naive,frobnicate"), std::invalid_argument);
  EXPECT_THROW(parse_families("naive,"), std::invalid_argument);
  EXPECT_NE(verdict(cli::families_check(), "frobnicate").find("frobnicate"), std::string::npos);
}

TEST(CliArgs, WholeNumbersHaveNoSignAndAShortRange) {
  const auto budget = cli::whole_number(1, 2147483647);
  EXPECT_EQ(verdict(budget, "5"), "");
  const std::string zero = verdict(budget, "0");
  EXPECT_NE(zero.find("\"0\""), std::string::npos) << zero;
  EXPECT_LT(zero.size(), 80u) << zero;  // not the 300 digits of a double's range
  const auto seed = cli::whole_number(0, UINT64_MAX);
  EXPECT_EQ(verdict(seed, "18446744073709551615"), "");
  for (const char* bad : {"-1", "18446744073709551616", "1.5", " 1", "+1", "", "1e3"})
    EXPECT_NE(verdict(seed, bad), "") << '"' << bad << '"';
  EXPECT_NE(verdict(cli::path_check(), ""), "");
  EXPECT_EQ(verdict(cli::path_check(), "-"), "");
}

}  // namespace
}  // namespace dwt
