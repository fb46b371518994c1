// max_pool2d and avg_pool2d (NCHW) and their gradients. A task is one
// channel plane (kernel_abi.h). Windows skip the padding: max takes the
// largest input cell, avg divides by the number of input cells (PyTorch's
// count_include_pad=False). Max follows argmax: the first maximum in the
// window (row-major), a NaN counting as the maximum; its gradient goes to
// that cell. Gradients of overlapping windows add up in window order.
//
// Windows whose KH x KW cells all lie inside the plane (all of them without
// padding) take a path with constant trip counts that vectorizes over the
// output columns; windows cut by the padding take a general one.
//
// Entry points (T = float/f32 or double/f64; SHAPE = planes (N * C), h, w,
// oh, ow, kh, kw, sh, sw, pt, pl as int64_t; then task_begin, task_end):
//   kiln_max_pool2d_T(x, y, SHAPE, ...), kiln_avg_pool2d_T(x, y, SHAPE, ...)
//   kiln_max_pool2d_grad_T(x, dy, dx, SHAPE, ...), kiln_avg_pool2d_grad_T(dy, dx, SHAPE, ...)
#include <stdint.h>

#include "kernel_abi.h"
#include "kernels.h"

namespace kiln::kernels::pool {

#define KILN_INLINE __attribute__((always_inline)) inline
// Rows of windows are short (14 outputs in a 28-wide plane), below the trip
// count the loop vectorizer tries by itself.
#ifdef __clang__
#define KILN_VECTORIZE _Pragma("clang loop vectorize(enable)")
#else
#define KILN_VECTORIZE
#endif

using Pool = abi::PoolShape;

// Zeroes a gradient plane, unless its windows will write every cell.
template <typename T> KILN_INLINE void clear(T *__restrict__ dx, const Pool &s) {
  if (!s.tiling())
    for (int64_t k = 0; k < s.h * s.w; ++k) dx[k] = T(0);
}

// The cells of window (oh, ow) inside the plane.
struct Window {
  int64_t top, left; // the window's corner, maybe in the padding
  abi::IndexRange rows, cols;

  int64_t count() const { return (rows.hi - rows.lo) * (cols.hi - cols.lo); }
};

KILN_INLINE Window window(const Pool &s, int64_t oh, int64_t ow) {
  const int64_t top = oh * s.sh - s.pt, left = ow * s.sw - s.pl;
  return {top, left, abi::kiln_inside(top, 1, s.kh, s.h), abi::kiln_inside(left, 1, s.kw, s.w)};
}

// f(offset in the plane) for each cell of the window, row-major.
template <typename F> KILN_INLINE void for_each_cell(const Pool &s, const Window &win, F f) {
  for (int64_t i = win.rows.lo; i < win.rows.hi; ++i)
    for (int64_t j = win.cols.lo; j < win.cols.hi; ++j) f((win.top + i) * s.w + win.left + j);
}

// Calls run(oh, lo, hi, corner) for each row oh of windows with the windows
// [lo, hi) that lie inside the plane (corner: the offset of the first cell of
// window (oh, 0), maybe outside), and cut(oh, ow) for the others.
template <typename Run, typename Cut>
KILN_INLINE void for_each_window(const Pool &s, Run run, Cut cut) {
  const abi::IndexRange rows = abi::kiln_inside(-s.pt, s.sh, s.oh, s.h - s.kh + 1);
  const abi::IndexRange cols = abi::kiln_inside(-s.pl, s.sw, s.ow, s.w - s.kw + 1);
  for (int64_t oh = 0; oh < s.oh; ++oh) {
    const bool inside = oh >= rows.lo && oh < rows.hi;
    const int64_t lo = inside ? cols.lo : s.ow, hi = inside ? cols.hi : s.ow;
    for (int64_t ow = 0; ow < lo; ++ow) cut(oh, ow);
    if (lo < hi) run(oh, lo, hi, (oh * s.sh - s.pt) * s.w - s.pl);
    for (int64_t ow = hi; ow < s.ow; ++ow) cut(oh, ow);
  }
}

// Gradients write the cells of a window: `run` may serve the interior rows
// only when windows do not overlap; otherwise every window goes through
// cut(oh, ow), which accumulates.
template <typename Run, typename Cut>
KILN_INLINE void for_each_gradient_window(const Pool &s, Run run, Cut cut) {
  if (s.disjoint()) return for_each_window(s, run, cut);
  auto each = [&](int64_t oh, int64_t lo, int64_t hi, int64_t) {
    for (int64_t ow = lo; ow < hi; ++ow) cut(oh, ow);
  };
  for_each_window(s, each, cut);
}

// Folds v into the running maximum m; true when v becomes the maximum (it is
// larger, or the first NaN). Bitwise | and &: short-circuits would become
// branches, which keep the loops over windows from vectorizing.
template <typename T> KILN_INLINE bool update_max(T &m, T v) {
  const bool take = (v > m) | ((v != v) & (m == m));
  m = take ? v : m;
  return take;
}

// The offset of the first maximum of a window (never empty).
template <typename T>
KILN_INLINE int64_t argmax(const T *__restrict__ x, const Pool &s, const Window &win) {
  int64_t best = (win.top + win.rows.lo) * s.w + win.left + win.cols.lo;
  T m = x[best];
  for_each_cell(s, win, [&](int64_t k) { best = update_max(m, x[k]) ? k : best; });
  return best;
}

template <typename T, bool Avg>
KILN_INLINE void pool_plane(const T *__restrict__ x, T *__restrict__ y, const Pool &s) {
  auto run = [&](int64_t oh, int64_t lo, int64_t hi, int64_t corner) {
    KILN_VECTORIZE for (int64_t ow = lo; ow < hi; ++ow) {
      const T *cell = x + corner + ow * s.sw;
      T acc = Avg ? T(0) : cell[0];
      for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j) {
          if (Avg)
            acc += cell[i * s.w + j];
          else
            update_max(acc, cell[i * s.w + j]);
        }
      y[oh * s.ow + ow] = Avg ? acc / T(s.kh * s.kw) : acc;
    }
  };
  auto cut = [&](int64_t oh, int64_t ow) {
    const Window win = window(s, oh, ow);
    T acc = T(0);
    for_each_cell(s, win, [&](int64_t k) { acc += x[k]; });
    y[oh * s.ow + ow] = Avg ? acc / T(win.count()) : x[argmax(x, s, win)];
  };
  for_each_window(s, run, cut);
}

