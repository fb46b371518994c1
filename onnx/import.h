// ONNX models as kiln graphs (kiln import, C++ import_onnx). The whole model
// is checked before anything is built: every unsupported op, attribute (or
// attribute of the wrong type), dtype, dynamic dimension, value written twice
// and initializer whose data does not match its dims is reported in one
// error, each with the node's name, op, opset and input types; then what only
// building shows (shapes, declared output types) is reported the same way.
// A dim_param in the first dim of an input becomes kiln's symbolic batch;
// shape computations (Shape -> Gather -> Concat -> Reshape) are computed at
// import time, the batch dim carried through. Initializers become constants
// or, with `trainable`, the float ones variables (their values returned, to
// be saved as a checkpoint), so that the model can be fine-tuned; those read
// at import time (a shape, a Clip bound) stay constants.
#pragma once

#include "ir/graph.h"

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// Opsets of the default domain that import_onnx accepts.
inline constexpr int64_t kOnnxMinOpset = 7, kOnnxMaxOpset = 17;

struct OnnxImportOptions {
  bool trainable = false;
  // Above 0: the inputs' dynamic first dims take this size instead of
  // becoming kiln's symbolic batch, so that shape computations reading the
  // batch size (attention's reshapes to [L, N * heads, d]) fold at import.
  int64_t batch = 0;
};

struct OnnxModel {
  Graph graph;
  std::map<NodeId, Tensor> variables; // with trainable: each variable's value
  std::vector<std::string> notes;     // the names changed to keep them apart
};

// Fails naming the file for an unreadable model, and listing every problem
// for one kiln cannot import. The graph's inputs and outputs keep their ONNX
// names; other values are named as onnx/names.h says.
OnnxModel import_onnx(const std::filesystem::path &model, const OnnxImportOptions &options = {});
// The same from the bytes of a model; `file` names it in messages.
OnnxModel import_onnx(std::string_view bytes, const std::string &file,
                      const OnnxImportOptions &options = {});

} // namespace kiln
