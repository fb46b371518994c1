// The native kernel library's entry points (kernels/*.cpp, compiled once by
// clang at build time and linked into the runtime; README.md beside this file
// has the contract). Generated code calls them by these names with shapes and
// strides as arguments. Each kernel file includes this header, so a
// definition that drifts from its declaration does not compile.
#pragma once

#include <stdint.h>

#define KILN_KERNEL_TASKS int64_t task_begin, int64_t task_end

// Shapes of conv2d (conv.cpp) and pooling (pool.cpp), in argument order.
#define KILN_CONV_PARAMS                                                                           \
  int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw, int64_t oh,       \
      int64_t ow, int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pl,          \
      int64_t groups
#define KILN_POOL_PARAMS                                                                           \
  int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow, int64_t kh, int64_t kw,            \
      int64_t sh, int64_t sw, int64_t pt, int64_t pl

#define KILN_DECLARE_FLOAT_KERNELS(T, s)                                                           \
  T kiln_exp_##s(T x);                                                                             \
  T kiln_expm1_##s(T x);                                                                           \
  T kiln_log_##s(T x);                                                                             \
  T kiln_log1p_##s(T x);                                                                           \
  T kiln_tanh_##s(T x);                                                                            \
  T kiln_erf_##s(T x);                                                                             \
  T kiln_sin_##s(T x);                                                                             \
  T kiln_cos_##s(T x);                                                                             \
  T kiln_pow_##s(T x, T y);                                                                        \
  void kiln_matmul_##s(const T *A, const T *B, T *C, int64_t M, int64_t N, int64_t K,              \
                       int64_t a_rs, int64_t a_cs, int64_t b_rs, int64_t b_cs, int64_t batch,      \
                       int64_t a_bs, int64_t b_bs, int64_t c_bs, KILN_KERNEL_TASKS);               \
  void kiln_reduce_mean_##s(const T *in, T *out, int64_t outer, int64_t reduce, int64_t inner,     \
                            KILN_KERNEL_TASKS);                                                    \
  void kiln_softmax_##s(const T *in, T *out, int64_t outer, int64_t axis, int64_t inner,           \
                        KILN_KERNEL_TASKS);                                                        \
  void kiln_log_softmax_##s(const T *in, T *out, int64_t outer, int64_t axis, int64_t inner,       \
                            KILN_KERNEL_TASKS);                                                    \
  void kiln_random_uniform_##s(const int64_t *counter, T *out, int64_t n, int64_t seed,            \
                               int64_t a_bits, int64_t b_bits, KILN_KERNEL_TASKS);                 \
  void kiln_random_normal_##s(const int64_t *counter, T *out, int64_t n, int64_t seed,             \
                              int64_t a_bits, int64_t b_bits, KILN_KERNEL_TASKS);                  \
  void kiln_conv2d_##s(const T *x, const T *filter, T *y, T *col, KILN_CONV_PARAMS,                \
                       KILN_KERNEL_TASKS);                                                         \
  void kiln_im2col_##s(const T *x, T *col, KILN_CONV_PARAMS, KILN_KERNEL_TASKS);                   \
  void kiln_conv2d_direct_##s(const T *x, const T *filter, T *y, T *scratch, KILN_CONV_PARAMS,     \
                              KILN_KERNEL_TASKS);                                                  \
  void kiln_depthwise_conv2d_##s(const T *x, const T *filter, T *y, KILN_CONV_PARAMS,              \
                                 KILN_KERNEL_TASKS);                                               \
  void kiln_conv2d_backprop_input_##s(const T *dy, const T *filter, T *dx, T *dcol,                \
                                      KILN_CONV_PARAMS, KILN_KERNEL_TASKS);                        \
  void kiln_conv2d_backprop_filter_##s(const T *x, const T *dy, T *partial, T *col, T *tmp,        \
                                       KILN_CONV_PARAMS, KILN_KERNEL_TASKS);                       \
  void kiln_max_pool2d_##s(const T *x, T *y, KILN_POOL_PARAMS, KILN_KERNEL_TASKS);                 \
  void kiln_avg_pool2d_##s(const T *x, T *y, KILN_POOL_PARAMS, KILN_KERNEL_TASKS);                 \
  void kiln_max_pool2d_grad_##s(const T *x, const T *dy, T *dx, KILN_POOL_PARAMS,                  \
                                KILN_KERNEL_TASKS);                                                \
  void kiln_avg_pool2d_grad_##s(const T *dy, T *dx, KILN_POOL_PARAMS, KILN_KERNEL_TASKS);

