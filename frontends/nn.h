// Composite layers built from ops, in namespace kiln::nn. Each layer opens its
// own uniquified scope ("dense", "dense_1"...), so its variables and nodes
// read as one block in dumps.
#pragma once

#include "ops/builder.h"

#include <functional>

namespace kiln::nn {

// Applied by a layer to its output; empty: linear.
using Activation = std::function<Value(Value)>;

// Activations with default parameters as one-argument functions, to pass as an
// Activation: kiln::nn::dense(g, x, 512, kiln::nn::relu).
Value relu(Value x);
Value sigmoid(Value x);
Value tanh(Value x);
Value leaky_relu(Value x);
Value elu(Value x);
Value softplus(Value x);
Value gelu(Value x);
Value softmax(Value x);
Value log_softmax(Value x);

struct DenseOptions {
  bool use_bias = true;
  Init kernel_init = Init::glorot_uniform();
  Init bias_init = Init::zeros();
  // Seeds the initializers that have no seed of their own; -1: leave them.
  int64_t seed = -1;
  std::string scope = "dense";
};

// act(x W + b) over the last axis of x, which must be known: creates the
// variables <scope>/W [in, units] and <scope>/b [units] of x's dtype.
Value dense(Graph &g, Value x, int64_t units, Activation act = {}, DenseOptions options = {});

struct Conv2dLayerOptions {
  std::vector<int64_t> strides = {1, 1};
  std::string padding = "valid"; // or "same"
  bool use_bias = true;
  Init kernel_init = Init::he_uniform();
  Init bias_init = Init::zeros();
  int64_t seed = -1; // as in DenseOptions
  std::string scope = "conv2d";
};

// act(conv2d(x, W) + b) for x [N, C, H, W]: creates <scope>/W [filters, C,
// kernel, kernel] and <scope>/b [filters, 1, 1].
Value conv2d(Graph &g, Value x, int64_t filters, int64_t kernel, Activation act = {},
             Conv2dLayerOptions options = {});

// A residual block (He et al.): two 3x3 conv - batch norm stages with relu,
// plus the input (projected by a 1x1 conv when the stride or the channel
// count changes). `training` as for batch norm.
Value residual_block(Graph &g, Value x, int64_t filters, Value training, int64_t stride = 1,
                     int64_t seed = -1);

// A dense block (Huang et al., DenseNet): `layers` layers, each computing
// `growth` new features from the concatenation of the input and every
// earlier layer's output, on axis 1; the result is that concatenation,
// [N, C + layers * growth, ...]. A layer is act(dense) for x [N, C], and
// act(conv2d 3x3, same padding) for x [N, C, H, W].
Value dense_block(Graph &g, Value x, int64_t layers, int64_t growth, Activation act = relu,
                  int64_t seed = -1);

// Inverted dropout: while `training` (a bool scalar) is true, each element
// is zeroed with probability `rate` and the rest scaled by 1 / (1 - rate);
// otherwise x passes unchanged. The mask is drawn from (seed, the global
// step), so each training step draws a new one, reproducibly.
Value dropout(Graph &g, Value x, double rate, Value training, int64_t seed = 0);

} // namespace kiln::nn
