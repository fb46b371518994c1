// conv2d (NCHW) and its input and filter gradients as im2col + GEMM, with the
// GEMM of matmul.cpp (kiln_matmul_T, inlined: native.cpp is one translation
// unit).
//
// Per image, with K = C / groups * KH * KW taps per output and P = OH * OW
// output pixels, and for each group g (its filters w_g: Og x K):
//   col    = im2col(x)            (C * KH * KW) x P, row (c, kh, kw), zeros
//                                 where a tap falls into the padding
//   y_g    = w_g * col_g          Og x P
//   dcol_g = w_g^T * dy_g         K x P, then dx = col2im(dcol)
//   dw_g  += dy_g * col_g^T       Og x K, summed over the images
// A 1x1 convolution with stride 1 and no padding needs no im2col: col is x.
//
// Tasks are chunks of images (kernel_abi.h), each with its own slice of the
// im2col scratch buffer. The filter gradient writes one partial filter per
// task (its images summed in order); the op's lowering then sums the partials
// in task order (kiln_reduce_sum), so results do not depend on the split.
//
// A few images leave most threads idle: the lowering then runs im2col as
// tasks of its own (kiln_im2col) and the GEMMs as one batched kiln_matmul
// whose tasks are tiles (kernel_abi.h, kiln_conv2d_tiled). A depthwise
// convolution is a task per plane instead (kiln_depthwise_conv2d).
//
// Entry points (T = float/f32 or double/f64; SHAPE = n, c, h, w, o, kh, kw,
// oh, ow, sh, sw, dh, dw, pt, pl, groups as int64_t; then task_begin, task_end):
//   kiln_conv2d_T(x, w, y, col, SHAPE, ...)
//   kiln_im2col_T(x, col, SHAPE, ...)        col: n * C * KH * KW * P elements
//   kiln_depthwise_conv2d_T(x, w, y, SHAPE, ...)
//   kiln_conv2d_backprop_input_T(dy, w, dx, col, SHAPE, ...)
//   kiln_conv2d_backprop_filter_T(x, dy, partial, col, tmp, SHAPE, ...)
// col: tasks * C * KH * KW * P elements (unused when 1x1 stride 1 unpadded);
// partial and tmp: tasks * O * K each (tmp unused with one image per task).
#include <stdint.h>

#include "kernel_abi.h"
#include "kernels.h"

namespace kiln::kernels::conv {

#define KILN_INLINE __attribute__((always_inline)) inline

using Conv = abi::ConvShape;

// Loops with small constant trip counts get unrolled completely when shapes are
// constants (as they were when the JIT inlined this file):
// the GEMM's loops over k for a small K (seconds of compile time), and the
// loops over the taps of im2col (hundreds of ms) for no speed-up. An empty
// asm statement hides such a count from the optimizer.
KILN_INLINE int64_t opaque(int64_t v) {
  __asm__("" : "+r"(v));
  return v;
}

// The images of task t: [begin, end).
struct Images {
  int64_t begin, end;
};
KILN_INLINE Images images(int64_t task, int64_t chunk, int64_t n) {
  return {task * chunk, abi::min_i64(n, (task + 1) * chunk)};
}

KILN_INLINE void matmul(const float *a, const float *b, float *c, int64_t M, int64_t N, int64_t K,
                        int64_t a_rs, int64_t a_cs, int64_t b_rs, int64_t b_cs, int64_t batch,
                        int64_t a_bs, int64_t b_bs, int64_t c_bs) {
  kiln_matmul_f32(a, b, c, M, N, opaque(K), a_rs, a_cs, b_rs, b_cs, batch, a_bs, b_bs, c_bs, 0,
                  abi::kiln_matmul_tasks(batch, M, N));
}
KILN_INLINE void matmul(const double *a, const double *b, double *c, int64_t M, int64_t N,
                        int64_t K, int64_t a_rs, int64_t a_cs, int64_t b_rs, int64_t b_cs,
                        int64_t batch, int64_t a_bs, int64_t b_bs, int64_t c_bs) {
  kiln_matmul_f64(a, b, c, M, N, opaque(K), a_rs, a_cs, b_rs, b_cs, batch, a_bs, b_bs, c_bs, 0,
                  abi::kiln_matmul_tasks(batch, M, N));
}

template <typename T> KILN_INLINE void zero(T *__restrict__ p, int64_t count) {
  for (int64_t i = 0; i < count; ++i) p[i] = T(0);
}

// Tap (kh, kw): output (oh, ow) reads input (oh * sh + ih0, ow * sw + iw0),
// which lies inside the plane for the outputs in rows x cols.
struct Tap {
  int64_t ih0, iw0;
  abi::IndexRange rows, cols;

