// Every op, compiled, against its reference kernel.
//
// To add a case: append an OpCase to cases() with the op's name, a function
// building it from placeholders, the input shapes to try (each line one set
// of input shapes), the dtypes, the input range and the tolerance. The test
// "every op has a case" fails until each registered op has one.
// KILN_CASE=matmul in the environment runs only that op's cases.
#include "ir/error.h"
#include "ops/builder.h"
#include "runtime/reference.h"
#include "session/session.h"
#include "test_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>

using namespace kiln;

namespace {

struct OpCase {
  std::string op;
  std::function<Value(const std::vector<Value> &)> build;
  std::vector<std::vector<Shape>> shapes;
  std::vector<DType> dtypes = {f32}; // the inputs' dtype (one case run per entry)
  double lo = -3, hi = 3;
  // f32 results vs the double-precision oracle: basic arithmetic rounds once
  // (1e-6 relative); the polynomial exp/log/tanh/erf in the kernel library are
  // within a few ulp, which compounds in composites (1e-5).
  double tol = 1e-6;
  // Inputs of these indices are bool (select's condition).
  std::set<size_t> bool_inputs = {};
};

// Shapes for elementwise ops: equal, broadcast, size-1 dims, scalars, empty,
// odd sizes and a row longer than one loop chunk (16384).
const std::vector<std::vector<Shape>> kBinaryShapes = {
    {{4, 5}, {4, 5}}, {{4, 5}, {5}}, {{3, 1, 5}, {1, 4, 1}}, {{}, {}},
    {{0, 5}, {5}},    {{1037}, {1}}, {{2, 40000}, {40000}},  {{7, 1}, {1, 9}}};
const std::vector<std::vector<Shape>> kUnaryShapes = {
    {{4, 5}}, {{}}, {{0, 3}}, {{1037}}, {{3, 20001}}};

OpCase binary(std::string op, Value (*f)(Operand, Operand, std::string),
              std::vector<DType> dtypes = {f32, f64, i32, i64}) {
  return {op, [f](const std::vector<Value> &v) { return f(v[0], v[1], {}); }, kBinaryShapes,
          dtypes};
}

OpCase unary(std::string op, Value (*f)(Value, std::string), double lo = -3, double hi = 3,
             double tol = 1e-6, std::vector<DType> dtypes = {f32, f64}) {
  return {
      op, [f](const std::vector<Value> &v) { return f(v[0], {}); }, kUnaryShapes, dtypes, lo, hi,
      tol};
}

std::vector<OpCase> cases() {
  std::vector<OpCase> c = {
      binary("add", add),
      binary("sub", sub),
      binary("mul", mul),
      binary("div", div),
      binary("maximum", maximum),
      binary("minimum", minimum),
      binary("equal", equal, {f32, i32, boolean}),
      binary("not_equal", not_equal, {f32, i64, boolean}),
      binary("less", less),
      binary("less_equal", less_equal),
      binary("greater", greater),
      binary("greater_equal", greater_equal),
      {"pow",
       [](const std::vector<Value> &v) { return pow(v[0], v[1]); },
       kBinaryShapes,
       {f32, f64},
       0.1,
       3,
       1e-5},
      {"logical_and",
       [](const std::vector<Value> &v) { return logical_and(v[0], v[1]); },
       kBinaryShapes,
       {boolean}},
      {"logical_or",
       [](const std::vector<Value> &v) { return logical_or(v[0], v[1]); },
       kBinaryShapes,
       {boolean}},
      {"logical_not",
       [](const std::vector<Value> &v) { return logical_not(v[0]); },
       kUnaryShapes,
       {boolean}},
      unary("neg", neg, -3, 3, 1e-6, {f32, f64, i32, i64}),
      unary("abs", abs, -3, 3, 1e-6, {f32, f64, i32, i64}),
      unary("square", square, -3, 3, 1e-6, {f32, f64, i32, i64}),
      unary("sign", sign, -3, 3, 1e-6, {f32, f64, i32, i64}),
      unary("exp", exp, -80, 80, 1e-5),
      unary("log", log, 1e-3, 1e3, 1e-5),
      unary("sqrt", sqrt, 0, 100),
      unary("erf", erf, -5, 5, 1e-5),
      unary("sin", sin, -10, 10),
      unary("cos", cos, -10, 10),
      unary("rsqrt", rsqrt, 1e-2, 100),
      unary("sigmoid", sigmoid, -20, 20, 1e-5),
      unary("tanh", tanh, -10, 10, 1e-5),
      unary("relu", relu),
      unary("softplus", softplus, -30, 30, 1e-5),
      unary("gelu", gelu, -6, 6, 1e-5),
      {"leaky_relu",
       [](const std::vector<Value> &v) { return leaky_relu(v[0], 0.2); },
       kUnaryShapes,
       {f32, f64}},
      {"elu",
       [](const std::vector<Value> &v) { return elu(v[0], 1.5); },
       kUnaryShapes,
       {f32, f64},
       -3,
       3,
       1e-5},
      {"clip",
       [](const std::vector<Value> &v) { return clip(v[0], -1, 2); },
       kUnaryShapes,
       {f32, i32}},
      {"select",
       [](const std::vector<Value> &v) { return select(v[0], v[1], v[2]); },
       {{{4, 5}, {4, 5}, {4, 5}},
        {{4, 1}, {5}, {}},
        {{0}, {0}, {1}},
        {{2, 20000}, {20000}, {2, 1}}},
       {f32, i64},
       -3,
       3,
       1e-6,
       {0}},
      {"cast",
       [](const std::vector<Value> &v) { return cast(v[0], i32); },
       kUnaryShapes,
       {f32, f64, i64, boolean}},
      {"softmax",
       [](const std::vector<Value> &v) { return softmax(v[0]); },
       {{{4, 10}}, {{1, 1000}}, {{3, 0}}, {{5}}},
       {f32, f64},
       -10,
       10,
       1e-5},
      {"log_softmax",
       [](const std::vector<Value> &v) { return log_softmax(v[0], 0); },
       {{{10, 4}}, {{33, 2, 3}}, {{7}}},
       {f32, f64},
       -10,
       10,
       1e-5},
  };
  // Reductions: all axes, one, several non-adjacent, keepdims, empty inputs.
  auto reduction = [](std::string op, Value (*f)(Value, std::vector<int64_t>, bool, std::string),
                      std::vector<DType> dtypes, double tol) {
    std::vector<OpCase> out;
    for (auto [axes, keep] : std::vector<std::pair<std::vector<int64_t>, bool>>{
             {{}, false}, {{1}, false}, {{0}, true}, {{0, 2}, false}, {{-1}, true}})
      out.push_back({op,
                     [=](const std::vector<Value> &v) { return f(v[0], axes, keep, {}); },
                     {{{3, 4, 5}}, {{2, 1, 300}}, {{0, 3, 2}}, {{1, 1, 1}}, {{17, 33, 9}}},
                     dtypes,
                     -3,
                     3,
                     tol});
    return out;
  };
  for (auto &r : {reduction("sum", sum, {f32, f64, i32, i64}, 1e-5),
                  reduction("mean", mean, {f32, f64}, 1e-5), reduction("max", max, {f32, i32}, 0),
                  reduction("min", min, {f64, i64}, 0)})
    c.insert(c.end(), r.begin(), r.end());
  for (int64_t axis : {0, 1, -1}) {
    c.push_back({"argmax",
                 [=](const std::vector<Value> &v) { return argmax(v[0], axis); },
                 {{{4, 6, 3}}, {{1, 1, 1}}, {{2, 300, 2}}},
                 {f32, i32}});
    c.push_back({"argmin",
                 [=](const std::vector<Value> &v) { return argmin(v[0], axis, true); },
                 {{{4, 6, 3}}, {{3, 1, 2}}},
                 {f64, i64}});
  }
  // matmul: an f32 dot product of K values in [-1, 1] has an error bound of
  // about sqrt(K) * eps * sum|a b| (sum|a b| ~ K / 4): 3e-4 for K = 784. The
  // blocked sums of the kernel measure ~1e-5 there; 1e-4 keeps a margin.
  constexpr double kMatmulTol = 1e-4;
  c.push_back({"matmul",
               [](const std::vector<Value> &v) { return matmul(v[0], v[1]); },
               {{{1, 784}, {784, 512}},
                {{7, 13}, {13, 33}},
                {{64, 100}, {100, 10}},
                {{0, 4}, {4, 5}},
                {{3, 0}, {0, 4}},
                {{2, 3, 4}, {2, 4, 5}},
                {{2, 3, 4}, {4, 5}},
                {{5, 1}, {1, 130}}},
               {f32, f64},
               -1,
               1,
               kMatmulTol});
  c.push_back({"matmul",
               [](const std::vector<Value> &v) {
                 return matmul(v[0], v[1], {true, false});
               },
               {{{784, 64}, {784, 50}}, {{3, 17, 5}, {3, 17, 129}}},
               {f32},
               -1,
               1,
               kMatmulTol});
  // sum_batch: one GEMM whose K runs over the batches (K = 51, 120 and 0 here).
  c.push_back({"matmul",
               [](const std::vector<Value> &v) {
                 return matmul(v[0], v[1], {.transpose_a = true, .sum_batch = true});
               },
               {{{3, 17, 5}, {3, 17, 129}}, {{2, 3, 20, 6}, {2, 3, 20, 9}}, {{0, 4, 3}, {0, 4, 2}}},
               {f32, f64},
               -1,
               1,
               kMatmulTol});
  c.push_back({"matmul",
               [](const std::vector<Value> &v) {
                 return matmul(v[0], v[1], {false, true});
               },
               {{{64, 50}, {512, 50}}, {{1, 9}, {300, 9}}, {{4, 3, 5}, {7, 5}}},
               {f32, f64},
               -1,
               1,
               kMatmulTol});
  c.push_back({"matmul",
               [](const std::vector<Value> &v) {
                 return matmul(v[0], v[1], {true, true});
               },
               {{{9, 7}, {11, 9}}},
               {f32},
               -1,
               1,
               kMatmulTol});
  // Shape ops move values exactly.
  c.push_back({"reshape",
               [](const std::vector<Value> &v) {
                 return reshape(v[0], {-1, 6});
               },
               {{{4, 3, 2}}, {{0, 6}}},
               {f32, i64, boolean}});
  c.push_back({"flatten",
               [](const std::vector<Value> &v) { return flatten(v[0]); },
               {{{4, 3, 2}}, {{2, 1}}},
               {f32, boolean}});
  c.push_back({"transpose",
               [](const std::vector<Value> &v) { return transpose(v[0]); },
               {{{4, 3}}, {{2, 3, 5}}, {{1, 300}}, {{5}}},
               {f32, f64, boolean}});
  c.push_back({"transpose",
               [](const std::vector<Value> &v) {
                 return transpose(v[0], {1, 2, 0});
               },
               {{{4, 3, 2}}, {{1, 70, 33}}},
               {f32, i32}});
  c.push_back({"concat",
               [](const std::vector<Value> &v) { return concat(v, 1); },
               {{{2, 3}, {2, 5}}, {{3, 0, 2}, {3, 4, 2}, {3, 1, 2}}},
               {f32, i32, boolean}});
  c.push_back({"concat",
               [](const std::vector<Value> &v) { return concat(v, 0); },
               {{{2, 3}, {4, 3}}, {{5}, {7}}},
               {f64}});
  // Equal pieces are one kernel (a task per piece and row); a repeated input
  // is not, and copies piece by piece.
  c.push_back({"concat",
               [](const std::vector<Value> &v) { return concat(v, 1); },
               {{{2, 3}, {2, 3}, {2, 3}},
                {{3, 1, 4}, {3, 1, 4}, {3, 1, 4}, {3, 1, 4}},
                {{0, 2}, {0, 2}},
                {{2, 20000}, {2, 20000}}},
               {f32, i64, boolean}});
  c.push_back({"concat",
               [](const std::vector<Value> &v) {
                 return concat({v[0], v[1], v[0]}, 0);
               },
               {{{2, 3}, {2, 3}}},
               {f64}});
  // The data-parallel ops in a job of one (the Session has no communicator):
  // a fetched mean over the ranks runs as a collective of its own; a bucket
  // as the data-parallel pass builds one.
  c.push_back({"allreduce_mean",
               [](const std::vector<Value> &v) { return allreduce_mean(v[0]); },
               {{{4, 3}}, {{0}}, {{5000}}},
               {f32, f64}});
  for (const char *op :
       {"gradient_bucket", "allreduce_mean_start", "allreduce_mean_finish", "bucket_part"})
    c.push_back({op,
                 [](const std::vector<Value> &v) {
                   Value b = kiln::apply("gradient_bucket", v);
                   Value reduced = kiln::apply("allreduce_mean_finish",
                                               {kiln::apply("allreduce_mean_start", {b})});
                   return kiln::apply("bucket_part", {reduced},
                                      {{"offset", int64_t{3}}, {"shape", Shape{2, 2}}}) +
                          kiln::apply("bucket_part", {reduced},
                                      {{"offset", int64_t{0}}, {"shape", Shape{2, 2}}});
                 },
                 {{{2, 3}, {5}}, {{7}, {0}}},
                 {f32, f64}});
  c.push_back({"slice",
               [](const std::vector<Value> &v) {
                 return slice(v[0], {1, -4}, {to_end, -1}, {2, 1});
               },
               {{{7, 6}}, {{2, 10, 3}}, {{1, 2}}},
               {f32, i64}});
  c.push_back({"broadcast_to",
               [](const std::vector<Value> &v) {
                 return broadcast_to(v[0], {3, 4, 5});
               },
               {{{4, 1}}, {{5}}, {{}}, {{3, 4, 5}}},
               {f32, boolean}});
  c.push_back({"broadcast_like",
               [](const std::vector<Value> &v) { return broadcast_like(v[0], v[1]); },
               {{{4, 1}, {4, 6}}, {{5}, {2, 5}}, {{}, {3}}},
               {f32, i64}});
  c.push_back({"slice_grad",
               [](const std::vector<Value> &v) {
                 return apply("slice_grad", {v[0], v[1]},
                              {{"begin", std::vector<int64_t>{1, -4}},
                               {"end", std::vector<int64_t>{to_end, -1}},
                               {"steps", std::vector<int64_t>{2, 1}}});
               },
               {{{3, 3}, {7, 6}}, {{1, 3, 3}, {2, 10, 3}}},
               {f32, i64}});
  // State ops rewrite a variable (input 0) that the case creates with the
  // shape and dtype of input 0; the other inputs are placeholders.
  auto update = [&](std::string op, std::vector<std::vector<Shape>> shapes, Attrs attrs,
                    std::vector<DType> dtypes = {f32, f64}) {
    c.push_back({op,
                 [=](const std::vector<Value> &v) {
                   Value var = variable(*v[0].graph, "var", v[0].dtype(), v[0].shape(),
                                        Init::uniform(2).seed(1));
                   std::vector<Value> in = {var};
                   in.insert(in.end(), v.begin() + 1, v.end());
                   return apply(op, in, attrs);
                 },
                 shapes, dtypes, 0.1, 3});
  };
  update("assign", {{{4, 5}, {4, 5}}, {{3}, {}}}, {}, {f32, i32});
  update("assign_add", {{{4, 5}, {5}}, {{3}, {}}}, {}, {f64, i64});
  update("assign_sub", {{{4, 5}, {4, 5}}}, {}, {f32, i32});
  update("moving_average", {{{4, 5}, {5}}, {{1037}, {1037}}}, {{"decay", 0.9}, {"squared", true}});
  update("momentum_accumulate", {{{4, 5}, {4, 5}}}, {{"momentum", 0.8}});
  update("sgd_update", {{{4, 5}, {4, 5}, {}}}, {{"weight_decay", 0.1}});
  update("momentum_update", {{{4, 5}, {4, 5}, {4, 5}, {}}},
         {{"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 0.01}});
  update("rmsprop_update", {{{1037}, {1037}, {1037}, {}}}, {{"weight_decay", 0.01}});
  update("adam_update", {{{4, 5}, {4, 5}, {4, 5}, {}, {}, {}}}, {{"epsilon", 1e-3}});
  // Fused bodies (ops/fusion.h): broadcast operands, mixed dtypes, and
  // updates that store into their variable as the loop goes.
  c.push_back({"fusion",
               [](const std::vector<Value> &v) {
                 return test::fused(v, [](const std::vector<Value> &p) {
                   return select(greater(p[0], p[1]), tanh(p[0] * p[1]), neg(p[2]));
                 });
               },
               {{{4, 5}, {5}, {4, 5}}, {{3}, {}, {3}}, {{1037}, {1037}, {}}},
               {f32, f64}});
  c.push_back({"fused_update",
               [](const std::vector<Value> &v) {
                 Value var = variable(*v[0].graph, "var", v[0].dtype(), v[0].shape(),
                                      Init::uniform(2).seed(1));
                 return test::fused(
                     {var, v[1], v[2]},
                     [](const std::vector<Value> &p) {
                       return assign_sub(assign_add(p[0], p[1] * p[2]), p[2]);
                     },
                     "fused_update");
               },
               {{{4, 5}, {4, 5}, {5}}, {{1037}, {1037}, {}}},
               {f32, f64}});
  c.push_back({"group",
               [](const std::vector<Value> &v) { return group(*v[0].graph, {v[0] + 1.0}); },
               {{{3}}}});
  for (std::vector<int64_t> axes : {std::vector<int64_t>{}, {1}, {0, 2}})
    c.push_back({"size",
                 [=](const std::vector<Value> &v) { return size(v[0], axes, f32); },
                 {{{4, 6, 3}}, {{2, 0, 5}}},
                 {f32, i32}});
  // Random ops take only their shape (batch dim included) from the input.
  // uniform is bit-exact; f32 normal works in float with the kernel
  // library's log and a polynomial cosine (measured within 3e-7 of the
  // double oracle, relative to max(1, |x|)).
  c.push_back({"random_uniform",
               [](const std::vector<Value> &v) {
                 return random_uniform_like(v[0], -2, 5, 42, constant(*v[0].graph, int64_t{7}));
               },
               kUnaryShapes,
               {f32, f64},
               -3,
               3,
               0});
  c.push_back({"random_normal",
               [](const std::vector<Value> &v) {
                 return random_normal_like(v[0], 1, 3, 9, constant(*v[0].graph, int64_t{-5}));
               },
               kUnaryShapes,
               {f32, f64},
               -3,
               3,
               1e-6});
  // Indices are inputs cast to integers, within the rows ([0, 4) against
  // at least 4 rows): out-of-range ones fail the run
  // (indexing_test.cpp). gather_grad's are not checked: it drops them.
  c.push_back({"gather",
               [](const std::vector<Value> &v) { return gather(v[0], cast(v[1], i32)); },
               {{{5, 3}, {4}},
                {{5}, {2, 3}},
                {{5, 2, 2}, {7}},
                {{4, 3}, {4, 2}},
                {{0, 3}, {0}},
                {{5, 0}, {3}},
                {{5, 300}, {0}},
                {{6, 64}, {3000}}},
               {f32, i64, boolean},
               0,
               3.49}); // i64 inputs round, others truncate: both within [0, 4)
  c.push_back({"gather",
               [](const std::vector<Value> &v) { return gather(v[0], cast(v[1], i64)); },
               {{{5, 3}, {2, 2}}, {{7, 1}, {9}}},
               {f64},
               0,
               4.99});
  // Sums in index order in the output type, as the reference does: exact.
  c.push_back({"gather_grad",
               [](const std::vector<Value> &v) {
                 return apply("gather_grad", {v[0], cast(v[1], i64), v[2]});
               },
               {{{6, 3}, {6}, {5, 3}},
                {{2, 3, 2}, {2, 3}, {4, 2}},
                {{4, 3}, {4}, {4, 3}},
                {{0, 4}, {0}, {3, 4}},
                {{3000, 300}, {3000}, {2000, 300}}},
               {f32, f64},
               -2,
               7,
               0});
  c.push_back({"gather_grad",
               [](const std::vector<Value> &v) {
                 return apply("gather_grad", {v[0], cast(v[1], i32), v[2]});
               },
               {{{5, 2}, {5}, {3, 2}}},
               {f32},
               -1,
               4,
               0});
  c.push_back(
      {"one_hot",
       [](const std::vector<Value> &v) { return one_hot(cast(v[0], i64), 5, f32, 2.5, -1); },
       {{{7}}, {{2, 3}}, {{}}, {{0}}, {{4000}}},
       {f32},
       0,
       4.99});
  c.push_back({"one_hot",
               [](const std::vector<Value> &v) { return one_hot(cast(v[0], i32), 4, i64); },
               {{{3, 5}}},
               {f64},
               0,
               3.99});
  c.push_back({"one_hot",
               [](const std::vector<Value> &v) { return one_hot(cast(v[0], i32), 3, boolean); },
               {{{6}}},
               {f32},
               0,
               2.99});
  c.push_back({"pad",
               [](const std::vector<Value> &v) {
                 return pad(v[0], {1, 2, 0, 3}, 1.5);
               },
               {{{4, 5}}, {{0, 3}}, {{1, 1}}, {{3, 20000}}},
               {f32, f64}});
  c.push_back({"pad",
               [](const std::vector<Value> &v) {
                 return pad(v[0], {0, 0, 2, 1, 1, 0}, 1);
               },
               {{{2, 3, 4}}, {{3, 0, 2}}},
               {i32, boolean}});
  // conv2d and its gradients on the same geometries: strides, valid, same
  // (odd and even kernels) and explicit padding, dilation, groups (2 and
  // depthwise), 1x1 (no im2col) and a batch of 37 (tasks of several images,
  // the last one short). With at most 16 output channels, groups 1, unit strides and dilations and
  // an im2col the forward convolution is direct (most rows); else below 8 images it is tiled. The
  // input gradient is direct where x has at most 16 channels and few pixels would be wasted (the
  // 5x5 padded row, the 37 images in f64, the last three: LeNet's second convolution, uneven
  // padding, and a padding past the kernel, whose last rows and columns of dy no dx reads). f32:
  // dot products of up to 3000 terms in [-1, 1], as matmul's (kMatmulTol).
  struct ConvRow {
    Conv2dOptions o;
    Shape x, w;
    // Not every row in f64 and with the batch dim: each conv kernel costs a
    // few hundred ms of JIT compilation, and the code is the same template.
    bool f64_too = false;
    // Also with a constant filter, so that the batch-dim variant (dim 0 of
    // every input made symbolic) applies to x and dy.
    bool with_batch = false;
  };
  std::vector<ConvRow> conv_rows = {
      {{}, {2, 3, 7, 6}, {4, 3, 3, 3}, true},
      {{.strides = {2, 2}, .padding = "same"}, {2, 3, 7, 8}, {4, 3, 3, 3}, false, true},
      {{.padding = "same"}, {1, 2, 6, 5}, {3, 2, 2, 4}},
      {{.strides = {1, 2}, .pads = {1, 0, 2, 1}}, {2, 2, 5, 6}, {3, 2, 3, 2}, true},
      {{.dilations = {2, 2}}, {1, 2, 7, 7}, {2, 2, 3, 3}},
      {{.strides = {2, 1}, .dilations = {2, 3}, .padding = "same"},
       {2, 2, 7, 8},
       {2, 2, 3, 2},
       true},
      {{.padding = "same", .groups = 2}, {2, 4, 5, 5}, {6, 2, 3, 3}, true, true},
      {{.groups = 3}, {2, 3, 6, 6}, {6, 1, 3, 3}},
      {{.strides = {2, 2}, .padding = "same", .groups = 4}, {1, 4, 7, 7}, {4, 1, 3, 3}},
      {{.dilations = {2, 1}, .padding = "same", .groups = 5},
       {9, 5, 6, 7},
       {5, 1, 3, 3},
       true,
       true},
      {{}, {3, 8, 4, 4}, {5, 8, 1, 1}, false, true},
      {{.strides = {2, 2}}, {2, 4, 5, 5}, {3, 4, 1, 1}},
      {{.pads = {2, 2, 2, 2}}, {2, 1, 8, 8}, {6, 1, 5, 5}},
      {{.padding = "same"}, {37, 3, 9, 9}, {8, 3, 3, 3}, true, true},
      {{.pads = {0, 1, 2, 0}}, {8, 6, 7, 9}, {11, 6, 3, 2}, true},
      {{}, {8, 6, 12, 12}, {16, 6, 5, 5}, true},
      {{.pads = {1, 0, 2, 1}}, {2, 2, 12, 14}, {3, 2, 3, 3}, true},
      {{.pads = {0, 3, 0, 3}}, {2, 2, 8, 8}, {3, 2, 3, 3}, true},
  };
  auto filter = [](const Value &like, const Shape &shape) {
    std::mt19937 rng(99);
    return constant(*like.graph, test::random_tensor(like.dtype(), shape, rng, -1, 1));
  };
  for (const ConvRow &r : conv_rows) {
    Graph shapes;
    Shape y =
        conv2d(placeholder(shapes, "x", f32, r.x), placeholder(shapes, "w", f32, r.w), r.o).shape();
    Conv2dOptions o = r.o;
    Shape w = r.w;
    std::vector<DType> dtypes = r.f64_too ? std::vector<DType>{f32, f64} : std::vector<DType>{f32};
    // The gradient ops take conv2d's attributes.
    c.push_back({"conv2d",
                 [o](const std::vector<Value> &v) { return conv2d(v[0], v[1], o); },
                 {{r.x, r.w}},
                 dtypes,
                 -1,
                 1,
                 kMatmulTol});
    c.push_back({"conv2d_backprop_input",
                 [o](const std::vector<Value> &v) {
                   return apply("conv2d_backprop_input", v, conv2d(v[2], v[1], o).node().attrs);
                 },
                 {{y, r.w, r.x}},
                 dtypes,
                 -1,
                 1,
                 kMatmulTol});
    c.push_back({"conv2d_backprop_filter",
                 [o](const std::vector<Value> &v) {
                   return apply("conv2d_backprop_filter", v, conv2d(v[0], v[2], o).node().attrs);
                 },
                 {{r.x, y, r.w}},
                 dtypes,
                 -1,
                 1,
                 kMatmulTol});
    if (!r.with_batch) continue;
    c.push_back({"conv2d",
                 [=](const std::vector<Value> &v) { return conv2d(v[0], filter(v[0], w), o); },
                 {{r.x}},
                 {f32},
                 -1,
                 1,
                 kMatmulTol});
    c.push_back({"conv2d_backprop_input",
                 [=](const std::vector<Value> &v) {
                   Value wc = filter(v[0], w);
                   return apply("conv2d_backprop_input", {v[0], wc, v[1]},
                                conv2d(v[1], wc, o).node().attrs);
                 },
                 {{y, r.x}},
                 {f32},
                 -1,
                 1,
                 kMatmulTol});
    c.push_back({"conv2d_backprop_filter",
                 [=](const std::vector<Value> &v) {
                   Value wc = filter(v[0], w);
                   return apply("conv2d_backprop_filter", {v[0], v[1], wc},
                                conv2d(v[0], wc, o).node().attrs);
                 },
                 {{r.x, y}},
                 {f32},
                 -1,
                 1,
                 kMatmulTol});
  }
  // Pooling: non-overlapping, overlapping, padded windows (same and
  // explicit), a window over the whole plane. f32 averages of at most 9
  // values round a few times (1e-6).
  struct PoolRow {
    Pool2dOptions o;
    Shape x;
  };
  std::vector<PoolRow> pool_rows = {
      {{}, {2, 3, 6, 6}},
      {{}, {3, 2, 7, 5}},
      {{.kernel = {3, 3}, .strides = {2, 2}, .padding = "same"}, {2, 2, 7, 8}},
      {{.kernel = {3, 3}, .strides = {1, 1}, .padding = "same"}, {2, 2, 5, 5}},
      {{.kernel = {3, 2}, .strides = {1, 2}, .pads = {1, 2, 0, 1}}, {1, 3, 5, 6}},
      {{.kernel = {4, 4}}, {3, 2, 4, 4}},
      {{.kernel = {2, 2}}, {37, 3, 28, 28}},
  };
  for (const PoolRow &r : pool_rows) {
    Graph shapes;
    Shape y = max_pool2d(placeholder(shapes, "x", f32, r.x), r.o).shape();
    Pool2dOptions o = r.o;
    c.push_back({"max_pool2d",
                 [o](const std::vector<Value> &v) { return max_pool2d(v[0], o); },
                 {{r.x}},
                 {f32, f64}});
    c.push_back({"avg_pool2d",
                 [o](const std::vector<Value> &v) { return avg_pool2d(v[0], o); },
                 {{r.x}},
                 {f32, f64}});
    c.push_back({"max_pool2d_grad",
                 [o](const std::vector<Value> &v) {
                   return apply("max_pool2d_grad", v, max_pool2d(v[0], o).node().attrs);
                 },
                 {{r.x, y}},
                 {f32, f64}});
    c.push_back({"avg_pool2d_grad",
                 [o](const std::vector<Value> &v) {
                   return apply("avg_pool2d_grad", v, avg_pool2d(v[1], o).node().attrs);
                 },
                 {{y, r.x}},
                 {f32, f64}});
  }
  return c;
}

// Builds every variant of a case (dtype x input shapes) on placeholders in
// one graph, runs it compiled (one compilation) and in the reference
// interpreter, and compares each variant.
void check_case(const OpCase &c, std::mt19937 &rng) {
  Graph g;
  Feeds feeds;
  std::vector<NodeRef> outputs;
  std::vector<std::string> labels;
  for (DType dtype : c.dtypes)
    for (const std::vector<Shape> &shapes : c.shapes) {
      Scope scope(g, fmt::format("v{}", labels.size()));
      std::vector<Value> inputs;
      std::string label = fmt::format("{} on {} inputs of shapes", c.op, to_string(dtype));
      for (size_t i = 0; i < shapes.size(); ++i) {
        DType t = c.bool_inputs.count(i) ? boolean : dtype;
        inputs.push_back(placeholder(g, fmt::format("in{}", i), t, shapes[i]));
        feeds.emplace_back(inputs.back().id, test::random_tensor(t, shapes[i], rng, c.lo, c.hi));
        label += fmt::format(" {}", to_string(shapes[i]));
      }
      outputs.push_back(c.build(inputs));
      labels.push_back(label);
    }
  Session session(g);
  std::vector<Tensor> actual = session.run(feeds, outputs);
  std::vector<Tensor> expected = run_reference(g, feeds, outputs);
  for (size_t i = 0; i < labels.size(); ++i) {
    INFO(labels[i]);
    // f64 kernels compute in double like the oracle: the largest error is a
    // K = 784 dot product, ~K * 1.1e-16 ~ 1e-13 relative, below 1e-12.
    double tol = expected[i].dtype() == f64 ? 1e-12 : c.tol;
    CHECK(test::compare(actual[i], expected[i], tol) == "");
  }
}

// The same variants (first dtype only) with the leading dim symbolic where
// every input has the same one: each type rule then sees the batch dim, and
// the session binds it. Variants whose type rule rightly refuses a batch dim
// there (matmul contracting it, a reshape folding it) are skipped.
void check_case_with_batch(const OpCase &c, std::mt19937 &rng) {
  DType dtype = c.dtypes.front();
  for (const std::vector<Shape> &shapes : c.shapes) {
    bool shared = std::all_of(shapes.begin(), shapes.end(),
                              [&](const Shape &s) { return !s.empty() && s[0] == shapes[0][0]; });
    if (!shared) continue;
    Graph g;
    Feeds feeds;
    std::vector<Value> inputs;
    std::string label = fmt::format("{} on {} inputs of shapes", c.op, to_string(dtype));
    for (size_t i = 0; i < shapes.size(); ++i) {
      DType t = c.bool_inputs.count(i) ? boolean : dtype;
      Shape symbolic = shapes[i];
      symbolic[0] = batch;
      inputs.push_back(placeholder(g, fmt::format("in{}", i), t, symbolic));
      feeds.emplace_back(inputs.back().id, test::random_tensor(t, shapes[i], rng, c.lo, c.hi));
      label += fmt::format(" {}", to_string(symbolic));
    }
    Value out;
    try {
      out = c.build(inputs);
    } catch (const Error &) {
      continue;
    }
    INFO(label << " at batch " << shapes[0][0]);
    Session session(g);
    Tensor actual = session.run(feeds, {out})[0];
    Tensor expected = run_reference(g, feeds, {out})[0];
    CHECK(test::compare(actual, expected, c.tol) == "");
  }
}

} // namespace

TEST_CASE("every op matches its reference kernel", "[ops]") {
  std::mt19937 rng(1234);
  const char *only = std::getenv("KILN_CASE");
  for (const OpCase &c : cases())
    if (!only || c.op == only) check_case(c, rng);
}

TEST_CASE("every op matches its reference kernel with a batch dim", "[ops]") {
  std::mt19937 rng(4321);
  const char *only = std::getenv("KILN_CASE");
  for (const OpCase &c : cases())
    if (!only || c.op == only) check_case_with_batch(c, rng);
}

TEST_CASE("every op has a case", "[ops]") {
  std::set<std::string> covered;
  for (const OpCase &c : cases()) covered.insert(c.op);
  for (const OpDef &op : OpRegistry::get().all()) {
    if (op.source != Source::none) continue;
    INFO("op " << op.name);
    CHECK(covered.count(op.name) == 1);
  }
}

TEST_CASE("math functions handle the edges of their domains", "[ops]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {12});
  std::vector<Value> outs = {exp(x), log(x), tanh(x), sigmoid(x), softplus(x), gelu(x), sqrt(x)};
  float inf = INFINITY, nan = NAN;
  Feeds feeds = {{"x", Tensor::from<float>({12}, {0.f, -0.f, 1e-40f, -1e-40f, 100.f, -100.f, 1e30f,
                                                  -1e30f, inf, -inf, nan, 88.5f})}};
  // Denormals kept, as the reference keeps them: +-1e-40 are edges of the
  // domain here (flushing them is tests/denormals_test.cpp's subject).
  Session session(g, {.flush_denormals = false});
  std::vector<Tensor> actual = session.run(feeds, {outs.begin(), outs.end()});
  std::vector<Tensor> expected = run_reference(g, feeds, {outs.begin(), outs.end()});
  for (size_t i = 0; i < outs.size(); ++i) {
    INFO(outs[i].name());
    CHECK(test::compare(actual[i], expected[i], 1e-5) == "");
  }
}

TEST_CASE("one-element constants are folded into elementwise code", "[ops]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3});
  Value y = (x * 2.0 + 1.0) / constant(g, Tensor::from<float>({1, 3}, {1.f, 2.f, 4.f}));
  Session session(g);
  Tensor in = Tensor::from<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor out = session.run({{"x", in}}, {y})[0];
  CHECK(test::compare(out, Tensor::from<float>({2, 3}, {3, 2.5f, 1.75f, 9, 5.5f, 3.25f}), 0) == "");
}

// Runs `outs` compiled and in the reference interpreter on the same feeds.
static void check_against_reference(Graph &g, const Feeds &feeds, const std::vector<Value> &outs) {
  std::vector<NodeRef> fetches(outs.begin(), outs.end());
  Session session(g);
  std::vector<Tensor> actual = session.run(feeds, fetches);
  std::vector<Tensor> expected = run_reference(g, feeds, fetches);
  for (size_t i = 0; i < outs.size(); ++i) {
    INFO(outs[i].name());
    CHECK(test::compare(actual[i], expected[i], 0) == "");
  }
}

TEST_CASE("integer edge values wrap or saturate as documented", "[ops]") {
  Graph g;
  Value a = placeholder(g, "a", i32, {6}), b = placeholder(g, "b", i32, {6});
  Value f = placeholder(g, "f", f32, {6});
  Feeds feeds = {{"a", Tensor::from<int32_t>({6}, {INT32_MIN, INT32_MIN, 7, -7, INT32_MAX, 5})},
                 {"b", Tensor::from<int32_t>({6}, {-1, 0, 2, 2, 1, -1})},
                 {"f", Tensor::from<float>({6}, {NAN, INFINITY, -INFINITY, 1e10f, -1e10f, -2.7f})}};
  Value quotient = div(a, b);
  check_against_reference(g, feeds,
                          {quotient, abs(a), neg(a), add(a, b), cast(f, i32), cast(f, i64)});
  Session session(g);
  Tensor q = session.run(feeds, {quotient})[0];
  CHECK(q.data<int32_t>()[0] == INT32_MIN); // INT_MIN / -1 wraps
  CHECK(q.data<int32_t>()[1] == 0);         // x / 0 is 0
  CHECK(q.data<int32_t>()[3] == -3);        // truncation toward zero
}

TEST_CASE("NaN propagates through max, min, relu, clip and reductions", "[ops]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {2, 3});
  Feeds feeds = {{"x", Tensor::from<float>({2, 3}, {1, NAN, -2, -INFINITY, 0, INFINITY})}};
  check_against_reference(g, feeds,
                          {maximum(x, 0.0), minimum(x, 0.0), relu(x), clip(x, -1, 1), sign(x),
                           max(x, {1}), min(x, {1}), sum(x, {1}), argmax(x), argmin(x),
                           softmax(x)});
}

TEST_CASE("i64 constants beyond 2^53 are exact in compiled code", "[ops]") {
  Graph g;
  Value x = placeholder(g, "x", i64, {2});
  int64_t big = (int64_t{1} << 60) + 1;
  Value y = x + constant(g, Tensor::scalar<int64_t>(big));
  Session session(g);
  Tensor out = session.run({{x, Tensor::from<int64_t>({2}, {1, -2})}}, {y})[0];
  CHECK(out.data<int64_t>()[0] == big + 1);
  CHECK(out.data<int64_t>()[1] == big - 2);
}
