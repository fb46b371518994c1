// A small counter-based generator (SplitMix64) and the distributions kiln's
// initializers use, written out so a seed gives the same numbers with every
// compiler and standard library.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace kiln::ops {

class Random {
public:
  explicit Random(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Box-Muller; one draw per call keeps the stream simple.
  double normal(double mean, double stddev) {
    double u1 = 1.0 - uniform(), u2 = uniform();
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  // Normal, redrawn outside two standard deviations.
  double truncated_normal(double mean, double stddev) {
    for (;;) {
      double z = normal(0, 1);
      if (std::abs(z) <= 2) return mean + stddev * z;
    }
  }

private:
  uint64_t state_;
};

// FNV-1a: a stable seed from a node name when none is given.
inline uint64_t stable_hash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) h = (h ^ uint8_t(c)) * 0x100000001b3ull;
  return h;
}

} // namespace kiln::ops
