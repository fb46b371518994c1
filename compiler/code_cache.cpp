#include "compiler/code_cache.h"

#include "ir/error.h"
#include "ir/serialize.h"

#include <llvm/Support/xxhash.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace kiln::compiler {

namespace {

constexpr char kMagic[8] = {'k', 'i', 'l', 'n', 'o', 'b', 'j', '\n'};
constexpr uint32_t kFormat = 1;
constexpr std::string_view kSuffix = ".kobj";

// What precedes the object file in an entry.
struct Header {
  char magic[8];
  uint32_t format, reserved;
  uint64_t key_low, key_high;
  uint64_t size;
  uint64_t checksum; // xxh3 of the object bytes
};
static_assert(sizeof(Header) == 48);

uint64_t checksum(std::string_view bytes) {
  return llvm::xxh3_64bits(
      llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
}

bool is_entry(const std::filesystem::directory_entry &e) {
  return e.is_regular_file() && e.path().extension() == kSuffix;
}

} // namespace

std::string CacheKey::hex() const { return fmt::format("{:016x}{:016x}", high, low); }

bool CodeCache::disabled_by_environment() {
  const char *setting = std::getenv("KILN_CACHE");
  return setting && (std::string_view(setting) == "off" || std::string_view(setting) == "0");
}

std::optional<std::filesystem::path> CodeCache::default_directory() {
  if (disabled_by_environment()) return std::nullopt;
  return directory_from_environment();
}

std::optional<std::filesystem::path> CodeCache::directory_from_environment() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "kiln";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".cache" / "kiln";
  return std::nullopt;
}

std::filesystem::path CodeCache::entry_path(const CacheKey &key) const {
  return directory_ / (key.hex() + std::string(kSuffix));
}

CodeCache::Lookup CodeCache::load(const CacheKey &key, std::string &object) const {
  std::ifstream in(entry_path(key), std::ios::binary);
  if (!in) return Lookup::miss;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Header h;
  if (bytes.size() < sizeof h) return Lookup::rejected;
  std::memcpy(&h, bytes.data(), sizeof h);
  std::string_view body = std::string_view(bytes).substr(sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.format != kFormat ||
      h.key_low != key.low || h.key_high != key.high || h.size != body.size() ||
      h.checksum != checksum(body))
    return Lookup::rejected;
  object.assign(body);
  std::error_code ignored; // recency for trim()
  std::filesystem::last_write_time(entry_path(key), std::filesystem::file_time_type::clock::now(),
                                   ignored);
  return Lookup::hit;
}

void CodeCache::store(const CacheKey &key, std::string_view object) const {
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  if (error) return;
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.format = kFormat;
  h.key_low = key.low;
  h.key_high = key.high;
  h.size = object.size();
  h.checksum = checksum(object);
  std::string entry(reinterpret_cast<const char *>(&h), sizeof h);
  entry += object;
  // Not synced: an entry a crash damages fails its checksum and is replaced.
  try {
    write_file_atomically(entry_path(key), entry, Durability::none);
  } catch (const Error &) {
  }
}

CodeCache::Summary CodeCache::summary() const {
  Summary s;
  std::error_code error;
  for (const auto &e : std::filesystem::directory_iterator(directory_, error)) {
    if (!is_entry(e)) continue;
    ++s.entries;
    s.bytes += e.file_size(error);
  }
  return s;
}

size_t CodeCache::trim(uintmax_t max_bytes) const {
  struct Entry {
    std::filesystem::file_time_type used;
    uintmax_t bytes;
    std::filesystem::path path;
  };
  std::vector<Entry> all;
  uintmax_t total = 0;
  std::error_code error;
  for (const auto &e : std::filesystem::directory_iterator(directory_, error)) {
    if (!is_entry(e)) continue;
    all.push_back({e.last_write_time(error), e.file_size(error), e.path()});
    total += all.back().bytes;
  }
  if (total <= max_bytes) return 0;
  std::sort(all.begin(), all.end(), [](const Entry &a, const Entry &b) { return a.used < b.used; });
  size_t removed = 0;
  for (const Entry &e : all) {
    if (total <= max_bytes / 4 * 3) break;
    if (!std::filesystem::remove(e.path, error)) continue;
    ++removed;
    total -= e.bytes;
  }
  return removed;
}

size_t CodeCache::clear() const {
  size_t removed = 0;
  std::error_code error;
  for (const auto &e : std::filesystem::directory_iterator(directory_, error))
    if (is_entry(e) && std::filesystem::remove(e.path(), error)) ++removed;
  return removed;
}

} // namespace kiln::compiler
