// Reductions over the middle axis of an [outer, reduce, inner] view:
// sum, mean, max, min, argmax, argmin. One task is one outer index and a block
// of inner indices (kernel_abi.h).
//
// inner == 1 (contiguous rows): two vectors of lanes of partial results,
// element i going to lane i % lanes, combined by a fixed tree at the end.
// inner > 1: one accumulator per output, rows added in order r = 0, 1, ...;
// the loop over the inner block vectorizes.
// Either way the order depends only on the shape: results are deterministic.
//
// max/min propagate NaN; argmax/argmin return the first index of the extreme,
// a NaN counting as the extreme (numpy). Empty reductions (reduce == 0): sum 0,
// mean NaN, max lowest (-inf), min highest (+inf), argmax/argmin 0.
#include <stdint.h>

#include "kernel_abi.h"
#include "kernels.h"
#include "vec.h"

namespace kiln::kernels::reduce {

#define KILN_INLINE __attribute__((always_inline)) inline

// The unsigned twin of a type: integer sums wrap around through it (no UB).
template <typename X> struct Wrap { using type = X; };
template <> struct Wrap<int32_t> { using type = uint32_t; };
template <> struct Wrap<int64_t> { using type = uint64_t; };
template <> struct Wrap<Vec<int32_t>::type> {
  typedef uint32_t type __attribute__((vector_size(abi::kVectorBytes)));
};
template <> struct Wrap<Vec<int64_t>::type> {
  typedef uint64_t type __attribute__((vector_size(abi::kVectorBytes)));
};

template <typename T> struct Limits;
template <> struct Limits<float> {
  static constexpr float lowest = -__builtin_inff(), highest = __builtin_inff();
};
template <> struct Limits<double> {
  static constexpr double lowest = -__builtin_inf(), highest = __builtin_inf();
};
template <> struct Limits<int32_t> {
  static constexpr int32_t lowest = INT32_MIN, highest = INT32_MAX;
};
template <> struct Limits<int64_t> {
  static constexpr int64_t lowest = INT64_MIN, highest = INT64_MAX;
};

template <typename T> KILN_INLINE bool is_nan(T x) {
  return x != x; // always false for integers
}

// Ops: init value, combine(acc, x) in place for scalars and vectors alike
// (vectors by reference: by value their ABI is target-dependent), and
// finish(acc, reduce) giving the output.
struct Sum {
  template <typename T> static constexpr T init = T(0);
  template <typename X> KILN_INLINE static void combine(X &a, const X &x) {
    using U = typename Wrap<X>::type;
    a = X(U(a) + U(x));
  }
  template <typename T> KILN_INLINE static T finish(T a, int64_t) { return a; }
};
struct Mean : Sum {
  template <typename T> KILN_INLINE static T finish(T a, int64_t n) {
    return a / T(n); // n == 0: 0 / 0 = NaN
  }
};
struct Max {
  template <typename T> static constexpr T init = Limits<T>::lowest;
  template <typename X> KILN_INLINE static void combine(X &a, const X &x) {
    a = ((x > a) | (x != x)) ? x : a; // once a is NaN it stays
  }
  template <typename T> KILN_INLINE static T finish(T a, int64_t) { return a; }
};
struct Min {
  template <typename T> static constexpr T init = Limits<T>::highest;
  template <typename X> KILN_INLINE static void combine(X &a, const X &x) {
    a = ((x < a) | (x != x)) ? x : a;
  }
  template <typename T> KILN_INLINE static T finish(T a, int64_t) { return a; }
};

// Vectors of partial results in a contiguous reduction.
constexpr int kRowVectors = 2;

// Reduces the contiguous x[0:n]: element i goes to lane i % lanes of
// kRowVectors vectors (the tail one by one), then a fixed tree over the lanes.
template <typename Op, typename T> KILN_INLINE T reduce_row(const T *x, int64_t n) {
  using V = typename Vec<T>::type;
  constexpr int L = Vec<T>::kLanes, kLanes = kRowVectors * L;
  V acc[kRowVectors];
  for (int v = 0; v < kRowVectors; ++v)
    for (int j = 0; j < L; ++j) acc[v][j] = Op::template init<T>;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int v = 0; v < kRowVectors; ++v) {
      V xv;
      __builtin_memcpy(&xv, x + i + v * L, sizeof(V));
      Op::combine(acc[v], xv);
    }
  T lanes[kLanes];
  __builtin_memcpy(lanes, acc, sizeof lanes);
  for (int j = 0; i + j < n; ++j) Op::combine(lanes[j], x[i + j]);
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) Op::combine(lanes[j], lanes[j + w]);
  return lanes[0];
}

