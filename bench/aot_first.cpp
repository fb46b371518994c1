// Start-up of an ahead-of-time compiled model, for bench/aot.sh: the process
// creates an instance (reading its weights), classifies one zero image and
// exits; the script times the process from start to exit. MODEL_HEADER,
// MODEL (the C prefix) and X_ELEMENTS come from CMake.
#include MODEL_HEADER

#include <cstdio>
#include <vector>

#define CAT(a, b) a##b
#define CALL(model, suffix) CAT(model, suffix)

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s WEIGHTS\n", argv[0]);
    return 2;
  }
  kiln_aot_instance *m = nullptr;
  if (CALL(MODEL, _create)(&m, argv[1], 1) != KILN_OK) {
    std::fprintf(stderr, "%s\n", kiln_last_error());
    return 1;
  }
  std::vector<float> x(X_ELEMENTS), logits(10);
  if (CALL(MODEL, _predict)(m, x.data(), logits.data()) != KILN_OK) return 1;
  std::printf("%g\n", logits[0]);
  CALL(MODEL, _destroy)(m);
  return 0;
}
