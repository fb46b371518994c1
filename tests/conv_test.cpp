// conv2d and pooling beyond the op tables: output sizes and padding, known
// values, errors that name the mismatch, and results that do not depend on
// the number of threads.
#include "ir/error.h"
#include "passes/autodiff.h"
#include "session/session.h"
#include "test_util.h"

using namespace kiln;

namespace {

using test::error_of;

} // namespace

TEST_CASE("conv2d and pooling output sizes follow the padding modes", "[conv]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3, 7, 8});
  Value w = placeholder(g, "w", f32, {4, 3, 3, 2});
  CHECK(conv2d(x, w).shape() == Shape{batch, 4, 5, 7});
  // same: ceil(in / stride), whatever the kernel.
  CHECK(conv2d(x, w, {.strides = {2, 3}, .padding = "same"}).shape() == Shape{batch, 4, 4, 3});
  CHECK(conv2d(x, w, {.dilations = {3, 1}, .padding = "same"}).shape() == Shape{batch, 4, 7, 8});
  CHECK(conv2d(x, w, {.strides = {2, 2}, .pads = {1, 0, 2, 1}}).shape() == Shape{batch, 4, 3, 5});
  CHECK(conv2d(x, placeholder(g, "d", f32, {6, 1, 3, 3}), {.groups = 3}).shape() ==
        Shape{batch, 6, 5, 6});
  CHECK(max_pool2d(x).shape() == Shape{batch, 3, 3, 4});
  CHECK(avg_pool2d(x, {.kernel = {3, 3}, .strides = {2, 2}, .padding = "same"}).shape() ==
        Shape{batch, 3, 4, 4});
}

TEST_CASE("same padding puts the odd cell at the bottom and right", "[conv]") {
  // A 2x2 filter of ones over a 3x3 input, stride 1: one cell of padding,
  // below and to the right, so y[i][j] sums x[i..i+1][j..j+1].
  Graph g;
  Value x = placeholder(g, "x", f32, {1, 1, 3, 3});
  Value y =
      conv2d(x, constant(g, Tensor::from<float>({1, 1, 2, 2}, {1, 1, 1, 1})), {.padding = "same"});
  Session s(g);
  Tensor out = s.run({{x, Tensor::from<float>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})}}, {y})[0];
  CHECK(test::compare(out, Tensor::from<float>({1, 1, 3, 3}, {12, 16, 9, 24, 28, 15, 15, 17, 9}),
                      0) == "");
}

TEST_CASE("avg pooling divides by the cells inside the input", "[conv]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {1, 1, 2, 2});
  Value y = avg_pool2d(x, {.kernel = {2, 2}, .strides = {1, 1}, .padding = "same"});
  Value m = max_pool2d(x, {.kernel = {2, 2}, .strides = {1, 1}, .pads = {1, 0, 1, 0}});
  Session s(g);
  std::vector<Tensor> out =
      s.run({{x, Tensor::from<float>({1, 1, 2, 2}, {-1, -2, -3, -4})}}, {y, m});
  CHECK(test::compare(out[0], Tensor::from<float>({1, 1, 2, 2}, {-2.5f, -3, -3.5f, -4}), 0) == "");
  // Padded cells are not zeros to max: the corner window holds x[0][0] only.
  CHECK(test::compare(out[1], Tensor::from<float>({1, 1, 2, 2}, {-1, -1, -1, -1}), 0) == "");
}

TEST_CASE("max pooling routes the gradient to the first maximum", "[conv]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {1, 1, 2, 4});
  Value dx = gradients(sum(max_pool2d(x) * 10.0), {x})[0];
  Session s(g);
  Tensor ties = Tensor::from<float>({1, 1, 2, 4}, {3, 3, 1, NAN, 3, 0, 2, 5});
  CHECK(test::compare(s.run({{x, ties}}, {dx})[0],
                      Tensor::from<float>({1, 1, 2, 4}, {10, 0, 0, 10, 0, 0, 0, 0}), 0) == "");
}

