// What an op's `lower` function sees: the node, the concrete types of its
// inputs and output, and a few ways to emit kernels. A kernel is a function
// over a range of tasks that the runtime splits across threads; every task
// computes whole output elements, so results do not depend on the split.
// No LLVM header: kernels are calls into the kernel library with constant
// arguments, or strided copies. The ops layer owns this interface; the
// compiler implements it (compiler/emitter.h).
#pragma once

#include "ir/graph.h"
#include "ops/collective_step.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::compiler {

// An index into the executable's buffer table: the output of node i is
// buffer i; scratch buffers follow.
struct Buffer {
  int32_t index = -1;
};

// A strided window onto a buffer, in elements.
struct View {
  Buffer buffer;
  int64_t offset = 0;
  std::vector<int64_t> strides;
};

// An argument of a kernel-library call. The task range is appended last.
struct KernelArg {
  enum class Kind { buffer, i64 } kind;
  int64_t value = 0; // the buffer index or the integer
  static KernelArg buf(Buffer b) { return {Kind::buffer, b.index}; }
  static KernelArg int64(int64_t v) { return {Kind::i64, v}; }
};

// Which part of the output each task of a call writes, for fused epilogues:
// the tiles, in kernel_abi.h's numbering, of one batched matmul over the
// output seen as matrices [leading dims..., M, columns]. M is the dims
// [first_row_dim, row_dim] taken as one (a matmul's second-to-last dim, or
// all dims before its last when its batches are folded into the rows; an
// [N, C, H, W] convolution's C), the columns the product of the dims after
// row_dim (H * W for the convolution). Or `rows` consecutive indices of the
// leading dim per task; or one index of the first two dims per task (planes
// of NCHW, in order).
struct TaskBox {
  enum class Kind { matrix_tiles, leading_rows, planes } kind;
  int64_t rows = 0;         // leading_rows
  size_t first_row_dim = 0; // matrix_tiles
  size_t row_dim = 0;       // matrix_tiles
};

class Lowering {
public:
  virtual ~Lowering() = default;

  virtual const Node &node() const = 0;
  virtual const TensorType &input_type(size_t i) const = 0;
  virtual const TensorType &output_type() const = 0;

  virtual Buffer input(size_t i) const { return {node().inputs.at(i)}; }
  virtual Buffer output() const { return {node().id}; }
  // A buffer private to this node's kernels.
  virtual Buffer scratch(DType type, int64_t elements) = 0;

  // A kernel that calls `function(args..., task_begin, task_end)` from the kernel
  // library for tasks [0, num_tasks); `task_cost` (roughly, flops or bytes per
  // task) lets the runtime choose how finely to split.
  virtual void call(std::string_view function, std::vector<KernelArg> args, int64_t num_tasks,
                    double task_cost) = 0;

  // dst[i] = src[i] over `shape`, both of element type `type`.
  virtual void copy(DType type, const Shape &shape, const View &dst, const View &src) = 0;
  // For each k, dst moved by k * step = srcs[k] over `shape`, the sources
  // viewed contiguously and all distinct from each other and dst: one kernel
  // for all (a concat of many equal pieces is one function to compile).
  virtual void copy_pieces(DType type, const Shape &shape, const View &dst, int64_t step,
                           const std::vector<Buffer> &srcs) = 0;
  // dst[i] = value over `shape`.
  virtual void fill(DType type, const Shape &shape, const View &dst, double value) = 0;
  // One loop over the output evaluating a fused node's elementwise body
  // (ops/fusion.h) element by element: the node's inputs broadcast into the
  // output; members that update a variable store into it as they go.
  virtual void fused_loop(const Graph &body) = 0;
  // A step that calls the job's communicator instead of compiled code, over
  // `in` and `out` (ops/collective_step.h).
  virtual void collective(CollectiveStep step, Buffer in, Buffer out) = 0;
  // A buffer (one i64) for the next call's kernel to report the first
  // position of input `input`, indices, holding a value outside [0, limit)
  // (kernels/kernel_abi.h, kNoBadIndex); the run then fails with a message
  // naming the node, the position and the value.
  virtual Buffer check_indices(size_t input, int64_t limit) = 0;
  // Declares how the tasks of the call just made split the output (ops
  // whose OpDef::takes_epilogue holds).
  virtual void task_box(TaskBox box) = 0;
};

// The contiguous view of a whole buffer of `shape`.
inline View contiguous(Buffer b, const Shape &shape) { return {b, 0, contiguous_strides(shape)}; }

// Suffix of kernel-library functions for a dtype: "f32", "i64"...
inline std::string kernel_suffix(DType t) { return std::string(to_string(t)); }

} // namespace kiln::compiler
