#include "onnx/onnx_tensor.h"

#include "ir/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <limits>

namespace kiln::onnx_import {

namespace {

// Elements in `dims`, or nullopt for a negative dim or a count that does not
// fit in 2^62 (more than any file can hold).
std::optional<int64_t> element_count(const onnx::TensorProto &p) {
  int64_t n = 1;
  for (int64_t d : p.dims()) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > (int64_t{1} << 62) / d) return std::nullopt;
    n *= d;
  }
  return n;
}

// The number of values in the typed field that holds this dtype's data.
int64_t typed_values(const onnx::TensorProto &p, DType dtype) {
  switch (dtype) {
  case DType::f32: return p.float_data_size();
  case DType::f64: return p.double_data_size();
  case DType::i64: return p.int64_data_size();
  case DType::i32:
  case DType::boolean: return p.int32_data_size();
  }
  return 0;
}

template <typename T, typename Field> void copy_values(Tensor &t, const Field &field) {
  for (int k = 0; k < field.size(); ++k) t.set(k, double(T(field.Get(k))));
}

} // namespace

std::optional<DType> dtype_of(int32_t onnx_type) {
  switch (onnx_type) {
  case onnx::TensorProto::FLOAT: return f32;
  case onnx::TensorProto::DOUBLE: return f64;
  case onnx::TensorProto::INT32: return i32;
  case onnx::TensorProto::INT64: return i64;
  case onnx::TensorProto::BOOL: return DType::boolean;
  default: return std::nullopt;
  }
}

std::string onnx_type_name(int32_t t) {
  return onnx::TensorProto::DataType_IsValid(t)
             ? onnx::TensorProto::DataType_Name(onnx::TensorProto::DataType(t))
             : fmt::format("data type {}", t);
}

std::string tensor_problem(const onnx::TensorProto &p) {
  std::optional<DType> dtype = dtype_of(p.data_type());
  if (!dtype) return fmt::format("{} is not supported", onnx_type_name(p.data_type()));
  if (p.data_location() == onnx::TensorProto::EXTERNAL)
    return "external data is not supported (save the model with its data inside)";
  std::optional<int64_t> count = element_count(p);
  std::vector<int64_t> dims(p.dims().begin(), p.dims().end());
  if (!count) return fmt::format("dims {} are not a tensor kiln can hold", dims);
  std::string type = fmt::format("{}[{}]", to_string(*dtype), fmt::join(dims, ", "));
  if (p.has_raw_data()) {
    if (p.raw_data().size() / byte_size(*dtype) != uint64_t(*count) ||
        p.raw_data().size() % byte_size(*dtype) != 0)
      return fmt::format("{} bytes of data for {}", p.raw_data().size(), type);
    return "";
  }
  if (int64_t n = typed_values(p, *dtype); n != *count)
    return fmt::format("{} values for {}", n, type);
  return "";
}

Tensor tensor_of(const onnx::TensorProto &p) {
  if (std::string why = tensor_problem(p); !why.empty()) fail("tensor '{}': {}", p.name(), why);
  DType dtype = *dtype_of(p.data_type());
  Tensor t(dtype, Shape(p.dims().begin(), p.dims().end()));
  if (p.has_raw_data()) {
    if (t.bytes() != 0) std::memcpy(t.raw(), p.raw_data().data(), t.bytes());
    return t;
  }
  switch (dtype) {
  case DType::f32: copy_values<float>(t, p.float_data()); break;
  case DType::f64: copy_values<double>(t, p.double_data()); break;
  case DType::i64: copy_values<int64_t>(t, p.int64_data()); break;
  case DType::i32:
  case DType::boolean: copy_values<int32_t>(t, p.int32_data()); break;
  }
  return t;
}

} // namespace kiln::onnx_import
