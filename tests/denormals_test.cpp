// Kernels run under a fixed floating-point state: denormals flushed to zero
// by default, kept on request, whatever the caller's state, which a run
// leaves as it found it (runtime/executor.h).
#include "ops/builder.h"
#include "session/session.h"

#include <catch2/catch.hpp>

#include <xmmintrin.h>

using namespace kiln;

namespace {

constexpr unsigned kFlushBits = 0x8040; // MXCSR's flush-to-zero and denormals-are-zero
constexpr unsigned kRoundDown = 0x2000; // MXCSR's rounding control: toward -infinity
constexpr float kTiny = 1e-20f;         // squared: 1e-40, under f32's smallest normal

// MXCSR's control bits: its low 6 bits are sticky exception flags, which
// oneTBB does not carry across task_arena::execute (nor would a caller
// expect a computation to leave them as they were).
unsigned control(unsigned csr) { return csr & ~0x3fu; }

// y = x * x over enough elements that both threads run chunks of it.
struct Square {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 1024});
  Value y = mul(x, x, "y");
};

Tensor squares(bool flush, int threads) {
  Square m;
  Session s(m.g, {.threads = threads, .flush_denormals = flush});
  Tensor x(f32, {256, 1024});
  for (float &v : x.data<float>()) v = kTiny;
  return s.run({{m.x, x}}, {m.y})[0];
}

// Sets the calling thread's MXCSR for a test, and restores it after.
struct HostState {
  unsigned saved = _mm_getcsr();
  explicit HostState(unsigned csr) { _mm_setcsr(csr); }
  ~HostState() { _mm_setcsr(saved); }
};

} // namespace

TEST_CASE("denormals: flushed to zero by default, on every thread", "[session][denormals]") {
  for (int threads : {1, 2}) {
    Tensor y = squares(true, threads);
    for (float v : y.data<float>()) REQUIRE(v == 0.0f);
  }
}

TEST_CASE("denormals: kept when asked, even if the caller flushes", "[session][denormals]") {
  float expected = float(double(kTiny) * double(kTiny)); // rounded once, a denormal
  REQUIRE(expected > 0.0f);
  HostState flushing(_mm_getcsr() | kFlushBits);
  Tensor y = squares(false, 2);
  for (float v : y.data<float>()) REQUIRE(v == expected);
}

TEST_CASE("denormals: a run leaves the caller's floating-point state as it was",
          "[session][denormals]") {
  for (bool flush : {true, false}) {
    unsigned host = (_mm_getcsr() & ~kFlushBits) | kRoundDown;
    HostState own(host);
    squares(flush, 2);
    CHECK(control(_mm_getcsr()) == control(host));
  }
}