// Calls visit(x, y, w) for each task's tile of [outer, reduce, inner]: x is
// the tile's first input element, y its first output, w its inner width.
template <typename T, typename U, typename Visit>
KILN_INLINE void for_each_row_tile(const T *in, U *out, int64_t outer, int64_t reduce,
                                   int64_t inner, int64_t task_begin, int64_t task_end,
                                   Visit visit) {
  const int64_t tasks = abi::kiln_reduce_tasks(outer, inner);
  if (task_end > tasks) task_end = tasks;
  for (int64_t task = task_begin; task < task_end; ++task) {
    const abi::RowTile t = abi::kiln_row_tile(task, inner);
    // `in` may be null when the reduced axis is empty.
    visit(in + (reduce == 0 ? 0 : t.o * reduce * inner + t.i0), out + t.o * inner + t.i0,
          t.i1 - t.i0);
  }
}

template <typename Op, typename T>
KILN_INLINE void reduce(const T *in, T *out, int64_t outer, int64_t reduce, int64_t inner,
                        int64_t task_begin, int64_t task_end) {
  for_each_row_tile(in, out, outer, reduce, inner, task_begin, task_end,
                    [&](const T *x, T *y, int64_t w) {
                      if (inner == 1) {
                        y[0] = Op::finish(reduce_row<Op>(x, reduce), reduce);
                        return;
                      }
                      T acc[abi::kRowTileInner];
                      for (int64_t i = 0; i < w; ++i) acc[i] = Op::template init<T>;
                      for (int64_t r = 0; r < reduce; ++r)
                        for (int64_t i = 0; i < w; ++i) Op::combine(acc[i], x[r * inner + i]);
                      for (int64_t i = 0; i < w; ++i) y[i] = Op::finish(acc[i], reduce);
                    });
}

// ---- argmax / argmin -------------------------------------------------------

// Whether x beats the current best b when seen later: strictly more extreme,
// or the first NaN.
struct ArgMax {
  template <typename T> static constexpr T init = Limits<T>::lowest;
  template <typename T> KILN_INLINE static bool beats(T x, T b) {
    return x > b || (is_nan(x) && !is_nan(b));
  }
};
struct ArgMin {
  template <typename T> static constexpr T init = Limits<T>::highest;
  template <typename T> KILN_INLINE static bool beats(T x, T b) {
    return x < b || (is_nan(x) && !is_nan(b));
  }
};

// Scalar lanes for contiguous rows: argmax rows are usually short (classes),
// and vector index bookkeeping would cost more than it saves.
constexpr int kArgLanes = 16;

