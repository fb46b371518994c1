// Start-up of a JIT Session program, for bench/aot.sh: loads a model (its
// placeholder "x" of items ITEM...), compiles and runs "logits" once on a
// zero batch of 1, and exits; the script times the process.
//   jit_first MODEL.kiln ITEM...     (jit_first lenet.kiln 1 28 28)
#include "ir/serialize.h"
#include "session/session.h"

#include <cstdio>
#include <cstdlib>

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: jit_first MODEL.kiln ITEM...\n");
    return 2;
  }
  kiln::Shape shape = {1};
  for (int i = 2; i < argc; ++i) shape.push_back(std::atoll(argv[i]));
  kiln::Session session(kiln::load_graph(argv[1]), {.threads = 1});
  kiln::Tensor logits = session.run({{"x", kiln::Tensor(kiln::f32, shape)}}, {"logits"})[0];
  std::printf("%g\n", logits.data<float>()[0]);
  return 0;
}
