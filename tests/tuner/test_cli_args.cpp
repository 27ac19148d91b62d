// The command line's parsers and validators, without the binary and without a GPU.
#include <gtest/gtest.h>

#include <string>

#include "cli.hpp"
#include "kernel_glob.hpp"

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

TEST(CliArgs, ProblemSpecIsTheConfigObjectItStandsFor) {
  const auto j = parse_problem_spec("n=32,c=128,h=128,w=256,k=3x7");
  EXPECT_EQ(j, nlohmann::json::parse(R"({"name": "n32_c128_h128_w256_k3x7", "n": 32, "c": 128,
                                         "h": 128, "w": 256, "kernel": [3, 7]})"));
  const auto k = parse_problem_spec("name=x,n=1,c=8,h=9,w=9,kernel=3,s=2x1,p=1,d=2,m=2,bias,dtype=f16,layout=nchw");
  EXPECT_EQ(k.at("name"), "x");
  EXPECT_EQ(k.at("kernel"), 3);
  EXPECT_EQ(k.at("stride"), nlohmann::json::parse("[2, 1]"));
  EXPECT_EQ(k.at("multiplier"), 2);
  EXPECT_EQ(k.at("bias"), true);
  EXPECT_EQ(k.at("dtype"), "f16");
  EXPECT_EQ(parse_problem_spec("n=1,bias=false").at("bias"), false);
  EXPECT_EQ(parse_problem_spec("n=1,c=8,h=9,w=9,k=3,pass=wgrad").at("pass"), "wgrad");
  EXPECT_EQ(parse_problem_spec("n=1,pass=dgrad,layout=nhwc").at("name"), "n1_passdgrad_layoutnhwc");
  for (const char* bad : {"n=1,q=2", "n=x", "n=1,n=2", "k=3x", "k=x3", "n", "n=", "bias=maybe", "n=-1", ""})
    EXPECT_THROW(parse_problem_spec(bad), std::invalid_argument) << '"' << bad << '"';
  try {
    parse_problem_spec("n=1,q=2");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("\"q=2\""), std::string::npos) << e.what();
  }
  EXPECT_EQ(verdict(cli::problem_check(), "n=1,c=1,h=4,w=4,k=3"), "");
  EXPECT_NE(verdict(cli::problem_check(), "n=1,zz=1"), "");
}

TEST(CliArgs, KernelGlobsMustEachMatchACompiledName) {
  const std::vector<std::string> names{"naive_f32_nchw", "vectorized_f32_nchw_k3x7_r32", "smem_f32_nchw_k3x3"};
  EXPECT_TRUE(parse_kernel_globs("", names).empty());
  EXPECT_EQ(parse_kernel_globs("naive_*,*_k3x7_*", names),
            (std::vector<std::string>{"naive_*", "*_k3x7_*"}));
  EXPECT_THROW(parse_kernel_globs("naive_*,regblock_*", names), std::invalid_argument);
  EXPECT_THROW(parse_kernel_globs("naive_*,", names), std::invalid_argument);
  EXPECT_TRUE(kernel_selected("vectorized_f32_nchw_k3x7_r32", {"*_k3x7_*"}));
  EXPECT_FALSE(kernel_selected("smem_f32_nchw_k3x3", {"*_k3x7_*"}));
  EXPECT_TRUE(kernel_selected("anything", {}));
  EXPECT_TRUE(kernel_selected("smem_f32_nchw_k3x3", {"smem_f32_nchw_k3x[35]"}));
}

}  // namespace
}  // namespace dwt
