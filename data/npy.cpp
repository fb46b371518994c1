#include "data/npy.h"

#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/op.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <bit>
#include <cstring>
#include <optional>

namespace kiln {

// Tensor bytes are copied as they are: the host must match the file's order.
static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// NumPy pads the header so that the data starts 64-byte aligned.
constexpr size_t kHeaderAlignment = 64;

struct DTypeCode {
  DType dtype;
  std::string_view descr;
};
constexpr std::array<DTypeCode, 5> kDTypeCodes = {{
    {DType::f32, "<f4"},
    {DType::f64, "<f8"},
    {DType::i32, "<i4"},
    {DType::i64, "<i8"},
    {DType::boolean, "|b1"},
}};

std::string_view descr_of(DType t) {
  for (const DTypeCode &c : kDTypeCodes)
    if (c.dtype == t) return c.descr;
  __builtin_unreachable();
}

// Names what is wrong with an unsupported descr, the way a user would fix it.
[[noreturn]] void reject_descr(const std::string &origin, const std::string &descr) {
  if (descr.starts_with('>'))
    fail("{}: big-endian dtype '{}' is not supported (convert with .astype('<{}'))", origin, descr,
         descr.substr(1));
  if (descr.find('O') != std::string::npos) fail("{}: object arrays are not supported", origin);
  fail("{}: dtype '{}' is not supported (kiln reads <f4, <f8, <i4, <i8, |b1)", origin, descr);
}

DType dtype_of_descr(const std::string &origin, const std::string &descr) {
  for (const DTypeCode &c : kDTypeCodes)
    if (c.descr == descr) return c.dtype;
  reject_descr(origin, descr);
}

struct Header {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// Parses the header, a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// NumPy writes exactly these three keys; anything else means a file we would
// misread, so it is rejected.
class HeaderParser {
public:
  HeaderParser(std::string_view text, const std::string &origin) : text_(text), origin_(origin) {}

  Header parse() {
    Header h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!consume('}')) {
      std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        h.descr = parse_descr();
        seen_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = parse_bool();
        seen_order = true;
      } else if (key == "shape") {
        h.shape = parse_shape();
        seen_shape = true;
      } else {
        error(fmt::format("unexpected key '{}'", key));
      }
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    if (!seen_descr || !seen_order || !seen_shape)
      error("it needs the keys 'descr', 'fortran_order' and 'shape'");
    skip_space();
    if (pos_ != text_.size())
      error(fmt::format("unexpected text after the dict at offset {}", pos_));
    return h;
  }

private:
  [[noreturn]] void error(std::string_view what) const {
    fail("{}: malformed .npy header: {}", origin_, what);
  }

