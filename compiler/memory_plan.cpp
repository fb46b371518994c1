#include "compiler/memory_plan.h"

#include "ir/error.h"
#include "ops/fusion.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <queue>

namespace kiln::compiler {

namespace {

size_t align_up(size_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

// Each output element comes from the same index of each input of its shape,
// read before it is written: such an input may lend the output its memory.
bool elementwise(const Node &n) {
  return n.op->scalar || ops::is_loop_fusion(n) || n.op->output_reuses_input;
}

// Buffer i is node i's output (the compiler's layout); scratch follows.
void set_lifetimes(const Graph &g, const Program &p, std::vector<PlannedBuffer> &out) {
  auto touch = [&](size_t b, int64_t k) {
    PlannedBuffer &pb = out[b];
    if (pb.first > pb.last) pb.first = pb.last = k;
    pb.first = std::min(pb.first, k);
    pb.last = std::max(pb.last, k);
  };
  std::vector<std::pair<int64_t, int64_t>> own(g.size(), {0, -1}); // each node's kernels
  for (size_t k = 0; k < p.kernels.size(); ++k) {
    const Node &n = g.node(p.kernels[k].node);
    auto &[first, last] = own[size_t(n.id)];
    if (first > last) first = int64_t(k);
    last = int64_t(k);
    touch(size_t(n.id), int64_t(k));
    for (NodeId in : n.inputs) touch(size_t(in), int64_t(k));
  }
  for (size_t b = g.size(); b < p.buffers.size(); ++b) {
    auto [first, last] = own[size_t(p.buffers[b].owner)];
    if (first > last) continue;
    touch(b, first);
    touch(b, last);
  }
}

// Single-kernel elementwise nodes take over an input of the same shape
// (any shape for OpDef::output_reuses_input) and size that dies at their kernel.
void choose_in_place(const Graph &g, std::span<const TensorType> types, const Program &p,
                     std::vector<PlannedBuffer> &out) {
  std::vector<int> kernel_count(g.size(), 0);
  for (const Kernel &k : p.kernels) ++kernel_count[size_t(k.node)];
  std::vector<bool> taken(p.buffers.size(), false);
  for (const Node &n : g.nodes()) {
    PlannedBuffer &self = out[size_t(n.id)];
    if (!self.in_arena || kernel_count[size_t(n.id)] != 1 || !elementwise(n)) continue;
    for (NodeId in : n.inputs) {
      const PlannedBuffer &input = out[size_t(in)];
      if (input.in_arena && !taken[size_t(in)] && input.last == self.first &&
          (n.op->output_reuses_input || types[size_t(in)].shape == types[size_t(n.id)].shape) &&
          p.buffers[size_t(in)].bytes() == p.buffers[size_t(n.id)].bytes()) {
        self.reuses = in;
        taken[size_t(in)] = true;
        break;
      }
    }
  }
}

// A data-parallel bucket (ops/collectives.cpp) holds, where it can, the
// gradients it gathers and the parts it hands back, so that their copies
// (kernels/copy.cpp) find their bytes in place: a gradient whose last reader
// is the bucket, and each part of the finished mean. A member must be in the
// arena and in no in-place chain (nothing writes over it), and overlap no
// other member (parts of a hand-built graph may); it is aligned to its
// element, not 64 bytes.
void place_in_buckets(const Graph &g, const Program &p, std::vector<PlannedBuffer> &out) {
  std::vector<bool> chained(out.size(), false);
  for (size_t b = 0; b < out.size(); ++b)
    if (out[b].reuses >= 0) chained[b] = chained[size_t(out[b].reuses)] = true;
  std::map<NodeId, std::vector<std::pair<size_t, size_t>>> taken; // by container: byte ranges
  auto place = [&](NodeId member, NodeId container, size_t offset) {
    PlannedBuffer &m = out[size_t(member)];
    if (!m.in_arena || chained[size_t(member)] || m.within >= 0 || m.first > m.last) return;
    size_t end = offset + p.buffers[size_t(member)].bytes();
    std::vector<std::pair<size_t, size_t>> &ranges = taken[container];
    for (auto [b, e] : ranges)
      if (offset < e && b < end) return;
    ranges.emplace_back(offset, end);
    m.within = container;
    m.within_offset = offset;
  };
  std::vector<int64_t> last_kernel(g.size(), -1); // of each node's own kernels
  for (size_t k = 0; k < p.kernels.size(); ++k) last_kernel[size_t(p.kernels[k].node)] = int64_t(k);
  for (const Node &n : g.nodes()) {
    if (!out[size_t(n.id)].in_arena) continue;
    if (n.op->name == "gradient_bucket") {
      size_t offset = 0;
      for (NodeId in : n.inputs) {
        if (out[size_t(in)].last == last_kernel[size_t(n.id)]) place(in, n.id, offset);
        offset += p.buffers[size_t(in)].bytes();
      }
    } else if (n.op->name == "bucket_part" && out[size_t(n.inputs[0])].in_arena) {
      place(n.id, n.inputs[0], size_t(n.attr_int("offset")) * byte_size(n.type.dtype));
    }
  }
}

// Each in-place chain is one block, live from its first member's birth to
// its last member's death; so is a bucket with what it holds.
struct Block {
  size_t bytes;
  int64_t first, last;
  size_t offset = 0;
};

// The placed blocks, indexed by lifetime: those live at some kernel of an
// interval are found without looking at the others. Those that start inside
// it come from a map by first kernel; those live at its first kernel and
// born before it, from a segment tree over kernels (each block is held by
// the O(log kernels) tree nodes that tile its lifetime, so the nodes on one
// leaf's path hold exactly the blocks live at that kernel).
class PlacedBlocks {
public:
  explicit PlacedBlocks(size_t kernels)
      : leaves_(std::max<size_t>(kernels, 1)), tiles_(2 * leaves_) {}

  void add(const Block &b) {
    by_first_.emplace(b.first, &b);
    for (size_t l = size_t(b.first) + leaves_, r = size_t(b.last) + 1 + leaves_; l < r;
         l >>= 1, r >>= 1) {
      if (l & 1) tiles_[l++].push_back(&b);
      if (r & 1) tiles_[--r].push_back(&b);
    }
  }

  // Sets `out` to the placed blocks live at some kernel of [first, last].
  void live_during(int64_t first, int64_t last, std::vector<const Block *> &out) const {
    out.clear();
    for (size_t node = size_t(first) + leaves_; node > 0; node >>= 1)
      for (const Block *b : tiles_[node])
        if (b->first < first) out.push_back(b);
    for (auto it = by_first_.lower_bound(first); it != by_first_.end() && it->first <= last; ++it)
      out.push_back(it->second);
  }

private:
  size_t leaves_;
  std::vector<std::vector<const Block *>> tiles_;
  std::multimap<int64_t, const Block *> by_first_;
};

// Places the blocks in `order`, each in the smallest aligned gap that holds
// it among the placed blocks live with it (or above them all). Returns the
// arena's size.
size_t pack(std::vector<Block> &blocks, std::span<const size_t> order, size_t kernels) {
  size_t arena = 0;
  PlacedBlocks placed(kernels);
  std::vector<const Block *> live;
  for (size_t i : order) {
    Block &block = blocks[i];
    block.offset = 0;
    if (block.bytes == 0 || block.first > block.last) continue;
    placed.live_during(block.first, block.last, live);
    std::sort(live.begin(), live.end(),
              [](const Block *a, const Block *b) { return a->offset < b->offset; });
    size_t best_gap = SIZE_MAX, cursor = 0;
    for (const Block *other : live) {
      if (other->offset >= cursor + block.bytes && other->offset - cursor < best_gap)
        best_gap = other->offset - cursor, block.offset = cursor;
      cursor = std::max(cursor, align_up(other->offset + other->bytes));
    }
    if (best_gap == SIZE_MAX) block.offset = cursor;
    placed.add(block);
    arena = std::max(arena, align_up(block.offset + block.bytes));
  }
  return arena;
}

// Greedy placement depends on the order of the blocks. Two classic orders
// start: biggest first (TFLite's arena planner) and biggest bytes x lifetime
// first (long-lived buffers go low, out of the short-lived ones' way). The
// better is then improved by moving one block at a time to the front while
// that shrinks the arena: a training step's backward pass leaves greedy
// placements 5-10% above the largest live set, and this closes most of it.
// The search repacks at most kWorkBudget / blocks^2 times: whole sweeps for
// a few hundred blocks, no move at all past 4,472.
size_t place(const Program &p, std::vector<PlannedBuffer> &out) {
  const size_t kernels = p.kernels.size();
  std::vector<size_t> block_of(out.size());
  std::vector<Block> blocks;
  for (size_t b = 0; b < out.size(); ++b) {
    PlannedBuffer &pb = out[b];
    if (!pb.in_arena || pb.within >= 0) continue;
    if (pb.reuses >= 0) {
      block_of[b] = block_of[size_t(pb.reuses)];
      blocks[block_of[b]].last = std::max(blocks[block_of[b]].last, pb.last);
      continue;
    }
    block_of[b] = blocks.size();
    blocks.push_back({p.buffers[b].bytes(), pb.first, pb.last});
  }
  for (size_t b = 0; b < out.size(); ++b) {
    const PlannedBuffer &pb = out[b];
    if (!pb.in_arena || pb.within < 0) continue;
    Block &block = blocks[block_of[b] = block_of[size_t(pb.within)]];
    block.first = std::min(block.first, pb.first);
    block.last = std::max(block.last, pb.last);
  }
  auto area = [&](size_t i) {
    return double(blocks[i].bytes) * double(blocks[i].last - blocks[i].first + 1);
  };
  std::vector<size_t> order(blocks.size()), by_area(blocks.size());
  std::iota(order.begin(), order.end(), 0);
  std::iota(by_area.begin(), by_area.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return blocks[a].bytes > blocks[b].bytes; });
  std::stable_sort(by_area.begin(), by_area.end(),
                   [&](size_t a, size_t b) { return area(a) > area(b); });
  size_t arena = pack(blocks, order, kernels);
  if (pack(blocks, by_area, kernels) < arena) order = by_area, arena = pack(blocks, order, kernels);

  constexpr double kWorkBudget = 2e7;
  double work = 0, per_pack = double(blocks.size()) * double(blocks.size());
  for (bool improved = true; improved;) {
    improved = false;
    for (size_t i = 1; i < order.size() && work < kWorkBudget; ++i, work += per_pack) {
      std::vector<size_t> moved = order;
      std::rotate(moved.begin(), moved.begin() + ptrdiff_t(i), moved.begin() + ptrdiff_t(i) + 1);
      if (size_t smaller = pack(blocks, moved, kernels); smaller < arena)
        arena = smaller, order = std::move(moved), improved = true;
    }
  }
  pack(blocks, order, kernels);
  for (size_t b = 0; b < out.size(); ++b)
    if (out[b].in_arena)
      out[b].offset = blocks[block_of[b]].offset + (out[b].within >= 0 ? out[b].within_offset : 0);
  return arena;
}

std::string describe(const Program &p, size_t b) {
  const BufferInfo &info = p.buffers[b];
  if (info.node >= 0) return fmt::format("buffer {} (node {})", b, info.node);
  return fmt::format("buffer {} (scratch of node {})", b, info.owner);
}

} // namespace

MemoryPlan plan_memory(const Graph &g, std::span<const TensorType> types,
                       std::span<const NodeId> roots, const Program &program) {
  MemoryPlan plan;
  plan.buffers.resize(program.buffers.size());
  for (size_t b = 0; b < program.buffers.size(); ++b) {
    const BufferInfo &info = program.buffers[b];
    if (b < g.size() && info.node != NodeId(b))
      fail("internal error: buffer {} is not node {}'s output", b, b);
    const Node *n = info.node >= 0 ? &g.node(info.node) : nullptr;
    plan.buffers[b].in_arena = !n || (n->op->source == Source::none && !n->op->updates_variable &&
                                      std::find(roots.begin(), roots.end(), n->id) == roots.end());
  }
  set_lifetimes(g, program, plan.buffers);
  choose_in_place(g, types, program, plan.buffers);
  place_in_buckets(g, program, plan.buffers);
  plan.arena_bytes = place(program, plan.buffers);

  std::vector<int64_t> change(program.kernels.size() + 1, 0); // live bytes, by kernel, differenced
  for (size_t b = 0; b < plan.buffers.size(); ++b) {
    const PlannedBuffer &pb = plan.buffers[b];
    if (!pb.in_arena || pb.within >= 0) continue; // inside a bucket: its bytes are the bucket's
    plan.total_bytes += program.buffers[b].bytes();
    if (pb.first > pb.last) continue;
    change[size_t(pb.first)] += int64_t(program.buffers[b].bytes());
    change[size_t(pb.last) + 1] -= int64_t(program.buffers[b].bytes());
  }
  int64_t live = 0;
  for (int64_t delta : change) {
    live += delta;
    plan.peak_live_bytes = std::max(plan.peak_live_bytes, size_t(live));
  }
  return plan;
}

void verify(const MemoryPlan &plan, const Program &program) {
  if (plan.buffers.size() != program.buffers.size())
    fail("the memory plan has {} buffers, the program {}", plan.buffers.size(),
         program.buffers.size());
  std::vector<size_t> used; // the arena buffers that take bytes at some kernel
  for (size_t b = 0; b < plan.buffers.size(); ++b) {
    const PlannedBuffer &pb = plan.buffers[b];
    size_t bytes = program.buffers[b].bytes();
    if (!pb.in_arena || bytes == 0 || pb.first > pb.last) continue;
    size_t alignment = pb.within >= 0 ? byte_size(program.buffers[b].dtype) : kArenaAlignment;
    if (pb.offset % alignment != 0)
      fail("{} is at offset {}, not {}-byte aligned", describe(program, b), pb.offset, alignment);
    if (pb.offset + bytes > plan.arena_bytes)
      fail("{} ends at byte {}, past the arena's {}", describe(program, b), pb.offset + bytes,
           plan.arena_bytes);
    used.push_back(b);
  }
  auto handover = [&](size_t from, size_t to) {
    const PlannedBuffer &a = plan.buffers[from], &b = plan.buffers[to];
    return b.reuses == int32_t(from) && a.last == b.first && a.offset == b.offset &&
           program.buffers[from].bytes() == program.buffers[to].bytes();
  };
  // `inner` lies inside `outer`'s bytes, as the plan records it.
  auto inside = [&](size_t outer, size_t inner) {
    const PlannedBuffer &o = plan.buffers[outer], &i = plan.buffers[inner];
    return i.within == int32_t(outer) && i.offset == o.offset + i.within_offset &&
           i.within_offset + program.buffers[inner].bytes() <= program.buffers[outer].bytes();
  };
  auto conflict = [&](size_t a, size_t b) {
    const PlannedBuffer &pa = plan.buffers[a], &pb = plan.buffers[b];
    return pa.offset < pb.offset + program.buffers[b].bytes() &&
           pb.offset < pa.offset + program.buffers[a].bytes() && !handover(a, b) &&
           !handover(b, a) && !inside(a, b) && !inside(b, a);
  };
  // A sweep over kernels: `active` holds the buffers live at the current
  // one by offset. They were checked against each other, so they are
  // disjoint but for handover pairs (equal ranges): a new buffer can overlap
  // only those that start inside it and the group just below its offset.
  std::sort(used.begin(), used.end(),
            [&](size_t a, size_t b) { return plan.buffers[a].first < plan.buffers[b].first; });
  std::multimap<size_t, size_t> active; // offset -> buffer
  using Entry = std::multimap<size_t, size_t>::iterator;
  auto dies_later = [&](Entry a, Entry b) {
    return plan.buffers[a->second].last > plan.buffers[b->second].last;
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(dies_later)> deaths(dies_later);
  for (size_t b : used) {
    const PlannedBuffer &pb = plan.buffers[b];
    for (; !deaths.empty() && plan.buffers[deaths.top()->second].last < pb.first; deaths.pop())
      active.erase(deaths.top());
    auto from = active.lower_bound(pb.offset);
    if (from != active.begin()) from = active.lower_bound(std::prev(from)->first);
    for (auto it = from; it != active.end() && it->first < pb.offset + program.buffers[b].bytes();
         ++it) {
      if (!conflict(it->second, b)) continue;
      size_t first = std::min(it->second, b), second = std::max(it->second, b);
      fail("the memory plan overlaps {} and {}: both live at kernel {} and share arena bytes "
           "from {}",
           describe(program, first), describe(program, second), pb.first,
           std::max(pb.offset, plan.buffers[it->second].offset));
    }
    deaths.push(active.emplace(pb.offset, b));
  }
}

} // namespace kiln::compiler
