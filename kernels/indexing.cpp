// Indexing: gather (rows of params picked by indices), its gradient
// scatter-add, and one_hot. Indices are i32 or i64. An index outside
// [0, rows) selects nothing (gather writes a zero row, one_hot an all-off
// row), since a kernel can neither raise an error nor read out of bounds, and
// gather and one_hot report the first one to the runtime, which fails the run
// (kernel_abi.h). Scatter-add drops such a row of dy: its indices are those
// of the gather it differentiates, checked there.
//
// gather and one_hot: one task per index (kernel_abi.h). scatter-add: one
// task per tile of the output, which it zeroes and then fills by scanning all
// indices in order, so tasks never write the same element and every sum has
// the index order of the reference kernel.
#include <stdint.h>

#include "kernel_abi.h"
#include "kernels.h"

namespace kiln::kernels::indexing {

#define KILN_INLINE __attribute__((always_inline)) inline

KILN_INLINE bool in_range(int64_t index, int64_t rows) { return index >= 0 && index < rows; }

// *first_bad = min(*first_bad, position), whichever tasks race to it: the
// position reported is the smallest, however the tasks were split.
KILN_INLINE void report_bad_index(int64_t *first_bad, int64_t position) {
  int64_t seen = __atomic_load_n(first_bad, __ATOMIC_RELAXED);
  while (position < seen && !__atomic_compare_exchange_n(first_bad, &seen, position, true,
                                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

// Rows move as bytes: one kernel per index type serves every dtype, and with
// the row size a constant the compiler inlines the copies.
template <typename I>
KILN_INLINE void gather(const uint8_t *params, const I *indices, uint8_t *out, int64_t rows,
                        int64_t row_bytes, int64_t n, int64_t *first_bad, int64_t task_begin,
                        int64_t task_end) {
  if (task_end > n) task_end = n;
  for (int64_t k = task_begin; k < task_end; ++k) {
    const int64_t index = indices[k];
    uint8_t *dst = out + k * row_bytes;
    if (in_range(index, rows)) {
      __builtin_memcpy(dst, params + index * row_bytes, row_bytes);
    } else {
      __builtin_memset(dst, 0, row_bytes);
      report_bad_index(first_bad, k);
    }
  }
}

template <typename T, typename I>
KILN_INLINE void scatter_add(const T *dy, const I *indices, T *out, int64_t rows, int64_t width,
                             int64_t n, int64_t task_begin, int64_t task_end) {
  const int64_t tasks = abi::kiln_scatter_tasks(rows, width);
  if (task_end > tasks) task_end = tasks;
  for (int64_t task = task_begin; task < task_end; ++task) {
    const abi::ScatterTile t = abi::kiln_scatter_tile(task, rows, width);
    for (int64_t r = t.r0; r < t.r1; ++r)
      for (int64_t c = t.c0; c < t.c1; ++c) out[r * width + c] = T(0);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t index = indices[k];
      if (index < t.r0 || index >= t.r1) continue; // also every out-of-range index
      T *o = out + index * width;
      const T *d = dy + k * width;
      for (int64_t c = t.c0; c < t.c1; ++c) o[c] += d[c];
    }
  }
}

template <typename T, typename I>
KILN_INLINE void one_hot(const I *indices, T *out, int64_t n, int64_t depth, int64_t on_bits,
                         int64_t off_bits, int64_t *first_bad, int64_t task_begin,
                         int64_t task_end) {
  const T on = T(abi::kiln_f64_from_bits(on_bits)), off = T(abi::kiln_f64_from_bits(off_bits));
  if (task_end > n) task_end = n;
  for (int64_t k = task_begin; k < task_end; ++k) {
    const int64_t index = indices[k];
    T *row = out + k * depth;
    for (int64_t d = 0; d < depth; ++d) row[d] = d == index ? on : off;
    if (!in_range(index, depth)) report_bad_index(first_bad, k);
  }
}

#undef KILN_INLINE

} // namespace kiln::kernels::indexing

#define KILN_GATHER(I, isuffix)                                                                    \
  extern "C" void kiln_gather_##isuffix(                                                           \
      const uint8_t *params, const I *indices, uint8_t *out, int64_t rows, int64_t row_bytes,      \
      int64_t n, int64_t *first_bad, int64_t task_begin, int64_t task_end) {                       \
    kiln::kernels::indexing::gather(params, indices, out, rows, row_bytes, n, first_bad,           \
                                    task_begin, task_end);                                         \
  }
#define KILN_SCATTER_ADD(T, suffix, I, isuffix)                                                    \
  extern "C" void kiln_scatter_add_##suffix##_##isuffix(const T *dy, const I *indices, T *out,     \
                                                        int64_t rows, int64_t width, int64_t n,    \
                                                        int64_t task_begin, int64_t task_end) {    \
    kiln::kernels::indexing::scatter_add(dy, indices, out, rows, width, n, task_begin, task_end);  \
  }
#define KILN_ONE_HOT(T, suffix, I, isuffix)                                                        \
  extern "C" void kiln_one_hot_##suffix##_##isuffix(                                               \
      const I *indices, T *out, int64_t n, int64_t depth, int64_t on_bits, int64_t off_bits,       \
      int64_t *first_bad, int64_t task_begin, int64_t task_end) {                                  \
    kiln::kernels::indexing::one_hot(indices, out, n, depth, on_bits, off_bits, first_bad,         \
                                     task_begin, task_end);                                        \
  }
#define KILN_INDEXING(I, isuffix)                                                                  \
  KILN_GATHER(I, isuffix)                                                                          \
  KILN_SCATTER_ADD(float, f32, I, isuffix)                                                         \
  KILN_SCATTER_ADD(double, f64, I, isuffix)                                                        \
  KILN_ONE_HOT(float, f32, I, isuffix)                                                             \
  KILN_ONE_HOT(double, f64, I, isuffix)                                                            \
  KILN_ONE_HOT(int32_t, i32, I, isuffix)                                                           \
  KILN_ONE_HOT(int64_t, i64, I, isuffix)                                                           \
  KILN_ONE_HOT(uint8_t, bool, I, isuffix)

KILN_INDEXING(int32_t, i32)
KILN_INDEXING(int64_t, i64)

#undef KILN_INDEXING
#undef KILN_ONE_HOT
#undef KILN_SCATTER_ADD
#undef KILN_GATHER
