#include "data/random_stream.h"

namespace kiln {

uint64_t uniform_below(ops::Random &rng, uint64_t n) {
  unsigned __int128 m = (unsigned __int128)rng.next() * n;
  if (uint64_t(m) < n) {
    uint64_t threshold = (0 - n) % n;
    while (uint64_t(m) < threshold) m = (unsigned __int128)rng.next() * n;
  }
  return uint64_t(m >> 64);
}

ops::Random example_random(uint64_t seed, int64_t epoch, int64_t index) {
  // Each step hashes (SplitMix64) the previous key plus the next number; the
  // constant keeps these streams apart from the shuffle's (Batches::order),
  // which starts from the bare seed.
  uint64_t key = ops::Random(seed ^ 0xa5a5'17e5'da7a'0001ull).next();
  key = ops::Random(key + uint64_t(epoch)).next();
  return ops::Random(key + uint64_t(index));
}

} // namespace kiln
