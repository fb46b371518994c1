// Optimizers as graph builders, the TensorFlow 1.x way: minimize() adds the
// gradient nodes and one in-place update per variable to the graph and
// returns a target; a training step is `session.run(feeds, {loss}, {train})`.
//
//   auto train = kiln::optim::Adam{.lr = 1e-3}.minimize(loss);
//
// Each variable steps with the mean of its gradient over the ranks of a
// data-parallel job (allreduce_mean; alone, the gradient itself), as
// Horovod's DistributedOptimizer and PyTorch's DDP do.
// Update rules follow torch.optim's, so a recipe means the same in both;
// weight decay is decoupled (AdamW-style). Slots (momentum, Adam moments)
// are non-trainable variables named "<optimizer>/<variable>/<slot>", and
// the step count is the i64 variable "global_step": all saved in checkpoints.
#pragma once

#include "ops/builder.h"

#include <functional>

namespace kiln::optim {

// The graph's step counter (created on first use): the number of training
// steps taken. minimize() increments it after the updates.
Value global_step(Graph &g);

// A learning rate as a graph value computed from the number of steps taken
// (a scalar in the dtype of the variables it updates; a rate and the
// constants it reads take that dtype). A plain number converts to a constant
// schedule, the constant "lr" (f32) or "lr_f64" in the optimizer's scope.
struct Schedule {
  Schedule(double lr);
  explicit Schedule(std::function<Value(Value steps_taken)> f) : rate(std::move(f)) {}
  std::function<Value(Value steps_taken)> rate;
};
// The name of a step's scalar in `dtype`: `base` for f32, `base`_DTYPE otherwise.
std::string scalar_name(std::string_view base, DType dtype);

// lr * gamma^floor(steps / every)
Schedule step_decay(double lr, int64_t every, double gamma);
// lr * rate^(steps / decay_steps)
Schedule exponential_decay(double lr, double decay_steps, double rate);
// From lr down to min_lr along half a cosine over total_steps, then min_lr.
Schedule cosine_decay(double lr, int64_t total_steps, double min_lr = 0);

// What every optimizer takes besides its own settings. `vars` empty: every
// trainable float variable the loss depends on. Moving averages built
// before the loss and not used by it (batch norm's running statistics) join
// the returned target, so one target trains.
struct SGD {
  Schedule lr = 0.01;
  double weight_decay = 0;
  Value minimize(Value loss, std::vector<Value> vars = {}) const;
};

struct Momentum {
  Schedule lr = 0.01;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 0;
  Value minimize(Value loss, std::vector<Value> vars = {}) const;
};

struct RMSProp {
  Schedule lr = 0.01;
  double rho = 0.99; // torch's alpha: the mean square's decay
  double epsilon = 1e-8;
  double weight_decay = 0;
  Value minimize(Value loss, std::vector<Value> vars = {}) const;
};

struct Adam {
  Schedule lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double weight_decay = 0; // decoupled: AdamW
  Value minimize(Value loss, std::vector<Value> vars = {}) const;
};

} // namespace kiln::optim
