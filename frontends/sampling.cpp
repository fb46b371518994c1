#include "frontends/sampling.h"

#include "frontends/optim.h"
#include "ir/error.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace kiln::nn {

Value reparameterize(Graph &g, Value mu, Value log_var, int64_t seed) {
  if (mu.graph != &g || log_var.graph != &g)
    fail("reparameterize: mu '{}' and log_var '{}' must belong to this graph", mu.name(),
         log_var.name());
  if (mu.type() != log_var.type() || !is_float(mu.dtype()))
    fail("reparameterize: mu '{}' is {} and log_var '{}' is {}: they must be one float type",
         mu.name(), to_string(mu.type()), log_var.name(), to_string(log_var.type()));
  Scope scope(g, unique_scope(g, "reparameterize"));
  Value eps = random_normal_like(mu, 0, 1, seed, optim::global_step(g), "eps");
  return add(mu, exp(log_var * 0.5) * eps, "z");
}

Value gaussian_kl(Value mu, Value log_var, std::string name) {
  Value terms = 1.0 + log_var - square(mu) - exp(log_var);
  return mul(sum(terms, {-1}), -0.5, std::move(name));
}

int64_t sample(std::span<const float> logits, const SamplingOptions &options,
               std::mt19937_64 &rng) {
  if (logits.empty()) fail("sample: no logits to sample from");
  if (!(options.temperature > 0))
    fail("sample: temperature {} must be positive", options.temperature);
  if (options.top_k < 0) fail("sample: top_k {} must be >= 0", options.top_k);
  std::vector<double> scaled(logits.begin(), logits.end());
  for (double &l : scaled) l /= options.temperature;
  double cutoff = -INFINITY;
  if (options.top_k > 0 && size_t(options.top_k) < scaled.size()) {
    std::vector<double> sorted = scaled;
    std::nth_element(sorted.begin(), sorted.begin() + (options.top_k - 1), sorted.end(),
                     std::greater<>());
    cutoff = sorted[size_t(options.top_k - 1)];
  }
  double top = *std::max_element(scaled.begin(), scaled.end());
  std::vector<double> weights(scaled.size());
  for (size_t i = 0; i < scaled.size(); ++i)
    weights[i] = scaled[i] >= cutoff ? std::exp(scaled[i] - top) : 0;
  std::discrete_distribution<int64_t> pick(weights.begin(), weights.end());
  return pick(rng);
}

} // namespace kiln::nn
