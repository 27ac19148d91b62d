#include "json_input.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

namespace dwt {

using nlohmann::json;

namespace {

std::string located(const std::string& source, const std::string& pointer,
                    const std::string& detail) {
  return pointer.empty() ? fmt::format("{}: {}", source, detail)
                         : fmt::format("{}: {}: {}", source, pointer, detail);
}

const char* file_type(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO (named pipe)";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

// Closes the descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// gzip's magic bytes: the large --keep-all tables of results/ are stored compressed.
bool is_gzip(std::string_view text) {
  return text.size() >= 2 && static_cast<unsigned char>(text[0]) == 0x1f &&
         static_cast<unsigned char>(text[1]) == 0x8b;
}

// The decompressed text of a gzip file (every member, as gzip -d does), at most `max_bytes` of it.
std::string gunzip(std::string_view in, const std::string& src, std::string_view kind,
                   std::uint64_t max_bytes) {
  const auto fail = [&](std::string detail) { throw JsonInputError(src, "", std::move(detail)); };
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) fail("cannot start gzip decompression");
  struct End {
    z_stream& z;
    ~End() { inflateEnd(&z); }
  } end{z};
  std::string out;
  char buf[1 << 16];
  if (in.size() > std::numeric_limits<uInt>::max()) fail("gzip file too large to decompress");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > max_bytes)
      fail(fmt::format("{} file decompresses to more than {} bytes", kind, max_bytes));
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) fail("cannot continue gzip decompression");  // next member
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0)
      fail(fmt::format("gzip {} file is truncated", kind));
    if (rc != Z_OK)
      fail(fmt::format("gzip {} file is corrupt: {}", kind, z.msg ? z.msg : "inflate failed"));
  }
  return out;
}

