// Task decomposition shared by the compute kernels (compiled to bitcode by
// clang) and the host runtime (compiled by gcc).
//
// Every kernel takes a task range [task_begin, task_end). A task always
// computes complete output elements, and which elements belong to which task
// depends only on the shape, so results are bit-identical however the runtime
// splits the range across threads. The *_task_cost functions give a rough
// amount of work per task (flops for matmul, elements read otherwise) so the
// runtime can pick a grain size.
//
// Only constexpr functions and constants live here: this header must compile
// as plain C++20 on both sides and define nothing that needs linking.
#pragma once

#include <stdint.h>

// What every compiled kernel is: it computes tasks [task_begin, task_end) of
// its node, reading and writing the buffers in `args`.
typedef void (*kiln_kernel_fn)(void *const *args, int64_t task_begin, int64_t task_end);

#ifdef __cplusplus
namespace kiln::abi {

inline constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline constexpr int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }
inline constexpr int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }

// Kernel arguments are pointers and int64s: a double travels as its bits.
inline constexpr int64_t kiln_f64_bits(double x) { return __builtin_bit_cast(int64_t, x); }
inline constexpr double kiln_f64_from_bits(int64_t bits) {
  return __builtin_bit_cast(double, bits);
}

// ---------------------------------------------------------------------------
// Matmul: C[z] (M x N, row-major) = A[z] (M x K) * B[z] (K x N).
// A task is one tile of C of at most kMatmulTileM x kiln_matmul_tile_n(M, N)
// elements within one batch entry. Tasks are numbered batch-major, then by
// column block, then by row block, so consecutive tasks share a panel of B.
inline constexpr int64_t kMatmulTileM = 96;  // a multiple of every register-tile height
inline constexpr int64_t kMatmulTileN = 128; // a multiple of every register-tile width

// A product of one row block and at most two column blocks (an LSTM's
// recurrent gradient, 32 x 128 at batch 32) would be one or two tasks: it
// takes columns half as wide, so that each thread of two gets a share. Tiles
// hold whole register strips either way, so every output element is summed
// alike whatever the tile width.
inline constexpr int64_t kiln_matmul_tile_n(int64_t M, int64_t N) {
  return M <= kMatmulTileM && N <= 2 * kMatmulTileN ? kMatmulTileN / 2 : kMatmulTileN;
}

inline constexpr int64_t kiln_matmul_m_blocks(int64_t M) { return ceil_div(M, kMatmulTileM); }
inline constexpr int64_t kiln_matmul_n_blocks(int64_t M, int64_t N) {
  return ceil_div(N, kiln_matmul_tile_n(M, N));
}

inline constexpr int64_t kiln_matmul_tasks(int64_t batch, int64_t M, int64_t N) {
  if (batch <= 0 || M <= 0 || N <= 0) return 0;
  return batch * kiln_matmul_m_blocks(M) * kiln_matmul_n_blocks(M, N);
}

// Flops of one (full-size) task.
inline constexpr int64_t kiln_matmul_task_cost(int64_t M, int64_t N, int64_t K) {
  return 2 * min_i64(M, kMatmulTileM) * min_i64(N, kiln_matmul_tile_n(M, N)) * max_i64(K, 1);
}

// The tile of C computed by task `task`: batch entry z, rows [m0, m1), columns [n0, n1).
struct MatmulTile {
  int64_t z, m0, m1, n0, n1;
};

inline constexpr MatmulTile kiln_matmul_tile(int64_t task, int64_t M, int64_t N) {
  const int64_t mb = kiln_matmul_m_blocks(M);
  const int64_t nb = kiln_matmul_n_blocks(M, N), tn = kiln_matmul_tile_n(M, N);
  const int64_t z = task / (mb * nb);
  const int64_t rest = task % (mb * nb);
  const int64_t m0 = (rest % mb) * kMatmulTileM;
  const int64_t n0 = (rest / mb) * tn;
  return MatmulTile{z, m0, min_i64(m0 + kMatmulTileM, M), n0, min_i64(n0 + tn, N)};
}

// ---------------------------------------------------------------------------
// Reductions and softmax view their input as [outer, reduce, inner] (row-major)
// and reduce the middle axis. A task is one outer index and one block of at
// most kRowTileInner inner indices; tasks are numbered outer-major.
inline constexpr int64_t kRowTileInner = 256;

inline constexpr int64_t kiln_row_tasks(int64_t outer, int64_t inner) {
  if (outer <= 0 || inner <= 0) return 0;
  return outer * ceil_div(inner, kRowTileInner);
}

// Elements read by one (full-size) task.
inline constexpr int64_t kiln_row_task_cost(int64_t reduce, int64_t inner) {
  return max_i64(reduce, 1) * min_i64(inner, kRowTileInner);
}

