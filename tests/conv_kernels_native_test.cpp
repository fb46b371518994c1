// Native tests of the convolution and pooling kernels (kernels/conv.cpp,
// conv_direct.cpp, pool.cpp) of the native library the runtime links: every task split gives
// the same bits (the filter gradient's per-task partial sums included), the
// tiled forward path gives the image path's bits, and results match
// double-precision loops.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernel_abi.h"
#include "kernels/kernels.h"

namespace {

using Range = std::function<void(int64_t, int64_t)>;

// Runs tasks [0, tasks) whole, one by one backwards, in random chunks, and
// past the end; returns each run's output.
template <typename T>
std::vector<std::vector<T>> all_splits(int64_t tasks, size_t size, std::mt19937 &rng,
                                       const std::function<void(T *, int64_t, int64_t)> &run) {
  std::vector<std::vector<T>> outs;
  for (int split = 0; split < 4; ++split) {
    std::vector<T> out(size, T(-777));
    if (split == 0) run(out.data(), 0, tasks);
    if (split == 1)
      for (int64_t t = tasks; t-- > 0;) run(out.data(), t, t + 1);
    if (split == 2)
      for (int64_t t = 0; t < tasks;) {
        const int64_t n = std::uniform_int_distribution<int64_t>(0, 3)(rng);
        run(out.data(), t, std::min(tasks, t + n));
        t += n;
      }
    if (split == 3) {
      run(out.data(), 0, tasks + 5);
      run(out.data(), tasks, tasks + 2);
    }
    outs.push_back(std::move(out));
  }
  return outs;
}

template <typename T> bool same_bits(const std::vector<std::vector<T>> &outs) {
  for (const auto &o : outs)
    if (!o.empty() && std::memcmp(o.data(), outs[0].data(), o.size() * sizeof(T)) != 0)
      return false;
  return true;
}

template <typename T> std::vector<T> random_vector(size_t n, std::mt19937 &rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> v(n);
  for (T &x : v) x = T(u(rng));
  return v;
}

// Elements differ by at most tol relative to max(1, |expected|).
template <typename T>
int64_t mismatches(const std::vector<T> &got, const std::vector<double> &ref, double tol) {
  int64_t bad = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    bad += !(std::fabs(double(got[i]) - ref[i]) <= tol * std::max(1.0, std::fabs(ref[i])));
  return bad;
}

using Conv = kiln::abi::ConvShape;

std::string describe(const Conv &s) {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "n=%ld c=%ld %ldx%ld o=%ld k=%ldx%ld out=%ldx%ld stride=%ld,%ld dilation=%ld,%ld "
                "pads=%ld,%ld groups=%ld",
                long(s.n), long(s.c), long(s.h), long(s.w), long(s.o), long(s.kh), long(s.kw),
                long(s.oh), long(s.ow), long(s.sh), long(s.sw), long(s.dh), long(s.dw), long(s.pt),
                long(s.pl), long(s.groups));
  return buf;
}

// A convolution with its output size from explicit padding (top/left given,
// bottom/right as the numbers say).
Conv geometry(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw,
              int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pb, int64_t pl,
              int64_t pr, int64_t groups) {
  const int64_t oh = (h + pt + pb - (kh - 1) * dh - 1) / sh + 1;
  const int64_t ow = (w + pl + pr - (kw - 1) * dw - 1) / sw + 1;
  return {n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, groups};
}