#define KILN_DECLARE_ORDERED_KERNELS(T, s)                                                         \
  void kiln_reduce_sum_##s(const T *in, T *out, int64_t outer, int64_t reduce, int64_t inner,      \
                           KILN_KERNEL_TASKS);                                                     \
  void kiln_reduce_max_##s(const T *in, T *out, int64_t outer, int64_t reduce, int64_t inner,      \
                           KILN_KERNEL_TASKS);                                                     \
  void kiln_reduce_min_##s(const T *in, T *out, int64_t outer, int64_t reduce, int64_t inner,      \
                           KILN_KERNEL_TASKS);                                                     \
  void kiln_argmax_##s(const T *in, int64_t *out, int64_t outer, int64_t reduce, int64_t inner,    \
                       KILN_KERNEL_TASKS);                                                         \
  void kiln_argmin_##s(const T *in, int64_t *out, int64_t outer, int64_t reduce, int64_t inner,    \
                       KILN_KERNEL_TASKS);

#define KILN_DECLARE_INDEX_KERNELS(I, is)                                                          \
  void kiln_gather_##is(const uint8_t *params, const I *indices, uint8_t *out, int64_t rows,       \
                        int64_t row_bytes, int64_t n, int64_t *first_bad, KILN_KERNEL_TASKS);      \
  void kiln_scatter_add_f32_##is(const float *dy, const I *indices, float *out, int64_t rows,      \
                                 int64_t width, int64_t n, KILN_KERNEL_TASKS);                     \
  void kiln_scatter_add_f64_##is(const double *dy, const I *indices, double *out, int64_t rows,    \
                                 int64_t width, int64_t n, KILN_KERNEL_TASKS);                     \
  void kiln_one_hot_f32_##is(const I *indices, float *out, int64_t n, int64_t depth,               \
                             int64_t on_bits, int64_t off_bits, int64_t *first_bad,                \
                             KILN_KERNEL_TASKS);                                                   \
  void kiln_one_hot_f64_##is(const I *indices, double *out, int64_t n, int64_t depth,              \
                             int64_t on_bits, int64_t off_bits, int64_t *first_bad,                \
                             KILN_KERNEL_TASKS);                                                   \
  void kiln_one_hot_i32_##is(const I *indices, int32_t *out, int64_t n, int64_t depth,             \
                             int64_t on_bits, int64_t off_bits, int64_t *first_bad,                \
                             KILN_KERNEL_TASKS);                                                   \
  void kiln_one_hot_i64_##is(const I *indices, int64_t *out, int64_t n, int64_t depth,             \
                             int64_t on_bits, int64_t off_bits, int64_t *first_bad,                \
                             KILN_KERNEL_TASKS);                                                   \
  void kiln_one_hot_bool_##is(const I *indices, uint8_t *out, int64_t n, int64_t depth,            \
                              int64_t on_bits, int64_t off_bits, int64_t *first_bad,               \
                              KILN_KERNEL_TASKS);

// The bytes a task of kiln_copy_bytes copies (copy.cpp).
#define KILN_COPY_CHUNK 65536

#ifdef __cplusplus
extern "C" {
#endif
// dst[dst_offset, + bytes) = src[src_offset, + bytes), unless they are the
// same bytes; task t copies chunk t of KILN_COPY_CHUNK bytes.
void kiln_copy_bytes(const uint8_t *src, uint8_t *dst, int64_t src_offset, int64_t dst_offset,
                     int64_t bytes, KILN_KERNEL_TASKS);
KILN_DECLARE_FLOAT_KERNELS(float, f32)
KILN_DECLARE_FLOAT_KERNELS(double, f64)
KILN_DECLARE_ORDERED_KERNELS(float, f32)
KILN_DECLARE_ORDERED_KERNELS(double, f64)
KILN_DECLARE_ORDERED_KERNELS(int32_t, i32)
KILN_DECLARE_ORDERED_KERNELS(int64_t, i64)
KILN_DECLARE_INDEX_KERNELS(int32_t, i32)
KILN_DECLARE_INDEX_KERNELS(int64_t, i64)
#ifdef __cplusplus
}
#endif

#undef KILN_DECLARE_FLOAT_KERNELS
#undef KILN_DECLARE_ORDERED_KERNELS
#undef KILN_DECLARE_INDEX_KERNELS