// dx = the sum over windows of dy routed to the window's first maximum.
template <typename T>
KILN_INLINE void max_pool_grad_plane(const T *__restrict__ x, const T *__restrict__ dy,
                                     T *__restrict__ dx, const Pool &s) {
  clear(dx, s);
  auto cut = [&](int64_t oh, int64_t ow) {
    dx[argmax(x, s, window(s, oh, ow))] += dy[oh * s.ow + ow];
  };
  // Disjoint windows inside the plane: every cell written, with selects.
  auto run = [&](int64_t oh, int64_t lo, int64_t hi, int64_t corner) {
    KILN_VECTORIZE for (int64_t ow = lo; ow < hi; ++ow) {
      const int64_t at = corner + ow * s.sw;
      T m = x[at];
      int32_t best = 0;
      for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j)
          best = update_max(m, x[at + i * s.w + j]) ? int32_t(i * s.kw + j) : best;
      const T g = dy[oh * s.ow + ow];
      for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j) dx[at + i * s.w + j] = best == i * s.kw + j ? g : T(0);
    }
  };
  for_each_gradient_window(s, run, cut);
}

// dx = the sum over windows of dy / (the window's cell count) on each cell.
template <typename T>
KILN_INLINE void avg_pool_grad_plane(const T *__restrict__ dy, T *__restrict__ dx, const Pool &s) {
  clear(dx, s);
  auto cut = [&](int64_t oh, int64_t ow) {
    const Window win = window(s, oh, ow);
    const T share = dy[oh * s.ow + ow] / T(win.count());
    for_each_cell(s, win, [&](int64_t k) { dx[k] += share; });
  };
  // Disjoint windows inside the plane: their cells are written.
  auto run = [&](int64_t oh, int64_t lo, int64_t hi, int64_t corner) {
    KILN_VECTORIZE for (int64_t ow = lo; ow < hi; ++ow) {
      T *cell = dx + corner + ow * s.sw;
      const T share = dy[oh * s.ow + ow] / T(s.kh * s.kw);
      for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j) cell[i * s.w + j] = share;
    }
  };
  for_each_gradient_window(s, run, cut);
}

// Runs plane(p) for the planes of the task range.
template <typename F>
KILN_INLINE void for_each_plane(const Pool &s, int64_t task_begin, int64_t task_end, F plane) {
  task_end = abi::min_i64(task_end, abi::kiln_pool2d_tasks(s.planes));
  for (int64_t p = task_begin; p < task_end; ++p) plane(p * s.h * s.w, p * s.oh * s.ow);
}

#undef KILN_VECTORIZE
#undef KILN_INLINE

} // namespace kiln::kernels::pool

#define KILN_POOL_SHAPE                                                                            \
  kiln::kernels::pool::Pool { planes, h, w, oh, ow, kh, kw, sh, sw, pt, pl }

// Each entry point runs a plane function over the task's planes, given the
// offsets of the input plane (in) and of the output plane (out).
#define KILN_POOL_ENTRY(name, params, body)                                                        \
  extern "C" void name(params, KILN_POOL_PARAMS, int64_t task_begin, int64_t task_end) {           \
    using namespace kiln::kernels::pool;                                                           \
    const Pool s = KILN_POOL_SHAPE;                                                                \
    for_each_plane(s, task_begin, task_end, [&](int64_t in, int64_t out) { body; });               \
  }
#define KILN_ARGS(...) __VA_ARGS__

#define KILN_POOL_ENTRY_POINTS(T, suffix)                                                          \
  KILN_POOL_ENTRY(kiln_max_pool2d_##suffix, KILN_ARGS(const T *x, T *y),                           \
                  (pool_plane<T, false>(x + in, y + out, s)))                                      \
  KILN_POOL_ENTRY(kiln_avg_pool2d_##suffix, KILN_ARGS(const T *x, T *y),                           \
                  (pool_plane<T, true>(x + in, y + out, s)))                                       \
  KILN_POOL_ENTRY(kiln_max_pool2d_grad_##suffix, KILN_ARGS(const T *x, const T *dy, T *dx),        \
                  max_pool_grad_plane(x + in, dy + out, dx + in, s))                               \
  KILN_POOL_ENTRY(kiln_avg_pool2d_grad_##suffix, KILN_ARGS(const T *dy, T *dx),                    \
                  avg_pool_grad_plane(dy + out, dx + in, s))

KILN_POOL_ENTRY_POINTS(float, f32)
KILN_POOL_ENTRY_POINTS(double, f64)

#undef KILN_POOL_ENTRY_POINTS
#undef KILN_ARGS
#undef KILN_POOL_ENTRY
#undef KILN_POOL_SHAPE
