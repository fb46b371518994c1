// A training step of the model of bench/peers/torch_lstm_train.py, in kiln:
// a 1-layer LSTM (input 64, hidden 128) over 32 steps, batch 32, a dense
// 128 -> 64 on the last hidden state, softmax cross-entropy, SGD lr 0.01.
// Measured the way peerlib.bench_train measures PyTorch (20 warm-up steps,
// then 7 repeats of 100 steps; per-step time of each repeat), so the two
// print comparable RESULT lines. Also prints the first run's compile time
// (the disk cache is off: cold) and the step's arena size, and with --model
// transformer the same for a pre-norm transformer block (D 64, 4 heads,
// causal, MLP 256) over the same input, mean-pooled into the dense layer.
//
//   lstm_train_bench [--threads 2] [--steps 32] [--model lstm|transformer]
//       [--repeats 7] [--compile-only]
#include "frontends/attention.h"
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "frontends/sequence.h"
#include "session/profile.h"
#include "session/session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <random>

namespace {

using Clock = std::chrono::steady_clock;

void result(const std::string &name, std::vector<double> samples, const char *unit) {
  std::sort(samples.begin(), samples.end());
  fmt::print("RESULT name={} value={:.6g} unit={} min={:.6g} max={:.6g} n={}\n", name,
             samples[samples.size() / 2], unit, samples.front(), samples.back(), samples.size());
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app("Time a training step of an LSTM (or transformer block) classifier");
  int threads = 2, repeats = 7;
  int64_t steps = 32;
  std::string model = "lstm";
  bool compile_only = false, profile = false, inter_op = true;
  app.add_option("--threads", threads, "worker threads");
  app.add_option("--steps", steps, "sequence length");
  app.add_option("--model", model, "lstm or transformer")
      ->check(CLI::IsMember({"lstm", "transformer"}));
  app.add_option("--repeats", repeats, "timed blocks of 100 steps");
  app.add_flag("--compile-only", compile_only, "stop after the first (compiling) step");
  app.add_flag("--profile", profile, "print each kernel's time and the compilation's phases");
  app.add_flag("!--no-inter-op", inter_op, "run kernels one after another, never side by side");
  CLI11_PARSE(app, argc, argv);

  constexpr int64_t B = 32, D = 64, H = 128, C = 64;
  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, steps, D});
  auto y = kiln::placeholder(g, "y", kiln::i32, {kiln::batch});
  kiln::Value features =
      model == "lstm"
          ? kiln::nn::lstm(g, x, H, {.seed = 0})
          : kiln::mean(kiln::nn::transformer_block(g, x, {.heads = 4, .causal = true, .seed = 0}),
                       {1});
  auto logits = kiln::nn::dense(g, features, C, {}, {.seed = 0});
  auto loss = kiln::mean(kiln::nn::softmax_cross_entropy(logits, y));
  auto train = kiln::optim::SGD{.lr = 0.01}.minimize(loss);

  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  kiln::Tensor xv(kiln::f32, {B, steps, D}), yv(kiln::i32, {B});
  for (float &v : xv.data<float>()) v = normal(rng);
  for (int32_t &v : yv.data<int32_t>()) v = int32_t(rng() % C);
  kiln::Feeds feeds = {{x, xv}, {y, yv}};

  kiln::SessionOptions options{.threads = threads, .profile = profile, .inter_op = inter_op};
  options.compile.cache = false; // cold: every unit compiled in this process
  kiln::Session session(g, options);
  std::string name = fmt::format("kiln_{}_train.b{}.s{}.t{}{}", model, B, steps, threads,
                                 inter_op ? "" : ".sequential");
  auto start = Clock::now();
  session.run(feeds, {loss}, {train});
  double first_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const kiln::SessionStats &st = session.stats();
  fmt::print("RESULT name={}.compile_time value={:.4g} unit=ms\n", name, st.last_compile_ms);
  fmt::print("RESULT name={}.first_step value={:.4g} unit=ms\n", name, first_ms);
  fmt::print("RESULT name={}.arena value={:.4g} unit=MiB\n", name,
             double(st.last_arena_bytes) / (1 << 20));
  fmt::print("# {} kernels, {} units, {} distinct, {} compiled (cache off)\n", st.last_kernels,
             st.last_compile.units, st.last_compile.unique_units, st.last_compile.compiled_units);
  if (compile_only) return 0;

  for (int i = 0; i < 20; ++i) session.run(feeds, {loss}, {train});
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    auto block = Clock::now();
    for (int i = 0; i < 100; ++i) session.run(feeds, {loss}, {train});
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - block).count() / 100);
  }
  result(name + ".step_time", ms, "ms");
  if (profile) fmt::print("{}", kiln::profile_table(session.profile()));
}
