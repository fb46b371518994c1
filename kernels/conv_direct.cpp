// conv2d (NCHW) computed directly, for few output channels with unit strides
// and dilations (kernel_abi.h, kiln_conv2d_direct): LeNet's convolutions are
// GEMMs of 6 or 16 rows after an im2col 25 or 13 times the image's size,
// where both the copy and the short GEMM waste most of the time. The register
// tile is sized for AVX-512's 32 vector registers (as matmul.cpp's); the avx2
// and baseline variants split each vector and spill.
//
// Per image: its channels are copied into zero-padded planes (the padding
// and a tail that the last tile's taps reach); output (oh, ow), at plane
// position q = oh * PW + ow, reads tap (kh, kw) at q + kh * PW + kw. Two
// register tiles (kernel_abi.h, kiln_direct_tile):
//  - pixels in the lanes: per tap, a vector of consecutive positions is
//    loaded once and multiplied by a broadcast filter value for each of a
//    block of 2 to 8 channels; positions past a row's end are computed and
//    dropped (PW - OW of every PW);
//  - channels in the lanes (O a multiple of the lanes: LeNet's 16): per tap,
//    one vector of the filter's channels, multiplied by a broadcast input
//    value for each of 24 consecutive outputs; nothing wasted.
// Each output is summed from zero over the taps in (c, kh, kw) order, so
// results depend only on the shape, not on the split.
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
      // Input rows or columns that no output reads (a negative bottom or
      // right padding: conv2d's input gradient run as a convolution of dy,
      // where the forward padding passes the kernel's size) stay out.
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

// Pixels in the lanes: tile[j][0:CV * L] = channel j of the block at plane
// positions [0, CV * L) from `planes` (already moved to the first one).
template <typename T, int CH, int CV>
KILN_INLINE void pixel_tile(const T *planes, const T *packed, T *tile, const Conv &s,
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

// y's channels [o0, o1) at the plane positions [q0, q0 + count) that are
// outputs (ow < OW), from pixel_tile's rows of `count`.
template <typename T>
KILN_INLINE void store_pixel_tile(const T *tile, T *y, const Conv &s,
                                  const abi::DirectConvPlanes &p, int64_t o0, int64_t o1,
                                  int64_t q0, int64_t count) {
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

// One image with pixels in the lanes: blocks of CH channels, tiles of CV
// vectors of plane positions.
template <typename T, int CH>
KILN_INLINE void pixel_image(const T *packed, T *y, const T *planes, const Conv &s,
                             const abi::DirectConvPlanes &p) {
  constexpr int64_t count = abi::kiln_direct_pixel_tile(CH, Vec<T>::kLanes).pixels;
  constexpr int CV = int(count / Vec<T>::kLanes);
  T tile[CH * count];
  for (int64_t o0 = 0; o0 < s.o; o0 += CH) {
    const T *w = packed + o0 * s.taps();
    for (int64_t q0 = 0; q0 < p.pixels; q0 += count) {
      pixel_tile<T, CH, CV>(planes + q0, w, tile, s, p);
      store_pixel_tile(tile, y, s, p, o0, abi::min_i64(s.o, o0 + CH), q0, count);
    }
  }
}

// Channels in the lanes: tile[i][0:L] = the block's L channels at the
// output whose plane position is at[i], for PX outputs.
template <typename T, int PX>
KILN_INLINE void lanes_tile(const T *planes, const int64_t *at, const T *packed, T *tile,
                            const Conv &s, const abi::DirectConvPlanes &p) {
  using V = typename Vec<T>::type;
  constexpr int L = Vec<T>::kLanes;
  V acc[PX];
  for (int i = 0; i < PX; ++i) acc[i] = V{};
  const T *w = packed;
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t kh = 0; kh < s.kh; ++kh) {
      const T *row = planes + c * p.size + kh * p.width;
      for (int64_t kw = 0; kw < s.kw; ++kw, w += L) {
        V wv;
        __builtin_memcpy(&wv, w, sizeof(V));
        for (int i = 0; i < PX; ++i) acc[i] += row[kw + at[i]] * wv;
      }
    }
  for (int i = 0; i < PX; ++i) __builtin_memcpy(tile + i * L, &acc[i], sizeof(V));
}

// One image with channels in the lanes: tiles of PX consecutive outputs
// (the last tile's extra ones repeat the last output's reads), blocks of L
// channels.
template <typename T>
KILN_INLINE void lanes_image(const T *packed, T *y, const T *planes, const Conv &s,
                             const abi::DirectConvPlanes &p) {
  constexpr int L = Vec<T>::kLanes;
  constexpr int PX = int(abi::kDirectConvAccumulators);
  const int64_t outputs = s.pixels();
  int64_t at[PX];
  T tile[PX * L];
  for (int64_t r0 = 0; r0 < outputs; r0 += PX) {
    const int64_t count = abi::min_i64(PX, outputs - r0);
    for (int64_t i = 0; i < PX; ++i) {
      const int64_t r = r0 + abi::min_i64(i, count - 1);
      at[i] = r / s.ow * p.width + r % s.ow;
    }
    for (int64_t o0 = 0; o0 < s.o; o0 += L) {
      lanes_tile<T, PX>(planes, at, packed + o0 * s.taps(), tile, s, p);
      for (int64_t j = 0; j < L; ++j)
        for (int64_t i = 0; i < count; ++i) y[(o0 + j) * outputs + r0 + i] = tile[i * L + j];
    }
  }
}

// Tasks [task_begin, task_end): each packs the filter for `tile` into its
// scratch, then pads and convolves its images one after the other.
template <typename T, typename Image>
KILN_INLINE void forward_tasks(const T *x, const T *w, T *y, T *scratch, const Conv &s,
                               const abi::DirectConvTile &tile, int64_t task_begin,
                               int64_t task_end, Image image) {
  const int64_t chunk = abi::kiln_conv_chunk(s.n, abi::kConvChunks);
  const int64_t per_task = abi::kiln_direct_scratch(s, Vec<T>::kLanes);
  const abi::DirectConvPlanes p = abi::kiln_direct_planes(s, tile);
  task_end = abi::min_i64(task_end, abi::kiln_conv2d_tasks(s.n));
  for (int64_t t = task_begin; t < task_end; ++t) {
    T *planes = scratch + t * per_task, *packed = planes + s.c * p.size;
    pack_filter(w, packed, s, tile.channels);
    for (int64_t i = t * chunk; i < abi::min_i64(s.n, (t + 1) * chunk); ++i) {
      pad_planes(x + i * s.image(), planes, s, p);
      image(packed, y + i * s.o * s.pixels(), planes, s, p);
    }
  }
}

template <typename T>
KILN_INLINE void forward(const T *x, const T *w, T *y, T *scratch, const Conv &s,
                         int64_t task_begin, int64_t task_end) {
  const abi::DirectConvTile tile = abi::kiln_direct_tile(s.o, Vec<T>::kLanes);
  auto tasks = [&](auto image) {
    forward_tasks(x, w, y, scratch, s, tile, task_begin, task_end, image);
  };
  if (tile.channel_lanes) return tasks([](auto... a) { lanes_image<T>(a...); });
  switch (tile.channels) {
  case 2: return tasks([](auto... a) { pixel_image<T, 2>(a...); });
  case 4: return tasks([](auto... a) { pixel_image<T, 4>(a...); });
  case 6: return tasks([](auto... a) { pixel_image<T, 6>(a...); });
  default: return tasks([](auto... a) { pixel_image<T, 8>(a...); });
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
