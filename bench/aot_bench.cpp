// Ahead-of-time compiled models against the JIT Session on the same graphs
// (bench/make_bench_models.cpp), in one process: batch-1 latency and
// batch-256 throughput of the MLP and LeNet-5 (bench/timing.h's method, as
// the PyTorch and ONNX Runtime peers measure), and the MLP's batch-64 Adam
// training step. Prints RESULT lines for bench/aot.sh.
//   aot_bench [--threads N]
#include "bench_lenet1.h"
#include "bench_lenet256.h"
#include "bench_mlp1.h"
#include "bench_mlp256.h"
#include "bench_mlp_train.h"

#include "ir/serialize.h"
#include "session/session.h"
#include "timing.h"

#include <cstring>
#include <random>

namespace {

using namespace kiln;

Tensor random(Shape shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Tensor t(f32, std::move(shape));
  for (float &v : t.data<float>()) v = normal(rng);
  return t;
}

// A compiled model's instance, driven through the C API so that one
// function serves every batch size's model.
class Instance {
public:
  Instance(const kiln_aot_model &model, const char *weights, int threads) {
    if (kiln_aot_create(&model, weights, threads, &m_) != KILN_OK) {
      fmt::print(stderr, "aot_bench: {}\n", kiln_last_error());
      std::exit(1);
    }
  }
  ~Instance() { kiln_aot_destroy(m_); }
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;
  void predict(const float *x, float *logits) {
    const void *in[] = {x};
    void *out[] = {logits};
    if (kiln_aot_run(m_, 0, in, out) != KILN_OK) std::abort();
  }

private:
  kiln_aot_instance *m_ = nullptr;
};

struct Compiled {
  const kiln_aot_model &model;
  const char *weights;
};

// Batch 1 latency and batch 256 throughput, AOT and JIT, one after the other.
void infer(const std::string &name, const Graph &g, Compiled b1, Compiled b256, Shape item,
           int threads) {
  std::string t = std::to_string(threads);
  Session session(g, {.threads = threads});
  for (auto [batch, compiled] : {std::pair{int64_t(1), b1}, std::pair{int64_t(256), b256}}) {
    Shape shape = item;
    shape.insert(shape.begin(), batch);
    Tensor x = random(shape, 1);
    std::vector<float> logits(size_t(batch) * 10);
    Instance instance(compiled.model, compiled.weights, threads);
    auto aot = [&] { instance.predict(x.data<float>().data(), logits.data()); };
    auto jit = [&] { session.run({{"x", x}}, {"logits"}); };
    std::string at = fmt::format("{}.b{}.t{}", name, batch, t);
    if (batch == 1) {
      bench::result("kiln_aot_infer." + at + ".latency", bench::latency_blocks(aot), "us");
      bench::result("kiln_jit_infer." + at + ".latency", bench::latency_blocks(jit), "us");
    } else {
      bench::result("kiln_aot_infer." + at + ".throughput", bench::throughput_blocks(aot, batch),
                    "examples/s");
      bench::result("kiln_jit_infer." + at + ".throughput", bench::throughput_blocks(jit, batch),
                    "examples/s");
    }
  }
}

} // namespace

int main(int argc, char **argv) {
  int threads = 2;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  std::string t = std::to_string(threads);
  const char *dir = BENCH_MODELS;
  Graph mlp = load_graph(std::string(dir) + "/mlp.kiln");
  Graph lenet = load_graph(std::string(dir) + "/lenet.kiln");
  infer("mlp", mlp, {kiln_model_bench_mlp1, BENCH_MLP1_WEIGHTS},
        {kiln_model_bench_mlp256, BENCH_MLP256_WEIGHTS}, {784}, threads);
  infer("lenet", lenet, {kiln_model_bench_lenet1, BENCH_LENET1_WEIGHTS},
        {kiln_model_bench_lenet256, BENCH_LENET256_WEIGHTS}, {1, 28, 28}, threads);

  // The training step: AOT and JIT from the same initial weights.
  Session session(mlp, {.threads = threads});
  bench_mlp_train::Model model(BENCH_MLP_TRAIN_WEIGHTS, threads);
  Tensor x = random({64, 784}, 2);
  Tensor y(i32, {64});
  for (int64_t i = 0; i < 64; ++i) y.data<int32_t>()[size_t(i)] = int32_t(i % 10);
  float loss;
  auto step_ms = [](auto &&step) {
    for (int i = 0; i < 20; ++i) step();
    std::vector<double> ms;
    for (int block = 0; block < 7; ++block) {
      auto start = bench::Clock::now();
      for (int i = 0; i < 50; ++i) step();
      ms.push_back(bench::seconds_since(start) * 1e3 / 50);
    }
    return ms;
  };
  bench::result("kiln_aot_train.mlp.b64.t" + t + ".step_time", step_ms([&] {
                  model.train_step(x.data<float>().data(), y.data<int32_t>().data(), &loss);
                }),
                "ms");
  bench::result("kiln_jit_train.mlp.b64.t" + t + ".step_time", step_ms([&] {
                  session.run({{"x", x}, {"y", y}}, {"loss"}, {"adam/train"});
                }),
                "ms");
}