// f(y, x, w) for every product y += x * w of the convolution (flat indices).
void for_each_product(const Conv &s, const std::function<void(int64_t, int64_t, int64_t)> &f) {
  const int64_t cg = s.c / s.groups, og = s.o / s.groups;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t o = 0; o < s.o; ++o)
      for (int64_t oh = 0; oh < s.oh; ++oh)
        for (int64_t ow = 0; ow < s.ow; ++ow)
          for (int64_t cl = 0; cl < cg; ++cl)
            for (int64_t kh = 0; kh < s.kh; ++kh)
              for (int64_t kw = 0; kw < s.kw; ++kw) {
                const int64_t ih = oh * s.sh - s.pt + kh * s.dh, iw = ow * s.sw - s.pl + kw * s.dw;
                if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                const int64_t c = o / og * cg + cl;
                f(((n * s.o + o) * s.oh + oh) * s.ow + ow, ((n * s.c + c) * s.h + ih) * s.w + iw,
                  ((o * cg + cl) * s.kh + kh) * s.kw + kw);
              }
}

template <typename T> struct ConvFns;
template <> struct ConvFns<float> {
  static constexpr auto forward = kiln_conv2d_f32;
  static constexpr auto im2col = kiln_im2col_f32;
  static constexpr auto direct = kiln_conv2d_direct_f32;
  static constexpr auto depthwise = kiln_depthwise_conv2d_f32;
  static constexpr auto matmul = kiln_matmul_f32;
  static constexpr auto input = kiln_conv2d_backprop_input_f32;
  static constexpr auto filter = kiln_conv2d_backprop_filter_f32;
};
template <> struct ConvFns<double> {
  static constexpr auto forward = kiln_conv2d_f64;
  static constexpr auto im2col = kiln_im2col_f64;
  static constexpr auto direct = kiln_conv2d_direct_f64;
  static constexpr auto depthwise = kiln_depthwise_conv2d_f64;
  static constexpr auto matmul = kiln_matmul_f64;
  static constexpr auto input = kiln_conv2d_backprop_input_f64;
  static constexpr auto filter = kiln_conv2d_backprop_filter_f64;
};

#define KILN_CONV_SHAPE_ARGS(s)                                                                    \
  s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.oh, s.ow, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, s.groups

