// Conversions between kiln tensors and their protobuf form (TensorProto),
// shared by graph files (constant attributes) and checkpoints.
#pragma once

#include "ir/kiln.pb.h"
#include "ir/tensor.h"

#include <string>

namespace kiln {

proto::DataType to_proto(DType t);
void to_proto(const Tensor &t, proto::TensorProto &p);

// `who` prefixes errors: an invalid dtype, a shape that is not concrete, or
// data whose byte count does not match the shape.
DType from_proto(proto::DataType t, const std::string &who);
Tensor from_proto(const proto::TensorProto &p, const std::string &who);

} // namespace kiln
