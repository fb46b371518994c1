// The Communicator on MPI (KILN_MPI on).
//
// allreduce_mean in a fixed order: MPI_Allreduce may sum in any order its
// algorithm picks (by message size, rank count, tuning), so its results may
// differ in the last bit from run to run. Here MPI only moves data:
// each rank owns a contiguous chunk of the buffer (rank r the elements
// [n*r/size, n*(r+1)/size)); MPI_Ialltoallv gives it every rank's copy of
// that chunk; it sums them itself in rank order, divides by the size, and
// MPI_Iallgatherv hands the reduced chunks back to everyone. Each rank sends
// and receives (size-1)/size of the buffer twice, as a ring allreduce does.
#include "distributed/communicator.h"

#include "ir/error.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

namespace kiln {

namespace {

// The MPI rank from the launcher's environment, for errors before MPI knows it.
const char *launched_rank() {
  for (const char *name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"})
    if (const char *rank = std::getenv(name)) return rank;
  return "0";
}

std::string error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return fmt::format("error {}", code);
  return std::string(text, size_t(length));
}

void check(int code, const char *call, std::string_view rank) {
  if (code != MPI_SUCCESS) fail("rank {}: {} failed: {}", rank, call, error_text(code));
}

void check(int code, const char *call, int rank) { check(code, call, std::to_string(rank)); }

// MPI starts once per process and cannot start again after MPI_Finalize:
// the first Communicator that joins starts it, unless the program did, and
// the last one to go finalizes what it started.
struct MpiLifetime {
  std::mutex mutex;
  int communicators = 0;
  bool started_here = false;

  void join() {
    std::lock_guard lock(mutex);
    int finalized = 0, initialized = 0;
    MPI_Finalized(&finalized);
    if (finalized)
      fail("rank {}: MPI was finalized in this process and cannot start again (keep one "
           "Communicator alive for as long as the process uses MPI)",
           launched_rank());
    MPI_Initialized(&initialized);
    if (!initialized) {
      // Serialized: any thread may call, one at a time (Communicator's contract).
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread",
            launched_rank());
      started_here = true;
    }
    ++communicators;
  }

  void leave() {
    std::lock_guard lock(mutex);
    if (--communicators == 0 && started_here) {
      MPI_Finalize();
      started_here = false;
    }
  }
};

MpiLifetime &mpi_lifetime() {
  static MpiLifetime lifetime;
  return lifetime;
}

template <typename T> MPI_Datatype mpi_type();
template <> MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <> MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }

// out = pieces[0] + pieces[1] + ... + pieces[parts-1], element-wise, left
// to right: the order every rank and every run uses; divided by parts for a mean.
template <typename T, bool mean>
void reduce_in_rank_order(const std::byte *pieces, int parts, size_t count, std::byte *out) {
  if (count == 0) return; // a rank's chunk is empty when the buffer is shorter than the job
  const T *piece = reinterpret_cast<const T *>(pieces);
  T *sum = reinterpret_cast<T *>(out);
  std::memcpy(sum, piece, count * sizeof(T));
  for (int r = 1; r < parts; ++r)
    for (size_t i = 0; i < count; ++i) sum[i] += piece[size_t(r) * count + i];
  if (mean)
    for (size_t i = 0; i < count; ++i) sum[i] /= T(parts);
}

class Exchange;

} // namespace

struct Communicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;        // exchanges' first phase, and the rest
  MPI_Comm gather_comm = MPI_COMM_NULL; // exchanges' second phase
  // Receive buffers of finished allreduces, for the next ones: a fresh one
  // each time costs its page faults, several times the exchange itself.
  std::vector<std::vector<std::byte>> spare_buffers;
  // Exchanges in their first phase, in the order they started. MPI matches
  // a communicator's collectives by the order they start in, the same on
  // every rank, but first phases may end in any order: so second phases
  // start in this order, on a communicator of their own.
  std::deque<Exchange *> exchanging;

  // Starts the second phase of each exchange at the front whose first phase
  // is done; with `block`, waits until `needed`'s has started.
  void advance_exchanges(const Exchange *needed, bool block);

  std::vector<std::byte> take_buffer(size_t bytes) {
    std::vector<std::byte> buffer;
    if (!spare_buffers.empty()) {
      buffer = std::move(spare_buffers.back());
      spare_buffers.pop_back();
    }
    buffer.resize(bytes);
    return buffer;
  }
};

