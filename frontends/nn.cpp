#include "frontends/nn.h"

#include "frontends/normalization.h"
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

Value conv2d(Graph &g, Value x, int64_t filters, int64_t kernel, Activation act,
             Conv2dLayerOptions options) {
  if (x.graph != &g) fail("conv2d: input '{}' belongs to another graph", x.name());
  Shape in = x.shape();
  if (in.size() != 4 || is_batch(in[1]))
    fail("conv2d: input '{}' must be [N, C, H, W] with C known, got {}", x.name(),
         to_string(x.type()));
  Scope scope(g, unique_scope(g, options.scope));
  Value w = variable(g, "W", x.dtype(), {filters, in[1], kernel, kernel},
                     seeded(options.kernel_init, options.seed));
  Value y = kiln::conv2d(x, w, {.strides = options.strides, .padding = options.padding});
  if (options.use_bias)
    y = y + variable(g, "b", x.dtype(), {filters, 1, 1}, seeded(options.bias_init, options.seed));
  return act ? act(y) : y;
}

Value residual_block(Graph &g, Value x, int64_t filters, Value training, int64_t stride,
                     int64_t seed) {
  Scope scope(g, unique_scope(g, "residual"));
  Conv2dLayerOptions conv{
      .strides = {stride, stride}, .padding = "same", .use_bias = false, .seed = seed};
  Value h = kiln::relu(batch_norm(g, conv2d(g, x, filters, 3, {}, conv), training));
  conv.strides = {1, 1};
  h = batch_norm(g, conv2d(g, h, filters, 3, {}, conv), training);
  Value shortcut = x;
  if (stride != 1 || x.shape()[1] != filters) {
    conv.strides = {stride, stride};
    shortcut = batch_norm(g, conv2d(g, x, filters, 1, {}, conv), training);
  }
  return kiln::relu(h + shortcut);
}

Value dense_block(Graph &g, Value x, int64_t layers, int64_t growth, Activation act, int64_t seed) {
  if (x.graph != &g) fail("dense_block: input '{}' belongs to another graph", x.name());
  bool image = x.rank() == 4;
  if ((x.rank() != 2 && !image) || is_batch(x.shape()[1]))
    fail("dense_block: input '{}' must be [N, C] or [N, C, H, W] with C known, got {}", x.name(),
         to_string(x.type()));
  if (layers < 1 || growth < 1)
    fail("dense_block: layers {} and growth {} must be positive", layers, growth);
  Scope scope(g, unique_scope(g, "dense_block"));
  Value features = x;
  for (int64_t l = 0; l < layers; ++l) {
    // Each layer its own seed: layers of one shape must not start equal.
    int64_t layer_seed = seed < 0 ? seed : seed + l;
    Value added = image ? conv2d(g, features, growth, 3, act,
                                 {.padding = "same", .seed = layer_seed, .scope = "layer"})
                        : dense(g, features, growth, act, {.seed = layer_seed, .scope = "layer"});
    features = concat({features, added}, 1);
  }
  return features;
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
