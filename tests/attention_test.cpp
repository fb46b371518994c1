// nn::multi_head_attention and nn::transformer_block against a reference
// written here, with and without masks; their gradients, and those of
// nn::dense_block and nn::reparameterize, against finite differences.
#include "frontends/attention.h"
#include "frontends/nn.h"
#include "frontends/sampling.h"
#include "layer_check.h"

#include <cmath>

using namespace kiln;
using test::check_layer_gradients;

namespace {

struct Dense {
  std::vector<double> W, b; // W [in, out]
};

Dense dense_weights(const Session &s, const std::string &scope) {
  return {test::values(s, scope + "/W"), test::values(s, scope + "/b")};
}

// rows [T, in] x W + b -> [T, out]
std::vector<double> apply(const Dense &d, const std::vector<double> &rows, size_t in) {
  size_t out = d.b.size(), T = rows.size() / in;
  std::vector<double> y(T * out);
  for (size_t t = 0; t < T; ++t)
    for (size_t o = 0; o < out; ++o) {
      double acc = d.b[o];
      for (size_t i = 0; i < in; ++i) acc += rows[t * in + i] * d.W[i * out + o];
      y[t * out + o] = acc;
    }
  return y;
}

// Self-attention of one sequence x [T, D] the textbook way: per head,
// softmax over the allowed keys of q.k / sqrt(d), then the weighted sum of v.
std::vector<double> attention_reference(const Session &s, const std::vector<double> &x, size_t D,
                                        size_t heads, bool causal,
                                        const std::vector<bool> &key_ok) {
  size_t T = x.size() / D, d = D / heads;
  std::vector<double> q = apply(dense_weights(s, "attention/q"), x, D);
  std::vector<double> k = apply(dense_weights(s, "attention/k"), x, D);
  std::vector<double> v = apply(dense_weights(s, "attention/v"), x, D);
  std::vector<double> merged(T * D, 0);
  for (size_t h = 0; h < heads; ++h)
    for (size_t i = 0; i < T; ++i) {
      std::vector<double> w(T, 0);
      double total = 0;
      for (size_t j = 0; j < T; ++j) {
        if ((causal && j > i) || !key_ok[j]) continue;
        double dot = 0;
        for (size_t e = 0; e < d; ++e) dot += q[i * D + h * d + e] * k[j * D + h * d + e];
        w[j] = std::exp(dot / std::sqrt(double(d)));
        total += w[j];
      }
      for (size_t j = 0; j < T; ++j)
        for (size_t e = 0; e < d; ++e)
          merged[i * D + h * d + e] += w[j] / total * v[j * D + h * d + e];
    }
  return apply(dense_weights(s, "attention/out"), merged, D);
}

} // namespace

TEST_CASE("multi_head_attention matches a reference, masks on and off", "[attention]") {
  constexpr int64_t N = 2, T = 4, D = 6, heads = 3;
  std::mt19937 rng(5);
  Tensor xv = test::random_tensor(f32, {N, T, D}, rng, -1, 1);
  // Sequence 0 has all 4 keys, sequence 1 has 2 and 2 of padding.
  std::vector<std::vector<bool>> key_ok = {{true, true, true, true}, {true, true, false, false}};
  Tensor mask(DType::boolean, {N, T});
  for (int64_t i = 0; i < N * T; ++i) mask.set(i, key_ok[size_t(i / T)][size_t(i % T)]);
  for (bool causal : {false, true})
    for (bool masked : {false, true}) {
      INFO("causal " << causal << ", key mask " << masked);
      Graph g;
      Value x = placeholder(g, "x", f32, {batch, T, D});
      Value m = placeholder(g, "mask", DType::boolean, {batch, T});
      nn::AttentionOptions options{.heads = heads, .causal = causal, .seed = 2};
      if (masked) options.key_mask = m;
      Value y = nn::multi_head_attention(g, x, x, options);
      Session s(g);
      Feeds feeds = {{x, xv}};
      if (masked) feeds.push_back({m, mask});
      Tensor out = s.run(feeds, {y})[0];
      Tensor want(f32, out.shape());
      for (int64_t n = 0; n < N; ++n) {
        std::vector<double> seq(size_t(T * D));
        for (int64_t i = 0; i < T * D; ++i) seq[size_t(i)] = xv.get(n * T * D + i);
        std::vector<bool> ok = masked ? key_ok[size_t(n)] : std::vector<bool>(T, true);
        std::vector<double> ref = attention_reference(s, seq, D, heads, causal, ok);
        for (int64_t i = 0; i < T * D; ++i) want.set(n * T * D + i, ref[size_t(i)]);
      }
      // f32 against double through two projections and a softmax.
      CHECK(test::compare(out, want, 1e-5) == "");
    }
}

TEST_CASE("attention gradients match finite differences", "[attention][grad]") {
  for (int64_t steps : {1, 3})
    for (bool causal : {false, true})
      for (bool masked : {false, true}) {
        INFO(steps << " steps, causal " << causal << ", key mask " << masked);
        check_layer_gradients({{batch, steps, 4}}, [&](auto &v) {
          Graph &g = *v[0].graph;
          nn::AttentionOptions options{.heads = 2, .causal = causal};
          // The last key of a longer sequence is padding (not the first: the
          // causal mask would leave the first query no key).
          Tensor ok(DType::boolean, {1, steps});
          for (int64_t i = 0; i < steps; ++i) ok.set(i, i + 1 < steps || steps == 1);
          if (masked) options.key_mask = constant(g, ok);
          return nn::multi_head_attention(g, v[0], v[0], options);
        });
      }
  // Cross-attention: queries and keys of different lengths.
  check_layer_gradients({{batch, 2, 4}, {batch, 3, 4}}, [](auto &v) {
    return nn::multi_head_attention(*v[0].graph, v[0], v[1], {.heads = 2});
  });
}

