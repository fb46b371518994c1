// The convolution and pooling layers of two Fashion-MNIST models at batch
// 64, each op on its own: conv2d, conv2d_backprop_input (dx) and
// conv2d_backprop_filter (dw), max_pool2d and its gradient.
//   LeNet-5:  conv 1->6 5x5 pad 2 on 28x28, pool 2, conv 6->16 5x5 on 14x14, pool 2
//   conv net: conv 1->32 3x3 same on 28x28, pool 2, conv 32->64 3x3 same on 14x14, pool 2
// Prints RESULT lines (ms per call: median of 7 blocks, min/max over the
// blocks) named like bench/conv_bench.py's for PyTorch; bench/conv_bench.sh
// runs both and prints the table.
//
//   conv_bench [--threads N] [--batch N]
#include "ops/builder.h"
#include "session/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <random>

namespace {

using namespace kiln;
using Clock = std::chrono::steady_clock;

struct Layer {
  std::string name;
  int64_t c, hw, o, k;
  Conv2dOptions options;
};

const std::vector<Layer> kLayers = {
    {"lenet.conv1", 1, 28, 6, 5, {.pads = {2, 2, 2, 2}}},
    {"lenet.conv2", 6, 14, 16, 5, {}},
    {"convnet.conv1", 1, 28, 32, 3, {.padding = "same"}},
    {"convnet.conv2", 32, 14, 64, 3, {.padding = "same"}},
};

struct Pool {
  std::string name;
  int64_t c, hw;
};
const std::vector<Pool> kPools = {{"lenet.pool1", 6, 28},
                                  {"lenet.pool2", 16, 10},
                                  {"convnet.pool1", 32, 28},
                                  {"convnet.pool2", 64, 14}};

Tensor random(Shape shape) {
  static std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  Tensor t(f32, std::move(shape));
  for (float &v : t.data<float>()) v = normal(rng);
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Times session.run(feeds, {}, {out}): 7 blocks of calls lasting ~50 ms each.
void measure(const std::string &name, Graph g, Value out, const Feeds &feeds, int threads,
             double gflop) {
  Session session(std::move(g), {.threads = threads});
  session.run(feeds, {}, {out});
  double compile_ms = session.stats().last_compile_ms;
  auto start = Clock::now();
  int warmup = 0;
  while (warmup < 3 || Clock::now() - start < std::chrono::milliseconds(50)) {
    session.run(feeds, {}, {out});
    ++warmup;
  }
  double per_call = std::chrono::duration<double>(Clock::now() - start).count() / warmup;
  int calls = std::max(1, int(0.05 / per_call));
  std::vector<double> blocks;
  for (int b = 0; b < 7; ++b) {
    auto t0 = Clock::now();
    for (int i = 0; i < calls; ++i) session.run(feeds, {}, {out});
    blocks.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / calls);
  }
  double ms = median(blocks);
  fmt::print("RESULT name={}.t{} value={:.4g} unit=ms min={:.4g} max={:.4g} n=7\n", name, threads,
             ms, *std::min_element(blocks.begin(), blocks.end()),
             *std::max_element(blocks.begin(), blocks.end()));
  fmt::print("# {}: {:.1f} GFLOP/s, compiled in {:.0f} ms\n", name, gflop / ms * 1e3, compile_ms);
}

void bench_conv(const Layer &l, int64_t batch, int threads) {
  // The op's attributes (padding resolved) and its output shape.
  Graph shapes;
  Value probe = conv2d(placeholder(shapes, "x", f32, {batch, l.c, l.hw, l.hw}),
                       placeholder(shapes, "w", f32, {l.o, l.c, l.k, l.k}), l.options);
  Shape y = probe.shape();
  double gflop = 2.0 * double(batch * l.o * y[2] * y[3] * l.c * l.k * l.k) * 1e-9;
  Tensor xv = random({batch, l.c, l.hw, l.hw}), wv = random({l.o, l.c, l.k, l.k}), dyv = random(y);
  for (const char *op : {"conv2d", "conv2d_backprop_input", "conv2d_backprop_filter"}) {
    Graph g;
    Value x = placeholder(g, "x", f32, {batch, l.c, l.hw, l.hw});
    Value w = placeholder(g, "w", f32, {l.o, l.c, l.k, l.k});
    Value dy = placeholder(g, "dy", f32, y);
    std::string s = op;
    Value out = s == "conv2d"                  ? apply(op, {x, w}, probe.node().attrs)
                : s == "conv2d_backprop_input" ? apply(op, {dy, w, x}, probe.node().attrs)
                                               : apply(op, {x, dy, w}, probe.node().attrs);
    Feeds feeds = {{x, xv}, {w, wv}, {dy, dyv}};
    measure(fmt::format("kiln_conv.{}.b{}.{}", l.name, batch, op), std::move(g), out, feeds,
            threads, gflop);
  }
}

void bench_pool(const Pool &p, int64_t batch, int threads) {
  Shape xs = {batch, p.c, p.hw, p.hw}, ys = {batch, p.c, p.hw / 2, p.hw / 2};
  Tensor xv = random(xs), dyv = random(ys);
  for (bool grad : {false, true}) {
    Graph g;
    Value x = placeholder(g, "x", f32, xs), dy = placeholder(g, "dy", f32, ys);
    Value y = max_pool2d(x);
    Value out = grad ? apply("max_pool2d_grad", {x, dy}, y.node().attrs) : y;
    measure(
        fmt::format("kiln_conv.{}.b{}.{}", p.name, batch, grad ? "max_pool2d_grad" : "max_pool2d"),
        std::move(g), out, {{x, xv}, {dy, dyv}}, threads, 0);
  }
}

} // namespace

int main(int argc, char **argv) {
  int threads = 2;
  int64_t batch = 64;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--batch") == 0) batch = std::atoll(argv[i + 1]);
  }
  for (const Layer &l : kLayers) bench_conv(l, batch, threads);
  for (const Pool &p : kPools) bench_pool(p, batch, threads);
}
