#include "data/idx.h"

#include "ir/error.h"
#include "ir/file_io.h"

#include <zlib.h>

#include <algorithm>
#include <string>

namespace kiln {

namespace {

// An IDX file starts 0, 0, 0x08 (unsigned bytes), the rank, then each dim as
// a big-endian u32.
constexpr size_t kPreambleBytes = 4;

struct IdxHeader {
  Shape shape;
  size_t bytes = 0;      // the header's own
  size_t data_bytes = 0; // what it claims follows
};

uint32_t big_endian(std::string_view b, size_t at) {
  auto byte = [&](size_t i) { return uint32_t(uint8_t(b[at + i])); };
  return byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
}

IdxHeader parse_header(std::string_view b, const std::string &origin) {
  if (b.size() < kPreambleBytes || b[0] != 0 || b[1] != 0 || uint8_t(b[2]) != 0x08)
    fail("{}: not an IDX file of unsigned bytes", origin);
  size_t rank = uint8_t(b[3]);
  IdxHeader h;
  h.bytes = kPreambleBytes + 4 * rank;
  if (rank == 0 || b.size() < h.bytes) fail("{}: truncated IDX header", origin);
  for (size_t d = 0; d < rank; ++d) h.shape.push_back(big_endian(b, kPreambleBytes + 4 * d));
  // The product of the dims, overflow-checked, before it is compared or allocated.
  h.data_bytes = 1;
  for (int64_t d : h.shape)
    if (__builtin_mul_overflow(h.data_bytes, size_t(d), &h.data_bytes))
      fail("{}: shape {} is too large", origin, to_string(h.shape));
  return h;
}

// Decompresses `path` (gzread passes a plain file through) no further than
// its header says: a header claiming more than the file holds costs no
// memory, and a stream that never ends is cut off a byte past the claim.
std::string read_idx_bytes(const std::filesystem::path &path, const std::string &origin) {
  InputFile file(path);
  gzFile f = gzdopen(file.fd(), "rb");
  if (!f) fail("cannot read '{}': out of memory", path.string());
  file.release(); // gzclose closes it
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{f};
  std::string bytes;
  auto read_up_to = [&](size_t total) {
    char buffer[1 << 16];
    while (bytes.size() < total) {
      int n = gzread(f, buffer, unsigned(std::min(sizeof buffer, total - bytes.size())));
      if (n < 0) fail("{}: corrupt gzip data", origin);
      if (n == 0) return;
      bytes.append(buffer, size_t(n));
    }
  };
  read_up_to(kPreambleBytes);
  read_up_to(kPreambleBytes + 4 * (bytes.size() == kPreambleBytes ? uint8_t(bytes[3]) : 0));
  IdxHeader h = parse_header(bytes, origin);
  read_up_to(h.bytes + h.data_bytes + 1);
  if (bytes.size() > h.bytes + h.data_bytes)
    fail("{}: more data than the {} bytes its header gives", origin, h.data_bytes);
  return bytes;
}

} // namespace

Tensor parse_idx(std::string_view b, const std::string &origin, double scale, int64_t limit) {
  IdxHeader h = parse_header(b, origin);
  if (b.size() - h.bytes != h.data_bytes)
    fail("{}: expected {} bytes of data, found {}", origin, h.data_bytes, b.size() - h.bytes);
  Shape shape = h.shape;
  if (limit > 0 && limit < shape[0]) shape[0] = limit;
  size_t rank = shape.size();
  Tensor t(rank == 1 ? DType::i32 : DType::f32, shape);
  for (int64_t i = 0; i < t.size(); ++i) {
    double v = uint8_t(b[h.bytes + size_t(i)]);
    t.set(i, rank == 1 ? v : v * scale);
  }
  return t;
}

Tensor read_idx(const std::filesystem::path &path, double scale, int64_t limit) {
  std::string origin = fmt::format("'{}'", path.string());
  return parse_idx(read_idx_bytes(path, origin), origin, scale, limit);
}

} // namespace kiln
