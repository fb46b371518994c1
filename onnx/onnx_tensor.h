// ONNX tensors and types as kiln's: which dtypes kiln has, and initializers
// and Constant values checked against their data before anything is
// allocated (a header may claim any size).
#pragma once

#include "ir/tensor.h"

#include "onnx/onnx.pb.h"

#include <optional>
#include <string>

namespace kiln::onnx_import {

std::optional<DType> dtype_of(int32_t onnx_type);
std::string onnx_type_name(int32_t onnx_type); // "FLOAT16", or "data type 99"

// "" or what is wrong with the tensor: a dtype kiln lacks, a negative dim, or
// data that does not hold the number of elements its dims claim.
std::string tensor_problem(const onnx::TensorProto &p);
// The tensor's value; fails with tensor_problem's message.
Tensor tensor_of(const onnx::TensorProto &p);

} // namespace kiln::onnx_import
