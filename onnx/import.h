// ONNX models as kiln graphs (kiln import, C++ import_onnx). The whole model
// is checked before anything is built: every unsupported op, attribute,
// dtype or dynamic dimension is reported in one error, each with the node's
// name, op, opset and input types. A dim_param in the first dim of an input
// becomes kiln's symbolic batch; initializers become constants or, with
// `trainable`, the float ones variables (their values returned, to be saved
// as a checkpoint), so that the model can be fine-tuned.
#pragma once

#include "ir/graph.h"

#include <filesystem>
#include <map>
#include <string>

namespace kiln {

// Opsets of the default domain that import_onnx accepts.
inline constexpr int64_t kOnnxMinOpset = 7, kOnnxMaxOpset = 17;

struct OnnxImportOptions {
  bool trainable = false;
};

struct OnnxModel {
  Graph graph;
  std::map<NodeId, Tensor> variables; // with trainable: each variable's value
};

// Fails naming the file for an unreadable model, and listing every problem
// for one kiln cannot import. Graph inputs keep their ONNX names, and each
// node's value is named after its first output (':' becomes '_').
OnnxModel import_onnx(const std::filesystem::path &model, const OnnxImportOptions &options = {});

} // namespace kiln