std::string read_regular_file(const std::filesystem::path& path, std::string_view kind,
                              std::uint64_t max_bytes) {
  const std::string src = path.string();
  const auto fail = [&](std::string detail) { throw JsonInputError(src, "", std::move(detail)); };
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type check below then refuses it.
  Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) {
    const int err = errno;
    if (err == ENOENT) fail(fmt::format("no such {} file", kind));
    fail(fmt::format("cannot open {} file: {}", kind, std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail(fmt::format("cannot stat: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    fail(fmt::format("is {}, not a {} file (only regular files are read)", file_type(st.st_mode),
                     kind));
  const auto too_large = [&](std::string_view size) {
    fail(fmt::format("{} file is {} bytes; at most {} are read", kind, size, max_bytes));
  };
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    too_large(std::to_string(static_cast<std::uint64_t>(st.st_size)));
  // Regular files never block; read to the end (files in /proc report size 0), at most the cap.
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(fmt::format("cannot read {} file: {}", kind, std::strerror(errno)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) too_large("more than that");
  }
  if (is_gzip(text)) return gunzip(text, src, kind, max_bytes);
  return text;
}


// Builds the document from SAX events (nlohmann's callback parser rescans the parent container at
// every closing bracket, quadratic in an array of objects) and follows where it is (for messages)
// and how deep, and which keys repeat.
class Builder : public json::json_sax_t {
 public:
  Builder(const std::string& source, std::size_t max_depth)
      : source_(source), max_depth_(max_depth) {}

  json take() { return std::move(root_); }

  bool null() override { return put(nullptr); }
  bool boolean(bool v) override { return put(v); }
  bool number_integer(number_integer_t v) override { return put(v); }
  bool number_unsigned(number_unsigned_t v) override { return put(v); }
  bool number_float(number_float_t v, const string_t&) override { return put(v); }
  bool string(string_t& v) override { return put(std::move(v)); }
  bool binary(binary_t&) override { return put(nullptr); }  // not in JSON text
  bool start_object(std::size_t) override { return open(json::object(), false); }
  bool start_array(std::size_t) override { return open(json::array(), true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    Frame& f = frames_.back();
    const bool again = f.value->contains(k);
    f.key = std::move(k);
    f.has_key = true;
    if (again && !repeated_) {
      repeated_ = pointer();
      const auto name = f.value->find("name");
      if (name != f.value->end() && name->is_string()) owner_ = name->get<std::string>();
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    std::string_view s = e.what();
    if (s.starts_with("[json.exception.")) {
      const auto end = s.find("] ");
      if (end != std::string_view::npos) s.remove_prefix(end + 2);
    }
    // The token may be a 50 MB literal: keep the message to a line.
    throw JsonInputError(source_, pointer(),
                         e.id == 406 ? "number too large for a double: " + shorten(s, 200)
                                     : "invalid JSON: " + shorten(s, 300));
  }

  // The value being read now: the element or member the parser is in.
  std::string pointer() const {
    std::string p;
    for (const Frame& f : frames_) {
      // An enclosing array's current element is the open container, placed already.
      if (f.array)
        p += fmt::format("/{}", f.value->size() - (&f == &frames_.back() ? 0 : 1));
      else if (f.has_key)
        p += "/" + pointer_token(f.key);
    }
    return p;
  }

  void check_repeated() const {
    if (repeated_)
      throw JsonInputError(source_, *repeated_,
                           "key given twice in one object (JSON would keep only one of them)",
                           owner_);
  }

 private:
  struct Frame {
    json* value;
    bool array;
    std::string key;  // objects: the member being read
    bool has_key;
  };

  // Places a value where the parser is: the root, the next element, or the pending member (a
  // repeated key replaces the first value, as nlohmann does; check_repeated refuses it later).
  template <class V>
  json* place(V&& v, bool container) {
    if (frames_.empty()) {
      root_ = json(std::forward<V>(v));
      return &root_;
    }
    Frame& f = frames_.back();
    if (f.array) {
      f.value->emplace_back(std::forward<V>(v));
      return &f.value->back();
    }
    json& slot = (*f.value)[f.key];
    slot = json(std::forward<V>(v));
    f.has_key = container;  // a container member stays "being read" until it closes
    return &slot;
  }
  template <class V>
  bool put(V&& v) {
    place(std::forward<V>(v), false);
    return true;
  }
  bool open(json empty, bool array) {
    if (frames_.size() >= max_depth_)
      throw JsonInputError(source_, pointer(),
                           fmt::format("nested more than {} levels deep", max_depth_));
    json* at = place(std::move(empty), true);
    frames_.push_back({at, array, {}, false});
    return true;
  }
  bool close() {
    frames_.pop_back();
    if (!frames_.empty() && !frames_.back().array) frames_.back().has_key = false;
    return true;
  }

  const std::string& source_;
  std::size_t max_depth_;
  json root_;
  std::vector<Frame> frames_;
  std::optional<std::string> repeated_;
  std::string owner_;
};

}  // namespace

JsonInputError::JsonInputError(std::string source_, std::string pointer_, std::string detail_,
                               std::string object_name_)
    : std::runtime_error(located(source_, pointer_, detail_)),
      source(std::move(source_)),
      pointer(std::move(pointer_)),
      detail(std::move(detail_)),
      object_name(std::move(object_name_)) {}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char ch : key) {
    if (ch == '~')
      out += "~0";
    else if (ch == '/')
      out += "~1";
    else
      out += ch;
  }
  return out;
}

std::string shorten(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  const std::size_t keep = max > 3 ? max - 3 : 0;
  return fmt::format("{}... ({} characters)", s.substr(0, keep), s.size());
}

json parse_json_input(std::string_view text, const std::string& source,
                      const JsonInputLimits& lim) {
  if (text.size() > lim.max_bytes)
    throw JsonInputError(source, "",
                         fmt::format("{} bytes; at most {} are read", text.size(), lim.max_bytes));
  Builder b(source, lim.max_depth);
  json::sax_parse(text.begin(), text.end(), &b);
  b.check_repeated();
  return b.take();
}

json read_json_file(const std::filesystem::path& path, std::string_view kind,
                    const JsonInputLimits& lim) {
  return parse_json_input(read_regular_file(path, kind, lim.max_bytes), path.string(), lim);
}

}  // namespace dwt
