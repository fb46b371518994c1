// Fuzz target for the ONNX importer: any bytes as a model file. Bad input is
// a kiln::Error; what imports is a graph that saves and loads back as itself.
#include "targets.h"

#include "ir/error.h"
#include "ir/serialize.h"
#include "onnx/import.h"

#include <cstdio>
#include <cstdlib>

namespace kiln::fuzz {

void onnx_model(std::string_view bytes) {
  // The first byte picks --trainable, which turns initializers into variables.
  if (bytes.empty()) return;
  OnnxModel m;
  try {
    m = import_onnx(bytes.substr(1), "fuzz", {.trainable = (bytes[0] & 1) != 0});
  } catch (const Error &) {
    return;
  }
  if (deserialize(serialize(m.graph, GraphFormat::binary), GraphFormat::binary) == m.graph) return;
  std::fprintf(stderr, "fuzz property failed: an imported graph round-trips\n");
  std::abort();
}

} // namespace kiln::fuzz