// The outputs of task `task`: outer index o, inner indices [i0, i1).
struct RowTile {
  int64_t o, i0, i1;
};

inline constexpr RowTile kiln_row_tile(int64_t task, int64_t inner) {
  const int64_t blocks = ceil_div(inner, kRowTileInner);
  const int64_t i0 = (task % blocks) * kRowTileInner;
  return RowTile{task / blocks, i0, min_i64(i0 + kRowTileInner, inner)};
}

// kiln_reduce_{sum,mean,max,min}_T and kiln_arg{max,min}_T.
inline constexpr int64_t kiln_reduce_tasks(int64_t outer, int64_t inner) {
  return kiln_row_tasks(outer, inner);
}
inline constexpr int64_t kiln_reduce_task_cost(int64_t reduce, int64_t inner) {
  return kiln_row_task_cost(reduce, inner);
}

// kiln_softmax_T and kiln_log_softmax_T (the reduced axis is the softmax axis).
inline constexpr int64_t kiln_softmax_tasks(int64_t outer, int64_t inner) {
  return kiln_row_tasks(outer, inner);
}
inline constexpr int64_t kiln_softmax_task_cost(int64_t axis, int64_t inner) {
  return kiln_row_task_cost(axis, inner);
}

// ---------------------------------------------------------------------------
// Elementwise blocks (random numbers): a task is kElementBlock consecutive
// output elements.
inline constexpr int64_t kElementBlock = 4096;

inline constexpr int64_t kiln_block_tasks(int64_t n) {
  return n <= 0 ? 0 : ceil_div(n, kElementBlock);
}

// Gather and one_hot have one task per index (one output row of `width`
// elements); the task count is the number of indices. They check each index
// against [0, rows) and write the smallest position of one outside it to
// their last buffer, an i64 that holds kNoBadIndex before the call (the
// runtime sets it, reads it after and fails the run naming the position).
inline constexpr int64_t kNoBadIndex = INT64_MAX;

// ---------------------------------------------------------------------------
// Scatter-add (gather's gradient): out [rows, width] += rows of dy picked by
// indices. A task owns a tile of at most kScatterRows x kScatterCols of out,
// zeroes it and scans every index in order, so no two tasks write the same
// element and each element sums its rows in index order. Tasks are numbered
// row-block-major.
inline constexpr int64_t kScatterRows = 1024;
inline constexpr int64_t kScatterCols = 256;

inline constexpr int64_t kiln_scatter_tasks(int64_t rows, int64_t width) {
  if (rows <= 0 || width <= 0) return 0;
  return ceil_div(rows, kScatterRows) * ceil_div(width, kScatterCols);
}

// Indices scanned plus elements written (zeroes and expected hits) by one task.
inline constexpr int64_t kiln_scatter_task_cost(int64_t rows, int64_t width, int64_t n) {
  const int64_t r = min_i64(rows, kScatterRows), c = min_i64(width, kScatterCols);
  return n + r * c + n * c * r / max_i64(rows, 1);
}

struct ScatterTile {
  int64_t r0, r1, c0, c1;
};

inline constexpr ScatterTile kiln_scatter_tile(int64_t task, int64_t rows, int64_t width) {
  const int64_t cb = ceil_div(width, kScatterCols);
  const int64_t r0 = (task / cb) * kScatterRows, c0 = (task % cb) * kScatterCols;
  return ScatterTile{r0, min_i64(r0 + kScatterRows, rows), c0, min_i64(c0 + kScatterCols, width)};
}

// ---------------------------------------------------------------------------
// Counter-based random numbers. Element i of a draw is a pure function of
// (seed, counter, i): output i of a SplitMix64 stream whose state starts at a
// key hashed from the seed and the counter. No state is carried between
// elements or runs, so values do not depend on threads, and a training loop
// that feeds its step as the counter draws new numbers every step. The
// kernels and the reference kernels share these functions: the bits agree.
inline constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;

// SplitMix64's finalizer: a bijection of 64-bit words that mixes every bit.
inline constexpr uint64_t kiln_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Both steps are bijections: for one seed, distinct counters give distinct keys.
inline constexpr uint64_t kiln_random_key(int64_t seed, int64_t counter) {
  return kiln_mix64(kiln_mix64(uint64_t(seed) + kGolden) + uint64_t(counter) * kGolden);
}

inline constexpr uint64_t kiln_random_bits(uint64_t key, int64_t i) {
  return kiln_mix64(key + (uint64_t(i) + 1) * kGolden);
}

