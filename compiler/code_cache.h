// A disk cache of compiled units: object files keyed by a 128-bit hash of a
// unit's IR and of everything else that shapes its machine code (kiln's and
// LLVM's versions, the CPU and its features, the pipeline). An entry is
// written to a temporary file and renamed into place, so a reader sees whole
// entries only and two processes storing one key both succeed. Each entry
// carries its key and a checksum: a truncated, corrupt or foreign entry is
// rejected, never trusted, and replaced by the next store. A hit refreshes
// an entry's time; trim() drops the least recently used entries past a size
// limit. The cache is an optimization: failing to read or write it is never an
// error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::compiler {

struct CacheKey {
  uint64_t low = 0, high = 0;
  auto operator<=>(const CacheKey &) const = default;
  std::string hex() const; // 32 hex digits
};

class CodeCache {
public:
  // $XDG_CACHE_HOME/kiln, else $HOME/.cache/kiln; none when there is no home.
  static std::optional<std::filesystem::path> directory_from_environment();
  // The same, and none when KILN_CACHE=off: where sessions cache.
  static std::optional<std::filesystem::path> default_directory();
  static bool disabled_by_environment(); // KILN_CACHE=off (or 0)

  explicit CodeCache(std::filesystem::path directory) : directory_(std::move(directory)) {}
  const std::filesystem::path &directory() const { return directory_; }

  enum class Lookup { miss, hit, rejected };
  // On a hit, `object` holds the entry's object file.
  Lookup load(const CacheKey &key, std::string &object) const;
  void store(const CacheKey &key, std::string_view object) const;

  struct Summary {
    size_t entries = 0;
    uintmax_t bytes = 0;
  };
  Summary summary() const;
  size_t clear() const; // removes the entries; returns how many
  // Over `max_bytes`, removes the least recently used entries down to 3/4 of
  // it; returns how many.
  size_t trim(uintmax_t max_bytes) const;
  std::filesystem::path entry_path(const CacheKey &key) const;

private:
  std::filesystem::path directory_;
};

} // namespace kiln::compiler