Communicator::Communicator(CommunicatorOptions options) {
  using Join = CommunicatorOptions::Join;
  if (options.join == Join::never || (options.join == Join::when_launched && !launched_by_mpirun()))
    return;
  mpi_lifetime().join();
  auto impl = std::make_unique<Impl>();
  // Its own communicator: the program's other MPI traffic cannot mix with
  // kiln's, and errors come back as codes, reported with the rank.
  int code = MPI_Comm_dup(MPI_COMM_WORLD, &impl->comm);
  if (code == MPI_SUCCESS) code = MPI_Comm_dup(MPI_COMM_WORLD, &impl->gather_comm);
  if (code == MPI_SUCCESS) code = MPI_Comm_set_errhandler(impl->comm, MPI_ERRORS_RETURN);
  if (code == MPI_SUCCESS) code = MPI_Comm_set_errhandler(impl->gather_comm, MPI_ERRORS_RETURN);
  if (code == MPI_SUCCESS) code = MPI_Comm_rank(impl->comm, &rank_);
  if (code == MPI_SUCCESS) code = MPI_Comm_size(impl->comm, &size_);
  if (code != MPI_SUCCESS) {
    if (impl->comm != MPI_COMM_NULL) MPI_Comm_free(&impl->comm);
    if (impl->gather_comm != MPI_COMM_NULL) MPI_Comm_free(&impl->gather_comm);
    mpi_lifetime().leave();
    check(code, "MPI_Comm_dup", launched_rank());
  }
  impl_ = std::move(impl);
}

Communicator::~Communicator() {
  if (!impl_) return;
  MPI_Comm_free(&impl_->comm);
  MPI_Comm_free(&impl_->gather_comm);
  mpi_lifetime().leave();
}

namespace {

// One allreduce_mean under way: exchanging the chunks, then gathering the means.
class Exchange : public PendingAllreduce::State {
public:
  template <typename T>
  Exchange(Communicator::Impl &impl, int rank, int size, std::span<T> values, bool mean);
  bool test() override { return advance(/*block=*/false); }
  void wait() override { advance(/*block=*/true); }

  // Whether the first phase is done (with `block`, once it is).
  bool exchanged(bool block);
  void start_gather();

private:
  bool advance(bool block);

  Communicator::Impl &impl_;
  int rank_, size_;
  MPI_Datatype type_;
  size_t element_bytes_;
  void (*reduce_)(const std::byte *, int, size_t, std::byte *);
  std::byte *values_;
  std::vector<int> counts_, offsets_;             // each rank's chunk
  std::vector<int> piece_counts_, piece_offsets_; // this rank's chunk from each rank
  std::vector<std::byte> pieces_;
  MPI_Request request_ = MPI_REQUEST_NULL;
  bool gathering_ = false;
};

template <typename T>
Exchange::Exchange(Communicator::Impl &impl, int rank, int size, std::span<T> values, bool mean)
    : impl_(impl), rank_(rank), size_(size), type_(mpi_type<T>()), element_bytes_(sizeof(T)),
      reduce_(mean ? reduce_in_rank_order<T, true> : reduce_in_rank_order<T, false>),
      values_(reinterpret_cast<std::byte *>(values.data())), counts_(size_t(size)),
      offsets_(size_t(size)), piece_counts_(size_t(size)), piece_offsets_(size_t(size)) {
  auto n = int64_t(values.size());
  if (n > INT_MAX) // MPI counts and offsets are ints
    fail("rank {}: allreduce_mean of {} elements: more than MPI's limit of {}; split the buffer",
         rank, n, INT_MAX);
  for (int r = 0; r < size; ++r) {
    offsets_[size_t(r)] = int(n * r / size);
    counts_[size_t(r)] = int(n * (r + 1) / size) - offsets_[size_t(r)];
  }
  int mine = counts_[size_t(rank)];
  for (int r = 0; r < size; ++r) {
    piece_counts_[size_t(r)] = mine;
    piece_offsets_[size_t(r)] = mine * r;
  }
  pieces_ = impl_.take_buffer(size_t(mine) * size_t(size) * sizeof(T));
  check(MPI_Ialltoallv(values_, counts_.data(), offsets_.data(), type_, pieces_.data(),
                       piece_counts_.data(), piece_offsets_.data(), type_, impl_.comm, &request_),
        "MPI_Ialltoallv", rank_);
  impl_.exchanging.push_back(this);
}

// The current phase's request: done, or (with `block`) once it is.
bool finished(MPI_Request &request, bool block, const char *call, int rank) {
  if (block) {
    check(MPI_Wait(&request, MPI_STATUS_IGNORE), call, rank);
    return true;
  }
  int done = 0;
  check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), call, rank);
  return done != 0;
}

