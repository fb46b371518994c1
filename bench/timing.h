// How the benchmarks in bench/ time calls, the way bench/torch_mlp_infer.py
// and the ONNX Runtime peer do, so their RESULT lines compare:
// - latency: every call timed on its own; a block's median call, over 7
//   blocks of 2000 calls (after 200 warm-up calls);
// - throughput: 7 blocks of 50 calls (after 20 warm-up calls), examples/s.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace kiln::bench {

using Clock = std::chrono::steady_clock;

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// RESULT name=... value=MEDIAN unit=... min=... max=... n=...
inline void result(const std::string &name, const std::vector<double> &samples, const char *unit) {
  fmt::print("RESULT name={} value={:.6g} unit={} min={:.6g} max={:.6g} n={}\n", name,
             median(samples), unit, *std::min_element(samples.begin(), samples.end()),
             *std::max_element(samples.begin(), samples.end()), samples.size());
}

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Block medians of single calls, in µs.
template <typename F> std::vector<double> latency_blocks(F &&call, int calls = 2000) {
  for (int i = 0; i < 200; ++i) call();
  std::vector<double> medians;
  for (int block = 0; block < 7; ++block) {
    std::vector<double> times;
    for (int i = 0; i < calls; ++i) {
      auto start = Clock::now();
      call();
      times.push_back(seconds_since(start) * 1e6);
    }
    medians.push_back(median(times));
  }
  return medians;
}

// Per block, `batch` examples a call over the block's mean call.
template <typename F>
std::vector<double> throughput_blocks(F &&call, int64_t batch, int calls = 50) {
  for (int i = 0; i < 20; ++i) call();
  std::vector<double> rates;
  for (int block = 0; block < 7; ++block) {
    auto start = Clock::now();
    for (int i = 0; i < calls; ++i) call();
    rates.push_back(double(batch) * calls / seconds_since(start));
  }
  return rates;
}

} // namespace kiln::bench