TEST_CASE("conv2d and pooling explain bad shapes and attributes", "[conv][errors]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3, 5, 5});
  Value w = placeholder(g, "w", f32, {4, 3, 3, 3});
  CHECK(error_of([&] { conv2d(x, w, {.groups = 2}, "c1"); }) ==
        "node 'c1' (conv2d): the input's 3 channels are not divisible by groups = 2");
  CHECK(error_of([&] {
          conv2d(placeholder(g, "x6", f32, {1, 6, 5, 5}), placeholder(g, "w6", f32, {6, 3, 3, 3}),
                 {.groups = 3}, "c2");
        }) == "node 'c2' (conv2d): the filter [6, 3, 3, 3] takes 3 channels per group, but the "
              "input has 6 channels in 3 group(s)");
  CHECK(error_of([&] {
          conv2d(x, placeholder(g, "w5", f32, {5, 1, 3, 3}), {.groups = 3}, "c3");
        }) == "node 'c3' (conv2d): the filter's 5 output channels are not divisible by groups = 3");
  CHECK(error_of([&] {
          conv2d(x, placeholder(g, "w9", f32, {4, 3, 7, 3}), {}, "c4");
        }) == "node 'c4' (conv2d): the kernel height 7 is larger than the input height 5");
  CHECK(error_of([&] {
          conv2d(x, w, {.dilations = {1, 3}, .pads = {0, 0, 0, 0}}, "c5");
        }) == "node 'c5' (conv2d): the kernel width 3 (dilated 7) is larger than the padded input "
              "width 5");
  CHECK(error_of([&] { conv2d(x, w, {.padding = "full"}, "c6"); }) ==
        "node 'c6' (conv2d): padding must be \"valid\", \"same\" or \"explicit\", got \"full\"");
  CHECK(error_of([&] {
          conv2d(x, w, {.padding = "same", .pads = {1, 1, 1, 1}}, "c7");
        }) == "node 'c7' (conv2d): pads [1, 1, 1, 1] given with padding \"same\": use padding "
              "\"explicit\"");
  CHECK(error_of([&] {
          conv2d(x, w, {.pads = {1, 1}}, "c8");
        }) ==
        "node 'c8' (conv2d): explicit padding needs pads [top, bottom, left, right] >= 0, got "
        "[1, 1]");
  CHECK(error_of([&] {
          conv2d(x, w, {.strides = {0, 1}}, "c9");
        }) == "node 'c9' (conv2d): strides must be two positive values, got [0, 1]");
  CHECK(error_of([&] {
          conv2d(x, placeholder(g, "i", f64, {4, 3, 3, 3}), {}, "c10");
        }) == "node 'c10' (conv2d): input 1 has dtype f64 but input 0 has f32; cast one of them");
  CHECK(error_of([&] {
          conv2d(placeholder(g, "flat", f32, {batch, 75}), w, {}, "c11");
        }) ==
        "node 'c11' (conv2d): the input must be [N, C, H, W] (only N may be the batch dim), got "
        "f32[?, 75]");
  CHECK(error_of([&] {
          max_pool2d(x, {.kernel = {2, 2}, .pads = {2, 0, 0, 0}}, "p1");
        }) == "node 'p1' (max_pool2d): pads [2, 0, 0, 0] must be smaller than the kernel [2, 2]: a "
              "window would hold only padding");
  CHECK(error_of([&] {
          apply("conv2d_backprop_input", {x, w, x}, conv2d(x, w).node().attrs, "b1");
        }) == "node 'b1' (conv2d_backprop_input): dy is f32[?, 3, 5, 5], but conv2d of "
              "f32[?, 3, 5, 5] with f32[4, 3, 3, 3] gives f32[?, 4, 3, 3]");
}

TEST_CASE("conv2d training gradients do not depend on the thread count", "[conv]") {
  // Batch 37: tasks of several images and a filter gradient summed from 8
  // partial filters; the sums have a fixed order, so 1 and 2 threads agree
  // bit for bit.
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3, 10, 10});
  Value w = variable(g, "w", f32, {8, 3, 3, 3}, Init::he_normal().seed(1));
  Value w2 = variable(g, "w2", f32, {4, 8, 3, 3}, Init::he_normal().seed(2));
  Value h = max_pool2d(relu(conv2d(x, w, {.padding = "same"})));
  Value loss = mean(square(conv2d(h, w2, {.strides = {2, 2}, .padding = "same"})));
  std::vector<Value> grads = gradients(loss, {x, w, w2});
  std::mt19937 rng(3);
  Tensor xv = test::random_tensor(f32, {37, 3, 10, 10}, rng);
  std::vector<NodeRef> fetches(grads.begin(), grads.end());
  Session one(g, {.threads = 1}), two(g, {.threads = 2});
  std::vector<Tensor> a = one.run({{x, xv}}, fetches), b = two.run({{x, xv}}, fetches);
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].identical(b[i]));
}
