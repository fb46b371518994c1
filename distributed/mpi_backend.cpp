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

#include <climits>
#include <cstdlib>
#include <cstring>
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

// out = (pieces[0] + pieces[1] + ... + pieces[parts-1]) / parts, element-wise,
// left to right: the order every rank and every run uses.
template <typename T>
void mean_in_rank_order(const std::byte *pieces, int parts, size_t count, std::byte *out) {
  if (count == 0) return; // a rank's chunk is empty when the buffer is shorter than the job
  const T *piece = reinterpret_cast<const T *>(pieces);
  T *sum = reinterpret_cast<T *>(out);
  std::memcpy(sum, piece, count * sizeof(T));
  for (int r = 1; r < parts; ++r)
    for (size_t i = 0; i < count; ++i) sum[i] += piece[size_t(r) * count + i];
  for (size_t i = 0; i < count; ++i) sum[i] /= T(parts);
}

} // namespace

struct Communicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  // Receive buffers of finished allreduces, for the next ones: a fresh one
  // each time costs its page faults, several times the exchange itself.
  std::vector<std::vector<std::byte>> spare_buffers;

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
  if (code == MPI_SUCCESS) code = MPI_Comm_set_errhandler(impl->comm, MPI_ERRORS_RETURN);
  if (code == MPI_SUCCESS) code = MPI_Comm_rank(impl->comm, &rank_);
  if (code == MPI_SUCCESS) code = MPI_Comm_size(impl->comm, &size_);
  if (code != MPI_SUCCESS) {
    if (impl->comm != MPI_COMM_NULL) MPI_Comm_free(&impl->comm);
    mpi_lifetime().leave();
    check(code, "MPI_Comm_dup", launched_rank());
  }
  impl_ = std::move(impl);
}

Communicator::~Communicator() {
  if (!impl_) return;
  MPI_Comm_free(&impl_->comm);
  mpi_lifetime().leave();
}

namespace {

// One allreduce_mean under way: exchanging the chunks, then gathering the means.
class Exchange : public PendingAllreduce::State {
public:
  template <typename T> Exchange(Communicator::Impl &impl, int rank, int size, std::span<T> values);
  bool test() override { return advance(/*block=*/false); }
  void wait() override { advance(/*block=*/true); }

private:
  bool advance(bool block);
  void start_gather();

  Communicator::Impl &impl_;
  int rank_, size_;
  MPI_Datatype type_;
  size_t element_bytes_;
  void (*mean_)(const std::byte *, int, size_t, std::byte *);
  std::byte *values_;
  std::vector<int> counts_, offsets_;             // each rank's chunk
  std::vector<int> piece_counts_, piece_offsets_; // this rank's chunk from each rank
  std::vector<std::byte> pieces_;
  MPI_Request request_ = MPI_REQUEST_NULL;
  bool gathering_ = false;
};

template <typename T>
Exchange::Exchange(Communicator::Impl &impl, int rank, int size, std::span<T> values)
    : impl_(impl), rank_(rank), size_(size), type_(mpi_type<T>()), element_bytes_(sizeof(T)),
      mean_(mean_in_rank_order<T>), values_(reinterpret_cast<std::byte *>(values.data())),
      counts_(size_t(size)), offsets_(size_t(size)), piece_counts_(size_t(size)),
      piece_offsets_(size_t(size)) {
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
}

bool Exchange::advance(bool block) {
  while (true) {
    const char *call = gathering_ ? "MPI_Iallgatherv" : "MPI_Ialltoallv";
    if (block) {
      check(MPI_Wait(&request_, MPI_STATUS_IGNORE), call, rank_);
    } else {
      int done = 0;
      check(MPI_Test(&request_, &done, MPI_STATUS_IGNORE), call, rank_);
      if (!done) return false;
    }
    if (gathering_) return true;
    start_gather();
  }
}

void Exchange::start_gather() {
  size_t mine = size_t(counts_[size_t(rank_)]);
  mean_(pieces_.data(), size_, mine, values_ + size_t(offsets_[size_t(rank_)]) * element_bytes_);
  impl_.spare_buffers.push_back(std::move(pieces_));
  gathering_ = true;
  check(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, values_, counts_.data(),
                        offsets_.data(), type_, impl_.comm, &request_),
        "MPI_Iallgatherv", rank_);
}

// Nothing to exchange alone or for an empty buffer (empty on every rank).
template <typename T>
PendingAllreduce start_exchange(Communicator::Impl *impl, int rank, int size, std::span<T> values) {
  if (size == 1 || values.empty()) return {};
  return PendingAllreduce(std::make_unique<Exchange>(*impl, rank, size, values));
}

} // namespace

PendingAllreduce Communicator::start_allreduce_mean(std::span<float> values) {
  return start_exchange(impl_.get(), rank_, size_, values);
}

PendingAllreduce Communicator::start_allreduce_mean(std::span<double> values) {
  return start_exchange(impl_.get(), rank_, size_, values);
}

void Communicator::barrier() {
  if (impl_) check(MPI_Barrier(impl_->comm), "MPI_Barrier", rank_);
}

bool Communicator::built_with_mpi() { return true; }

} // namespace kiln
