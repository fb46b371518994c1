#include "distributed/plan_collectives.h"

#include "ir/error.h"

#include <fmt/ranges.h>

#include <algorithm>

namespace kiln {

void CommunicatorCollectives::start_allreduce_mean(int64_t key, void *values, DType dtype,
                                                   int64_t elements) {
  PendingAllreduce started;
  switch (dtype) {
  case DType::f32:
    started = communicator_.start_allreduce_mean({static_cast<float *>(values), size_t(elements)});
    break;
  case DType::f64:
    started = communicator_.start_allreduce_mean({static_cast<double *>(values), size_t(elements)});
    break;
  default: fail("a collective over {} values: expected f32 or f64", to_string(dtype));
  }
  under_way_.emplace_back(key, std::move(started));
}

// Each one's test() moves it on to its next phase (ours take two).
void CommunicatorCollectives::progress() {
  for (auto &[key, pending] : under_way_) pending.test();
}

void CommunicatorCollectives::finish_allreduce_mean(int64_t key) {
  auto found = std::find_if(under_way_.begin(), under_way_.end(),
                            [&](const auto &u) { return u.first == key; });
  if (found == under_way_.end())
    fail("a mean over the ranks finishes (buffer {}) that never started: an "
         "allreduce_mean_finish whose input is not an allreduce_mean_start",
         key);
  found->second.wait();
  under_way_.erase(found);
}

// PendingAllreduce's destructor waits (and aborts if MPI fails: it can
// neither cancel a collective nor let its buffers go under it).
void CommunicatorCollectives::finish_all() noexcept { under_way_.clear(); }

namespace {

// A plan's collective schedule as numbers every rank can compare: the
// count of steps, then each step's kind, dtype and size, up to kShown
// steps, and a hash of them all.
constexpr size_t kShown = 32;

struct Step {
  CollectiveStep kind;
  DType dtype;
  int64_t elements;
};

uint64_t pack(const Step &s) {
  return uint64_t(s.kind) << 56 | uint64_t(s.dtype) << 48 | uint64_t(s.elements);
}

Step unpack(uint64_t v) {
  return {CollectiveStep(v >> 56), DType((v >> 48) & 0xff), int64_t(v & ((uint64_t(1) << 48) - 1))};
}

std::string describe(uint64_t packed) {
  if (packed == 0) return "none";
  Step s = unpack(packed);
  const char *kind = s.kind == CollectiveStep::start_allreduce_mean ? "start" : "finish";
  return fmt::format("{} of the mean of {}[{}]", kind, to_string(s.dtype), s.elements);
}

std::vector<uint64_t> fingerprint(const Plan &plan) {
  std::vector<uint64_t> out(2 + kShown, 0);
  uint64_t hash = 14695981039346656037ull; // FNV-1a over the packed steps
  for (const KernelCall &k : plan.kernels) {
    if (k.collective == CollectiveStep::none) continue;
    const PlanBuffer &b = plan.buffers[size_t(k.buffers[1])];
    uint64_t packed = pack({k.collective, b.dtype, b.elements});
    if (out[0] < kShown) out[2 + out[0]] = packed;
    ++out[0];
    hash = (hash ^ packed) * 1099511628211ull;
  }
  out[1] = hash;
  return out;
}

} // namespace

void CommunicatorCollectives::check_same_schedule(const Plan &plan) {
  std::vector<uint64_t> mine = fingerprint(plan);
  std::vector<uint64_t> all = communicator_.allgather(mine);
  auto of = [&](int rank) {
    return std::span<const uint64_t>(all).subspan(size_t(rank) * mine.size(), mine.size());
  };
  std::vector<int> differ;
  for (int r = 1; r < communicator_.size(); ++r)
    if (!std::ranges::equal(of(r), of(0))) differ.push_back(r);
  if (differ.empty()) return;
  std::span<const uint64_t> first = of(0), other = of(differ[0]);
  size_t step = 0;
  while (step < kShown && first[2 + step] == other[2 + step]) ++step;
  std::string where =
      step < kShown
          ? fmt::format("the first difference is step {}: {} on rank 0, {} on rank {}", step,
                        describe(first[2 + step]), describe(other[2 + step]), differ[0])
          : fmt::format("they differ past step {}", kShown);
  fail("the ranks compiled different collective schedules for the program '{}': rank 0 has {} "
       "steps, rank {} has {}; ranks {} differ from rank 0 ({}). Every rank must build the same "
       "graph and run the same fetches and targets at the same batch size",
       plan.name, first[0], differ[0], other[0], fmt::join(differ, ", "), where);
}

} // namespace kiln
