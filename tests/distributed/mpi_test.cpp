// The Communicator across processes: ctest runs this program under
// `mpirun -np 2` and `-np 3`, and alone (a job of one). Every rank knows what
// every other rank reduces (values drawn from the rank's own seed), so each
// checks its result against the serial mean in rank order, to the bit: the
// fixed order that makes two runs with the same rank count bit-identical.
#define CATCH_CONFIG_RUNNER
#include "distributed/communicator.h"

#include "ir/error.h"
#include "ops/random.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

using namespace kiln;
using Catch::Matchers::Equals;

namespace {

Communicator *world = nullptr; // main's, for the whole run

// What `rank` reduces: n values spread over 40 binades, so that the sum's
// last bits depend on the order of its terms.
template <typename T> std::vector<T> values_of(int rank, size_t n) {
  ops::Random rng(uint64_t(rank) * 7919 + n);
  std::vector<T> values(n);
  for (T &v : values) v = T(std::ldexp(rng.uniform(-1, 1), int(rng.next() % 41) - 20));
  return values;
}

// The mean of every rank's values, summed left to right in `ranks` order.
template <typename T> std::vector<T> serial_mean(std::vector<int> ranks, size_t n) {
  std::vector<T> sum = values_of<T>(ranks[0], n);
  for (size_t k = 1; k < ranks.size(); ++k) {
    std::vector<T> v = values_of<T>(ranks[k], n);
    for (size_t i = 0; i < n; ++i) sum[i] += v[i];
  }
  for (T &s : sum) s /= T(ranks.size());
  return sum;
}

std::vector<int> rank_order(int size) {
  std::vector<int> ranks(static_cast<size_t>(size));
  std::iota(ranks.begin(), ranks.end(), 0);
  return ranks;
}

template <typename T> bool bitwise_equal(const std::vector<T> &a, const std::vector<T> &b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

} // namespace

TEST_CASE("mpi: the job's ranks and size are the launcher's", "[mpi]") {
  const char *launched = std::getenv("OMPI_COMM_WORLD_SIZE");
  CHECK(world->size() == (launched ? std::atoi(launched) : 1));
  CHECK(world->joined() == bool(launched));
  // Each rank adds a one-hot vector: every slot's mean is 1/size only if the
  // ranks are 0..size-1, each once.
  std::vector<double> one_hot(size_t(world->size()), 0.0);
  one_hot[size_t(world->rank())] = world->size();
  world->allreduce_mean(std::span(one_hot));
  CHECK(one_hot == std::vector<double>(size_t(world->size()), 1.0));
  world->barrier();
}

TEMPLATE_TEST_CASE("mpi: allreduce_mean is the serial mean in rank order, to the bit", "[mpi]",
                   float, double) {
  // Lengths below the rank count leave some ranks' chunks empty.
  for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(7), size_t(1000), size_t(4099)}) {
    CAPTURE(n);
    std::vector<TestType> values = values_of<TestType>(world->rank(), n);
    world->allreduce_mean(std::span(values));
    CHECK(bitwise_equal(values, serial_mean<TestType>(rank_order(world->size()), n)));

    // Twice the same input, twice the same bits.
    std::vector<TestType> again = values_of<TestType>(world->rank(), n);
    world->allreduce_mean(std::span(again));
    CHECK(bitwise_equal(again, values));
  }
}

TEST_CASE("mpi: allreduce_sum is the serial sum in rank order, to the bit", "[mpi]") {
  for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(4099)}) {
    CAPTURE(n);
    std::vector<double> values = values_of<double>(world->rank(), n);
    world->allreduce_sum(std::span(values));
    std::vector<double> sum = values_of<double>(0, n);
    for (int r = 1; r < world->size(); ++r) {
      std::vector<double> v = values_of<double>(r, n);
      for (size_t i = 0; i < n; ++i) sum[i] += v[i];
    }
    CHECK(bitwise_equal(values, sum));
  }
}

TEST_CASE("mpi: the data makes the order of the sum show", "[mpi]") {
  // Two terms add the same either way; from three on, another order would
  // change some bits, so the test above would catch an unordered reduction.
  if (world->size() < 3) return;
  std::vector<int> reversed = rank_order(world->size());
  std::reverse(reversed.begin(), reversed.end());
  CHECK_FALSE(bitwise_equal(serial_mean<float>(reversed, 4099),
                            serial_mean<float>(rank_order(world->size()), 4099)));
  CHECK_FALSE(bitwise_equal(serial_mean<double>(reversed, 4099),
                            serial_mean<double>(rank_order(world->size()), 4099)));
}

TEST_CASE("mpi: started allreduces finish under test() and wait()", "[mpi]") {
  std::vector<float> a = values_of<float>(world->rank(), 3000);
  std::vector<double> b = values_of<double>(world->rank(), 5000);
  PendingAllreduce first = world->start_allreduce_mean(std::span(a));
  PendingAllreduce second = world->start_allreduce_mean(std::span(b));
  while (!first.test()) {
  }
  CHECK(first.test()); // stays done
  second.wait();
  CHECK(bitwise_equal(a, serial_mean<float>(rank_order(world->size()), 3000)));
  CHECK(bitwise_equal(b, serial_mean<double>(rank_order(world->size()), 5000)));

  // Dropped unfinished, it waits.
  std::vector<float> c = values_of<float>(world->rank(), 100);
  { PendingAllreduce dropped = world->start_allreduce_mean(std::span(c)); }
  CHECK(bitwise_equal(c, serial_mean<float>(rank_order(world->size()), 100)));
}

TEST_CASE("mpi: tensors reduce as their dtype's buffer", "[mpi]") {
  std::vector<double> values = values_of<double>(world->rank(), 12);
  Tensor t = Tensor::from<double>({3, 4}, values);
  world->allreduce_mean(t);
  std::vector<double> reduced(t.data<double>().begin(), t.data<double>().end());
  CHECK(bitwise_equal(reduced, serial_mean<double>(rank_order(world->size()), 12)));

  Tensor labels = Tensor::from<int32_t>({3}, std::vector<int32_t>{1, 2, 3});
  CHECK_THROWS_WITH(world->allreduce_mean(labels),
                    Equals("rank " + std::to_string(world->rank()) +
                           ": allreduce_mean of i32[3]: expected f32 or f64"));
}

int main(int argc, char **argv) {
  Communicator communicator;
  world = &communicator;
  return Catch::Session().run(argc, argv);
}
