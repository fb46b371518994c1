// Classifies Fashion-MNIST images with a model compiled ahead of time
// (kiln_add_model(classifier ...), weights embedded): no JIT, no LLVM.
//   classify IMAGES.npy [--expect PREDICTED.npy]
// IMAGES: f32 [N, 784] or [N, 1, 28, 28]; PREDICTED: the JIT's classes
// (`kiln run ... --fetch predicted --out DIR`), to check that they agree.
#include "classifier.h"

#include "data/npy.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

static_assert(CLASSIFIER_WEIGHTS_EMBEDDED, "compile the classifier with EMBED_WEIGHTS");

namespace {

constexpr const char *kClasses[] = {"T-shirt/top", "trouser", "pullover", "dress", "coat",
                                    "sandal",      "shirt",   "sneaker",  "bag",   "ankle boot"};

std::vector<int64_t> classify(classifier::Model &model, const kiln::Tensor &images) {
  constexpr int64_t kPerImage = CLASSIFIER_PREDICT_X_ELEMENTS / CLASSIFIER_BATCH;
  if (images.dtype() != kiln::f32 || images.rank() < 1 || images.size() % kPerImage ||
      images.size() / kPerImage != images.shape()[0])
    throw std::runtime_error("expected f32 images of " + std::to_string(kPerImage) +
                             " values each, got " + images.summary());
  int64_t n = images.shape()[0];
  std::vector<float> batch(CLASSIFIER_PREDICT_X_ELEMENTS);
  std::vector<int64_t> predicted(CLASSIFIER_BATCH), classes;
  const float *pixels = images.data<float>().data();
  for (int64_t first = 0; first < n; first += CLASSIFIER_BATCH) {
    int64_t count = std::min<int64_t>(CLASSIFIER_BATCH, n - first);
    std::fill(batch.begin(), batch.end(), 0.0f); // a short last batch is padded
    std::memcpy(batch.data(), pixels + first * kPerImage, size_t(count * kPerImage) * 4);
    model.predict(batch.data(), predicted.data());
    classes.insert(classes.end(), predicted.begin(), predicted.begin() + count);
  }
  return classes;
}

} // namespace

int main(int argc, char **argv) try {
  if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--expect")) {
    std::fprintf(stderr, "usage: classify IMAGES.npy [--expect PREDICTED.npy]\n");
    return 2;
  }
  classifier::Model model;
  std::vector<int64_t> classes = classify(model, kiln::read_npy(argv[1]));
  for (size_t i = 0; i < classes.size(); ++i)
    std::printf("image %zu: %s\n", i, kClasses[classes[i]]);
  if (argc == 2) return 0;
  kiln::Tensor expected = kiln::read_npy(argv[3]);
  if (expected.dtype() != kiln::i64 || size_t(expected.size()) != classes.size())
    throw std::runtime_error("expected " + std::to_string(classes.size()) + " i64 classes in " +
                             argv[3] + ", got " + expected.summary());
  auto jit = expected.data<int64_t>();
  size_t equal = 0;
  for (size_t i = 0; i < classes.size(); ++i) equal += classes[i] == jit[i];
  std::printf("%zu of %zu predictions equal the JIT's\n", equal, classes.size());
  return equal == classes.size() ? 0 : 1;
} catch (const std::exception &e) {
  std::fprintf(stderr, "classify: error: %s\n", e.what());
  return 1;
}
