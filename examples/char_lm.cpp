// A character-level language model on the fortune-cookie texts of Debian's
// `fortunes` package (/usr/share/games/fortunes): an LSTM, or a stack of
// causal pre-norm transformer blocks, predicts each next byte of windows of
// --window bytes. Every tenth fortune is held out for validation. After a
// fixed budget of --steps Adam steps it prints the validation bits per
// character (each window starts from a zero state, so its first bytes have
// little context) and 5 samples of generated text, each started after the
// last `window` bytes before a held-out fortune. Exits with status 1 when
// the bits per character are above --max-bpc.
//
//   char_lm [--model lstm|transformer] [--steps 3000] [--window 64] [--hidden 256]
//       [--batch 32] [--threads 0] [--max-bpc 0] [--limit BYTES]
#include "frontends/attention.h"
#include "frontends/nn.h"
#include "frontends/normalization.h"
#include "frontends/optim.h"
#include "frontends/sampling.h"
#include "frontends/sequence.h"
#include "session/session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace {

constexpr const char *kFortunes = "/usr/share/games/fortunes";

struct Corpus {
  std::string train, validation;
  std::vector<int32_t> id_of; // byte -> id (-1: absent)
  std::string byte_of;        // id -> byte
};

// The fortunes of every file (not the .dat indexes, not the .u8 links), in
// name order, fortune i to validation when i % 10 == 9.
Corpus load_fortunes(size_t limit) {
  std::vector<std::filesystem::path> files;
  for (const auto &entry : std::filesystem::directory_iterator(kFortunes))
    if (entry.is_regular_file() && !entry.is_symlink() && entry.path().extension().empty())
      files.push_back(entry.path());
  if (files.empty())
    throw std::runtime_error(fmt::format("no fortunes in {}: install the package `fortunes` "
                                         "(bash scripts/setup.sh)",
                                         kFortunes));
  std::sort(files.begin(), files.end());
  Corpus c;
  size_t index = 0;
  for (const auto &file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string all = text.str(), fortune;
    for (size_t begin = 0; begin < all.size();) {
      size_t end = all.find("\n%\n", begin);
      end = end == std::string::npos ? all.size() : end + 3;
      (index++ % 10 == 9 ? c.validation : c.train) += all.substr(begin, end - begin);
      begin = end;
    }
  }
  if (limit > 0) {
    c.train.resize(std::min(c.train.size(), limit));
    c.validation.resize(std::min(c.validation.size(), limit / 9));
  }
  c.id_of.assign(256, -1);
  for (std::string *text : {&c.train, &c.validation})
    for (unsigned char b : *text)
      if (c.id_of[b] < 0) c.id_of[b] = 0;
  for (int b = 0; b < 256; ++b)
    if (c.id_of[size_t(b)] == 0) {
      c.id_of[size_t(b)] = int32_t(c.byte_of.size());
      c.byte_of += char(b);
    }
  return c;
}

// Windows of `window` + 1 bytes starting at `starts`: inputs the first
// `window`, targets the last `window`.
std::pair<kiln::Tensor, kiln::Tensor> windows(const Corpus &c, const std::string &text,
                                              const std::vector<size_t> &starts, int64_t window) {
  auto n = int64_t(starts.size());
  kiln::Tensor x(kiln::i32, {n, window}), y(kiln::i32, {n, window});
  int32_t *xs = x.data<int32_t>().data(), *ys = y.data<int32_t>().data();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t < window; ++t) {
      xs[i * window + t] = c.id_of[uint8_t(text[starts[size_t(i)] + size_t(t)])];
      ys[i * window + t] = c.id_of[uint8_t(text[starts[size_t(i)] + size_t(t) + 1])];
    }
  return {x, y};
}

struct Options {
  std::string model = "lstm";
  int64_t steps = 3000, window = 64, hidden = 256, batch = 32, limit = 0;
  int threads = 0;
  double max_bpc = 0;
};

// Logits [N, window, vocabulary] for ids [N, window].
kiln::Value language_model(kiln::Graph &g, kiln::Value ids, int64_t vocabulary, const Options &o) {
  if (o.model == "lstm") {
    kiln::Value e = kiln::nn::embedding(g, ids, vocabulary, 64, {.seed = 0});
    kiln::Value h = kiln::nn::lstm(g, e, o.hidden, {.return_sequences = true, .seed = 0});
    return kiln::nn::dense(g, h, vocabulary, {}, {.seed = 0, .scope = "logits"});
  }
  kiln::Value h = kiln::nn::embedding(g, ids, vocabulary, o.hidden,
                                      {.init = kiln::Init::normal(0.02), .seed = 0});
  h = h + kiln::variable(g, "position", kiln::f32, {o.window, o.hidden},
                         kiln::Init::normal(0.02).seed(1));
  for (int block = 0; block < 2; ++block)
    h = kiln::nn::transformer_block(g, h, {.heads = 4, .causal = true, .seed = block});
  return kiln::nn::dense(g, kiln::nn::layer_norm(g, h), vocabulary, {},
                         {.seed = 0, .scope = "logits"});
}

} // namespace

