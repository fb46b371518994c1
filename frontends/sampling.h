// Sampling: the reparameterization trick inside graphs (variational
// autoencoders), and drawing tokens from a model's logits on the host, for
// generating sequences from a trained model.
#pragma once

#include "ops/builder.h"

#include <cstdint>
#include <random>
#include <span>

namespace kiln::nn {

// z = mu + exp(log_var / 2) * eps, eps ~ N(0, 1) shaped like mu: a sample of
// N(mu, exp(log_var)) that is differentiable in mu and log_var. eps is drawn
// from (seed, the global step), so each training step draws new noise.
Value reparameterize(Graph &g, Value mu, Value log_var, int64_t seed);

// KL(N(mu, exp(log_var)) || N(0, 1)) summed over the last axis, per example:
// -1/2 sum(1 + log_var - mu^2 - exp(log_var)).
Value gaussian_kl(Value mu, Value log_var, std::string name = {});

struct SamplingOptions {
  double temperature = 1; // logits are divided by it; must be > 0
  int64_t top_k = 0;      // draw among the k largest logits only; 0: all
};

// An index drawn from softmax(logits / temperature), restricted to the
// top_k largest logits (ties at the k-th all kept).
int64_t sample(std::span<const float> logits, const SamplingOptions &options, std::mt19937_64 &rng);

} // namespace kiln::nn
