// Attention layers, in namespace kiln::nn: multi-head scaled dot-product
// attention and a pre-norm transformer block over sequences [N, T, D].
// Projections are dense layers ([in, out] weights, as nn::dense).
#pragma once

#include "ops/builder.h"

#include <optional>

namespace kiln::nn {

struct AttentionOptions {
  int64_t heads = 1; // must divide the model dim
  // Each query position attends only to keys at or before it (a language
  // model's mask); needs as many keys as queries.
  bool causal = false;
  // Keys to ignore: a bool [N, T_keys], true where a key is real (false:
  // padding). A query whose keys are all masked averages all of them
  // uniformly, where PyTorch's -inf mask gives NaN.
  std::optional<Value> key_mask = {};
  int64_t seed = -1; // seeds the projections' initializers
  std::string scope = "attention";
};

// softmax(q k^T / sqrt(D / heads) + masks) v per head, for q = query W_q,
// k = keys W_k, v = keys W_v (each with a bias), the heads concatenated and
// projected by W_o: [N, T, D] for query [N, T, D] and keys [N, T_keys, D].
Value multi_head_attention(Graph &g, Value query, Value keys, AttentionOptions options = {});

struct TransformerOptions {
  int64_t heads = 1; // as in AttentionOptions
  bool causal = false;
  std::optional<Value> key_mask = {};
  int64_t mlp_dim = 0; // the MLP's hidden width; 0: 4 D
  int64_t seed = -1;   // seeds attention and MLP alike
  std::string scope = "transformer";
};

// A pre-norm transformer block (GPT-2's): h = x + attention(ln(x)), then
// h + mlp(ln(h)), the MLP dense(mlp_dim, gelu) - dense(D).
Value transformer_block(Graph &g, Value x, TransformerOptions options = {});

} // namespace kiln::nn