  bool empty() const { return rows.lo == rows.hi || cols.lo == cols.hi; }
};

KILN_INLINE Tap tap(const Conv &s, int64_t kh, int64_t kw) {
  const int64_t ih0 = kh * s.dh - s.pt, iw0 = kw * s.dw - s.pl;
  return {ih0, iw0, abi::kiln_inside(ih0, s.sh, s.oh, s.h), abi::kiln_inside(iw0, s.sw, s.ow, s.w)};
}

// With unit strides and OW == W ("same" padding, say), a tap's im2col row is
// the input plane shifted by ih0 * W + iw0 over one span of outputs, except
// for the columns that wrap around into the neighbouring input row: one long
// loop rather than a short one per output row. The span: [begin, end).
struct Span {
  int64_t begin, end, shift;
};
KILN_INLINE bool spans(const Conv &s) { return s.sh == 1 && s.sw == 1 && s.ow == s.w; }
KILN_INLINE Span span(const Conv &s, const Tap &t) {
  return {t.rows.lo * s.ow + t.cols.lo, (t.rows.hi - 1) * s.ow + t.cols.hi, t.ih0 * s.w + t.iw0};
}

// Zeroes the columns of a span's rows that wrapped around.
template <typename T> KILN_INLINE void zero_wrapped(T *row, const Conv &s, const Tap &t) {
  for (int64_t oh = t.rows.lo; oh < t.rows.hi; ++oh) {
    zero(row + oh * s.ow, t.cols.lo);
    zero(row + oh * s.ow + t.cols.hi, s.ow - t.cols.hi);
  }
}

// col[(c, kh, kw), p] = x[c, oh * sh + ih0, ow * sw + iw0], or 0 in the
// padding, for the rows k in [k_begin, k_end).
template <typename T>
KILN_INLINE void im2col_rows(const T *__restrict__ x, T *__restrict__ col, const Conv &s,
                             int64_t k_begin, int64_t k_end) {
  for (int64_t k = k_begin; k < k_end; ++k) {
    T *row = col + k * s.pixels();
    const T *plane = x + k / (s.kh * s.kw) * s.h * s.w;
    const Tap t = tap(s, k / s.kw % s.kh, k % s.kw);
    if (t.empty()) {
      zero(row, s.pixels());
    } else if (spans(s)) {
      const Span sp = span(s, t);
      zero(row, sp.begin);
      for (int64_t p = sp.begin; p < sp.end; ++p) row[p] = plane[p + sp.shift];
      zero(row + sp.end, s.pixels() - sp.end);
      zero_wrapped(row, s, t);
    } else {
      zero(row, t.rows.lo * s.ow);
      for (int64_t oh = t.rows.lo; oh < t.rows.hi; ++oh) {
        const T *src = plane + (oh * s.sh + t.ih0) * s.w;
        T *dst = row + oh * s.ow;
        zero(dst, t.cols.lo);
        if (s.sw == 1) // a copy that vectorizes
          for (int64_t ow = t.cols.lo; ow < t.cols.hi; ++ow) dst[ow] = src[ow + t.iw0];
        else
          for (int64_t ow = t.cols.lo; ow < t.cols.hi; ++ow) dst[ow] = src[ow * s.sw + t.iw0];
        zero(dst + t.cols.hi, s.ow - t.cols.hi);
      }
      zero(row + t.rows.hi * s.ow, (s.oh - t.rows.hi) * s.ow);
    }
  }
}

template <typename T>
KILN_INLINE const T *im2col(const T *__restrict__ x, T *__restrict__ col, const Conv &s) {
  im2col_rows(x, col, s, 0, opaque(s.c * s.kh * s.kw)); // rows (c, kh, kw)
  return col;
}

// The im2col matrices of every image, a task per image and channel (the KH *
// KW rows of its taps): with one batched GEMM after it, the tiled forward
// convolution of a few images (kernel_abi.h).
template <typename T>
KILN_INLINE void im2col_planes(const T *x, T *col, const Conv &s, int64_t task_begin,
                               int64_t task_end) {
  const int64_t taps = s.kh * s.kw;
  task_end = abi::min_i64(task_end, abi::kiln_im2col_tasks(s.n, s.c));
  for (int64_t t = task_begin; t < task_end; ++t) {
    const int64_t image = t / s.c, k = t % s.c * taps;
    im2col_rows(x + image * s.image(), col + image * s.col_size(), s, k, k + opaque(taps));
  }
}

// A depthwise convolution (groups == c == o): each output plane is its input
// plane convolved with the plane's own filter, a task per plane (no im2col,
// no one-row GEMMs). Row by row, so that a row stays in L1 while its taps
// are added to it, in order.
template <typename T>
KILN_INLINE void depthwise(const T *__restrict__ x, const T *__restrict__ w, T *__restrict__ y,
                           const Conv &s, int64_t task_begin, int64_t task_end) {
  task_end = abi::min_i64(task_end, abi::kiln_depthwise_tasks(s.n, s.c));
  for (int64_t t = task_begin; t < task_end; ++t) {
    const T *plane = x + t * s.h * s.w, *filter = w + t % s.c * s.kh * s.kw;
    for (int64_t oh = 0; oh < s.oh; ++oh) {
      T *dst = y + t * s.pixels() + oh * s.ow;
      zero(dst, s.ow);
      for (int64_t kh = 0; kh < s.kh; ++kh) {
        const int64_t ih = oh * s.sh + kh * s.dh - s.pt;
        if (ih < 0 || ih >= s.h) continue;
        for (int64_t kw = 0; kw < s.kw; ++kw) {
          const int64_t iw0 = kw * s.dw - s.pl;
          const abi::IndexRange cols = abi::kiln_inside(iw0, s.sw, s.ow, s.w);
          const T weight = filter[kh * s.kw + kw], *src = plane + ih * s.w;
          if (s.sw == 1)
            for (int64_t ow = cols.lo; ow < cols.hi; ++ow) dst[ow] += weight * src[ow + iw0];
          else
            for (int64_t ow = cols.lo; ow < cols.hi; ++ow) dst[ow] += weight * src[ow * s.sw + iw0];
        }
      }
    }
  }
}

// dx = the sum of col's entries over the taps that read each input
// (im2col's adjoint). Clobbers the wrapped columns of col.
template <typename T>
KILN_INLINE void col2im(T *__restrict__ col, T *__restrict__ dx, const Conv &s) {
  zero(dx, s.image());
  const int64_t rows = opaque(s.c * s.kh * s.kw); // (c, kh, kw)
  for (int64_t k = 0; k < rows; ++k) {
    T *row = col + k * s.pixels();
    T *plane = dx + k / (s.kh * s.kw) * s.h * s.w;
    const Tap t = tap(s, k / s.kw % s.kh, k % s.kw);
    if (t.empty()) continue;
    if (spans(s)) {
      const Span sp = span(s, t);
      zero_wrapped(row, s, t); // they would add to the wrong inputs
      for (int64_t p = sp.begin; p < sp.end; ++p) plane[p + sp.shift] += row[p];
      continue;
    }
    for (int64_t oh = t.rows.lo; oh < t.rows.hi; ++oh) {
      T *dst = plane + (oh * s.sh + t.ih0) * s.w;
      const T *src = row + oh * s.ow;
      for (int64_t ow = t.cols.lo; ow < t.cols.hi; ++ow) dst[ow * s.sw + t.iw0] += src[ow];
    }
  }
}

template <typename T>
KILN_INLINE void forward(const T *x, const T *w, T *y, T *col, const Conv &s, int64_t task_begin,
                         int64_t task_end) {
  const int64_t chunk = abi::kiln_conv_chunk(s.n, abi::kConvChunks);
  const int64_t K = s.taps(), P = s.pixels(), Og = s.o / s.groups;
  task_end = abi::min_i64(task_end, abi::kiln_conv2d_tasks(s.n));
  for (int64_t t = task_begin; t < task_end; ++t)
    for (int64_t i = images(t, chunk, s.n).begin; i < images(t, chunk, s.n).end; ++i) {
      const T *xi = x + i * s.image();
      const T *b = s.direct() ? xi : im2col(xi, col + t * s.col_size(), s);
      matmul(w, b, y + i * s.o * P, Og, P, K, K, 1, P, 1, s.groups, Og * K, K * P, Og * P);
    }
}

template <typename T>
KILN_INLINE void backprop_input(const T *dy, const T *w, T *dx, T *dcol, const Conv &s,
                                int64_t task_begin, int64_t task_end) {
  const int64_t chunk = abi::kiln_conv_chunk(s.n, abi::kConvChunks);
  const int64_t K = s.taps(), P = s.pixels(), Og = s.o / s.groups;
  task_end = abi::min_i64(task_end, abi::kiln_conv2d_tasks(s.n));
  for (int64_t t = task_begin; t < task_end; ++t)
    for (int64_t i = images(t, chunk, s.n).begin; i < images(t, chunk, s.n).end; ++i) {
      T *dxi = dx + i * s.image();
      T *c = s.direct() ? dxi : dcol + t * s.col_size();
      // w_g^T: a transposed view of w_g (row stride 1, column stride K).
      matmul(w, dy + i * s.o * P, c, K, P, Og, 1, K, P, 1, s.groups, Og * K, Og * P, K * P);
      if (!s.direct()) col2im(c, dxi, s);
    }
}

template <typename T>
KILN_INLINE void backprop_filter(const T *x, const T *dy, T *partial, T *col, T *tmp, const Conv &s,
                                 int64_t task_begin, int64_t task_end) {
  const int64_t chunk = abi::kiln_conv_chunk(s.n, abi::kConvFilterChunks);
  const int64_t K = s.taps(), P = s.pixels(), Og = s.o / s.groups, size = s.filter_size();
  task_end = abi::min_i64(task_end, abi::kiln_conv2d_filter_tasks(s.n));
  for (int64_t t = task_begin; t < task_end; ++t) {
    const Images range = images(t, chunk, s.n);
    T *sum = partial + t * size;
    for (int64_t i = range.begin; i < range.end; ++i) {
      const T *xi = x + i * s.image();
      const T *b = s.direct() ? xi : im2col(xi, col + t * s.col_size(), s);
      // The first image writes the partial sum, the others go through tmp.
      T *c = i == range.begin ? sum : tmp + t * size;
      // col_g^T: a transposed view of col_g (row stride 1, column stride P).
      matmul(dy + i * s.o * P, b, c, Og, K, P, P, 1, 1, P, s.groups, Og * P, K * P, Og * K);
      if (c != sum)
        for (int64_t j = 0; j < size; ++j) sum[j] += c[j];
    }
  }
}

#undef KILN_INLINE

} // namespace kiln::kernels::conv