int main(int argc, char **argv) try {
  CLI::App app("Train a character-level language model on fortune cookies");
  Options o;
  app.add_option("--model", o.model, "lstm or transformer (2 causal blocks, 4 heads)")
      ->check(CLI::IsMember({"lstm", "transformer"}));
  app.add_option("--steps", o.steps, "training steps (the budget)");
  app.add_option("--window", o.window, "bytes per training window");
  app.add_option("--hidden", o.hidden, "LSTM hidden size, or the transformer's model dim");
  app.add_option("--batch", o.batch, "windows per step");
  app.add_option("--threads", o.threads, "worker threads (0: all cores)");
  app.add_option("--limit", o.limit, "train on the first BYTES bytes only (0: all)");
  app.add_option("--max-bpc", o.max_bpc,
                 "fail (exit 1) when the validation bits per character exceed this");
  CLI11_PARSE(app, argc, argv);

  Corpus c = load_fortunes(size_t(o.limit));
  auto vocabulary = int64_t(c.byte_of.size());
  fmt::print("{}: {} training and {} validation bytes, {} distinct\n", kFortunes, c.train.size(),
             c.validation.size(), vocabulary);

  kiln::Graph g;
  auto ids = kiln::placeholder(g, "ids", kiln::i32, {kiln::batch, o.window});
  auto next = kiln::placeholder(g, "next", kiln::i32, {kiln::batch, o.window});
  auto logits = language_model(g, ids, vocabulary, o);
  // Mean cross-entropy over every position, in nats.
  auto picked = kiln::one_hot(next, vocabulary) * kiln::log_softmax(logits);
  auto loss = kiln::neg(kiln::mean(kiln::sum(picked, {-1})), "loss");
  auto train = kiln::optim::Adam{.lr = 2e-3}.minimize(loss);
  kiln::Session session(g, {.threads = o.threads});

  std::mt19937_64 rng(0);
  std::uniform_int_distribution<size_t> start(0, c.train.size() - size_t(o.window) - 2);
  auto begin = std::chrono::steady_clock::now();
  double recent = 0;
  for (int64_t step = 1; step <= o.steps; ++step) {
    std::vector<size_t> starts(size_t(o.batch));
    for (size_t &s : starts) s = start(rng);
    auto [x, y] = windows(c, c.train, starts, o.window);
    recent += session.run({{ids, x}, {next, y}}, {loss}, {train})[0].get(0);
    if (step % 500 == 0 || step == o.steps) {
      int64_t n = step % 500 == 0 ? 500 : step % 500;
      fmt::print("step {}: training {:.3f} bits per character\n", step,
                 recent / double(n) / std::log(2.0));
      recent = 0;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();

  // Validation: non-overlapping windows, 256 at a time.
  double nats = 0;
  int64_t windows_seen = 0;
  for (size_t s = 0; s + size_t(o.window) + 1 <= c.validation.size();) {
    std::vector<size_t> starts;
    for (; starts.size() < 256 && s + size_t(o.window) + 1 <= c.validation.size();
         s += size_t(o.window))
      starts.push_back(s);
    auto [x, y] = windows(c, c.validation, starts, o.window);
    nats += session.run({{ids, x}, {next, y}}, {loss})[0].get(0) * double(starts.size());
    windows_seen += int64_t(starts.size());
  }
  double bpc = nats / double(windows_seen) / std::log(2.0);
  fmt::print("{} ({} steps of {} windows of {} bytes, {:.1f} s, {:.1f} s compiling): "
             "validation {:.3f} bits per character\n",
             o.model, o.steps, o.batch, o.window, seconds, session.stats().total_compile_ms / 1000,
             bpc);

  // Samples: the model reads the last `window` bytes, temperature 0.8, top 10.
  std::vector<size_t> fortune_starts;
  for (size_t p = c.validation.find("\n%\n"); p != std::string::npos;
       p = c.validation.find("\n%\n", p + 1))
    if (p + 3 >= size_t(o.window)) fortune_starts.push_back(p + 3);
  for (int sample = 0; sample < 5 && !fortune_starts.empty(); ++sample) {
    size_t at = fortune_starts[size_t(sample) * fortune_starts.size() / 5];
    std::string context = c.validation.substr(at - size_t(o.window), size_t(o.window)), text;
    for (int k = 0; k < 240; ++k) {
      kiln::Tensor x(kiln::i32, {1, o.window});
      for (int64_t t = 0; t < o.window; ++t)
        x.data<int32_t>()[size_t(t)] = c.id_of[uint8_t(context[size_t(t)])];
      kiln::Tensor out = session.run({{ids, x}}, {logits})[0];
      std::span<const float> last = out.data<float>().subspan(size_t((o.window - 1) * vocabulary));
      char b = c.byte_of[size_t(kiln::nn::sample(last, {.temperature = 0.8, .top_k = 10}, rng))];
      text += b;
      context.erase(0, 1);
      context.push_back(b);
      if (text.ends_with("\n%\n")) break;
    }
    fmt::print("--- sample {}\n{}\n", sample + 1, text);
  }
  if (o.max_bpc > 0 && bpc > o.max_bpc) {
    fmt::print(stderr, "char_lm: {:.3f} bits per character, more than --max-bpc {}\n", bpc,
               o.max_bpc);
    return 1;
  }
} catch (const std::exception &e) {
  fmt::print(stderr, "char_lm: error: {}\n", e.what());
  return 1;
}