// Starting every candidate at (init, index 0) is exact: if nothing beats init,
// every element equals init and the first index, 0, is the answer.
template <typename Op, typename T> KILN_INLINE int64_t arg_row(const T *x, int64_t n) {
  T best[kArgLanes];
  int64_t idx[kArgLanes];
  for (int j = 0; j < kArgLanes; ++j) {
    best[j] = Op::template init<T>;
    idx[j] = j; // lanes that never see an element lose every tie below
  }
  int64_t i = 0;
  for (; i + kArgLanes <= n; i += kArgLanes)
    for (int j = 0; j < kArgLanes; ++j) {
      const bool b = Op::beats(x[i + j], best[j]);
      best[j] = b ? x[i + j] : best[j];
      idx[j] = b ? i + j : idx[j];
    }
  for (int j = 0; i + j < n; ++j) {
    const bool b = Op::beats(x[i + j], best[j]);
    best[j] = b ? x[i + j] : best[j];
    idx[j] = b ? i + j : idx[j];
  }
  // Lane j holds the first extreme among indices = j (mod kArgLanes); across
  // lanes the extreme wins, and among equals (or NaNs) the smaller index.
  for (int w = kArgLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) {
      const bool same = best[j + w] == best[j] || (is_nan(best[j + w]) && is_nan(best[j]));
      const bool b = Op::beats(best[j + w], best[j]) || (same && idx[j + w] < idx[j]);
      best[j] = b ? best[j + w] : best[j];
      idx[j] = b ? idx[j + w] : idx[j];
    }
  return n == 0 ? 0 : idx[0];
}

template <typename Op, typename T>
KILN_INLINE void arg_reduce(const T *in, int64_t *out, int64_t outer, int64_t reduce, int64_t inner,
                            int64_t task_begin, int64_t task_end) {
  for_each_row_tile(in, out, outer, reduce, inner, task_begin, task_end,
                    [&](const T *x, int64_t *y, int64_t w) {
                      if (inner == 1) {
                        y[0] = arg_row<Op>(x, reduce);
                        return;
                      }
                      T best[abi::kRowTileInner];
                      for (int64_t i = 0; i < w; ++i) {
                        best[i] = Op::template init<T>;
                        y[i] = 0;
                      }
                      for (int64_t r = 0; r < reduce; ++r)
                        for (int64_t i = 0; i < w; ++i) {
                          const bool b = Op::beats(x[r * inner + i], best[i]);
                          best[i] = b ? x[r * inner + i] : best[i];
                          y[i] = b ? r : y[i];
                        }
                    });
}

#undef KILN_INLINE

} // namespace kiln::kernels::reduce

#define KILN_REDUCE(name, Op, T, suffix)                                                           \
  extern "C" void kiln_##name##_##suffix(const T *in, T *out, int64_t outer, int64_t reduce,       \
                                         int64_t inner, int64_t task_begin, int64_t task_end) {    \
    kiln::kernels::reduce::reduce<kiln::kernels::reduce::Op>(in, out, outer, reduce, inner,        \
                                                             task_begin, task_end);                \
  }
#define KILN_ARG_REDUCE(name, Op, T, suffix)                                                       \
  extern "C" void kiln_##name##_##suffix(const T *in, int64_t *out, int64_t outer, int64_t reduce, \
                                         int64_t inner, int64_t task_begin, int64_t task_end) {    \
    kiln::kernels::reduce::arg_reduce<kiln::kernels::reduce::Op>(in, out, outer, reduce, inner,    \
                                                                 task_begin, task_end);            \
  }
#define KILN_REDUCE_ALL(T, suffix)                                                                 \
  KILN_REDUCE(reduce_sum, Sum, T, suffix)                                                          \
  KILN_REDUCE(reduce_max, Max, T, suffix)                                                          \
  KILN_REDUCE(reduce_min, Min, T, suffix)                                                          \
  KILN_ARG_REDUCE(argmax, ArgMax, T, suffix)                                                       \
  KILN_ARG_REDUCE(argmin, ArgMin, T, suffix)

KILN_REDUCE_ALL(float, f32)
KILN_REDUCE_ALL(double, f64)
KILN_REDUCE_ALL(int32_t, i32)
KILN_REDUCE_ALL(int64_t, i64)
KILN_REDUCE(reduce_mean, Mean, float, f32)
KILN_REDUCE(reduce_mean, Mean, double, f64)

#undef KILN_REDUCE_ALL
#undef KILN_ARG_REDUCE
#undef KILN_REDUCE
