#include "frontends/nn.h"

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

} // namespace kiln::nn
