#include "frontends/normalization.h"

#include "ir/error.h"

namespace kiln::nn {

Value batch_norm(Graph &g, Value x, Value training, BatchNormOptions options) {
  Shape in = x.shape();
  if ((in.size() != 2 && in.size() != 4) || is_batch(in[1]))
    fail("batch_norm: '{}' must be [N, C] or [N, C, H, W] with C known, got {}", x.name(),
         to_string(x.type()));
  if (training.dtype() != DType::boolean || training.rank() != 0)
    fail("batch_norm: training flag '{}' must be a bool scalar, got {}", training.name(),
         to_string(training.type()));
  Scope scope(g, unique_scope(g, options.scope));
  int64_t channels = in[1];
  std::vector<int64_t> axes =
      in.size() == 2 ? std::vector<int64_t>{0} : std::vector<int64_t>{0, 2, 3};
  Shape per_channel = in.size() == 2 ? Shape{1, channels} : Shape{1, channels, 1, 1};
  DType t = x.dtype();
  Value gamma = variable(g, "gamma", t, {channels}, Init::ones());
  Value beta = variable(g, "beta", t, {channels}, Init::zeros());
  Value running_mean = variable(g, "running_mean", t, {channels}, Init::zeros(), false);
  Value running_var = variable(g, "running_var", t, {channels}, Init::ones(), false);

  // Synchronized, each rank's share of the moments is averaged: equal
  // shards make that the whole batch's (the variance about the whole mean).
  auto over_ranks = [&](Value v) { return options.synchronized ? allreduce_mean(v) : v; };
  Value batch_mean = over_ranks(mean(x, axes, false, "batch_mean"));
  Value centered = x - reshape(batch_mean, per_channel);
  Value batch_var = over_ranks(mean(square(centered), axes, false, "batch_var"));
  // In training the statistics are the batch's; only these [C] vectors are
  // selected, so one normalization serves both modes.
  Value m = reshape(select(training, batch_mean, running_mean), per_channel);
  Value v = reshape(select(training, batch_var, running_var), per_channel);
  Value y = (x - m) * rsqrt(v + options.epsilon) * reshape(gamma, per_channel) +
            reshape(beta, per_channel);

  // The rank's own item count, synchronized too: N*n/(N*n - 1) would need
  // the rank count in the graph (docs/decisions.md).
  Value n = size(x, axes, t);
  Value unbiased = batch_var * (n / maximum(n - 1.0, 1.0));
  double decay = 1 - options.momentum;
  moving_average(running_mean, batch_mean, decay, false, "update_mean");
  moving_average(running_var, unbiased, decay, false, "update_var");
  return y;
}

Value layer_norm(Graph &g, Value x, LayerNormOptions options) {
  Shape in = x.shape();
  if (in.empty() || is_batch(in.back()))
    fail("layer_norm: '{}' needs a known last dim, got {}", x.name(), to_string(x.type()));
  Scope scope(g, unique_scope(g, options.scope));
  int64_t features = in.back();
  Value gamma = variable(g, "gamma", x.dtype(), {features}, Init::ones());
  Value beta = variable(g, "beta", x.dtype(), {features}, Init::zeros());
  Value centered = x - mean(x, {-1}, true);
  Value var = mean(square(centered), {-1}, true);
  return centered * rsqrt(var + options.epsilon) * gamma + beta;
}

} // namespace kiln::nn
