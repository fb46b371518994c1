#include "frontends/attention.h"

#include "frontends/layer_seeds.h"
#include "frontends/nn.h"
#include "frontends/normalization.h"
#include "ir/error.h"

#include <cmath>

namespace kiln::nn {

namespace {

// What a masked score becomes: far enough below any real score that its
// softmax weight is 0 in f32 and f64, finite so that a fully masked row
// stays a number.
constexpr double kMasked = -1e9;

// A dense layer <name> whose weight is seeded from (seed, its name), so that
// projections of one shape do not start equal.
Value projection(Graph &g, Value x, int64_t units, const std::string &name, int64_t seed,
                 Activation act = {}) {
  Init kernel = seeded_for(g, Init::glorot_uniform(), seed, name + "/W");
  return dense(g, x, units, std::move(act), {.kernel_init = kernel, .scope = name});
}

// [N, T, D] -> [N, heads, T, D / heads]
Value split_heads(Value x, int64_t heads) {
  Shape s = x.shape();
  return transpose(reshape(x, {-1, s[1], heads, s[2] / heads}), {0, 2, 1, 3});
}

// [N, heads, T, d] -> [N, T, heads * d]
Value merge_heads(Value x) {
  Shape s = x.shape();
  return reshape(transpose(x, {0, 2, 1, 3}), {-1, s[2], s[1] * s[3]});
}

Value causal_mask(Graph &g, int64_t steps, DType dtype) {
  Tensor mask(dtype, {steps, steps});
  for (int64_t q = 0; q < steps; ++q)
    for (int64_t k = 0; k < steps; ++k) mask.set(q * steps + k, k <= q ? 0.0 : kMasked);
  return constant(g, std::move(mask), "causal_mask");
}

void check_sequence(Value x, const char *what, int64_t dim) {
  Shape s = x.shape();
  if (s.size() != 3 || is_batch(s[1]) || is_batch(s[2]) || !is_float(x.dtype()) ||
      (dim > 0 && s[2] != dim))
    fail("multi_head_attention: {} '{}' must be float [N, T, {}], got {}", what, x.name(),
         dim > 0 ? std::to_string(dim) : "D", to_string(x.type()));
}

} // namespace

Value multi_head_attention(Graph &g, Value query, Value keys, AttentionOptions options) {
  if (query.graph != &g || keys.graph != &g)
    fail("multi_head_attention: query '{}' and keys '{}' must belong to this graph", query.name(),
         keys.name());
  check_sequence(query, "query", 0);
  int64_t dim = query.shape()[2], steps = query.shape()[1], key_steps = keys.shape()[1];
  check_sequence(keys, "keys", dim);
  if (query.dtype() != keys.dtype())
    fail("multi_head_attention: query '{}' is {}, keys '{}' are {}", query.name(),
         to_string(query.dtype()), keys.name(), to_string(keys.dtype()));
  if (options.heads < 1 || dim % options.heads != 0)
    fail("multi_head_attention: {} heads do not divide the model dim {}", options.heads, dim);
  if (options.causal && key_steps != steps)
    fail("multi_head_attention: a causal mask needs as many keys as queries, got {} and {}",
         key_steps, steps);
  if (options.key_mask) {
    Value m = *options.key_mask;
    if (m.dtype() != DType::boolean || m.rank() != 2 || m.shape()[1] != key_steps)
      fail("multi_head_attention: key mask '{}' must be bool [N, {}], got {}", m.name(), key_steps,
           to_string(m.type()));
  }
  Scope scope(g, unique_scope(g, options.scope));
  int64_t heads = options.heads, seed = options.seed;
  Value q = split_heads(projection(g, query, dim, "q", seed), heads);
  Value k = split_heads(projection(g, keys, dim, "k", seed), heads);
  Value v = split_heads(projection(g, keys, dim, "v", seed), heads);
  // [N, heads, T, T_keys]
  Value scores =
      matmul(q, k, {.transpose_b = true}, "scores") * (1 / std::sqrt(double(dim / heads)));
  if (options.causal) scores = scores + causal_mask(g, steps, query.dtype());
  if (options.key_mask)
    scores = select(reshape(*options.key_mask, {-1, 1, 1, key_steps}), scores, kMasked);
  Value weights = softmax(scores, -1, "weights");
  return projection(g, merge_heads(matmul(weights, v, {}, "attend")), dim, "out", seed);
}

Value transformer_block(Graph &g, Value x, TransformerOptions options) {
  check_sequence(x, "input", 0);
  Scope scope(g, unique_scope(g, options.scope));
  int64_t dim = x.shape()[2], mlp_dim = options.mlp_dim > 0 ? options.mlp_dim : 4 * dim;
  AttentionOptions attention{.heads = options.heads,
                             .causal = options.causal,
                             .key_mask = options.key_mask,
                             .seed = options.seed};
  Value normed = layer_norm(g, x);
  Value h = x + multi_head_attention(g, normed, normed, attention);
  Value hidden = projection(g, layer_norm(g, h), mlp_dim, "mlp_in", options.seed, kiln::nn::gelu);
  return h + projection(g, hidden, dim, "mlp_out", options.seed);
}

} // namespace kiln::nn
