// conv2d (NCHW) computed directly, for few output channels with unit strides
// and dilations (kernel_abi.h, kiln_conv2d_direct): LeNet's convolutions are
// GEMMs of 6 or 16 rows after an im2col 25 or 150 times the image, where
// both the copy and the short GEMM waste most of the time.
//
// Per image: its channels are copied into zero-padded planes (the padding
// and a tail that the last tile's taps reach); output pixel q = oh * PW + ow
// reads tap (kh, kw) at q + kh * PW + kw. A register tile holds
// `channels` x `vectors` accumulators; per tap, each vector of the planes
// is loaded once and multiplied by one filter value per channel
// (broadcast). Each output is summed from zero over the taps in (c, kh, kw)
// order, so results depend only on the shape, not on the split.
//
//   kiln_conv2d_direct_T(x, w, y, scratch, SHAPE..., task_begin, task_end)
// scratch: tasks * kiln_direct_scratch(shape, lanes) elements.
#include <stdint.h>

#include "kernel_abi.h"
#include "kernels.h"
#include "vec.h"

namespace kiln::kernels::conv_direct {

#define KILN_INLINE __attribute__((always_inline)) inline

using Conv = abi::ConvShape;

// planes[c] = x[c] placed at (pt, pl) of a zero plane `p.width` wide.
template <typename T>
KILN_INLINE void pad_planes(const T *__restrict__ x, T *__restrict__ planes, const Conv &s,
                            const abi::DirectConvPlanes &p) {
  for (int64_t c = 0; c < s.c; ++c) {
    T *plane = planes + c * p.size;
    for (int64_t i = 0; i < p.size; ++i) plane[i] = T(0);
    for (int64_t ih = 0; ih < s.h; ++ih) {
      const int64_t row = ih + s.pt;
      // A negative bottom or right padding leaves the last rows or columns
      // out of the padded extent.
      if (row >= s.oh + s.kh - 1) break;
      const T *src = x + (c * s.h + ih) * s.w;
      T *dst = plane + row * p.width + s.pl;
      const int64_t cols = abi::min_i64(s.w, p.width - s.pl);
      for (int64_t iw = 0; iw < cols; ++iw) dst[iw] = src[iw];
    }
  }
}

// packed[b][tap][j] = w[b * channels + j][tap], zero past the last channel.
template <typename T>
KILN_INLINE void pack_filter(const T *__restrict__ w, T *__restrict__ packed, const Conv &s,
                             int64_t channels) {
  const int64_t taps = s.taps(), blocks = abi::ceil_div(s.o, channels);
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t j = 0; j < channels; ++j) {
        const int64_t o = b * channels + j;
        packed[(b * taps + t) * channels + j] = o < s.o ? w[o * taps + t] : T(0);
      }
}

// tile[j][0:CV*L] = the outputs of channel j of the block at pixels
// [0, CV * L) from `planes` (already moved to the first pixel).
template <typename T, int CH, int CV>
KILN_INLINE void direct_tile(const T *planes, const T *packed, T *tile, const Conv &s,
                             const abi::DirectConvPlanes &p) {
  using V = typename Vec<T>::type;
  constexpr int L = Vec<T>::kLanes;
  V acc[CH][CV];
  for (int j = 0; j < CH; ++j)
    for (int v = 0; v < CV; ++v) acc[j][v] = V{};
  const T *w = packed;
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t kh = 0; kh < s.kh; ++kh) {
      const T *row = planes + c * p.size + kh * p.width;
      for (int64_t kw = 0; kw < s.kw; ++kw, w += CH) {
        V xv[CV];
        for (int v = 0; v < CV; ++v) __builtin_memcpy(&xv[v], row + kw + v * L, sizeof(V));
        for (int j = 0; j < CH; ++j)
          for (int v = 0; v < CV; ++v) acc[j][v] += xv[v] * w[j];
      }
    }
  for (int j = 0; j < CH; ++j)
    for (int v = 0; v < CV; ++v) __builtin_memcpy(tile + j * CV * L + v * L, &acc[j][v], sizeof(V));
}

