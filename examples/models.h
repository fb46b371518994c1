// The Fashion-MNIST models of the examples (and of bench/compile_bench.cpp),
// from their input placeholder to their logits:
//   mlp:     dense 512 relu - dense 10 (inputs [N, 784]);
//   lenet:   LeNet-5 style, conv 6 5x5 (same) - pool - conv 16 5x5 - pool -
//            dense 120 - 84 - 10, relu (inputs [N, 1, 28, 28]);
//   convnet: the two-layer conv net of the Fashion-MNIST benchmark table:
//            conv 32 3x3 - batch norm - relu - pool - conv 64 3x3 - batch norm
//            - relu - pool - dropout 0.25 - dense 32 - 10 (about 120K parameters);
//   resnet:  conv 32 3x3 - batch norm - relu - residual blocks 32, 64 (stride
//            2), 128 (stride 2) - global average pool - dense 10 (about 310K
//            parameters).
#pragma once

#include "frontends/nn.h"
#include "frontends/normalization.h"

namespace kiln::models {

inline Value mlp(Graph &g, Value x, int64_t seed) {
  Value h = nn::dense(g, x, 512, nn::relu, {.seed = seed});
  return nn::dense(g, h, 10, {}, {.seed = seed});
}

inline Value lenet(Graph &g, Value x, int64_t seed) {
  Value h = max_pool2d(nn::conv2d(g, x, 6, 5, nn::relu, {.padding = "same", .seed = seed}));
  h = max_pool2d(nn::conv2d(g, h, 16, 5, nn::relu, {.seed = seed}));
  h = nn::dense(g, flatten(h), 120, nn::relu, {.seed = seed});
  h = nn::dense(g, h, 84, nn::relu, {.seed = seed});
  return nn::dense(g, h, 10, {}, {.seed = seed});
}

inline Value convnet(Graph &g, Value x, Value training, int64_t seed) {
  auto block = [&](Value in, int64_t filters) {
    Value c =
        nn::conv2d(g, in, filters, 3, {}, {.padding = "same", .use_bias = false, .seed = seed});
    return max_pool2d(relu(nn::batch_norm(g, c, training)));
  };
  Value h = nn::dropout(g, block(block(x, 32), 64), 0.25, training, seed);
  h = nn::dense(g, flatten(h), 32, nn::relu, {.seed = seed});
  return nn::dense(g, h, 10, {}, {.seed = seed});
}

inline Value resnet(Graph &g, Value x, Value training, int64_t seed) {
  Value h = nn::conv2d(g, x, 32, 3, {}, {.padding = "same", .use_bias = false, .seed = seed});
  h = relu(nn::batch_norm(g, h, training));
  h = nn::residual_block(g, h, 32, training, 1, seed);
  h = nn::residual_block(g, h, 64, training, 2, seed);
  h = nn::residual_block(g, h, 128, training, 2, seed);
  return nn::dense(g, mean(h, {2, 3}), 10, {}, {.seed = seed});
}

} // namespace kiln::models
