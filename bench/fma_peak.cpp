// The machine's f32 FMA peak, the ceiling the benchmarks' GFLOP/s are read
// against: every thread runs 16 independent chains of fused multiply-adds
// (enough to cover the FMA latency times its ports) on AVX-512 vectors, or
// on AVX2 vectors where the CPU has no AVX-512. 7 blocks; RESULT lines as
// bench/timing.h prints them, for 1 thread and for THREADS together.
//
//   fma_peak [--threads N]   (default 2)
#include "timing.h"

#include <immintrin.h>

#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 16;
constexpr long kSteps = 20'000'000;

// Flops of kSteps steps of every chain (a = a * x + y, which the compiler
// fuses); `sink` keeps the results alive. Inlined into the functions below,
// it is compiled for their instruction sets.
template <typename V> [[gnu::always_inline]] inline double chains(V x, V y, float *sink) {
  V acc[kChains];
#pragma GCC unroll 16
  for (int i = 0; i < kChains; ++i) acc[i] = x + y * float(i);
  for (long s = 0; s < kSteps; ++s)
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) {
      acc[i] = acc[i] * x + y;
      asm("" : "+v"(acc[i])); // one FMA per chain and step: nothing folded or merged
    }
  V total = acc[0];
#pragma GCC unroll 16
  for (int i = 1; i < kChains; ++i) total += acc[i];
  std::memcpy(sink, &total, sizeof(float));
  return 2.0 * kChains * kSteps * (sizeof(V) / sizeof(float));
}

__attribute__((target("avx512f"))) double avx512(float *sink) {
  return chains(_mm512_set1_ps(0.999f), _mm512_set1_ps(1e-7f), sink);
}
__attribute__((target("avx2,fma"))) double avx2(float *sink) {
  return chains(_mm256_set1_ps(0.999f), _mm256_set1_ps(1e-7f), sink);
}

// GFLOP/s of `threads` threads running their chains at once.
double gflops(int threads, bool wide) {
  std::vector<float> sinks(size_t(threads) * 16);
  std::vector<double> flops(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  auto start = kiln::bench::Clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      float *sink = &sinks[size_t(t) * 16];
      flops[size_t(t)] = wide ? avx512(sink) : avx2(sink);
    });
  for (std::thread &th : pool) th.join();
  double total = 0;
  for (double f : flops) total += f;
  return total / kiln::bench::seconds_since(start) * 1e-9;
}

} // namespace

int main(int argc, char **argv) {
  int threads = 2;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  bool wide = __builtin_cpu_supports("avx512f");
  for (int t : {1, threads}) {
    std::vector<double> blocks;
    for (int b = 0; b < 7; ++b) blocks.push_back(gflops(t, wide));
    kiln::bench::result(fmt::format("fma_peak_{}.t{}", wide ? "avx512" : "avx2", t), blocks,
                        "GFLOP/s");
  }
}
