#include "ir/tensor_proto.h"

#include "ir/error.h"

#include <cstring>

namespace kiln {

proto::DataType to_proto(DType t) { return static_cast<proto::DataType>(static_cast<int>(t) + 1); }

void to_proto(const Tensor &t, proto::TensorProto &p) {
  p.set_dtype(to_proto(t.dtype()));
  for (int64_t d : t.shape()) p.add_shape(d);
  p.set_data(static_cast<const char *>(t.raw()), t.bytes());
}

DType from_proto(proto::DataType t, const std::string &who) {
  if (t < proto::DT_F32 || t > proto::DT_BOOL)
    fail("{}: invalid dtype {}", who, static_cast<int>(t));
  return static_cast<DType>(static_cast<int>(t) - 1);
}

Tensor from_proto(const proto::TensorProto &p, const std::string &who) {
  Shape shape(p.shape().begin(), p.shape().end());
  if (!is_concrete(shape)) fail("{}: tensor shape {} is not concrete", who, to_string(shape));
  DType dtype = from_proto(p.dtype(), who);
  check_dims(shape, /*allow_batch=*/false);
  // Checked before allocating: a damaged shape must not ask for terabytes.
  size_t bytes = size_t(num_elements(shape)) * byte_size(dtype);
  if (p.data().size() != bytes)
    fail("{}: tensor {}{} needs {} bytes of data, got {}", who, to_string(dtype), to_string(shape),
         bytes, p.data().size());
  Tensor t(dtype, std::move(shape));
  std::memcpy(t.raw(), p.data().data(), bytes);
  return t;
}

} // namespace kiln
