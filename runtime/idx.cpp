#include "runtime/idx.h"

#include "ir/error.h"

#include <zlib.h>

#include <string>

namespace kiln {

namespace {

std::string read_gzip(const std::filesystem::path &path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail("cannot open '{}'", path.string());
  std::string bytes;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(f, buffer, sizeof buffer)) > 0) bytes.append(buffer, size_t(n));
  bool ok = n == 0;
  gzclose(f);
  if (!ok) fail("'{}': corrupt gzip data", path.string());
  return bytes;
}

uint32_t big_endian(const std::string &b, size_t at) {
  auto byte = [&](size_t i) { return uint32_t(uint8_t(b[at + i])); };
  return byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
}

} // namespace

Tensor read_idx(const std::filesystem::path &path, double scale, int64_t limit) {
  std::string b = read_gzip(path); // gzread passes plain files through
  if (b.size() < 4 || b[0] != 0 || b[1] != 0 || uint8_t(b[2]) != 0x08)
    fail("'{}': not an IDX file of unsigned bytes", path.string());
  size_t rank = uint8_t(b[3]);
  if (rank == 0 || b.size() < 4 + 4 * rank) fail("'{}': truncated IDX header", path.string());
  Shape shape;
  for (size_t d = 0; d < rank; ++d) shape.push_back(big_endian(b, 4 + 4 * d));
  size_t header = 4 + 4 * rank;
  if (b.size() - header != size_t(num_elements(shape)))
    fail("'{}': expected {} bytes of data, found {}", path.string(), num_elements(shape),
         b.size() - header);
  if (limit > 0 && limit < shape[0]) shape[0] = limit;
  Tensor t(rank == 1 ? DType::i32 : DType::f32, shape);
  for (int64_t i = 0; i < t.size(); ++i) {
    double v = uint8_t(b[header + size_t(i)]);
    t.set(i, rank == 1 ? v : v * scale);
  }
  return t;
}

} // namespace kiln
