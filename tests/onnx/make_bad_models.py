"""Builds, with onnx.helper, the models that kiln must refuse or import
faithfully (onnx_test.sh has the exact messages):

- unsupported.onnx: many problems the check finds without building, all in
  one message (a dynamic dim past the batch, a negative dim, an op kiln
  lacks, an unknown attribute, attributes of the wrong type, a missing input,
  a value written twice, an initializer with less data than its dims claim,
  an unsupported Pad mode);
- unbuildable.onnx: problems that only building shows (a Reshape inferring
  -1 over a zero-size dim, a Conv whose kernel_shape disagrees with its
  weights, a Reshape whose shape is a float initializer, a Reshape copying a
  dim past its input's rank, a declared output type that differs from what
  kiln computes), also in one message;
- names.onnx: values named '/r' and 'r' (kiln would name both 'r'), and
  graph outputs made by Identity and Dropout, which must all be fetchable by
  their ONNX names.

    python3 make_bad_models.py OUTDIR
"""
import sys

import numpy as np
import onnx
import onnx.helper as oh
from onnx import TensorProto as T

out = sys.argv[1]


def save(name, nodes, inputs, outputs, initializers=()):
    graph = oh.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 13)]), f"{out}/{name}.onnx")


f32 = np.float32
w = oh.make_tensor("w", T.FLOAT, [4, 8, 1, 1], np.ones(32, f32))
# f32[2^30] with 24 bytes: refused before 4 GiB are allocated.
big = oh.make_tensor("big", T.FLOAT, [6], np.zeros(6, f32).tobytes(), raw=True)
big.dims[0] = 1 << 30
save("unsupported", [
    oh.make_node("Erf", ["x"], ["e"], name="erf_1"),
    oh.make_node("NonZero", ["e"], ["h"], name="nonzero_1"),
    oh.make_node("Relu", ["e"], ["r1"], name="relu_1"),
    oh.make_node("Conv", ["r1", "w"], ["c"], name="conv_1"),
    oh.make_node("Softmax", ["c"], ["y"], name="softmax_1", axis=1, extra=3),
    oh.make_node("Gemm", ["y"], ["z"], name="gemm_1"),
    oh.make_node("ArgMax", ["c"], ["a"], name="argmax_1", keepdims="yes"),
    oh.make_node("Gemm", ["c", "c"], ["g"], name="gemm_2", transA=[1]),
    oh.make_node("Neg", ["c"], ["r1"], name="neg_1"),
    oh.make_node("Pad", ["c", "big"], ["p"], name="pad_1", mode="wrap"),
], [oh.make_tensor_value_info("x", T.FLOAT, ["batch", "seq", 8]),
    oh.make_tensor_value_info("u", T.FLOAT, ["batch", -1])],
   [oh.make_tensor_value_info("y", T.FLOAT, None)], [w, big])

shape = oh.make_tensor("shape", T.INT64, [3], [0, 0, -1])
float_shape = oh.make_tensor("float_shape", T.FLOAT, [2], [2.0, 4.0])
save("unbuildable", [
    oh.make_node("Reshape", ["empty", "shape"], ["re"], name="reshape_zero"),
    oh.make_node("Conv", ["x", "w"], ["c"], name="conv_1", kernel_shape=[3, 3]),
    oh.make_node("Reshape", ["v", "float_shape"], ["rf"], name="reshape_float"),
    oh.make_node("Relu", ["v"], ["y"], name="relu_1"),
    oh.make_node("Reshape", ["v", "zeros"], ["rz"], name="reshape_past_rank"),
], [oh.make_tensor_value_info("empty", T.FLOAT, ["batch", 0, 3]),
    oh.make_tensor_value_info("x", T.FLOAT, ["batch", 8, 5, 5]),
    oh.make_tensor_value_info("v", T.FLOAT, ["batch", 8])],
   [oh.make_tensor_value_info("y", T.INT64, ["batch", 9])],
   [shape, w, float_shape, oh.make_tensor("zeros", T.INT64, [3], [0, 0, 0])])

save("names", [
    oh.make_node("Relu", ["x"], ["/r"], name="relu"),
    oh.make_node("Neg", ["x"], ["r"], name="neg"),
    oh.make_node("Add", ["/r", "r"], ["sum"], name="add"),
    oh.make_node("Identity", ["/r"], ["relu_out"], name="identity"),
    oh.make_node("Dropout", ["sum"], ["sum:0"], name="dropout"),
], [oh.make_tensor_value_info("x", T.FLOAT, ["batch", 3])],
   [oh.make_tensor_value_info(n, T.FLOAT, ["batch", 3]) for n in ("r", "relu_out", "sum:0")])
np.save(f"{out}/names_x.npy", np.array([[-1, 2, -3], [4, -5, 6]], f32))