  // Python's whitespace: NumPy reads the header with ast.literal_eval, so
  // a newline may stand anywhere a space may (and ends every header).
  void skip_space() {
    auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    while (pos_ < text_.size() && space(text_[pos_])) ++pos_;
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c)) error(fmt::format("expected '{}' at offset {}", c, pos_));
  }
  char peek() {
    skip_space();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  std::string parse_string() {
    char quote = peek();
    if (quote != '\'' && quote != '"') error(fmt::format("expected a string at offset {}", pos_));
    size_t end = text_.find(quote, ++pos_);
    if (end == std::string_view::npos) error("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  std::string parse_descr() {
    // A list here is a structured dtype (named fields), which has no kiln equivalent.
    if (peek() == '[') fail("{}: structured dtypes are not supported", origin_);
    return parse_string();
  }

  bool parse_bool() {
    skip_space();
    for (auto [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(pos_).starts_with(word)) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    error(fmt::format("expected True or False at offset {}", pos_));
  }

  Shape parse_shape() {
    Shape shape;
    expect('(');
    while (!consume(')')) {
      shape.push_back(parse_dim());
      if (!consume(',')) {
        expect(')');
        break;
      }
    }
    return shape;
  }

  int64_t parse_dim() {
    skip_space();
    int64_t d = 0;
    size_t start = pos_;
    for (; pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; ++pos_)
      if (__builtin_mul_overflow(d, 10, &d) || __builtin_add_overflow(d, text_[pos_] - '0', &d))
        error("a dimension is too large");
    if (pos_ == start) error(fmt::format("expected a dimension at offset {}", pos_));
    consume('L'); // Python 2 wrote long integers as "3L".
    return d;
  }

  std::string_view text_;
  const std::string &origin_;
  size_t pos_ = 0;
};

uint32_t read_le(std::string_view bytes, size_t offset, size_t width) {
  uint32_t value = 0;
  for (size_t i = 0; i < width; ++i)
    value |= uint32_t(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  return value;
}

void append_le(std::string &out, uint32_t value, size_t width) {
  for (size_t i = 0; i < width; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// The header text and where the data starts, after checking the preamble.
std::pair<std::string_view, size_t> split_header(std::string_view bytes,
                                                 const std::string &origin) {
  if (!bytes.starts_with(kMagic.substr(0, std::min(bytes.size(), kMagic.size()))))
    fail("{}: not a .npy file (bad magic bytes)", origin);
  if (bytes.size() < kMagic.size() + 2) fail("{}: truncated .npy header", origin);
  int major = static_cast<unsigned char>(bytes[6]), minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail("{}: .npy format version {}.{} is not supported (kiln reads 1.0, 2.0, 3.0)", origin, major,
         minor);
  size_t width = major == 1 ? 2 : 4;
  size_t start = kMagic.size() + 2 + width;
  if (bytes.size() < start) fail("{}: truncated .npy header", origin);
  size_t length = read_le(bytes, kMagic.size() + 2, width);
  if (bytes.size() - start < length) fail("{}: truncated .npy header", origin);
  return {bytes.substr(start, length), start + length};
}

// The data size the header promises, checked before anything is allocated.
size_t data_bytes(const Header &h, DType dtype, const std::string &origin) {
  size_t bytes = byte_size(dtype);
  for (int64_t d : h.shape)
    if (__builtin_mul_overflow(bytes, static_cast<size_t>(d), &bytes))
      fail("{}: shape {} is too large", origin, to_string(h.shape));
  return bytes;
}

size_t aligned(size_t n) {
  return (n + kHeaderAlignment - 1) / kHeaderAlignment * kHeaderAlignment;
}

std::string shape_tuple(const Shape &shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

} // namespace

Tensor parse_npy(std::string_view bytes, const std::string &origin) {
  auto [text, data_start] = split_header(bytes, origin);
  Header h = HeaderParser(text, origin).parse();
  if (h.fortran_order)
    fail("{}: Fortran-order arrays are not supported (save np.ascontiguousarray(a))", origin);
  DType dtype = dtype_of_descr(origin, h.descr);
  std::string type = std::string(to_string(dtype)) + to_string(h.shape);
  size_t expected = data_bytes(h, dtype, origin);
  std::string_view data = bytes.substr(data_start);
  if (data.size() < expected)
    fail("{}: truncated data: {} needs {} bytes, the file has {}", origin, type, expected,
         data.size());
  if (data.size() > expected)
    fail("{}: {} bytes of unexpected data after the {} array", origin, data.size() - expected,
         type);
  Tensor t(dtype, h.shape);
  std::memcpy(t.raw(), data.data(), t.bytes());
  return t;
}

std::string format_npy(const Tensor &t) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 descr_of(t.dtype()), shape_tuple(t.shape()));
  // Version 1.0 stores the header length in 16 bits; longer headers need 2.0.
  uint8_t major = dict.size() + 1 + kHeaderAlignment > 0xffff ? 2 : 1;
  size_t preamble = kMagic.size() + 2 + (major == 1 ? 2 : 4);
  size_t header_length = aligned(preamble + dict.size() + 1) - preamble;
  dict.resize(header_length - 1, ' ');
  dict.push_back('\n');

  std::string out(kMagic);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  append_le(out, static_cast<uint32_t>(header_length), major == 1 ? 2 : 4);
  out += dict;
  out.append(static_cast<const char *>(t.raw()), t.bytes());
  return out;
}

Tensor read_npy(const std::filesystem::path &path) {
  return parse_npy(read_file(path), path.string());
}

void write_npy(const std::filesystem::path &path, const Tensor &t) {
  write_file_atomically(path, format_npy(t));
}

} // namespace kiln