#define KILN_CONV_SHAPE                                                                            \
  kiln::kernels::conv::Conv { n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, groups }

#define KILN_CONV_ENTRY_POINTS(T, suffix)                                                          \
  extern "C" void kiln_conv2d_##suffix(const T *x, const T *filter, T *y, T *col,                  \
                                       KILN_CONV_PARAMS, int64_t task_begin, int64_t task_end) {   \
    kiln::kernels::conv::forward(x, filter, y, col, KILN_CONV_SHAPE, task_begin, task_end);        \
  }                                                                                                \
  extern "C" void kiln_im2col_##suffix(const T *x, T *col, KILN_CONV_PARAMS, int64_t task_begin,   \
                                       int64_t task_end) {                                         \
    kiln::kernels::conv::im2col_planes(x, col, KILN_CONV_SHAPE, task_begin, task_end);             \
  }                                                                                                \
  extern "C" void kiln_depthwise_conv2d_##suffix(                                                  \
      const T *x, const T *filter, T *y, KILN_CONV_PARAMS, int64_t task_begin, int64_t task_end) { \
    kiln::kernels::conv::depthwise(x, filter, y, KILN_CONV_SHAPE, task_begin, task_end);           \
  }                                                                                                \
  extern "C" void kiln_conv2d_backprop_input_##suffix(const T *dy, const T *filter, T *dx,         \
                                                      T *dcol, KILN_CONV_PARAMS,                   \
                                                      int64_t task_begin, int64_t task_end) {      \
    kiln::kernels::conv::backprop_input(dy, filter, dx, dcol, KILN_CONV_SHAPE, task_begin,         \
                                        task_end);                                                 \
  }                                                                                                \
  extern "C" void kiln_conv2d_backprop_filter_##suffix(const T *x, const T *dy, T *partial,        \
                                                       T *col, T *tmp, KILN_CONV_PARAMS,           \
                                                       int64_t task_begin, int64_t task_end) {     \
    kiln::kernels::conv::backprop_filter(x, dy, partial, col, tmp, KILN_CONV_SHAPE, task_begin,    \
                                         task_end);                                                \
  }

KILN_CONV_ENTRY_POINTS(float, f32)
KILN_CONV_ENTRY_POINTS(double, f64)

#undef KILN_CONV_ENTRY_POINTS
#undef KILN_CONV_SHAPE