bool Exchange::exchanged(bool block) { return finished(request_, block, "MPI_Ialltoallv", rank_); }

bool Exchange::advance(bool block) {
  if (!gathering_) impl_.advance_exchanges(this, block);
  return gathering_ && finished(request_, block, "MPI_Iallgatherv", rank_);
}

void Exchange::start_gather() {
  size_t mine = size_t(counts_[size_t(rank_)]);
  reduce_(pieces_.data(), size_, mine, values_ + size_t(offsets_[size_t(rank_)]) * element_bytes_);
  impl_.spare_buffers.push_back(std::move(pieces_));
  gathering_ = true;
  check(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, values_, counts_.data(),
                        offsets_.data(), type_, impl_.gather_comm, &request_),
        "MPI_Iallgatherv", rank_);
}

} // namespace

void Communicator::Impl::advance_exchanges(const Exchange *needed, bool block) {
  while (!exchanging.empty()) {
    Exchange *first = exchanging.front();
    bool must =
        block && std::find(exchanging.begin(), exchanging.end(), needed) != exchanging.end();
    if (!first->exchanged(must)) return;
    exchanging.pop_front();
    first->start_gather();
  }
}

namespace {

// Nothing to exchange alone or for an empty buffer (empty on every rank).
template <typename T>
PendingAllreduce start_exchange(Communicator::Impl *impl, int rank, int size, std::span<T> values,
                                bool mean) {
  if (size == 1 || values.empty()) return {};
  return PendingAllreduce(std::make_unique<Exchange>(*impl, rank, size, values, mean));
}

} // namespace

PendingAllreduce Communicator::start_allreduce_mean(std::span<float> values) {
  return start_exchange(impl_.get(), rank_, size_, values, /*mean=*/true);
}

PendingAllreduce Communicator::start_allreduce_mean(std::span<double> values) {
  return start_exchange(impl_.get(), rank_, size_, values, /*mean=*/true);
}

void Communicator::allreduce_sum(std::span<double> values) {
  start_exchange(impl_.get(), rank_, size_, values, /*mean=*/false).wait();
}

void Communicator::barrier() {
  if (impl_) check(MPI_Barrier(impl_->comm), "MPI_Barrier", rank_);
}

std::vector<uint64_t> Communicator::allgather(std::span<const uint64_t> values) {
  std::vector<uint64_t> all(values.size() * size_t(size_));
  if (!impl_) {
    std::copy(values.begin(), values.end(), all.begin());
    return all;
  }
  if (values.size() > INT_MAX)
    fail("rank {}: allgather of {} values: more than MPI's limit", rank_, values.size());
  check(MPI_Allgather(values.data(), int(values.size()), MPI_UINT64_T, all.data(),
                      int(values.size()), MPI_UINT64_T, impl_->comm),
        "MPI_Allgather", rank_);
  return all;
}

bool Communicator::built_with_mpi() { return true; }

} // namespace kiln
