// The C++ builder API: functions that add nodes to a kiln::Graph and return
// Value handles, so that a model reads like the math it computes:
//
//   kiln::Graph g;
//   auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 784});
//   auto W = kiln::variable(g, "W", kiln::f32, {784, 10}, kiln::Init::glorot_uniform());
//   auto y = kiln::softmax(kiln::matmul(x, W) * 2.0);
//
// Naming: every op function takes an optional last `name`. Without one, the
// node is named after its op, uniquified inside the current scope ("dense/add",
// "dense/add_1"). An explicit name is kept as given (under the scope) and must
// be unique: a silently renamed "logits" would be a surprise.
#pragma once

#include "ir/graph.h"

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace kiln {

// A handle to a node's output. Cheap to copy; valid as long as its graph.
struct Value {
  Graph *graph = nullptr;
  NodeId id = -1;

  const Node &node() const; // fails on an empty Value
  // Copies, not references: adding nodes may move the graph's storage.
  TensorType type() const { return node().type; }
  DType dtype() const { return node().type.dtype; }
  Shape shape() const { return node().type.shape; }
  std::string name() const { return node().name; }
  int64_t rank() const { return static_cast<int64_t>(node().type.shape.size()); }
};

// Re-enterable name scope: `kiln::Scope s(g, "encoder");` prefixes the names of
// the nodes created while it lives with "encoder/".
using Scope = NameScope;

// A scope name based on `base` that no node uses yet in the current scope
// ("dense", then "dense_1"...): composite builders open one per call.
std::string unique_scope(const Graph &g, std::string_view base);

// Adds a node of any registered op; the op functions below are thin wrappers.
// Fails with kiln::Error naming the node when the inputs come from different
// graphs or the op rejects its inputs or attributes.
Value apply(Graph &g, std::string_view op, const std::vector<Value> &inputs, Attrs attrs = {},
            std::string name = {});
// The graph is the inputs' (there must be at least one).
Value apply(std::string_view op, const std::vector<Value> &inputs, Attrs attrs = {},
            std::string name = {});

// ---- Sources ---------------------------------------------------------------

// A value fed at run time; `kiln::batch` in `shape` marks the batch dim.
Value placeholder(Graph &g, std::string name, DType dtype, Shape shape);

Value constant(Graph &g, Tensor value, std::string name = {});
Value constant(Graph &g, float value, std::string name = {});
Value constant(Graph &g, double value, std::string name = {});
Value constant(Graph &g, int32_t value, std::string name = {});
Value constant(Graph &g, int64_t value, std::string name = {});
Value constant(Graph &g, bool value, std::string name = {});
// A rank-0 constant of any dtype: how scalar operands join a Value's dtype.
Value constant(Graph &g, double value, DType dtype, std::string name = {});

// A variable's initializer: the variable op's `initializer`, `scale` and `seed`
// attributes. Unseeded random initializers derive their seed from the
// variable's name, so a graph initializes the same way every time.
struct Init {
  std::string initializer = "zeros";
  double scale = 1.0; // the value, half-width, stddev or gain, by initializer
  int64_t seed_value = -1;

  static Init zeros() { return {"zeros"}; }
  static Init ones() { return {"ones"}; }
  static Init constant(double value) { return {"constant", value}; }
  static Init uniform(double limit) { return {"uniform", limit}; }
  static Init normal(double stddev) { return {"normal", stddev}; }
  static Init truncated_normal(double stddev) { return {"truncated_normal", stddev}; }
  static Init glorot_uniform(double gain = 1) { return {"glorot_uniform", gain}; }
  static Init glorot_normal(double gain = 1) { return {"glorot_normal", gain}; }
  static Init he_uniform(double gain = 1) { return {"he_uniform", gain}; }
  static Init he_normal(double gain = 1) { return {"he_normal", gain}; }

  Init seed(int64_t seed) const {
    Init init = *this;
    init.seed_value = seed;
    return init;
  }
};

// State owned by the session, created with `init`; `shape` must be concrete.
// Optimizers train the trainable ones (not slots, counters, running statistics).
Value variable(Graph &g, std::string name, DType dtype, Shape shape, Init init = {},
               bool trainable = true);
// A variable optimizers train: trainable and of a float dtype. Its elements
// are the model's parameters.
bool is_trainable(const Node &n);

// ---- Operands: a Value or an arithmetic scalar ------------------------------

template <typename T>
concept Scalar = std::is_arithmetic_v<T> && !std::same_as<T, bool>;

// An operand of a binary op. A scalar becomes a rank-0 constant of the other
// operand's dtype, so `x * 2.0` stays f32 when x is f32 (ops never promote).
struct Operand {
  Operand(Value v) : value(v) {}
  template <Scalar T> Operand(T s) : scalar(static_cast<double>(s)) {}

  // The Value itself, or the scalar as a constant shaped like `like`'s dtype.
  Value to_value(Value like) const;

  std::optional<Value> value;
  double scalar = 0;
};

// ---- Elementwise -----------------------------------------------------------

Value add(Operand a, Operand b, std::string name = {});
Value sub(Operand a, Operand b, std::string name = {});
Value mul(Operand a, Operand b, std::string name = {});
Value div(Operand a, Operand b, std::string name = {}); // integers truncate, like C
Value maximum(Operand a, Operand b, std::string name = {});
Value minimum(Operand a, Operand b, std::string name = {});
Value pow(Operand a, Operand b, std::string name = {});

Value operator+(Operand a, Operand b);
Value operator-(Operand a, Operand b);
Value operator*(Operand a, Operand b);
Value operator/(Operand a, Operand b);
Value operator-(Value x);

Value neg(Value x, std::string name = {});
Value abs(Value x, std::string name = {});
Value square(Value x, std::string name = {});
Value sign(Value x, std::string name = {});
Value exp(Value x, std::string name = {});
Value log(Value x, std::string name = {});
Value sqrt(Value x, std::string name = {});
Value rsqrt(Value x, std::string name = {});
Value erf(Value x, std::string name = {});
Value sin(Value x, std::string name = {});
Value cos(Value x, std::string name = {});

// Comparisons give bool values. `==` is not overloaded: on a handle type it
// would read as handle identity.
Value equal(Operand a, Operand b, std::string name = {});
Value not_equal(Operand a, Operand b, std::string name = {});
Value less(Operand a, Operand b, std::string name = {});
Value less_equal(Operand a, Operand b, std::string name = {});
Value greater(Operand a, Operand b, std::string name = {});
Value greater_equal(Operand a, Operand b, std::string name = {});

Value logical_and(Value a, Value b, std::string name = {});
Value logical_or(Value a, Value b, std::string name = {});
Value logical_not(Value x, std::string name = {});

Value clip(Value x, double lo, double hi, std::string name = {});
// cond ? a : b, elementwise with broadcasting; cond is bool.
Value select(Value cond, Operand a, Operand b, std::string name = {});
Value cast(Value x, DType dtype, std::string name = {});

// ---- Activations -------------------------------------------------------------

Value sigmoid(Value x, std::string name = {});
Value tanh(Value x, std::string name = {});
Value relu(Value x, std::string name = {});
Value leaky_relu(Value x, double alpha = 0.01, std::string name = {});
Value elu(Value x, double alpha = 1.0, std::string name = {});
Value softplus(Value x, std::string name = {});
Value gelu(Value x, std::string name = {});
Value softmax(Value x, int64_t axis = -1, std::string name = {});
Value log_softmax(Value x, int64_t axis = -1, std::string name = {});

// ---- Reductions (empty axes: all of them) ------------------------------------

Value sum(Value x, std::vector<int64_t> axes = {}, bool keepdims = false, std::string name = {});
Value mean(Value x, std::vector<int64_t> axes = {}, bool keepdims = false, std::string name = {});
Value max(Value x, std::vector<int64_t> axes = {}, bool keepdims = false, std::string name = {});
Value min(Value x, std::vector<int64_t> axes = {}, bool keepdims = false, std::string name = {});
// The number of elements along `axes` (all when empty) as a scalar of
// `dtype`: a run-time value when the axes include the batch dim.
Value size(Value x, std::vector<int64_t> axes = {}, DType dtype = DType::i64,
           std::string name = {});
// i64 indices.
Value argmax(Value x, int64_t axis = -1, bool keepdims = false, std::string name = {});
Value argmin(Value x, int64_t axis = -1, bool keepdims = false, std::string name = {});

// ---- Linear algebra ----------------------------------------------------------

struct MatmulOptions {
  bool transpose_a = false;
  bool transpose_b = false;
  // The products' sum over the batch dims (which must be equal): one matrix,
  // one GEMM with the batch dims folded into K. Needs transpose_a and not
  // transpose_b, the layout of a weight's gradient.
  bool sum_batch = false;
};
// [..., M, K] x [..., K, N] -> [..., M, N]; with sum_batch, [M, N].
Value matmul(Value a, Value b, MatmulOptions options = {}, std::string name = {});

// ---- Shapes ------------------------------------------------------------------

// Slice `end` meaning "to the end of the axis".
inline constexpr int64_t to_end = std::numeric_limits<int64_t>::max();

// One -1 allowed; on a value with the batch dim it must stand for that dim.
Value reshape(Value x, Shape shape, std::string name = {});
// [d0, ..., dn] -> [d0 * ... * d(axis-1), d(axis) * ... * dn].
Value flatten(Value x, int64_t axis = 1, std::string name = {});
// Empty perm: reverse the dims.
Value transpose(Value x, std::vector<int64_t> perm = {}, std::string name = {});
Value concat(const std::vector<Value> &values, int64_t axis = 0, std::string name = {});
// Python slicing per leading dim: negative indices count from the end, out of
// range ones clamp; empty steps: all 1. Dims past `begin`'s length are whole.
Value slice(Value x, std::vector<int64_t> begin, std::vector<int64_t> end,
            std::vector<int64_t> steps = {}, std::string name = {});
Value broadcast_to(Value x, Shape shape, std::string name = {});
// x broadcast to the shape of `like` (whose batch dim may be symbolic).
Value broadcast_like(Value x, Value like, std::string name = {});

// ---- State: each writes variable `var` in place and returns its new value --

Value assign(Value var, Value value, std::string name = {});
Value assign_add(Value var, Operand value, std::string name = {});
Value assign_sub(Value var, Operand value, std::string name = {});
// var = decay * var + (1 - decay) * x (x^2 when `squared`).
Value moving_average(Value var, Value x, double decay, bool squared = false, std::string name = {});
// A training target that runs all of `updates`.
Value group(Graph &g, const std::vector<Value> &updates, std::string name = {});

// ---- Data parallelism ---------------------------------------------------------

// The mean of x (f32 or f64, no batch dim) over the ranks of the job the
// graph runs in (a Session's Communicator); in a job of one, x itself. The
// optimizers average their gradients with it.
Value allreduce_mean(Value x, std::string name = {});

// ---- Random, indexing and padding -------------------------------------------

// Counter-based random tensors: element i is a pure function of (seed,
// counter, i), the same compiled or in the reference interpreter and for any
// thread count. `counter` is an i64 scalar Value; feed a training loop's step
// to draw new numbers each step (no counter: the constant 0, the same numbers
// every run). Give every random op its own seed: two with the same seed and
// counter draw the same numbers. `shape` may hold kiln::batch. uniform: in
// [lo, hi) (f32 rounding may give hi); normal: Box-Muller.
Value random_uniform(Graph &g, Shape shape, double lo, double hi, int64_t seed,
                     std::optional<Value> counter = {}, DType dtype = f32, std::string name = {});
Value random_normal(Graph &g, Shape shape, double mean, double stddev, int64_t seed,
                    std::optional<Value> counter = {}, DType dtype = f32, std::string name = {});
// Shaped and typed like x, batch dim included (dropout masks, noise). The
// result does not depend on x's values, only on its type.
Value random_uniform_like(Value x, double lo, double hi, int64_t seed,
                          std::optional<Value> counter = {}, std::string name = {});
Value random_normal_like(Value x, double mean, double stddev, int64_t seed,
                         std::optional<Value> counter = {}, std::string name = {});

// Rows of params [V, ...] picked by integer indices of any shape:
// indices.shape + params.shape[1:]. An index outside [0, V) fails the run,
// naming its position and value.
Value gather(Value params, Value indices, std::string name = {});
// indices.shape + [depth]: `on` at each index, `off` elsewhere. An index
// outside [0, depth) fails the run, naming its position and value.
Value one_hot(Value indices, int64_t depth, DType dtype = f32, double on = 1, double off = 0,
              std::string name = {});
// Constant padding: `pads` holds (before, after) for every dim, none
// negative; the batch dim cannot be padded.
Value pad(Value x, std::vector<int64_t> pads, double value = 0, std::string name = {});
// Pieces of x along `axis` (slices, under a scope named `name` or "split"):
// of the given sizes (one may be -1: the rest), or `num` equal pieces. Note
// that a braced single size, split(x, {n}), selects the second overload.
std::vector<Value> split(Value x, std::vector<int64_t> sizes, int64_t axis = 0,
                         std::string name = {});
std::vector<Value> split(Value x, int64_t num, int64_t axis = 0, std::string name = {});
// ---- Convolution and pooling (NCHW) -------------------------------------------

// Padding: "valid" (none), "same" (TensorFlow: output = ceil(input / stride),
// the extra cell of an odd total at the bottom/right) or "explicit" with
// pads [top, bottom, left, right]; giving pads implies "explicit".
struct Conv2dOptions {
  std::vector<int64_t> strides = {1, 1};
  std::vector<int64_t> dilations = {1, 1};
  std::string padding = "valid";
  std::vector<int64_t> pads = {};
  int64_t groups = 1;
};
// x [N, C, H, W] (N may be the batch dim), w [O, C / groups, KH, KW] ->
// [N, O, OH, OW]. No bias: add one shaped [O, 1, 1].
Value conv2d(Value x, Value w, Conv2dOptions options = {}, std::string name = {});

struct Pool2dOptions {
  std::vector<int64_t> kernel = {2, 2};
  std::vector<int64_t> strides = {}; // empty: the kernel size
  std::string padding = "valid";     // as for conv2d
  std::vector<int64_t> pads = {};
};
// Padded cells take no part: max ignores them and avg divides by the number
// of input cells in each window (PyTorch's count_include_pad=False).
Value max_pool2d(Value x, Pool2dOptions options = {}, std::string name = {});
Value avg_pool2d(Value x, Pool2dOptions options = {}, std::string name = {});

} // namespace kiln
