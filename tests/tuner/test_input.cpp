// The safe JSON reader, the escaping of untrusted names for reports, and the fuzz test's random
// problems: no GPU, no binary.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "config.hpp"
#include "escape.hpp"
#include "json_input.hpp"
#include "random_problems.hpp"

namespace dwt {
namespace {

namespace fs = std::filesystem;

std::string refusal(std::string_view text, const JsonInputLimits& lim = {}) {
  try {
    parse_json_input(text, "in.json", lim);
  } catch (const JsonInputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted " << text.substr(0, 80);
  return "";
}

TEST(JsonInput, DepthIsCappedAndThePointerSaysWhere) {
  const std::string ok = "{\"a\": [[[1]]]}";
  EXPECT_EQ(parse_json_input(ok, "in.json", {1 << 20, 4}).at("a")[0][0][0], 1);
  const std::string m = refusal(ok, {1 << 20, 3});
  EXPECT_EQ(m, "in.json: /a/0/0: nested more than 3 levels deep");
  EXPECT_NE(refusal(std::string(1000000, '[')).find("nested"), std::string::npos);
}

TEST(JsonInput, NumberBeyondDoubleNamesItsPointerShortly) {
  const std::string m = refusal("{\"x\": [1, {\"y\": 1e400}]}");
  EXPECT_EQ(m.rfind("in.json: /x/1/y: number too large for a double", 0), 0u) << m;
  const std::string huge = "{\"x\": 1" + std::string(1 << 20, '0') + ".0}";
  EXPECT_LT(refusal(huge).size(), 400u);
}

TEST(JsonInput, RepeatedKeyNamesPointerAndOwner) {
  try {
    parse_json_input(R"({"p": [{"name": "a", "k": 1, "k": 2}]})", "in.json");
    FAIL();
  } catch (const JsonInputError& e) {
    EXPECT_EQ(e.pointer, "/p/0/k");
    EXPECT_EQ(e.object_name, "a");
    EXPECT_NE(std::string(e.what()).find("twice"), std::string::npos);
  }
}

TEST(JsonInput, SyntaxErrorsAreShortAndLocated) {
  // An unterminated 100 kB string: nlohmann quotes all it read.
  const std::string m = refusal("{\"a\": [1, 2, \"" + std::string(100000, 'e'));
  EXPECT_EQ(m.rfind("in.json: /a/2: invalid JSON", 0), 0u) << m.substr(0, 200);
  EXPECT_LT(m.size(), 500u);
}

// read_json_file refuses `p` with a message that starts with the file name and says `what`.
void expect_refused(const fs::path& p, std::string_view what) {
  try {
    read_json_file(p, "table");
    ADD_FAILURE() << "read " << p;
  } catch (const JsonInputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind(p.string() + ": ", 0), 0u) << m;
    EXPECT_NE(m.find(what), std::string::npos) << m;
  }
}

TEST(JsonInput, OnlyRegularFilesAndNeverBlocks) {
  const fs::path dir = fs::temp_directory_path() / ("dwtune-input-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path fifo = dir / "pipe.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_refused(fifo, "FIFO");
  expect_refused(dir, "directory");
  expect_refused("/dev/zero", "character device");
  expect_refused(dir / "missing.json", "no such table file");
  const fs::path big = dir / "big.json";
  std::ofstream(big) << "[" << std::string(100, ' ') << "]";
  EXPECT_THROW(read_json_file(big, "table", {50, 64}), JsonInputError);
  EXPECT_TRUE(read_json_file(big, "table", {200, 64}).is_array());
  fs::remove_all(dir);
}

// gzip files (told by their magic bytes) are decompressed: every member, under the same size cap;
// truncated or corrupt ones are refused naming the file.
TEST(JsonInput, GzipFilesAreReadCappedAndCheckedWhole) {
  const fs::path dir = fs::temp_directory_path() / ("dwtune-gzip-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // `printf '[1,' | gzip -9n` then `printf '2]' | gzip -9n`: two members, as `cat a.gz b.gz` gives.
  const unsigned char a[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x8b, 0x36,
                             0xd4, 0x01, 0x00, 0x12, 0x73, 0x2d, 0x6b, 0x03, 0x00, 0x00, 0x00};
  const unsigned char b[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x33,
                             0x8a, 0x05, 0x00, 0xc7, 0x6b, 0x73, 0xb9, 0x02, 0x00, 0x00, 0x00};
  const auto write = [&](const fs::path& p, std::string bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  };
  const std::string sa(reinterpret_cast<const char*>(a), sizeof a), sb(reinterpret_cast<const char*>(b), sizeof b);
  const fs::path two = write(dir / "two.json.gz", sa + sb);
  EXPECT_EQ(read_json_file(two, "table"), nlohmann::json::parse("[1, 2]"));
  EXPECT_THROW(read_json_file(two, "table", {4, 64}), JsonInputError);  // "[1,2]" is 5 bytes
  expect_refused(write(dir / "cut.json.gz", sa.substr(0, 15)), "truncated");
  std::string bad = sa;
  bad[17] ^= 0x40;  // the CRC
  expect_refused(write(dir / "crc.json.gz", bad), "corrupt");
  expect_refused(write(dir / "tail.json.gz", sa + "xyz"), "corrupt");  // bytes after the last member
  // The committed keep-all tables are stored this way.
  const fs::path root = fs::path(__FILE__).parent_path().parent_path().parent_path();
  EXPECT_EQ(read_json_file(root / "results/h200/random-table.json.gz", "table").at("entries").size(), 200u);
  fs::remove_all(dir);
}

TEST(JsonInput, ConfigErrorsUseTheConfigsWords) {
  const auto refused = [](std::string_view text) {
    try {
      parse_config_text(text, "c.json");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(refused(R"({"problems": [{"name": "a", "n": 1e400}]})").rfind(
                "c.json: problems[0] field \"n\": number too large", 0),
            0u);
  EXPECT_EQ(refused(R"({"problems": [{"name": "a", "n": 1, "n": 2}]})").rfind(
                "c.json: problem \"a\" field \"n\": key given twice", 0),
            0u);
}

TEST(ConfigLimit, ExpansionIsCountedBeforeItHappens) {
  ConfigLimits lim;
  lim.max_problems = 10;
  const std::string five = R"({"name": "p", "n": [1, 2, 3, 4, 5], "c": 1, "h": 8, "w": 8, "kernel": 3})";
  EXPECT_EQ(parse_config_text("{\"problems\": [" + five + "]}", "c.json", lim).problems.size(), 5u);
  std::string two = five;
  two.replace(two.find("\"p\""), 3, "\"q\"");
  EXPECT_EQ(parse_config_text("{\"problems\": [" + five + "," + two + "]}", "c.json", lim)
                .problems.size(),
            10u);
  std::string three = five;
  three.replace(three.find("\"c\": 1"), 6, "\"c\": [1, 2, 3]");
  try {
    parse_config_text("{\"problems\": [" + three + "]}", "c.json", lim);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("15 problems"), std::string::npos) << e.what();
  }
}

TEST(ConfigLimit, LongListsParseInLinearTime) {
  std::string n = "[";
  for (int i = 1; i <= 100000; ++i) n += (i > 1 ? "," : "") + std::to_string(i);
  const std::string text =
      R"({"problems": [{"name": "p", "c": 1, "h": 8, "w": 8, "kernel": 3, "n": )" + n + "]}]}";
  EXPECT_EQ(parse_config_text(text, "c.json").problems.size(), 100000u);
}

TEST(Escape, MarkdownCodeSpanCannotBeBrokenOutOf) {
  EXPECT_EQ(md_code_span("naive_f32"), "`naive_f32`");
  EXPECT_EQ(md_code_span("a`b"), "``a`b``");
  EXPECT_EQ(md_code_span("a``b`"), "``` a``b` ```");
  EXPECT_EQ(md_code_span("`x"), "`` `x ``");
  EXPECT_EQ(md_code_span("a|b\nc"), "`a\\|b c`");
  EXPECT_EQ(md_code_span(""), "`  `");
}

TEST(Escape, CsvCellsAreQuotedAndNeverFormulas) {
  EXPECT_EQ(csv_cell("kb85"), "kb85");
  EXPECT_EQ(csv_cell("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(csv_cell("+1+2"), "'+1+2");
  EXPECT_EQ(csv_cell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(csv_cell("-1.5"), "-1.5");
  EXPECT_EQ(csv_cell("line\nbreak"), "\"line\nbreak\"");
}

TEST(RandomProblems, SeededValidAndInRange) {
  const auto a = random_problems(42, 2000), b = random_problems(42, 2000);
  ASSERT_EQ(a.size(), 2000u);
  std::set<DType> dtypes;
  bool asym = false, strided = false, dilated = false, padded = false, multiplied = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const Problem& p = a[i];
    EXPECT_EQ(p.key(), b[i].key());
    EXPECT_NO_THROW(p.validate());
    EXPECT_GE(p.n, 1);
    EXPECT_LE(p.n, 4);
    EXPECT_LE(p.c, 300);
    EXPECT_LE(p.h, 130);
    EXPECT_LE(p.w, 130);
    EXPECT_LE(p.kh, 7);
    EXPECT_LE(p.kw, 7);
    EXPECT_LE(std::max(p.sh, p.sw), 3);
    EXPECT_LE(std::max(p.dh, p.dw), 3);
    EXPECT_LE(p.ph, p.kh);
    EXPECT_LE(p.pw, p.kw);
    EXPECT_LE(p.output_elems(), std::int64_t{1} << 16);
    dtypes.insert(p.dtype);
    asym |= p.kh != p.kw;
    strided |= p.sh > 1 || p.sw > 1;
    dilated |= p.dh > 1 || p.dw > 1;
    padded |= p.ph > 0;
    multiplied |= p.m == 2;
  }
  EXPECT_EQ(dtypes.size(), 3u);
  EXPECT_TRUE(asym && strided && dilated && padded && multiplied);
  EXPECT_NE(random_problems(43, 10)[0].key() + random_problems(43, 10)[9].key(),
            a[0].key() + a[9].key());
  for (const Problem& p : a) EXPECT_EQ(p.pass, Pass::forward);
}

// With several passes every one is drawn, dgrad without a bias; with one pass the shapes are those
// drawn without the option, in that pass.
TEST(RandomProblems, PassesAreDrawnFromTheOption) {
  RandomProblemOptions opt;
  opt.passes = {Pass::forward, Pass::dgrad, Pass::wgrad};
  std::map<Pass, int> seen;
  bool wgrad_bias = false;
  for (const Problem& p : random_problems(5, 600, opt)) {
    ++seen[p.pass];
    EXPECT_NO_THROW(p.validate()) << p.key();
    if (p.pass == Pass::dgrad) EXPECT_FALSE(p.bias) << p.key();
    wgrad_bias |= p.pass == Pass::wgrad && p.bias;
  }
  EXPECT_EQ(seen.size(), 3u);
  for (const auto& [pass, n] : seen) EXPECT_GT(n, 100) << to_string(pass);
  EXPECT_TRUE(wgrad_bias);
  opt.passes = {Pass::wgrad};
  const auto fwd = random_problems(9, 50), wg = random_problems(9, 50, opt);
  for (std::size_t i = 0; i < fwd.size(); ++i) {
    EXPECT_EQ(wg[i].pass, Pass::wgrad);
    EXPECT_EQ(wg[i].key(), fwd[i].key() + "_wgrad");
  }
}

}  // namespace
}  // namespace dwt