// y's channels [o0, o1) at the computed pixels [q0, q0 + count) that are
// outputs (ow < OW), from tile rows of `count`.
template <typename T>
KILN_INLINE void store_tile(const T *tile, T *y, const Conv &s, const abi::DirectConvPlanes &p,
                            int64_t o0, int64_t o1, int64_t q0, int64_t count) {
  const int64_t q1 = q0 + count;
  for (int64_t oh = q0 / p.width; oh < s.oh && oh * p.width < q1; ++oh) {
    const int64_t lo = abi::max_i64(q0, oh * p.width), hi = abi::min_i64(q1, oh * p.width + s.ow);
    for (int64_t o = o0; o < o1; ++o) {
      T *dst = y + (o * s.oh + oh) * s.ow + (lo - oh * p.width);
      const T *src = tile + (o - o0) * count + (lo - q0);
      for (int64_t q = 0; q < hi - lo; ++q) dst[q] = src[q];
    }
  }
}

template <typename T, int CH, int CV = abi::kiln_direct_tile(CH, Vec<T>::kLanes).vectors>
KILN_INLINE void image(const T *x, const T *packed, T *y, T *planes, const Conv &s) {
  constexpr int64_t count = CV * Vec<T>::kLanes;
  const abi::DirectConvPlanes p = abi::kiln_direct_planes(s, {CH, CV, Vec<T>::kLanes});
  pad_planes(x, planes, s, p);
  T tile[CH * count];
  for (int64_t o0 = 0; o0 < s.o; o0 += CH) {
    const T *w = packed + o0 * s.taps();
    for (int64_t q0 = 0; q0 < p.pixels; q0 += count) {
      direct_tile<T, CH, CV>(planes + q0, w, tile, s, p);
      store_tile(tile, y, s, p, o0, abi::min_i64(s.o, o0 + CH), q0, count);
    }
  }
}

template <typename T, int CH, int CV = abi::kiln_direct_tile(CH, Vec<T>::kLanes).vectors>
KILN_INLINE void forward_tiles(const T *x, const T *w, T *y, T *scratch, const Conv &s,
                               int64_t task_begin, int64_t task_end) {
  constexpr int64_t L = Vec<T>::kLanes;
  const int64_t chunk = abi::kiln_conv_chunk(s.n, abi::kConvChunks);
  const int64_t per_task = abi::kiln_direct_scratch(s, L);
  const abi::DirectConvPlanes p = abi::kiln_direct_planes(s, {CH, CV, L});
  task_end = abi::min_i64(task_end, abi::kiln_conv2d_tasks(s.n));
  for (int64_t t = task_begin; t < task_end; ++t) {
    T *planes = scratch + t * per_task, *packed = planes + s.c * p.size;
    pack_filter(w, packed, s, CH);
    for (int64_t i = t * chunk; i < abi::min_i64(s.n, (t + 1) * chunk); ++i)
      image<T, CH>(x + i * s.image(), packed, y + i * s.o * s.pixels(), planes, s);
  }
}

template <typename T>
KILN_INLINE void forward(const T *x, const T *w, T *y, T *scratch, const Conv &s,
                         int64_t task_begin, int64_t task_end) {
  switch (abi::kiln_direct_tile(s.o, Vec<T>::kLanes).channels) {
  case 2: return forward_tiles<T, 2>(x, w, y, scratch, s, task_begin, task_end);
  case 4: return forward_tiles<T, 4>(x, w, y, scratch, s, task_begin, task_end);
  case 6: return forward_tiles<T, 6>(x, w, y, scratch, s, task_begin, task_end);
  default: return forward_tiles<T, 8>(x, w, y, scratch, s, task_begin, task_end);
  }
}

#undef KILN_INLINE

} // namespace kiln::kernels::conv_direct

#define KILN_CONV_SHAPE                                                                            \
  kiln::abi::ConvShape { n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, groups }

extern "C" void kiln_conv2d_direct_f32(const float *x, const float *filter, float *y,
                                       float *scratch, KILN_CONV_PARAMS, KILN_KERNEL_TASKS) {
  kiln::kernels::conv_direct::forward(x, filter, y, scratch, KILN_CONV_SHAPE, task_begin, task_end);
}
extern "C" void kiln_conv2d_direct_f64(const double *x, const double *filter, double *y,
                                       double *scratch, KILN_CONV_PARAMS, KILN_KERNEL_TASKS) {
  kiln::kernels::conv_direct::forward(x, filter, y, scratch, KILN_CONV_SHAPE, task_begin, task_end);
}

#undef KILN_CONV_SHAPE