template <typename T> void check_conv(const Conv &s, std::mt19937 &rng) {
  using kiln::abi::kiln_conv2d_filter_tasks;
  using kiln::abi::kiln_conv2d_tasks;
  const size_t xs = size_t(s.n * s.image()), ws = size_t(s.filter_size()),
               ys = size_t(s.n * s.o * s.pixels());
  std::vector<T> x = random_vector<T>(xs, rng), w = random_vector<T>(ws, rng),
                 dy = random_vector<T>(ys, rng);
  std::vector<double> y_ref(ys), dx_ref(xs), dw_ref(ws);
  for_each_product(s, [&](int64_t y, int64_t xi, int64_t wi) {
    y_ref[size_t(y)] += double(x[size_t(xi)]) * double(w[size_t(wi)]);
    dx_ref[size_t(xi)] += double(dy[size_t(y)]) * double(w[size_t(wi)]);
    dw_ref[size_t(wi)] += double(dy[size_t(y)]) * double(x[size_t(xi)]);
  });
  // Sums of up to a few thousand products of values in [-1, 1].
  const double tol = sizeof(T) == 4 ? 1e-4 : 1e-12;
  const int64_t tasks = kiln_conv2d_tasks(s.n), filter_tasks = kiln_conv2d_filter_tasks(s.n);
  std::vector<T> col(size_t(std::max<int64_t>(tasks, filter_tasks) * s.col_size()));
  std::vector<T> tmp(size_t(filter_tasks * s.filter_size()));

  auto y = all_splits<T>(tasks, ys, rng, [&](T *out, int64_t tb, int64_t te) {
    ConvFns<T>::forward(x.data(), w.data(), out, col.data(), KILN_CONV_SHAPE_ARGS(s), tb, te);
  });
  CHECK(same_bits(y));
  CHECK(mismatches(y[0], y_ref, tol) == 0);

  // Tiled (as ops/conv.cpp lowers a few images): im2col per image and
  // channel, then one batched GEMM; the same GEMM per image, the same bits.
  if (s.groups == 1) {
    using kiln::abi::kiln_im2col_tasks;
    using kiln::abi::kiln_matmul_tasks;
    const int64_t K = s.taps(), P = s.pixels();
    auto cols = all_splits<T>(kiln_im2col_tasks(s.n, s.c), size_t(s.n * s.col_size()), rng,
                              [&](T *out, int64_t tb, int64_t te) {
                                ConvFns<T>::im2col(x.data(), out, KILN_CONV_SHAPE_ARGS(s), tb, te);
                              });
    CHECK(same_bits(cols));
    const T *b = s.direct() ? x.data() : cols[0].data();
    auto tiled =
        all_splits<T>(kiln_matmul_tasks(s.n, s.o, P), ys, rng, [&](T *out, int64_t tb, int64_t te) {
          ConvFns<T>::matmul(w.data(), b, out, s.o, P, K, K, 1, P, 1, s.n, 0, K * P, s.o * P, tb,
                             te);
        });
    CHECK(same_bits(tiled));
    CHECK(same_bits<T>({tiled[0], y[0]}));
  }
  // Direct (as ops/conv.cpp lowers few output channels), on every shape it
  // runs, not only where the lowering takes it: its own summation order.
  if (kiln::abi::kiln_conv2d_direct_fits(s)) {
    const int64_t lanes = kiln::abi::kVectorBytes / int64_t(sizeof(T));
    // NaN-filled before each call: the kernel must write every element it reads.
    std::vector<T> scratch(size_t(tasks * kiln::abi::kiln_direct_scratch(s, lanes)));
    auto direct = all_splits<T>(tasks, ys, rng, [&](T *out, int64_t tb, int64_t te) {
      std::fill(scratch.begin(), scratch.end(), std::numeric_limits<T>::quiet_NaN());
      ConvFns<T>::direct(x.data(), w.data(), out, scratch.data(), KILN_CONV_SHAPE_ARGS(s), tb, te);
    });
    CHECK(same_bits(direct));
    CHECK(mismatches(direct[0], y_ref, tol) == 0);
  }
  if (s.groups == s.c && s.o == s.c) {
    auto planes = all_splits<T>(
        kiln::abi::kiln_depthwise_tasks(s.n, s.c), ys, rng, [&](T *out, int64_t tb, int64_t te) {
          ConvFns<T>::depthwise(x.data(), w.data(), out, KILN_CONV_SHAPE_ARGS(s), tb, te);
        });
    CHECK(same_bits(planes));
    CHECK(mismatches(planes[0], y_ref, tol) == 0);
  }

  auto dx = all_splits<T>(tasks, xs, rng, [&](T *out, int64_t tb, int64_t te) {
    ConvFns<T>::input(dy.data(), w.data(), out, col.data(), KILN_CONV_SHAPE_ARGS(s), tb, te);
  });
  CHECK(same_bits(dx));
  CHECK(mismatches(dx[0], dx_ref, tol) == 0);

  // The partial filters, one per task; summed in task order as the lowering does.
  auto partial = all_splits<T>(filter_tasks, size_t(filter_tasks) * ws, rng,
                               [&](T *out, int64_t tb, int64_t te) {
                                 ConvFns<T>::filter(x.data(), dy.data(), out, col.data(),
                                                    tmp.data(), KILN_CONV_SHAPE_ARGS(s), tb, te);
                               });
  CHECK(same_bits(partial));
  std::vector<T> dw(ws, T(0));
  for (int64_t t = 0; t < filter_tasks; ++t)
    for (size_t i = 0; i < ws; ++i) dw[i] += partial[0][size_t(t) * ws + i];
  CHECK(mismatches(dw, dw_ref, tol) == 0);
}

#undef KILN_CONV_SHAPE_ARGS

