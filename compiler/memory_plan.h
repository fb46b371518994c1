// Memory planning: the intermediate buffers of a compiled program share one
// arena. Liveness is measured in kernels (a buffer lives from the first
// kernel that touches it to the last); buffers are placed biggest first at
// the lowest 64-byte-aligned offset that no buffer live at the same time
// holds (greedy-by-size, as TFLite's arena planner and XLA's heap
// simulator do), and an elementwise node may write over an input of its
// shape that dies at it. A data-parallel bucket holds the gradients it
// gathers and the parts it hands back, so their copies find their bytes in
// place. Variables, placeholders, constants, variable
// updates (which write their variable) and the roots (copied out, or run
// for effect) keep storage of their own.
#pragma once

#include "compiler/compile.h"

#include <cstddef>
#include <span>
#include <vector>

namespace kiln::compiler {

inline constexpr size_t kArenaAlignment = 64;

struct PlannedBuffer {
  bool in_arena = false;
  size_t offset = 0; // in the arena
  // Live over kernels [first, last]; first > last: no kernel touches it.
  int64_t first = 0, last = -1;
  // In place: the buffer whose memory this one takes over; it dies at this
  // one's first kernel. -1: none.
  int32_t reuses = -1;
  // Inside another buffer: a gradient in the bucket that gathers it, a
  // bucket part in the finished mean (ops/collectives.cpp), at byte
  // `within_offset` of buffer `within`, which lives for as long. -1: none.
  int32_t within = -1;
  size_t within_offset = 0;
};

struct MemoryPlan {
  std::vector<PlannedBuffer> buffers; // by buffer index, as in Program::buffers
  size_t arena_bytes = 0;
  size_t total_bytes = 0; // the arena buffers' bytes summed: an arena without reuse
  // The most bytes of arena buffers live at one kernel: what any placement
  // needs, except that in-place reuse counts the pair at their handover twice.
  size_t peak_live_bytes = 0;
};

// Plans `program`, compiled from `g` (whose types at the program's batch are
// `types`) with fetches and targets `roots`.
MemoryPlan plan_memory(const Graph &g, std::span<const TensorType> types,
                       std::span<const NodeId> roots, const Program &program);

// Checks that every arena buffer is aligned and fits, and that no two live at
// the same kernel share bytes, unless the plan records them as an in-place
// pair handing over at that kernel, or one inside the other. Fails naming
// both buffers' nodes.
void verify(const MemoryPlan &plan, const Program &program);

} // namespace kiln::compiler
