// Single-thread GEMM benchmark: kiln_matmul_f32 (compiled natively, see
// gemm_bench.sh) against OpenBLAS cblas_sgemm. Prints GFLOP/s as
// min / median / max over repeats and the ratio of the medians.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "../kernels/kernel_abi.h"

extern "C" void kiln_matmul_f32(const float *A, const float *B, float *C, int64_t M, int64_t N,
                                int64_t K, int64_t a_rs, int64_t a_cs, int64_t b_rs, int64_t b_cs,
                                int64_t batch, int64_t a_bs, int64_t b_bs, int64_t c_bs,
                                int64_t task_begin, int64_t task_end);

namespace {

struct Shape {
  const char *name;
  int64_t M, N, K;
  bool trans_a, trans_b; // A stored K x M / B stored N x K (both row-major)
};

struct Stats {
  double min, median, max;
};

Stats stats(std::vector<double> rates) {
  std::sort(rates.begin(), rates.end());
  return {rates.front(), rates[rates.size() / 2], rates.back()};
}

// Times f() and g() alternately (at least 5 times each and ~0.5 s in all, so
// both see the same background load) and returns their GFLOP/s stats.
template <typename F, typename G> std::pair<Stats, Stats> measure(double flops, F f, G g) {
  f(); // warm caches and page in buffers
  g();
  std::vector<double> rf, rg;
  const auto seconds = [](auto fn) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const auto start = std::chrono::steady_clock::now();
  const auto more = [&] {
    const bool time_left =
        std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500);
    return rf.size() < 5 || (rf.size() < 2000 && time_left);
  };
  while (more()) {
    rf.push_back(flops / seconds(f) * 1e-9);
    rg.push_back(flops / seconds(g) * 1e-9);
  }
  return {stats(rf), stats(rg)};
}

} // namespace

int main() {
  const Shape shapes[] = {
      {"square 64", 64, 64, 64, false, false},
      {"square 128", 128, 128, 128, false, false},
      {"square 256", 256, 256, 256, false, false},
      {"square 512", 512, 512, 512, false, false},
      {"square 1024", 1024, 1024, 1024, false, false},
      {"mlp fc1 b1    1x784x512", 1, 512, 784, false, false},
      {"mlp fc1 b64   64x784x512", 64, 512, 784, false, false},
      {"mlp fc1 b256  256x784x512", 256, 512, 784, false, false},
      {"mlp fc2 b256  256x512x10", 256, 10, 512, false, false},
      {"mlp dW1 784x64^T*64x512", 784, 512, 64, true, false},
      {"B^T fc1 b1    1x784x512", 1, 512, 784, false, true},
      {"B^T fc1 b64   64x784x512", 64, 512, 784, false, true},
      {"B^T fc1 b256  256x784x512", 256, 512, 784, false, true},
      // ResNet-18's convolutions, one image: filters x (C * 3 * 3) x pixels.
      {"conv1 7x7  64x147x12544", 64, 12544, 147, false, false},
      {"layer1    64x576x3136", 64, 3136, 576, false, false},
      {"layer2   128x1152x784", 128, 784, 1152, false, false},
      {"layer3   256x2304x196", 256, 196, 2304, false, false},
      {"layer4   512x4608x49", 512, 49, 4608, false, false},
  };
  std::printf("%-28s %26s %26s %7s\n", "shape (MxKxN)", "kiln GFLOP/s min/med/max",
              "OpenBLAS min/med/max", "ratio");
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (const Shape &s : shapes) {
    std::vector<float> A(s.M * s.K), B(s.K * s.N), C(s.M * s.N), Cref(s.M * s.N);
    for (float &x : A) x = dist(rng);
    for (float &x : B) x = dist(rng);
    const int64_t a_rs = s.trans_a ? 1 : s.K, a_cs = s.trans_a ? s.M : 1;
    const int64_t b_rs = s.trans_b ? 1 : s.N, b_cs = s.trans_b ? s.K : 1;
    const int64_t tasks = kiln::abi::kiln_matmul_tasks(1, s.M, s.N);
    const double flops = 2.0 * s.M * s.N * s.K;
    const auto [kiln, blas] = measure(
        flops,
        [&] {
          kiln_matmul_f32(A.data(), B.data(), C.data(), s.M, s.N, s.K, a_rs, a_cs, b_rs, b_cs, 1, 0,
                          0, 0, 0, tasks);
        },
        [&] {
          cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans,
                      s.trans_b ? CblasTrans : CblasNoTrans, s.M, s.N, s.K, 1.f, A.data(),
                      s.trans_a ? s.M : s.K, B.data(), s.trans_b ? s.K : s.N, 0.f, Cref.data(),
                      s.N);
        });
    double err = 0;
    for (size_t i = 0; i < C.size(); ++i) err = std::max(err, (double)std::abs(C[i] - Cref[i]));
    std::printf("%-28s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %6.2fx%s\n", s.name, kiln.min,
                kiln.median, kiln.max, blas.min, blas.median, blas.max, kiln.median / blas.median,
                err > 1e-3 * s.K ? "  MISMATCH" : "");
  }
  return 0;
}
