// Writes the models of the ahead-of-time tests (aot_models.h) to DIR/mlp.kiln
// and DIR/lenet.kiln, for kiln_add_model to compile, and 13 random images
// (two batches of 8, the second short) to DIR/images.npy.
#include "aot_models.h"
#include "data/npy.h"
#include "ir/serialize.h"

#include <cstdio>
#include <filesystem>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_models DIR\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  kiln::save_graph(kiln::aot_test::mlp_graph(), dir / "mlp.kiln");
  kiln::save_graph(kiln::aot_test::lenet_graph(), dir / "lenet.kiln");
  kiln::Tensor images(kiln::f32, {13, 784});
  uint32_t state = 1;
  for (float &v : images.data<float>())
    v = float((state = state * 1664525u + 1013904223u) >> 8) / 16777216.0f;
  kiln::write_npy(dir / "images.npy", images);
  return 0;
}
