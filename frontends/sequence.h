// Sequence layers: embeddings and recurrent nets unrolled over a static
// sequence length, in namespace kiln::nn. Sequences are batch-major,
// [N, T, features] (PyTorch's batch_first=True).
//
// LSTM and GRU keep PyTorch's parameterization so that weights load and
// results compare one to one: per layer l, variables <scope>/layer_<l>/W_ih
// [G * hidden, in], W_hh [G * hidden, hidden], b_ih and b_hh [G * hidden],
// gates stacked in PyTorch's order (LSTM i, f, g, o: G = 4; GRU r, z, n:
// G = 3), initialized as PyTorch does, uniform in +-1/sqrt(hidden). The
// initial state is zero. Each layer projects the inputs of all time steps
// with one matmul before the recurrence; the recurrence runs under a scope
// per step (<scope>/layer_<l>/t<k>/...), so dumps read step by step.
#pragma once

#include "ops/builder.h"

namespace kiln::nn {

struct EmbeddingOptions {
  Init init = Init::normal(1); // PyTorch's nn.Embedding
  DType dtype = f32;
  int64_t seed = -1; // seeds an unseeded init; -1: leave it
  std::string scope = "embedding";
};

// Rows of the variable <scope>/W [vocabulary, dim] picked by integer ids of
// any shape: ids.shape + [dim]. An id outside [0, vocabulary) gives zeros.
Value embedding(Graph &g, Value ids, int64_t vocabulary, int64_t dim,
                EmbeddingOptions options = {});

struct RecurrentOptions {
  int64_t layers = 1;
  // All hidden states of the last layer [N, T, hidden], or only the last
  // step's [N, hidden].
  bool return_sequences = false;
  int64_t seed = -1;      // seeds the initializers; -1: from the variables' names
  std::string scope = ""; // empty: "lstm" or "gru"
};

// PyTorch's nn.LSTM: i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of
// x W_ih^T + b_ih + h W_hh^T + b_hh; c' = f c + i g; h' = o tanh(c').
Value lstm(Graph &g, Value x, int64_t hidden, RecurrentOptions options = {});

// PyTorch's nn.GRU: r, z = sigmoid(x W_i{r,z}^T + b_i{r,z} + h W_h{r,z}^T +
// b_h{r,z}); n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn));
// h' = (1 - z) n + z h.
Value gru(Graph &g, Value x, int64_t hidden, RecurrentOptions options = {});

} // namespace kiln::nn
