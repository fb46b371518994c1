// Normalization layers. Like nn::dense, each opens its own scope and creates
// its variables there.
#pragma once

#include "ops/builder.h"

namespace kiln::nn {

struct BatchNormOptions {
  double momentum = 0.1; // running = (1 - momentum) * running + momentum * batch, as in PyTorch
  double epsilon = 1e-5;
  // Data-parallel: the batch's statistics over every rank's items (PyTorch's
  // SyncBatchNorm: two means over the ranks per layer and step), not each
  // rank's own (DDP's default). Alone, the same either way.
  bool synchronized = false;
  std::string scope = "batch_norm";
};

// Batch normalization over the channel axis 1 of x ([N, C] or [N, C, H, W]),
// with scale `gamma` and shift `beta` [C]. `training` is a bool scalar:
// true normalizes with the batch's statistics, false with the running
// averages. The running averages (non-trainable variables running_mean,
// running_var; the variance unbiased, as PyTorch keeps it) are updated by
// moving_average nodes that an optimizer's minimize() runs with its step.
Value batch_norm(Graph &g, Value x, Value training, BatchNormOptions options = {});

struct LayerNormOptions {
  double epsilon = 1e-5;
  std::string scope = "layer_norm";
};

// Layer normalization over the last axis, with gamma and beta of its size.
Value layer_norm(Graph &g, Value x, LayerNormOptions options = {});

} // namespace kiln::nn
