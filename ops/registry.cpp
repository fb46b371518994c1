// The list of op families: the only place that knows them all.
#include "ir/error.h"
#include "ir/op.h"
#include "ops/activations.h"
#include "ops/conv.h"
#include "ops/elementwise.h"
#include "ops/fusion.h"
#include "ops/indexing.h"
#include "ops/matmul.h"
#include "ops/pool.h"
#include "ops/random_ops.h"
#include "ops/reductions.h"
#include "ops/shape_ops.h"
#include "ops/sources.h"
#include "ops/state_ops.h"

#include <algorithm>

namespace kiln {

const OpRegistry &OpRegistry::get() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    ops::register_source_ops(r);
    ops::register_elementwise_ops(r);
    ops::register_activation_ops(r);
    ops::register_reduction_ops(r);
    ops::register_matmul_ops(r);
    ops::register_shape_ops(r);
    ops::register_state_ops(r);
    ops::register_random_ops(r);
    ops::register_indexing_ops(r);
    ops::register_conv_ops(r);
    ops::register_pool_ops(r);
    ops::register_fusion_ops(r);
    return r;
  }();
  return registry;
}

const OpDef *OpRegistry::find(std::string_view name) const {
  auto it = std::find_if(ops_.begin(), ops_.end(), [&](const OpDef &d) { return d.name == name; });
  return it == ops_.end() ? nullptr : &*it;
}

void OpRegistry::add(OpDef def) {
  if (find(def.name)) fail("op '{}' is registered twice", def.name);
  // Every op can be type-checked and run by the reference interpreter;
  // computed ops also need a way to be compiled.
  bool computed = def.source == Source::none;
  if (!def.infer || (computed && !def.reference) || (computed && !def.scalar == !def.lower))
    fail("op '{}' is missing its type rule, reference kernel or lowering", def.name);
  ops_.push_back(std::move(def));
}

} // namespace kiln
