// What a Session allocates: only the variables its runs use, nothing past
// SessionOptions' limits, and a failed allocation names what it was for.
#include "ops/builder.h"
#include "session/checkpoint.h"
#include "session/session.h"

#include <catch2/catch.hpp>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

// y = x * w, beside a variable of 4 TiB that nothing reads: allocating it
// would fail.
struct HugeUnused {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 4});
  Value w = variable(g, "w", f32, {4}, Init::ones());
  Value huge = variable(g, "huge", f32, {int64_t(1) << 40}, Init::zeros());
  Value y = mul(x, w, "y");
  Value y_huge = add(sum(huge), sum(x), "uses_huge");
};

} // namespace

TEST_CASE("session: a variable no run uses is never allocated", "[session]") {
  HugeUnused m;
  Session s(m.g, {.threads = 1});
  Tensor y = s.run({{m.x, Tensor::from<float>({1, 4}, {1, 2, 3, 4})}}, {m.y})[0];
  CHECK(y.data<float>()[3] == 4);
  CHECK(s.variable(m.w).data<float>()[0] == 1);
  // Using it fails, naming it, before any kernel runs.
  REQUIRE_THROWS_WITH(s.run({{m.x, Tensor(f32, {1, 4})}}, {m.y_huge}),
                      "cannot allocate 4.0 TiB for variable 'huge' (f32[1099511627776]): out of "
                      "memory");
}

TEST_CASE("session: arenas and buffers past SessionOptions' limits fail before allocating",
          "[session]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 256});
  Value w = variable(g, "w", f32, {256, 256}, Init::ones());
  Value h = relu(matmul(x, w), "h");
  Value y = sum(h * h, {1}, false, "y");
  Tensor feed(f32, {64, 256});

  Session small_buffers(g, {.threads = 1, .max_buffer_bytes = 32 << 10});
  // w (256 KiB) is over 32 KiB, and so is h at batch 64 (64 KiB).
  REQUIRE_THROWS_WITH(small_buffers.run({{x, feed}}, {y}),
                      "node 'w' (variable) (f32[256, 256] at batch 64) needs 256.0 KiB, over "
                      "SessionOptions::max_buffer_bytes (32.0 KiB)");

  Session small_arena(g, {.threads = 1, .max_arena_bytes = 1024});
  REQUIRE_THROWS_WITH(small_arena.run({{x, feed}}, {y}),
                      Contains("needs an arena of ") &&
                          Contains("over SessionOptions::max_arena_bytes (1.0 KiB)"));
  Session roomy(g, {.threads = 1, .max_arena_bytes = 1 << 20, .max_buffer_bytes = 1 << 20});
  CHECK(roomy.run({{x, feed}}, {y})[0].shape() == Shape{64});
}
