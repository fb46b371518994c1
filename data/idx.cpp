#include "data/idx.h"

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

uint32_t big_endian(std::string_view b, size_t at) {
  auto byte = [&](size_t i) { return uint32_t(uint8_t(b[at + i])); };
  return byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
}

} // namespace

Tensor parse_idx(std::string_view b, const std::string &origin, double scale, int64_t limit) {
  if (b.size() < 4 || b[0] != 0 || b[1] != 0 || uint8_t(b[2]) != 0x08)
    fail("{}: not an IDX file of unsigned bytes", origin);
  size_t rank = uint8_t(b[3]);
  if (rank == 0 || b.size() < 4 + 4 * rank) fail("{}: truncated IDX header", origin);
  Shape shape;
  for (size_t d = 0; d < rank; ++d) shape.push_back(big_endian(b, 4 + 4 * d));
  size_t header = 4 + 4 * rank;
  // The product of the dims, overflow-checked, before it is compared or allocated.
  size_t elements = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(elements, size_t(d), &elements))
      fail("{}: shape {} is too large", origin, to_string(shape));
  if (b.size() - header != elements)
    fail("{}: expected {} bytes of data, found {}", origin, elements, b.size() - header);
  if (limit > 0 && limit < shape[0]) shape[0] = limit;
  Tensor t(rank == 1 ? DType::i32 : DType::f32, shape);
  for (int64_t i = 0; i < t.size(); ++i) {
    double v = uint8_t(b[header + size_t(i)]);
    t.set(i, rank == 1 ? v : v * scale);
  }
  return t;
}

Tensor read_idx(const std::filesystem::path &path, double scale, int64_t limit) {
  // gzread passes plain files through.
  return parse_idx(read_gzip(path), fmt::format("'{}'", path.string()), scale, limit);
}

} // namespace kiln