// Uniform in [0, 1) from the top 24 (f32) or 53 (f64) bits; the _open
// variants are in (0, 1] (Box-Muller takes their logarithm).
inline constexpr float kiln_unit_f32(uint64_t bits) { return float(bits >> 40) * 0x1p-24f; }
inline constexpr float kiln_unit_open_f32(uint64_t bits) {
  return float((bits >> 40) + 1) * 0x1p-24f;
}
inline constexpr double kiln_unit_f64(uint64_t bits) { return double(bits >> 11) * 0x1p-53; }
inline constexpr double kiln_unit_open_f64(uint64_t bits) {
  return double((bits >> 11) + 1) * 0x1p-53;
}

// lo + (hi - lo) * u in double, rounded once to T. One operation per
// statement: clang contracts `a * b + c` within a statement into an FMA,
// which would round differently from the host's reference.
template <typename T> inline constexpr T kiln_scale_uniform(double u, double lo, double hi) {
  const double span = hi - lo;
  const double offset = span * u;
  const double value = lo + offset;
  return T(value);
}

// Sliding windows (convolution, pooling), per spatial dim: output o reads the
// input positions o * stride - pad + k * dilation, k in [0, kernel). Both
// questions the kernels ask are "which j in [0, count) have start + j * step
// inside [0, in)?": the taps of one output (start = o * stride - pad, step =
// dilation) and the outputs of one tap (start = k * dilation - pad, step =
// stride). The answer is a range [lo, hi), empty when lo == hi.
struct IndexRange {
  int64_t lo, hi;
};

inline constexpr IndexRange kiln_inside(int64_t start, int64_t step, int64_t count, int64_t in) {
  const int64_t hi = start >= in ? 0 : min_i64(count, (in - 1 - start) / step + 1);
  const int64_t lo = start >= 0 ? 0 : ceil_div(-start, step);
  return IndexRange{min_i64(lo, hi), hi};
}

// The geometry of a conv2d call (its shape arguments, in this order) and of a
// pooling call.
struct ConvShape {
  int64_t n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, groups;

  constexpr int64_t taps() const { return c / groups * kh * kw; } // K
  constexpr int64_t pixels() const { return oh * ow; }            // P
  constexpr int64_t image() const { return c * h * w; }
  constexpr int64_t col_size() const { return c * kh * kw * pixels(); }
  constexpr int64_t filter_size() const { return o * taps(); }
  // col would be a copy of x.
  constexpr bool direct() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == h && ow == w;
  }
};

struct PoolShape {
  int64_t planes, h, w, oh, ow, kh, kw, sh, sw, pt, pl;

  // Each input cell is in at most one window: gradients are written, not added.
  constexpr bool disjoint() const { return sh >= kh && sw >= kw; }
  // The windows cover the plane exactly once: no cell needs zeroing first.
  constexpr bool tiling() const {
    return sh == kh && sw == kw && pt == 0 && pl == 0 && oh * kh == h && ow * kw == w;
  }
};

// ---------------------------------------------------------------------------
// conv2d and its two gradients (NCHW): a task is a chunk of consecutive
// images, processed one after the other with one im2col buffer per task.
// The forward and input-gradient kernels write whole images per task; the
// filter gradient sums each chunk into its own partial filter, and the
// partials are then summed in task order, so every split gives the same bits.
// 16 chunks balance a few threads; each holds an im2col buffer. Fewer for the
// filter gradient: each chunk adds a partial filter to write and sum.
inline constexpr int64_t kConvChunks = 16;
inline constexpr int64_t kConvFilterChunks = 8;

// Images per task for a batch of n split into at most `chunks` tasks.
inline constexpr int64_t kiln_conv_chunk(int64_t n, int64_t chunks) {
  return n <= 0 ? 1 : ceil_div(n, min_i64(n, chunks));
}
inline constexpr int64_t kiln_conv_tasks(int64_t n, int64_t chunks) {
  return n <= 0 ? 0 : ceil_div(n, kiln_conv_chunk(n, chunks));
}

// kiln_conv2d_T and kiln_conv2d_backprop_input_T.
inline constexpr int64_t kiln_conv2d_tasks(int64_t n) { return kiln_conv_tasks(n, kConvChunks); }
// kiln_conv2d_backprop_filter_T.
inline constexpr int64_t kiln_conv2d_filter_tasks(int64_t n) {
  return kiln_conv_tasks(n, kConvFilterChunks);
}

// Below this many images a forward convolution (groups == 1) runs tiled:
// im2col a task per image and channel, then one batched GEMM a task per
// tile, so one image keeps every thread busy.
inline constexpr int64_t kConvTiledBelow = 8;
inline constexpr bool kiln_conv2d_tiled(int64_t n, int64_t groups) {
  return n < kConvTiledBelow && groups == 1;
}
inline constexpr int64_t kiln_im2col_tasks(int64_t n, int64_t c) { return n > 0 ? n * c : 0; }

