// A data-parallel train step compiled ahead of time (`kiln compile
// --data-parallel`, kiln_add_model DATA_PARALLEL) against the JIT's, both in
// the same job: ctest runs this under `mpirun -np 2` and alone. Each rank
// trains both on its own 16 rows a step; losses and every variable must
// agree bit for bit after each step.
#define CATCH_CONFIG_RUNNER
#include "aot_mlp16dp.h"
#include "aot_models.h"

#include "../test_util.h"
#include "distributed/communicator.h"
#include "distributed/plan_collectives.h"
#include "session/session.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <random>

using namespace kiln;

namespace {

Communicator *world = nullptr; // main's, for the whole run

} // namespace

TEST_CASE("aot: a data-parallel train step equals the JIT's, bit for bit", "[distributed][aot]") {
  Session jit(aot_test::mlp_graph(), {.threads = 1, .communicator = world});
  aot_mlp16dp::Model aot(AOT_MLP16DP_WEIGHTS, 1);
  CommunicatorCollectives collectives(*world);
  aot.set_collectives(&collectives);
  for (uint32_t step = 0; step < 5; ++step) {
    uint32_t seed = step * 97 + uint32_t(world->rank());
    std::mt19937 rng(seed);
    Tensor x = test::random_tensor(f32, {16, 784}, rng, 0, 1), y(i32, {16});
    for (int64_t i = 0; i < 16; ++i) y.set(i, double((seed + uint32_t(i)) % 10));
    float loss = 0;
    aot.train_step(x.data<float>().data(), y.data<int32_t>().data(), &loss);
    Tensor expected = jit.run({{"x", x}, {"y", y}}, {"loss"}, {"adam/train"})[0];
    INFO("step " << step);
    REQUIRE(std::memcmp(expected.raw(), &loss, sizeof loss) == 0);
  }
  for (const Node &n : jit.graph().nodes()) {
    if (n.op->source != Source::variable) continue;
    Tensor mine = jit.variable(n.name);
    std::vector<std::byte> theirs(mine.bytes());
    aot.get_variable(n.name.c_str(), theirs.data(), theirs.size());
    INFO(n.name);
    CHECK(std::memcmp(mine.raw(), theirs.data(), theirs.size()) == 0);
  }
}

int main(int argc, char **argv) {
  Communicator communicator;
  world = &communicator;
  return Catch::Session().run(argc, argv);
}