TEST_CASE("a transformer block is x + attention(ln x), then + mlp(ln h)", "[attention][grad]") {
  check_layer_gradients({{batch, 3, 4}}, [](auto &v) {
    return nn::transformer_block(*v[0].graph, v[0], {.heads = 2, .causal = true, .mlp_dim = 6});
  });
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 5, 8});
  Value y = nn::transformer_block(g, x);
  CHECK(y.shape() == x.shape());
  CHECK(g.node(g.at("transformer/mlp_in/W")).type.shape == Shape{8, 32});
  CHECK(g.find("transformer/attention/q/W"));
}

TEST_CASE("dense_block concatenates every layer's features", "[attention][grad]") {
  check_layer_gradients({{batch, 3}},
                        [](auto &v) { return nn::dense_block(*v[0].graph, v[0], 2, 2, nn::tanh); });
  check_layer_gradients({{batch, 2, 3, 3}},
                        [](auto &v) { return nn::dense_block(*v[0].graph, v[0], 2, 1, nn::tanh); });
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3, 4, 4});
  CHECK(nn::dense_block(g, x, 3, 5).shape() == Shape{batch, 18, 4, 4});
}

TEST_CASE("attention explains bad input", "[attention][errors]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3, 6});
  Value short_keys = placeholder(g, "keys", f32, {batch, 2, 6});
  Value wrong_mask = placeholder(g, "mask", f32, {batch, 3});
  CHECK_THROWS_WITH(nn::multi_head_attention(g, x, x, {.heads = 4}),
                    "multi_head_attention: 4 heads do not divide the model dim 6");
  CHECK_THROWS_WITH(nn::multi_head_attention(g, x, short_keys, {.causal = true}),
                    "multi_head_attention: a causal mask needs as many keys as queries, got 2 "
                    "and 3");
  CHECK_THROWS_WITH(nn::multi_head_attention(g, x, x, {.key_mask = wrong_mask}),
                    "multi_head_attention: key mask 'mask' must be bool [N, 3], got f32[?, 3]");
}

TEST_CASE("reparameterize samples mu + sigma eps, differentiably", "[sampling][grad]") {
  Graph g;
  Value mu = placeholder(g, "mu", f32, {batch, 3});
  Value log_var = placeholder(g, "log_var", f32, {batch, 3});
  Value z = nn::reparameterize(g, mu, log_var, 9);
  Value kl = nn::gaussian_kl(mu, log_var);
  Session s(g);
  Tensor m = Tensor::from<float>({2, 3}, {0, 1, -1, 2, 0.5, 0});
  Tensor lv = Tensor::from<float>({2, 3}, {0, -1, 1, 0.5, 0, -2});
  std::vector<Tensor> out = s.run({{mu, m}, {log_var, lv}}, {z, "reparameterize/eps", kl});
  Tensor want_z(f32, {2, 3}), want_kl(f32, {2});
  for (int64_t i = 0; i < 6; ++i) {
    want_z.set(i, m.get(i) + std::exp(lv.get(i) / 2) * out[1].get(i));
    want_kl.set(i / 3, want_kl.get(i / 3) -
                           0.5 * (1 + lv.get(i) - m.get(i) * m.get(i) - std::exp(lv.get(i))));
  }
  CHECK(test::compare(out[0], want_z, 1e-6) == "");
  CHECK(test::compare(out[2], want_kl, 1e-6) == "");
  CHECK(out[1].get(0) != out[1].get(1)); // noise, not a constant

  check_layer_gradients({{batch, 3}, {batch, 3}}, [](auto &v) {
    return nn::reparameterize(*v[0].graph, v[0], v[1], 4) +
           reshape(nn::gaussian_kl(v[0], v[1]), {-1, 1});
  });
}

TEST_CASE("sample draws with temperature and top-k", "[sampling]") {
  std::vector<float> logits = {1, 3, 2, -1};
  std::mt19937_64 rng(1);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 4000; ++i) ++counts[size_t(nn::sample(logits, {.top_k = 2}, rng))];
  CHECK(counts[0] == 0);
  CHECK(counts[3] == 0);
  // p(1) / p(2) = e at temperature 1: ~2920 of 4000.
  CHECK(std::abs(counts[1] - 2924) < 150);
  for (int i = 0; i < 100; ++i) CHECK(nn::sample(logits, {.top_k = 1}, rng) == 1);
  // A low temperature is nearly greedy, a high one nearly uniform.
  int greedy = 0, last = 0;
  for (int i = 0; i < 1000; ++i) {
    greedy += nn::sample(logits, {.temperature = 0.05}, rng) == 1;
    last += nn::sample(logits, {.temperature = 100}, rng) == 3;
  }
  CHECK(greedy == 1000);
  CHECK(std::abs(last - 250) < 60);
  CHECK_THROWS_WITH(nn::sample(logits, {.temperature = 0}, rng),
                    "sample: temperature 0 must be positive");
}
