// The list of op families: the only place that knows them all. Defines
// OpRegistry::get(), which ir/op.h declares.
#include "ir/op.h"
#include "ops/activations.h"
#include "ops/collectives.h"
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
    ops::register_collective_ops(r);
    return r;
  }();
  return registry;
}

} // namespace kiln
