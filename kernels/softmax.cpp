// softmax and log_softmax over the middle axis of an [outer, axis, inner]
// view, numerically stable: with m = max over the axis,
//   softmax(x)     = exp(x - m) / sum(exp(x - m))
//   log_softmax(x) = (x - m) - log(sum(exp(x - m)))
// One task is one outer index and a block of inner indices (kernel_abi.h).
// Sums have a fixed order (inner == 1: the reduce kernel's lanes and tree per
// chunk of kChunk elements, chunks in order; inner > 1: sequential), so
// results are deterministic. A NaN in a row makes the whole row NaN.
// in == out (in place) is allowed.
#include <stdint.h>

#include "kernel_abi.h"
#include "kernels.h"

namespace kiln::kernels::softmax {

#define KILN_INLINE __attribute__((always_inline)) inline

KILN_INLINE float exp(float x) { return kiln_exp_f32(x); }
KILN_INLINE double exp(double x) { return kiln_exp_f64(x); }
KILN_INLINE float log(float x) { return kiln_log_f32(x); }
KILN_INLINE double log(double x) { return kiln_log_f64(x); }
// Max and sum of a contiguous row, through the reduce kernels.
template <typename T>
using ReduceKernel = void (*)(const T *, T *, int64_t, int64_t, int64_t, int64_t, int64_t);
template <typename T> KILN_INLINE T reduce_row(ReduceKernel<T> kernel, const T *x, int64_t n) {
  T result;
  kernel(x, &result, 1, n, 1, 0, 1);
  return result;
}
KILN_INLINE float row_max(const float *x, int64_t n) {
  return reduce_row(kiln_reduce_max_f32, x, n);
}
KILN_INLINE double row_max(const double *x, int64_t n) {
  return reduce_row(kiln_reduce_max_f64, x, n);
}
KILN_INLINE float row_sum(const float *x, int64_t n) {
  return reduce_row(kiln_reduce_sum_f32, x, n);
}
KILN_INLINE double row_sum(const double *x, int64_t n) {
  return reduce_row(kiln_reduce_sum_f64, x, n);
}

// NaN-propagating max.
template <typename T> KILN_INLINE T max(T a, T x) { return x > a || x != x ? x : a; }

// Rows are processed in chunks: exp(x - max) of a chunk goes to the output
// (softmax) or to a stack buffer (log_softmax, whose output pass still needs
// x), then is summed. The chunking is fixed, so the sum order is too.
constexpr int64_t kChunk = 256;

// Contiguous row x[0:n] (inner == 1).
template <typename T, bool Log> KILN_INLINE void softmax_row(const T *x, T *y, int64_t n) {
  const T m = row_max(x, n);
  T s = T(0);
  T buf[kChunk];
  for (int64_t c = 0; c < n; c += kChunk) {
    const int64_t len = n - c < kChunk ? n - c : kChunk;
    T *e = Log ? buf : y + c;
    for (int64_t i = 0; i < len; ++i) e[i] = exp(x[c + i] - m);
    s += row_sum(e, len);
  }
  if (Log) {
    const T log_s = log(s);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - log_s;
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = y[i] / s;
  }
}

// Strided rows (inner > 1): w adjacent columns x[r * inner + i], i < w, at once.
template <typename T, bool Log>
KILN_INLINE void softmax_columns(const T *x, T *y, int64_t n, int64_t inner, int64_t w) {
  T m[abi::kRowTileInner], s[abi::kRowTileInner];
  for (int64_t i = 0; i < w; ++i) {
    m[i] = T(-__builtin_inf());
    s[i] = T(0);
  }
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < w; ++i) m[i] = max(m[i], x[r * inner + i]);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < w; ++i) {
      const T e = exp(x[r * inner + i] - m[i]);
      if (!Log) y[r * inner + i] = e;
      s[i] += e;
    }
  if (Log) {
    for (int64_t i = 0; i < w; ++i) s[i] = log(s[i]);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t i = 0; i < w; ++i) y[r * inner + i] = (x[r * inner + i] - m[i]) - s[i];
  } else {
    for (int64_t r = 0; r < n; ++r)
      for (int64_t i = 0; i < w; ++i) y[r * inner + i] = y[r * inner + i] / s[i];
  }
}

template <typename T, bool Log>
KILN_INLINE void softmax(const T *in, T *out, int64_t outer, int64_t axis, int64_t inner,
                         int64_t task_begin, int64_t task_end) {
  if (axis == 0) return; // empty input and output
  const int64_t tasks = abi::kiln_softmax_tasks(outer, inner);
  if (task_end > tasks) task_end = tasks;
  for (int64_t task = task_begin; task < task_end; ++task) {
    const abi::RowTile t = abi::kiln_row_tile(task, inner);
    const int64_t offset = t.o * axis * inner + t.i0;
    if (inner == 1)
      softmax_row<T, Log>(in + offset, out + offset, axis);
    else
      softmax_columns<T, Log>(in + offset, out + offset, axis, inner, t.i1 - t.i0);
  }
}

#undef KILN_INLINE

} // namespace kiln::kernels::softmax

extern "C" {

void kiln_softmax_f32(const float *in, float *out, int64_t outer, int64_t axis, int64_t inner,
                      int64_t task_begin, int64_t task_end) {
  kiln::kernels::softmax::softmax<float, false>(in, out, outer, axis, inner, task_begin, task_end);
}
void kiln_softmax_f64(const double *in, double *out, int64_t outer, int64_t axis, int64_t inner,
                      int64_t task_begin, int64_t task_end) {
  kiln::kernels::softmax::softmax<double, false>(in, out, outer, axis, inner, task_begin, task_end);
}
void kiln_log_softmax_f32(const float *in, float *out, int64_t outer, int64_t axis, int64_t inner,
                          int64_t task_begin, int64_t task_end) {
  kiln::kernels::softmax::softmax<float, true>(in, out, outer, axis, inner, task_begin, task_end);
}
void kiln_log_softmax_f64(const double *in, double *out, int64_t outer, int64_t axis, int64_t inner,
                          int64_t task_begin, int64_t task_end) {
  kiln::kernels::softmax::softmax<double, true>(in, out, outer, axis, inner, task_begin, task_end);
}

} // extern "C"
