#include "frontends/optim.h"

#include "ir/error.h"
#include "passes/autodiff.h"

#include <array>
#include <cmath>
#include <map>

namespace kiln::optim {

namespace {

// What an update rule gets for one variable.
struct Step {
  Value var, grad;
  Value lr;    // this step's learning rate, in the var's dtype
  Value count; // this step's number, from 1, in the var's dtype
  // A zero-initialized, non-trainable variable shaped like var.
  std::function<Value(const char *slot)> slot;
};
using Rule = std::function<Value(const Step &)>;

std::vector<bool> ancestors(const Graph &g, NodeId root) {
  std::vector<bool> seen(g.size(), false);
  seen[size_t(root)] = true;
  for (NodeId id = root; id >= 0; --id)
    if (seen[size_t(id)])
      for (NodeId in : g.node(id).inputs) seen[size_t(in)] = true;
  return seen;
}

// Moving averages built before the loss that the loss does not use: running
// statistics of its forward pass (batch norm's), to update with each step.
std::vector<Value> pending_statistics(Graph &g, const std::vector<bool> &feeds_loss) {
  std::vector<Value> updates;
  for (NodeId id = 0; size_t(id) < feeds_loss.size(); ++id)
    if (g.node(id).op->name == "moving_average" && !feeds_loss[size_t(id)])
      updates.push_back({&g, id});
  return updates;
}

Value minimize_with(std::string_view optimizer, Value loss, std::vector<Value> vars,
                    const Schedule &lr, const Rule &rule) {
  Graph &g = *loss.graph;
  std::vector<bool> feeds_loss = ancestors(g, loss.id);
  if (vars.empty())
    for (const Node &n : g.nodes())
      if (size_t(n.id) < feeds_loss.size() && feeds_loss[size_t(n.id)] && is_trainable(n))
        vars.push_back({&g, n.id});
  if (vars.empty()) fail("{}: '{}' depends on no trainable variable", optimizer, loss.name());
  std::vector<Value> updates = pending_statistics(g, feeds_loss);

  Value step = global_step(g);
  Scope scope(g, unique_scope(g, std::string(optimizer)));
  std::vector<Value> grads = gradients(loss, vars);
  // The step's scalars in each variable dtype, made once, not per variable:
  // the schedule is computed in that dtype, so f64 training is f64 through.
  std::map<DType, std::pair<Value, Value>> scalars;
  for (size_t i = 0; i < vars.size(); ++i) {
    Value var = vars[i];
    if (var.node().op->source != Source::variable)
      fail("{}: '{}' is not a variable", optimizer, var.name());
    auto [it, added] = scalars.try_emplace(var.dtype());
    if (added) {
      Value taken = cast(step, var.dtype(), scalar_name("steps_taken", var.dtype()));
      it->second = {lr.rate(taken), taken + 1.0};
    }
    auto [lr_var, count_var] = it->second;
    Scope var_scope(g, var.name());
    auto slot = [&](const char *name) {
      return variable(g, name, var.dtype(), var.shape(), Init::zeros(), /*trainable=*/false);
    };
    // Data-parallel, every rank steps with the mean of the ranks' gradients;
    // alone, the mean is the gradient (passes/data_parallel.cpp).
    Value grad = allreduce_mean(grads[i], "mean_over_ranks");
    updates.push_back(rule({var, grad, lr_var, count_var, slot}));
  }
  updates.push_back(assign_add(step, int64_t{1}, "increment_step"));
  return group(g, updates, "train");
}

} // namespace

std::string scalar_name(std::string_view base, DType dtype) {
  return dtype == f32 ? std::string(base) : fmt::format("{}_{}", base, to_string(dtype));
}

Value global_step(Graph &g) {
  if (auto id = g.find("global_step")) return {&g, *id};
  // Named outside any scope, so every optimizer finds the same one.
  Attrs attrs = {{"dtype", i64}, {"shape", Shape{}}, {"trainable", false}};
  return {&g, g.add_node("variable", "global_step", {}, std::move(attrs))};
}

Schedule::Schedule(double lr)
    : rate([lr](Value taken) {
        return constant(*taken.graph, lr, taken.dtype(), scalar_name("lr", taken.dtype()));
      }) {}

Schedule step_decay(double lr, int64_t every, double gamma) {
  return Schedule([=](Value taken) {
    Value epochs = cast(cast(taken / double(every), i64), taken.dtype()); // floor: taken >= 0
    return pow(constant(*taken.graph, gamma, taken.dtype()), epochs) * lr;
  });
}

Schedule exponential_decay(double lr, double decay_steps, double rate) {
  return Schedule([=](Value taken) {
    return pow(constant(*taken.graph, rate, taken.dtype()), taken / decay_steps) * lr;
  });
}

Schedule cosine_decay(double lr, int64_t total_steps, double min_lr) {
  return Schedule([=](Value taken) {
    Value progress = minimum(taken / double(total_steps), 1.0);
    return (cos(progress * M_PI) + 1.0) * (0.5 * (lr - min_lr)) + min_lr;
  });
}

Value SGD::minimize(Value loss, std::vector<Value> vars) const {
  return minimize_with("sgd", loss, std::move(vars), lr, [this](const Step &s) {
    return apply("sgd_update", {s.var, s.grad, s.lr}, {{"weight_decay", weight_decay}});
  });
}

Value Momentum::minimize(Value loss, std::vector<Value> vars) const {
  return minimize_with("momentum", loss, std::move(vars), lr, [this](const Step &s) {
    Value accum =
        apply("momentum_accumulate", {s.slot("momentum"), s.grad}, {{"momentum", momentum}});
    return apply("momentum_update", {s.var, accum, s.grad, s.lr},
                 {{"momentum", momentum}, {"nesterov", nesterov}, {"weight_decay", weight_decay}});
  });
}

Value RMSProp::minimize(Value loss, std::vector<Value> vars) const {
  return minimize_with("rmsprop", loss, std::move(vars), lr, [this](const Step &s) {
    Value mean_square = moving_average(s.slot("mean_square"), s.grad, rho, /*squared=*/true);
    return apply("rmsprop_update", {s.var, mean_square, s.grad, s.lr},
                 {{"epsilon", epsilon}, {"weight_decay", weight_decay}});
  });
}

Value Adam::minimize(Value loss, std::vector<Value> vars) const {
  // The bias corrections depend only on the step: one set per dtype, shared
  // by all variables. step_size = lr / (1 - beta1^t), denom_scale =
  // 1 / sqrt(1 - beta2^t), keep = 1 - lr * weight_decay.
  std::map<DType, std::array<Value, 3>> corrections;
  return minimize_with("adam", loss, std::move(vars), lr, [&](const Step &s) {
    Value m = moving_average(s.slot("m"), s.grad, beta1);
    Value v = moving_average(s.slot("v"), s.grad, beta2, /*squared=*/true);
    auto [it, added] = corrections.try_emplace(s.var.dtype());
    if (added) {
      Graph &g = *s.var.graph;
      DType t = s.var.dtype();
      it->second = {s.lr / (1.0 - pow(constant(g, beta1, t), s.count)),
                    rsqrt(1.0 - pow(constant(g, beta2, t), s.count)), 1.0 - s.lr * weight_decay};
    }
    auto [step_size, denom_scale, keep] = it->second;
    return apply("adam_update", {s.var, m, v, step_size, denom_scale, keep},
                 {{"epsilon", epsilon}});
  });
}

} // namespace kiln::optim