const Conv kConvs[] = {
    // n, c, h, w, o, kh, kw, sh, sw, dh, dw, pads t b l r, groups
    geometry(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1),     // valid
    geometry(3, 2, 6, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),     // same, spans
    geometry(2, 2, 6, 5, 3, 2, 4, 1, 1, 1, 1, 0, 1, 1, 2, 1),     // even kernel, spans
    geometry(2, 3, 7, 8, 4, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1, 1),     // stride 2
    geometry(1, 2, 7, 8, 2, 3, 2, 2, 1, 2, 3, 2, 2, 1, 2, 1),     // dilation
    geometry(2, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2),     // groups
    geometry(2, 3, 6, 6, 6, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 3),     // depthwise x2
    geometry(3, 4, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4),     // depthwise, same
    geometry(2, 5, 9, 8, 5, 3, 2, 2, 2, 2, 1, 1, 0, 2, 1, 5),     // depthwise, stride, dilation
    geometry(1, 3, 20, 30, 200, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), // one image, 3 x 5 tiles
    geometry(3, 8, 4, 4, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),     // 1x1: no im2col
    geometry(2, 4, 5, 5, 3, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1),     // 1x1 stride 2
    geometry(2, 1, 3, 3, 2, 3, 3, 1, 1, 1, 1, 4, 4, 0, 4, 1),     // taps entirely in the padding
    geometry(37, 3, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    // chunks of 3 and 5 images
    geometry(64, 6, 14, 14, 16, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1), // LeNet conv2
    geometry(9, 1, 28, 28, 6, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),   // LeNet conv1
    geometry(3, 2, 5, 40, 9, 3, 2, 1, 1, 1, 1, 0, 1, 2, 0, 1),    // 8 + 1 channels, wide rows
    geometry(2, 3, 4, 4, 1, 2, 2, 1, 1, 1, 1, 1, 0, 0, 1, 1),     // one channel
    geometry(3, 3, 6, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    // channels in the lanes, 2 blocks
    geometry(2, 2, 6, 3, 7, 1, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1), // 1 x 3, rows narrower than a vector
    geometry(0, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1), // empty batch
};

} // namespace

TEMPLATE_TEST_CASE("conv kernels: geometries, splits, partial filters", "[kernels][conv]", float,
                   double) {
  std::mt19937 rng(5);
  for (const Conv &s : kConvs) {
    INFO(describe(s));
    check_conv<TestType>(s, rng);
  }
}

// ---- pooling -------------------------------------------------------------------

namespace {

using Pool = kiln::abi::PoolShape;

Pool pool_geometry(int64_t planes, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh,
                   int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr) {
  return {planes, h,  w, (h + pt + pb - kh) / sh + 1, (w + pl + pr - kw) / sw + 1, kh, kw, sh,
          sw,     pt, pl};
}

// The input cells of each window (flat indices), windows in output order.
std::vector<std::vector<int64_t>> windows(const Pool &s) {
  std::vector<std::vector<int64_t>> all;
  for (int64_t p = 0; p < s.planes; ++p)
    for (int64_t oh = 0; oh < s.oh; ++oh)
      for (int64_t ow = 0; ow < s.ow; ++ow) {
        std::vector<int64_t> cells;
        for (int64_t i = 0; i < s.kh; ++i)
          for (int64_t j = 0; j < s.kw; ++j) {
            const int64_t ih = oh * s.sh - s.pt + i, iw = ow * s.sw - s.pl + j;
            if (ih >= 0 && ih < s.h && iw >= 0 && iw < s.w)
              cells.push_back((p * s.h + ih) * s.w + iw);
          }
        all.push_back(cells);
      }
  return all;
}

void check_pool(const Pool &s, std::mt19937 &rng) {
  using kiln::abi::kiln_pool2d_tasks;
  const size_t xs = size_t(s.planes * s.h * s.w), ys = size_t(s.planes * s.oh * s.ow);
  std::vector<float> x = random_vector<float>(xs, rng), dy = random_vector<float>(ys, rng);
  std::vector<double> max_ref(ys), avg_ref(ys), dmax_ref(xs), davg_ref(xs);
  std::vector<std::vector<int64_t>> wins = windows(s);
  for (size_t o = 0; o < ys; ++o) {
    int64_t best = wins[o][0];
    double sum = 0;
    for (int64_t k : wins[o]) {
      best = x[size_t(k)] > x[size_t(best)] ? k : best;
      sum += x[size_t(k)];
    }
    max_ref[o] = x[size_t(best)];
    avg_ref[o] = sum / double(wins[o].size());
    dmax_ref[size_t(best)] += dy[o];
    for (int64_t k : wins[o]) davg_ref[size_t(k)] += dy[o] / double(wins[o].size());
  }
  const int64_t tasks = kiln_pool2d_tasks(s.planes);
#define KILN_POOL_SHAPE_ARGS s.planes, s.h, s.w, s.oh, s.ow, s.kh, s.kw, s.sh, s.sw, s.pt, s.pl
  auto mx = all_splits<float>(tasks, ys, rng, [&](float *out, int64_t tb, int64_t te) {
    kiln_max_pool2d_f32(x.data(), out, KILN_POOL_SHAPE_ARGS, tb, te);
  });
  auto avg = all_splits<float>(tasks, ys, rng, [&](float *out, int64_t tb, int64_t te) {
    kiln_avg_pool2d_f32(x.data(), out, KILN_POOL_SHAPE_ARGS, tb, te);
  });
  auto dmax = all_splits<float>(tasks, xs, rng, [&](float *out, int64_t tb, int64_t te) {
    kiln_max_pool2d_grad_f32(x.data(), dy.data(), out, KILN_POOL_SHAPE_ARGS, tb, te);
  });
  auto davg = all_splits<float>(tasks, xs, rng, [&](float *out, int64_t tb, int64_t te) {
    kiln_avg_pool2d_grad_f32(dy.data(), out, KILN_POOL_SHAPE_ARGS, tb, te);
  });
#undef KILN_POOL_SHAPE_ARGS
  CHECK(same_bits(mx));
  CHECK(same_bits(avg));
  CHECK(same_bits(dmax));
  CHECK(same_bits(davg));
  CHECK(mismatches(mx[0], max_ref, 0) == 0);
  CHECK(mismatches(avg[0], avg_ref, 1e-6) == 0);
  CHECK(mismatches(dmax[0], dmax_ref, 1e-6) == 0);
  CHECK(mismatches(davg[0], davg_ref, 1e-6) == 0);
}

} // namespace

TEST_CASE("pool kernels: geometries, splits", "[kernels][pool]") {
  std::mt19937 rng(6);
  const Pool pools[] = {
      // planes, h, w, kh, kw, sh, sw, pads t b l r
      pool_geometry(6, 6, 6, 2, 2, 2, 2, 0, 0, 0, 0), // tiling
      pool_geometry(4, 7, 5, 2, 2, 2, 2, 0, 0, 0, 0), // last row and column unused
      pool_geometry(3, 7, 8, 3, 3, 2, 2, 1, 1, 0, 1), // overlapping, padded
      pool_geometry(2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1), // overlapping, all cut at the border
      pool_geometry(3, 5, 6, 3, 2, 1, 2, 1, 2, 0, 1), // disjoint columns, cut rows
      pool_geometry(2, 9, 9, 2, 2, 3, 3, 0, 0, 0, 0), // gaps between windows
      pool_geometry(5, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0), // one window per plane
      pool_geometry(64, 28, 28, 2, 2, 2, 2, 0, 0, 0, 0),
  };
  for (const Pool &s : pools) {
    INFO("planes " << s.planes << " " << s.h << "x" << s.w << " kernel " << s.kh << "x" << s.kw
                   << " stride " << s.sh << "," << s.sw << " pad " << s.pt << "," << s.pl);
    check_pool(s, rng);
  }
}
