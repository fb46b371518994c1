// kiln names for the values of an ONNX graph, one to one. The graph's inputs
// and outputs keep their ONNX names, so those always work as feed and fetch
// names; other values drop a leading '/' and turn ':' into '_' (kiln's '/'
// separates scopes: "/fc1/Gemm_output_0" -> "fc1/Gemm_output_0",
// "onnx::Relu_7" -> "onnx_Relu_7"). A name so made that another value has
// already is suffixed ("_1", ...) and the change reported.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace kiln::onnx_import {

class NameTable {
public:
  // `kept`: the graph's inputs and outputs; `others`: every other value, in
  // graph order.
  NameTable(const std::vector<std::string> &kept, const std::vector<std::string> &others);

  // The kiln name of an ONNX value named by the constructor.
  const std::string &operator[](const std::string &onnx) const { return names_.at(onnx); }
  // "value '/r' is named 'r_1' ('r' is another value's name)", for each collision.
  const std::vector<std::string> &collisions() const { return collisions_; }

private:
  std::map<std::string, std::string> names_;
  std::vector<std::string> collisions_;
};

} // namespace kiln::onnx_import
