// kiln inference graphs as ONNX models (kiln export), opset 13: the nodes
// that the fetches need, with placeholders as inputs (the batch dim as the
// dim_param "batch"), constants and variables as initializers. Every node
// that has no ONNX form is reported at once before anything is written.
#pragma once

#include "ir/graph.h"

#include <functional>
#include <string>
#include <vector>

namespace kiln {

inline constexpr int64_t kOnnxExportOpset = 13;

// The serialized ModelProto; `variable_value(id)` gives each variable's value.
std::string export_onnx(const Graph &g, const std::vector<NodeId> &fetches,
                        const std::function<Tensor(NodeId)> &variable_value);

} // namespace kiln
