#include "runtime/kernel_graph.h"

#include <algorithm>
#include <iterator>
#include <map>

namespace kiln {

namespace {

// Who touched each byte range of one storage space last: its last writer and
// the readers since. Ranges are split where accesses start and end.
class Space {
public:
  // Adds to `deps` the calls `call` must follow for its access to [lo, hi),
  // then records that access.
  void access(int64_t lo, int64_t hi, uint32_t call, bool write, std::vector<uint32_t> &deps) {
    if (lo >= hi) return;
    split(lo);
    split(hi);
    for (auto it = segments_.find(lo); it != segments_.end() && it->first < hi; ++it) {
      Segment &s = it->second;
      if (s.writer != kNone) deps.push_back(s.writer);
      if (!write) {
        s.readers.push_back(call);
        continue;
      }
      deps.insert(deps.end(), s.readers.begin(), s.readers.end());
      s.writer = call;
      s.readers.clear();
    }
  }

private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Segment {
    int64_t end;
    uint32_t writer = kNone;
    std::vector<uint32_t> readers;
  };

  // Makes `at` the start of a segment, covering the space as it grows.
  void split(int64_t at) {
    auto next = segments_.lower_bound(at);
    if (next != segments_.end() && next->first == at) return;
    if (next == segments_.begin()) {
      int64_t end = next == segments_.end() ? INT64_MAX : next->first;
      segments_.emplace(at, Segment{end, kNone, {}});
      return;
    }
    auto prev = std::prev(next);
    if (prev->second.end <= at) {
      int64_t end = next == segments_.end() ? INT64_MAX : next->first;
      if (prev->second.end < at) segments_.emplace(prev->second.end, Segment{at, kNone, {}});
      segments_.emplace(at, Segment{end, kNone, {}});
      return;
    }
    Segment tail = prev->second;
    prev->second.end = at;
    segments_.emplace(at, std::move(tail));
  }

  std::map<int64_t, Segment> segments_; // by start
};

} // namespace

KernelGraph kernel_graph(const Plan &plan) {
  size_t n = plan.kernels.size();
  KernelGraph g{std::vector<std::vector<uint32_t>>(n), std::vector<uint32_t>(n), false};
  Space arena;
  std::map<std::pair<Place, int64_t>, Space> others; // variables, and buffers of their own
  std::vector<uint32_t> deps;
  for (uint32_t k = 0; k < n; ++k) {
    const KernelCall &call = plan.kernels[k];
    deps.clear();
    for (size_t a = 0; a < call.buffers.size(); ++a) {
      int32_t index = call.buffers[a];
      while (plan.buffers[size_t(index)].place == Place::in_place)
        index = int32_t(plan.buffers[size_t(index)].where);
      const PlanBuffer &b = plan.buffers[size_t(index)];
      bool write = a >= 32 || (call.writes >> a & 1u);
      int64_t bytes = int64_t(b.bytes());
      switch (b.place) {
      case Place::arena: arena.access(b.where, b.where + bytes, k, write, deps); break;
      case Place::variable: others[{Place::variable, b.where}].access(0, 1, k, true, deps); break;
      case Place::own: others[{Place::own, index}].access(0, 1, k, write, deps); break;
      case Place::input:
      case Place::constant:
      case Place::in_place: break;
      }
    }
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    std::erase(deps, k);
    for (uint32_t d : deps) g.successors[d].push_back(k);
    g.predecessors[k] = uint32_t(deps.size());
    if (k > 0 && !std::binary_search(deps.begin(), deps.end(), k - 1)) g.has_parallelism = true;
  }
  return g;
}

} // namespace kiln