// A direct convolution (kiln_conv2d_direct_T; conv_direct.cpp says how) for
// few output channels, where im2col + GEMM has too few rows: tasks as
// kiln_conv2d_T's.
// Shapes it runs: groups 1, unit strides and dilations, and no negative
// top or left padding.
inline constexpr bool kiln_conv2d_direct_fits(const ConvShape &s) {
  return s.groups == 1 && s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.pt >= 0 &&
         s.pl >= 0;
}
// The kernels' vectors (vec.h), in bytes.
inline constexpr int64_t kVectorBytes = 64;
// Its register tile for vectors of `lanes` elements: a block of `channels`
// output channels by `pixels` pixels, at most kDirectConvAccumulators
// vectors. With `channel_lanes` (O a multiple of the lanes) a vector holds
// the block's channels and the pixels are consecutive outputs, none wasted;
// else the vectors hold consecutive plane positions q, their wrapped
// columns computed and dropped.
inline constexpr int64_t kDirectConvAccumulators = 24;
struct DirectConvTile {
  int64_t channels, pixels;
  bool channel_lanes;
};
inline constexpr DirectConvTile kiln_direct_pixel_tile(int64_t channels, int64_t lanes) {
  return {channels, min_i64(8, kDirectConvAccumulators / channels) * lanes, false};
}
inline constexpr DirectConvTile kiln_direct_tile(int64_t o, int64_t lanes) {
  if (o % lanes == 0) return {lanes, kDirectConvAccumulators, true};
  return kiln_direct_pixel_tile(o <= 2 ? 2 : o <= 4 ? 4 : o <= 6 ? 6 : 8, lanes);
}
// The padded planes' geometry: row width, plane positions computed, and
// plane size (every tap of every computed position inside it).
struct DirectConvPlanes {
  int64_t width, pixels, size;
};
inline constexpr DirectConvPlanes kiln_direct_planes(const ConvShape &s,
                                                     const DirectConvTile &tile) {
  const int64_t width = s.ow + s.kw - 1;
  const int64_t pixels =
      tile.channel_lanes ? s.oh * width : ceil_div(s.oh * width, tile.pixels) * tile.pixels;
  return {width, pixels, pixels + (s.kh - 1) * width + s.kw - 1};
}
// Where the lowering takes it: at most kDirectConvMaxO channels, an im2col
// needed (not 1x1 unpadded), at most twice the output pixels computed (not
// a 7x7 map to one pixel), and either enough images for the threads or
// images so small (at most kDirectConvOneThread multiply-adds; LeNet's are
// 0.12M and 0.24M, where it beats the tiled path on one thread) that
// splitting one would not pay. Neither limit was tuned beyond LeNet.
inline constexpr int64_t kDirectConvMaxO = 16;
inline constexpr int64_t kDirectConvOneThread = int64_t{1} << 20;
inline constexpr bool kiln_conv2d_direct(const ConvShape &s, int64_t lanes) {
  return kiln_conv2d_direct_fits(s) && s.o <= kDirectConvMaxO && !s.direct() &&
         kiln_direct_planes(s, kiln_direct_tile(s.o, lanes)).pixels <= 2 * s.pixels() &&
         (s.n >= kConvTiledBelow || s.o * s.taps() * s.pixels() <= kDirectConvOneThread);
}
// Scratch elements per task: the padded planes of one image, and the
// filter packed for the tile (channels zero-padded to whole tiles).
inline constexpr int64_t kiln_direct_scratch(const ConvShape &s, int64_t lanes) {
  const DirectConvTile tile = kiln_direct_tile(s.o, lanes);
  return s.c * kiln_direct_planes(s, tile).size +
         ceil_div(s.o, tile.channels) * tile.channels * s.taps();
}
// Depthwise (groups == c == o): a task per output plane.
inline constexpr int64_t kiln_depthwise_tasks(int64_t n, int64_t c) { return n > 0 ? n * c : 0; }

// Flops of one task of `images` images: an (O x K) x (K x P) product per
// image, K = C / groups * KH * KW the taps per output, P = OH * OW.
inline constexpr int64_t kiln_conv2d_task_cost(int64_t images, int64_t O, int64_t K, int64_t P) {
  return 2 * images * max_i64(O, 1) * max_i64(K, 1) * max_i64(P, 1);
}

// ---------------------------------------------------------------------------
// Pooling (NCHW, windows within one channel plane): a task is one plane.
inline constexpr int64_t kiln_pool2d_tasks(int64_t planes) { return planes > 0 ? planes : 0; }

// Elements read by one task.
inline constexpr int64_t kiln_pool2d_task_cost(int64_t OH, int64_t OW, int64_t KH, int64_t KW) {
  return max_i64(OH * OW * KH * KW, 1);
}

} // namespace kiln::abi
#endif
