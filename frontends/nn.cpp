#include "frontends/nn.h"

#include "frontends/optim.h"
#include "ir/error.h"

namespace kiln::nn {

Value relu(Value x) { return kiln::relu(x); }
Value sigmoid(Value x) { return kiln::sigmoid(x); }
Value tanh(Value x) { return kiln::tanh(x); }
Value leaky_relu(Value x) { return kiln::leaky_relu(x); }
Value elu(Value x) { return kiln::elu(x); }
Value softplus(Value x) { return kiln::softplus(x); }
Value gelu(Value x) { return kiln::gelu(x); }
Value softmax(Value x) { return kiln::softmax(x); }
Value log_softmax(Value x) { return kiln::log_softmax(x); }

namespace {

Init seeded(Init init, int64_t seed) {
  return seed >= 0 && init.seed_value < 0 ? init.seed(seed) : init;
}

} // namespace

Value dense(Graph &g, Value x, int64_t units, Activation act, DenseOptions options) {
  if (x.graph != &g) fail("dense: input '{}' belongs to another graph", x.name());
  Shape in = x.shape();
  if (in.empty() || is_batch(in.back()))
    fail("dense: input '{}' of type {} needs a known last dim", x.name(), to_string(x.type()));
  Scope scope(g, unique_scope(g, options.scope));
  Init kernel = seeded(options.kernel_init, options.seed);
  Value y = matmul(x, variable(g, "W", x.dtype(), {in.back(), units}, kernel));
  if (options.use_bias)
    y = y + variable(g, "b", x.dtype(), {units}, seeded(options.bias_init, options.seed));
  return act ? act(y) : y;
}

Value dropout(Graph &g, Value x, double rate, Value training, int64_t seed) {
  if (rate < 0 || rate >= 1) fail("dropout: rate {} must be in [0, 1)", rate);
  if (training.dtype() != DType::boolean || training.rank() != 0)
    fail("dropout: training flag '{}' must be a bool scalar, got {}", training.name(),
         to_string(training.type()));
  Scope scope(g, unique_scope(g, "dropout"));
  Value keep = greater_equal(random_uniform_like(x, 0, 1, seed, optim::global_step(g)), rate);
  // The [N, ...] mask is selected by the scalar flag: 1 / (1 - rate) or 0 in
  // training, 1 otherwise.
  Value scale = select(keep, constant(g, 1 / (1 - rate), x.dtype()), 0.0);
  return x * select(training, scale, constant(g, 1.0, x.dtype()));
}

} // namespace kiln::nn
