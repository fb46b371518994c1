// Ahead-of-time compiled models (kiln_add_model, at build time) against
// Sessions on the same graphs: outputs, training steps and checkpoints equal
// bit for bit; instances independent across threads; bad calls answered
// with an error code and a message.
#include "aot_lenet1.h"
#include "aot_lenet8.h"
#include "aot_mlp1.h"
#include "aot_mlp32.h"
#include "aot_models.h"

#include "../temp_dir.h"
#include "session/checkpoint.h"
#include "session/session.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <thread>

#include <xmmintrin.h>

namespace kiln {
namespace {

using aot_test::lenet_graph;
using aot_test::mlp_graph;

Tensor uniform(Shape shape, uint32_t seed) {
  Tensor t(f32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  for (float &v : t.data<float>()) v = u(rng);
  return t;
}

Tensor labels(int64_t n, uint32_t seed) {
  Tensor t(i32, {n});
  std::mt19937 rng(seed);
  for (int32_t &v : t.data<int32_t>()) v = int32_t(rng() % 10);
  return t;
}

bool same_bits(const Tensor &t, const void *data) {
  return std::memcmp(t.raw(), data, t.bytes()) == 0;
}

std::vector<std::string> variable_names(const Graph &g) {
  std::vector<std::string> names;
  for (const Node &n : g.nodes())
    if (n.op->source == Source::variable) names.push_back(n.name);
  return names;
}

// Every variable of the session equals the instance's, bit for bit.
void require_same_variables(const Session &s, const kiln_aot_instance *m) {
  for (const std::string &name : variable_names(s.graph())) {
    Tensor mine = s.variable(name);
    std::vector<std::byte> theirs(mine.bytes());
    REQUIRE(kiln_aot_get_variable(m, name.c_str(), theirs.data(), theirs.size()) == KILN_OK);
    INFO(name);
    REQUIRE(same_bits(mine, theirs.data()));
  }
}

TEST_CASE("aot: MLP and LeNet-5 inference equal the JIT's, bit for bit, at two batch sizes") {
  Session mlp(mlp_graph(), {.threads = 2});
  Session lenet(lenet_graph(), {.threads = 2});
  // Both MLP batch sizes: probabilities and classes.
  auto mlp_equal = [&](auto &m, int64_t batch) {
    Tensor x = uniform({batch, 784}, uint32_t(batch));
    std::vector<float> p(size_t(batch) * 10);
    std::vector<int64_t> c(static_cast<size_t>(batch));
    m.predict(x.data<float>().data(), p.data(), c.data());
    std::vector<Tensor> jit = mlp.run({{"x", x}}, {"probabilities", "predicted"});
    INFO("batch " << batch);
    REQUIRE(same_bits(jit[0], p.data()));
    REQUIRE(same_bits(jit[1], c.data()));
  };
  aot_mlp1::Model mlp1(AOT_MLP1_WEIGHTS, 2);
  mlp_equal(mlp1, AOT_MLP1_BATCH);
  aot_mlp32::Model mlp32(AOT_MLP32_WEIGHTS, 2);
  mlp_equal(mlp32, AOT_MLP32_BATCH);
  for (int64_t n : {1, 8}) {
    Tensor x = uniform({n, 1, 28, 28}, uint32_t(n));
    std::vector<float> p(size_t(n) * 10);
    if (n == 1)
      aot_lenet1::Model(nullptr, 2).predict(x.data<float>().data(), p.data()); // embedded weights
    else
      aot_lenet8::Model(AOT_LENET8_WEIGHTS, 2).predict(x.data<float>().data(), p.data());
    INFO("batch " << n);
    REQUIRE(same_bits(lenet.run({{"x", x}}, {"probabilities"})[0], p.data()));
  }
}

TEST_CASE("aot: 100 training steps of the MLP equal 100 Session steps") {
  Session s(mlp_graph(), {.threads = 2});
  aot_mlp32::Model m(AOT_MLP32_WEIGHTS, 2);
  require_same_variables(s, m.get()); // both from the initializers
  for (uint32_t step = 0; step < 100; ++step) {
    Tensor x = uniform({32, 784}, step), y = labels(32, step);
    float loss = 0;
    m.train_step(x.data<float>().data(), y.data<int32_t>().data(), &loss);
    Tensor expected = s.run({{"x", x}, {"y", y}}, {"loss"}, {"adam/train"})[0];
    INFO("step " << step);
    REQUIRE(same_bits(expected, &loss));
  }
  require_same_variables(s, m.get());
}

TEST_CASE("aot: a label outside the classes fails train_step, naming it, and trains nothing") {
  Session s(mlp_graph(), {.threads = 1});
  aot_mlp32::Model m(AOT_MLP32_WEIGHTS, 1);
  Tensor x = uniform({32, 784}, 1), y = labels(32, 1);
  y.set(5, 10);
  float loss = 0;
  REQUIRE(aot_mlp32_train_step(m.get(), x.data<float>().data(), y.data<int32_t>().data(), &loss) ==
          KILN_INVALID_ARGUMENT);
  REQUIRE_THAT(kiln_last_error(),
               Catch::EndsWith("(one_hot): index 10 at row 5 of 'y' is outside [0, 10)"));
  require_same_variables(s, m.get()); // both still at the initializers
}

TEST_CASE("aot: a checkpoint goes AOT -> Session -> AOT unchanged") {
  test::TempDir dir;
  aot_mlp32::Model m(AOT_MLP32_WEIGHTS, 1);
  float loss;
  for (uint32_t step = 0; step < 3; ++step)
    m.train_step(uniform({32, 784}, step).data<float>().data(),
                 labels(32, step).data<int32_t>().data(), &loss);
  m.save_checkpoint((dir.path() / "aot.ckpt").string());

  Session s(mlp_graph(), {.threads = 1});
  restore_checkpoint(s, dir.path() / "aot.ckpt");
  require_same_variables(s, m.get());
  Tensor x = uniform({32, 784}, 9), y = labels(32, 9);
  s.run({{"x", x}, {"y", y}}, {"loss"}, {"adam/train"});
  save_checkpoint(s, dir.path() / "session.ckpt");

  m.load_checkpoint((dir.path() / "session.ckpt").string());
  require_same_variables(s, m.get());
  // And the instance trains on from there as the session does.
  Tensor x2 = uniform({32, 784}, 10), y2 = labels(32, 10);
  m.train_step(x2.data<float>().data(), y2.data<int32_t>().data(), &loss);
  REQUIRE(same_bits(s.run({{"x", x2}, {"y", y2}}, {"loss"}, {"adam/train"})[0], &loss));
}

TEST_CASE("aot: N threads with N instances give the results of one instance run serially") {
  constexpr int kThreads = 4, kSteps = 10;
  auto train = [](std::vector<float> &losses, std::vector<float> &weights) {
    aot_mlp32::Model m(AOT_MLP32_WEIGHTS, 1);
    for (uint32_t step = 0; step < kSteps; ++step) {
      float loss;
      m.train_step(uniform({32, 784}, step).data<float>().data(),
                   labels(32, step).data<int32_t>().data(), &loss);
      losses.push_back(loss);
    }
    weights.resize(512 * 10);
    m.get_variable("dense_1/W", weights.data(), weights.size());
  };
  std::vector<float> serial_losses, serial_weights;
  train(serial_losses, serial_weights);
  std::vector<std::vector<float>> losses(kThreads), weights(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] { train(losses[size_t(t)], weights[size_t(t)]); });
  for (std::thread &t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(losses[size_t(t)] == serial_losses);
    REQUIRE(weights[size_t(t)] == serial_weights);
  }
}

TEST_CASE("aot: runs leave the caller's floating-point state as it was, flushing or not") {
  kiln_aot_instance *m = nullptr;
  REQUIRE(aot_mlp32_create(&m, AOT_MLP32_WEIGHTS, 2) == KILN_OK);
  std::vector<float> x = std::vector<float>(AOT_MLP32_PREDICT_X_ELEMENTS, 0.5f);
  std::vector<float> reference(AOT_MLP32_PREDICT_PROBABILITIES_ELEMENTS), p(reference.size()),
      kept(reference.size());
  std::vector<int64_t> c(AOT_MLP32_PREDICT_PREDICTED_ELEMENTS);
  REQUIRE(aot_mlp32_predict(m, x.data(), reference.data(), c.data()) == KILN_OK);
  unsigned saved = _mm_getcsr();
  unsigned host = (saved & ~0x8040u) | 0x2000u; // no flushing, rounding toward -infinity
  _mm_setcsr(host);
  REQUIRE(aot_mlp32_predict(m, x.data(), p.data(), c.data()) == KILN_OK);
  CHECK((_mm_getcsr() & ~0x3fu) == (host & ~0x3fu)); // its control bits (the rest are flags)
  REQUIRE(kiln_aot_flush_denormals(m, 0) == KILN_OK);
  REQUIRE(aot_mlp32_predict(m, x.data(), kept.data(), c.data()) == KILN_OK);
  CHECK((_mm_getcsr() & ~0x3fu) == (host & ~0x3fu)); // its control bits (the rest are flags)
  _mm_setcsr(saved);
  // The kernels round to nearest whatever the caller does (and these
  // outputs hold no denormals to flush).
  CHECK(p == reference);
  CHECK(kept == reference);
  aot_mlp32_destroy(m);
}

TEST_CASE("aot: bad calls return an error code and a message, never crash") {
  test::TempDir dir;
  kiln_aot_instance *m = nullptr;
  REQUIRE(aot_mlp32_create(nullptr, AOT_MLP32_WEIGHTS, 1) == KILN_INVALID_ARGUMENT);
  REQUIRE(std::string(kiln_last_error()) == "the instance pointer is null");
  REQUIRE(kiln_aot_create(nullptr, nullptr, 1, &m) == KILN_INVALID_ARGUMENT);
  REQUIRE(std::string(kiln_last_error()) == "the model is null");
  REQUIRE(aot_mlp32_create(&m, AOT_MLP32_WEIGHTS, -1) == KILN_INVALID_ARGUMENT);
  REQUIRE(std::string(kiln_last_error()) == "threads is -1: give 0 for all cores, or a count");
  REQUIRE(aot_mlp32_create(&m, nullptr, 1) == KILN_INVALID_ARGUMENT);
  REQUIRE(std::string(kiln_last_error()) ==
          "model 'aot_mlp32' has no embedded weights: give the path of its .weights file");
  std::string missing = (dir.path() / "missing.weights").string();
  REQUIRE(aot_mlp32_create(&m, missing.c_str(), 1) == KILN_BAD_FILE);
  REQUIRE_THAT(kiln_last_error(), Catch::Contains("cannot open '" + missing + "'"));
  REQUIRE(m == nullptr);
  // A special file as weights: refused at once, not read until memory runs out.
  REQUIRE(aot_mlp32_create(&m, "/dev/zero", 1) == KILN_BAD_FILE);
  REQUIRE(std::string(kiln_last_error()) ==
          "cannot read '/dev/zero': it is a character device, not a regular file or a pipe");
  REQUIRE(m == nullptr);
  REQUIRE(aot_mlp32_create(&m, AOT_MLP32_WEIGHTS, 1) == KILN_OK);
  REQUIRE(kiln_aot_load_checkpoint(m, "/dev/zero") == KILN_BAD_FILE);
  REQUIRE(std::string(kiln_last_error()) ==
          "cannot read '/dev/zero': it is a character device, not a regular file or a pipe");
  aot_mlp32_destroy(m);
  m = nullptr;

  REQUIRE(aot_mlp32_create(&m, AOT_MLP32_WEIGHTS, 1) == KILN_OK);
  REQUIRE(std::string(kiln_last_error()).empty());
  std::vector<float> x(AOT_MLP32_PREDICT_X_ELEMENTS), p(AOT_MLP32_PREDICT_PROBABILITIES_ELEMENTS);
  std::vector<int64_t> c(AOT_MLP32_PREDICT_PREDICTED_ELEMENTS);
  REQUIRE(aot_mlp32_predict(m, nullptr, p.data(), c.data()) == KILN_INVALID_ARGUMENT);
  REQUIRE(std::string(kiln_last_error()) == "model 'aot_mlp32' predict: input 'x' is null");
  REQUIRE(aot_mlp32_predict(m, x.data(), p.data(), nullptr) == KILN_INVALID_ARGUMENT);
  REQUIRE(std::string(kiln_last_error()) ==
          "model 'aot_mlp32' predict: output 'predicted' is null");
  REQUIRE(aot_mlp32_predict(nullptr, x.data(), p.data(), c.data()) == KILN_INVALID_ARGUMENT);
  REQUIRE(kiln_aot_flush_denormals(nullptr, 0) == KILN_INVALID_ARGUMENT);
  REQUIRE(kiln_aot_run(m, 7, nullptr, nullptr) == KILN_INVALID_ARGUMENT);
  REQUIRE(std::string(kiln_last_error()) == "model 'aot_mlp32' has entry points 0 to 1, not 7");

  std::vector<float> w(10);
  REQUIRE(aot_mlp32_get_variable(m, "dense_1/b", w.data(), 9 * sizeof(float)) ==
          KILN_INVALID_ARGUMENT);
  REQUIRE(std::string(kiln_last_error()) ==
          "model 'aot_mlp32': variable 'dense_1/b' holds 40 bytes (f32[10]), not 36");
  REQUIRE(aot_mlp32_set_variable(m, "dense_9/b", w.data(), 40) == KILN_INVALID_ARGUMENT);
  REQUIRE(std::string(kiln_last_error()) == "model 'aot_mlp32' has no variable named 'dense_9/b'");
  REQUIRE(aot_mlp32_get_variable(m, nullptr, w.data(), 40) == KILN_INVALID_ARGUMENT);

  // A checkpoint of another model: every mismatch listed, nothing changed.
  REQUIRE(aot_mlp32_predict(m, x.data(), p.data(), c.data()) == KILN_OK);
  Session lenet(lenet_graph(), {.threads = 1});
  std::string other = (dir.path() / "lenet.ckpt").string();
  save_checkpoint(lenet, other);
  REQUIRE(aot_mlp32_load_checkpoint(m, other.c_str()) == KILN_BAD_FILE);
  std::string message = kiln_last_error();
  REQUIRE_THAT(message, Catch::Contains("checkpoint '" + other +
                                        "': variable 'dense/W' has shape [400, 120] in the "
                                        "file, the graph expects [784, 512]"));
  REQUIRE_THAT(message, Catch::Contains("variable 'adam/dense/W/m' is missing from the file"));
  REQUIRE_THAT(message, Catch::Contains("variable 'conv2d/W' in the file is not in the model"));
  std::vector<float> p2(p.size());
  REQUIRE(aot_mlp32_predict(m, x.data(), p2.data(), c.data()) == KILN_OK);
  REQUIRE(p2 == p);
  std::string garbage = (dir.path() / "garbage.ckpt").string();
  std::FILE *f = std::fopen(garbage.c_str(), "wb");
  std::fputs("not a checkpoint", f);
  std::fclose(f);
  REQUIRE(aot_mlp32_load_checkpoint(m, garbage.c_str()) == KILN_BAD_FILE);
  REQUIRE_THAT(kiln_last_error(), Catch::Contains("not a kiln checkpoint"));
  REQUIRE(aot_mlp32_save_checkpoint(m, (dir.path() / "no/such/dir/x.ckpt").c_str()) ==
          KILN_BAD_FILE);
  aot_mlp32_destroy(m);
  aot_mlp32_destroy(nullptr); // as free(NULL)

  // The C++ class throws the same message.
  REQUIRE_THROWS_WITH(aot_mlp32::Model(missing.c_str()),
                      Catch::Contains("cannot open '" + missing + "'"));
}

} // namespace
} // namespace kiln
