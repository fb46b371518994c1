// Batched strided GEMM: C[z] = A[z] * B[z], C row-major contiguous; A and B
// have general strides (transposes and stride-0 batch broadcasting are free).
//
// A task is one tile of C (kernel_abi.h). Within a tile, by shape:
//  - many rows (the usual case), for each strip of NR columns of C:
//      for each K block of kKc:       B strip packed (transposed in registers
//                                     if B is column-contiguous), stays in L1
//        for each panel of MR rows:   microkernel, MR x NR accumulators in
//                                     vector registers, A broadcast in place
//  - at most kMr<kNv> rows and contiguous B rows: the same loops with B read
//    in place and prefetched (packing would not pay for so few rows), a
//    right edge narrower than a vector as scalar sums;
//  - at most kMr<kNv> rows, A rows and B columns contiguous along k (B is a
//    transposed matrix): dot products with vector partial sums.
// Each K block's products are summed from zero and then added to C, which
// keeps the rounding error of long sums down. The summation order of an output
// depends only on the shape, never on how the task range is split, so results
// are deterministic.
#include <stdint.h>

#include "kernel_abi.h"
#include "kernels.h"
#include "vec.h"

namespace kiln::kernels::matmul {

#define KILN_INLINE __attribute__((always_inline)) inline

// Register tiles hold 24 accumulators out of 32 zmm, leaving room for the B
// vectors and one A broadcast: kNv = 4 vectors wide by 6 rows for full
// strips, narrower and taller for a narrow right edge of C (1x24, 2x12, 3x8).
constexpr int kNv = 4;
constexpr int kAccumulators = 24;
template <int NV> constexpr int kMr = kAccumulators / NV;
// K block: a packed kKc x NR strip of B is 32 KiB for f32 and f64. Each
// block's products are summed from zero and then added to C.
constexpr int64_t kKc = 128;
// Rows of B prefetched ahead when B is streamed from memory (small M): the
// hardware prefetchers alone reach only ~half the bandwidth on a strided walk.
constexpr int64_t kPrefetchRows = 12;

// Full task tiles should need no edge handling.
static_assert(abi::kMatmulTileM % kMr<1> == 0 && abi::kMatmulTileM % kMr<3> == 0 &&
                  abi::kMatmulTileM % kMr<4> == 0,
              "task tile rows should be whole register tiles");
static_assert(abi::kMatmulTileN % (2 * kNv * Vec<float>::kLanes) == 0,
              "task tile columns should be whole strips");
static_assert(abi::kMatmulTileN % (2 * kNv * Vec<double>::kLanes) == 0,
              "task tile columns should be whole strips");
static_assert(abi::kMatmulTileN / 2 % (kNv * Vec<float>::kLanes) == 0,
              "narrow task tile columns should be whole strips");

// C[0:MR, 0:NV*L] = (accumulate ? C : 0) + A[0:MR, 0:kc] * B[0:kc, 0:NV*L],
// the product summed from zero (so a long K, summed in blocks, accumulates
// less rounding error than one running sum would).
// A is addressed with general strides; B rows are b_rs apart and contiguous.
// Stream: B comes from memory rather than from a packed strip in L1; rows up
// to `ahead` (>= kc) past b are valid to prefetch.
template <typename T, int MR, int NV, bool Stream>
KILN_INLINE void microkernel(int64_t kc, const T *a, int64_t a_rs, int64_t a_cs, const T *b,
                             int64_t b_rs, T *c, int64_t c_rs, bool accumulate, int64_t ahead) {
  using V = typename Vec<T>::type;
  constexpr int L = Vec<T>::kLanes;
  V acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = V{};
  for (int64_t k = 0; k < kc; ++k) {
    if (Stream) {
      const T *next = b + abi::min_i64(k + kPrefetchRows, ahead - 1) * b_rs;
      for (int v = 0; v < NV; ++v) __builtin_prefetch(next + v * L);
    }
    V bv[NV];
    for (int v = 0; v < NV; ++v) __builtin_memcpy(&bv[v], b + k * b_rs + v * L, sizeof(V));
    for (int r = 0; r < MR; ++r) {
      const T ar = a[r * a_rs + k * a_cs];
      for (int v = 0; v < NV; ++v) acc[r][v] += bv[v] * ar;
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) {
      T *cv = c + r * c_rs + v * L;
      if (accumulate) {
        V old;
        __builtin_memcpy(&old, cv, sizeof(V));
        acc[r][v] = old + acc[r][v];
      }
      __builtin_memcpy(cv, &acc[r][v], sizeof(V));
    }
}

// Runs the microkernel over rows [0, rows): full kMr<NV> panels, then 4/2/1-row
// panels for the remainder (so M = 1 costs one row, not a whole panel).
template <typename T, int NV, bool Stream = false>
KILN_INLINE void row_panels(int64_t rows, int64_t kc, const T *a, int64_t a_rs, int64_t a_cs,
                            const T *b, int64_t b_rs, T *c, int64_t c_rs, bool accumulate,
                            int64_t ahead) {
  constexpr int MR = kMr<NV>;
  int64_t m = 0;
  for (; m + MR <= rows; m += MR)
    microkernel<T, MR, NV, Stream>(kc, a + m * a_rs, a_rs, a_cs, b, b_rs, c + m * c_rs, c_rs,
                                   accumulate, ahead);
  if constexpr (MR > 4)
    for (; m + 4 <= rows; m += 4)
      microkernel<T, 4, NV, Stream>(kc, a + m * a_rs, a_rs, a_cs, b, b_rs, c + m * c_rs, c_rs,
                                    accumulate, ahead);
  if (m + 2 <= rows) {
    microkernel<T, 2, NV, Stream>(kc, a + m * a_rs, a_rs, a_cs, b, b_rs, c + m * c_rs, c_rs,
                                  accumulate, ahead);
    m += 2;
  }
  if (m < rows)
    microkernel<T, 1, NV, Stream>(kc, a + m * a_rs, a_rs, a_cs, b, b_rs, c + m * c_rs, c_rs,
                                  accumulate, ahead);
}

// lo = {a0, b0, a1, b1, ...} from the low halves of a and b, hi from the high
// halves. __builtin_shufflevector exists in clang and gcc >= 12. (Vectors are
// passed by reference: by value they would have a target-dependent ABI.)
KILN_INLINE void interleave(const Vec<float>::type &a, const Vec<float>::type &b,
                            Vec<float>::type &lo, Vec<float>::type &hi) {
  lo = __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  hi = __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}
KILN_INLINE void interleave(const Vec<double>::type &a, const Vec<double>::type &b,
                            Vec<double>::type &lo, Vec<double>::type &hi) {
  lo = __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
  hi = __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
}

// Transposes the L x L block at src (row stride src_rs) into dst (row stride
// dst_rs). Each round maps row pair (i, i + L/2) to rows (2i, 2i + 1) by
// interleaving; that rotates the bits of (row, column) by one, so log2(L)
// rounds swap row and column bits.
template <typename T>
KILN_INLINE void transpose_block(const T *src, int64_t src_rs, T *dst, int64_t dst_rs) {
  using V = typename Vec<T>::type;
  constexpr int L = Vec<T>::kLanes;
  V x[L], y[L];
  for (int i = 0; i < L; ++i) __builtin_memcpy(&x[i], src + i * src_rs, sizeof(V));
  for (int round = 1; round < L; round *= 2) {
    for (int i = 0; i < L / 2; ++i) interleave(x[i], x[i + L / 2], y[2 * i], y[2 * i + 1]);
    for (int i = 0; i < L; ++i) x[i] = y[i];
  }
  for (int i = 0; i < L; ++i) __builtin_memcpy(dst + i * dst_rs, &x[i], sizeof(V));
}

// Copies B[0:kc, 0:cols] (strides b_rs, b_cs) into buf (kc x width, row-major),
// zero-filling columns [cols, width). Column-contiguous B (b_rs == 1, i.e. a
// transposed operand) goes through register transposes of L x L blocks.
template <typename T>
KILN_INLINE void pack_b(const T *b, int64_t b_rs, int64_t b_cs, int64_t kc, int64_t cols,
                        int64_t width, T *buf) {
  constexpr int L = Vec<T>::kLanes;
  int64_t k = 0;
  if (b_rs == 1 && cols == width) {
    for (; k + L <= kc; k += L)
      for (int64_t j = 0; j < cols; j += L)
        transpose_block(b + k + j * b_cs, b_cs, buf + k * width + j, width);
  }
  for (; k < kc; ++k) {
    for (int64_t j = 0; j < cols; ++j) buf[k * width + j] = b[k * b_rs + j * b_cs];
    for (int64_t j = cols; j < width; ++j) buf[k * width + j] = T(0);
  }
}

// A strip of NV vectors of columns with few rows and contiguous B rows: B is
// read in place (each element is used by so few rows that packing would not
// pay), with prefetching across the K blocks.
template <typename T, int NV>
KILN_INLINE void streamed_strip(int64_t rows, int64_t K, const T *a, int64_t a_rs, int64_t a_cs,
                                const T *b, int64_t b_rs, T *c, int64_t c_rs) {
  for (int64_t k0 = 0; k0 < K; k0 += kKc)
    row_panels<T, NV, true>(rows, abi::min_i64(kKc, K - k0), a + k0 * a_cs, a_rs, a_cs,
                            b + k0 * b_rs, b_rs, c, c_rs, k0 > 0, K - k0);
}

// Fewer than one vector of columns (the right edge) with few rows and
// contiguous B rows: scalar partial sums, one per column, read in place
// (packing them into a zero-padded vector strip cost more than the math:
// 3 of a batch-1 MLP's 17 µs). Each K block summed from zero, then added,
// as the microkernels do.
template <typename T>
KILN_INLINE void narrow_strip(int64_t rows, int64_t cols, int64_t K, const T *a, int64_t a_rs,
                              int64_t a_cs, const T *b, int64_t b_rs, T *c, int64_t c_rs) {
  constexpr int L = Vec<T>::kLanes;
  for (int64_t r = 0; r < rows; ++r) {
    T sum[L], part[L];
    for (int64_t k0 = 0; k0 < K; k0 += kKc) {
      for (int64_t j = 0; j < cols; ++j) part[j] = T(0);
      for (int64_t k = k0; k < abi::min_i64(K, k0 + kKc); ++k) {
        const T ar = a[r * a_rs + k * a_cs];
        for (int64_t j = 0; j < cols; ++j) part[j] += ar * b[k * b_rs + j];
      }
      for (int64_t j = 0; j < cols; ++j) sum[j] = k0 == 0 ? part[j] : sum[j] + part[j];
    }
    for (int64_t j = 0; j < cols; ++j) c[r * c_rs + j] = sum[j];
  }
}

// A full strip of NR columns with many row panels: each K block of the strip
// is packed once into L1 and reused by every row panel (packing also avoids
// cache-set conflicts from power-of-two row strides of B).
template <typename T>
KILN_INLINE void packed_strip(int64_t rows, int64_t K, const T *a, int64_t a_rs, int64_t a_cs,
                              const T *b, int64_t b_rs, int64_t b_cs, T *c, int64_t c_rs, T *bbuf) {
  constexpr int NR = kNv * Vec<T>::kLanes;
  for (int64_t k0 = 0; k0 < K; k0 += kKc) {
    const int64_t kc = abi::min_i64(kKc, K - k0);
    pack_b(b + k0 * b_rs, b_rs, b_cs, kc, NR, NR, bbuf);
    row_panels<T, kNv>(rows, kc, a + k0 * a_cs, a_rs, a_cs, bbuf, NR, c, c_rs, k0 > 0, kc);
  }
}

// A strip of 1 <= cols < NR columns (the right edge of C) in NV vectors
// (cols <= NV * L): B is packed zero-padded to whole vectors, and each row
// panel goes through a small C buffer so that nothing outside C is touched.
template <typename T, int NV>
KILN_INLINE void edge_strip(int64_t rows, int64_t cols, int64_t K, const T *a, int64_t a_rs,
                            int64_t a_cs, const T *b, int64_t b_rs, int64_t b_cs, T *c,
                            int64_t c_rs, T *bbuf) {
  constexpr int MR = kMr<NV>;
  constexpr int W = NV * Vec<T>::kLanes;
  T ctile[MR * W];
  for (int64_t k0 = 0; k0 < K; k0 += kKc) {
    const int64_t kc = abi::min_i64(kKc, K - k0);
    const bool load_c = k0 > 0; // else the C buffer starts at 0
    pack_b(b + k0 * b_rs, b_rs, b_cs, kc, cols, W, bbuf);
    for (int64_t m = 0; m < rows; m += MR) {
      const int64_t h = abi::min_i64(MR, rows - m);
      for (int64_t r = 0; r < h; ++r)
        for (int64_t j = 0; j < W; ++j)
          ctile[r * W + j] = load_c && j < cols ? c[(m + r) * c_rs + j] : T(0);
      row_panels<T, NV>(h, kc, a + m * a_rs + k0 * a_cs, a_rs, a_cs, bbuf, W, ctile, W, true, kc);
      for (int64_t r = 0; r < h; ++r)
        for (int64_t j = 0; j < cols; ++j) c[(m + r) * c_rs + j] = ctile[r * W + j];
    }
  }
}

// Sums each of the J vectors v[0:J] into out[0:J], destroying v. Interleaving
// v[i] with v[i + h] and adding the halves folds two vectors into one, with
// lanes of v[i] at even and of v[i + h] at odd positions; after log2(J)
// rounds lane l holds a partial sum of v[l % J].
template <typename T, int J>
KILN_INLINE void horizontal_sums(typename Vec<T>::type (&v)[J], T *out) {
  constexpr int L = Vec<T>::kLanes;
  static_assert(J <= L && (J & (J - 1)) == 0, "J must be a power of two <= lanes");
  for (int h = J / 2; h > 0; h /= 2)
    for (int i = 0; i < h; ++i) {
      typename Vec<T>::type lo, hi;
      interleave(v[i], v[i + h], lo, hi);
      v[i] = lo + hi;
    }
  T lanes[L];
  __builtin_memcpy(lanes, &v[0], sizeof lanes);
  for (int o = 0; o < J; ++o) {
    T s = lanes[o];
    for (int p = o + J; p < L; p += J) s += lanes[p];
    out[o] = s;
  }
}

// C[0:R, 0:J] = A[0:R, 0:K] * B[0:K, 0:J] as dot products, for A rows and B
// columns contiguous along k (a_cs == b_rs == 1): vector partial sums over k,
// summed across lanes at the end, then the K % L remainder added in order.
template <typename T, int R, int J>
KILN_INLINE void dot_kernel(int64_t K, const T *a, int64_t a_rs, const T *b, int64_t b_cs, T *c,
                            int64_t c_rs) {
  using V = typename Vec<T>::type;
  constexpr int L = Vec<T>::kLanes;
  V acc[R][J];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j) acc[r][j] = V{};
  int64_t k = 0;
  for (; k + L <= K; k += L) {
    V bv[J];
    for (int j = 0; j < J; ++j) __builtin_memcpy(&bv[j], b + j * b_cs + k, sizeof(V));
    for (int r = 0; r < R; ++r) {
      V av;
      __builtin_memcpy(&av, a + r * a_rs + k, sizeof(V));
      for (int j = 0; j < J; ++j) acc[r][j] += av * bv[j];
    }
  }
  for (int r = 0; r < R; ++r) {
    T sums[J];
    horizontal_sums<T, J>(acc[r], sums);
    for (int j = 0; j < J; ++j) {
      T s = sums[j];
      for (int64_t t = k; t < K; ++t) s += a[r * a_rs + t] * b[j * b_cs + t];
      c[r * c_rs + j] = s;
    }
  }
}

// A tile of at most kMr<kNv> rows with a_cs == b_rs == 1 (A times a transposed
// matrix, e.g. batch-1 inference with weights stored output-major): dot
// products stream B once, where packing it would cost as much as the math.
template <typename T>
KILN_INLINE void dot_tile(int64_t rows, int64_t cols, int64_t K, const T *a, int64_t a_rs,
                          const T *b, int64_t b_cs, T *c, int64_t c_rs) {
  constexpr int J = 8;
  int64_t m = 0;
  for (; m + 2 <= rows; m += 2) {
    const T *am = a + m * a_rs;
    T *cm = c + m * c_rs;
    int64_t n = 0;
    for (; n + J <= cols; n += J)
      dot_kernel<T, 2, J>(K, am, a_rs, b + n * b_cs, b_cs, cm + n, c_rs);
    for (; n < cols; ++n) dot_kernel<T, 2, 1>(K, am, a_rs, b + n * b_cs, b_cs, cm + n, c_rs);
  }
  if (m < rows) {
    const T *am = a + m * a_rs;
    T *cm = c + m * c_rs;
    int64_t n = 0;
    for (; n + J <= cols; n += J)
      dot_kernel<T, 1, J>(K, am, a_rs, b + n * b_cs, b_cs, cm + n, c_rs);
    for (; n < cols; ++n) dot_kernel<T, 1, 1>(K, am, a_rs, b + n * b_cs, b_cs, cm + n, c_rs);
  }
}

template <typename T> KILN_INLINE void zero_tile(T *c, int64_t c_rs, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) c[r * c_rs + j] = T(0);
}

// C[0:rows, 0:width] (row stride N) = A[0:rows, 0:K] * B[0:K, 0:width], K > 0.
template <typename T>
KILN_INLINE void tile_body(int64_t rows, int64_t width, const T *a, const T *b, T *c, int64_t N,
                           int64_t K, int64_t a_rs, int64_t a_cs, int64_t b_rs, int64_t b_cs) {
  constexpr int L = Vec<T>::kLanes;
  constexpr int NR = kNv * L;
  // Few rows and contiguous B rows: B is streamed, two strips at a time when
  // the rows allow.
  const bool stream = b_cs == 1 && rows <= kMr<kNv>;
  if (!stream && rows <= kMr<kNv> && a_cs == 1 && b_rs == 1) {
    dot_tile(rows, width, K, a, a_rs, b, b_cs, c, N);
    return;
  }
  T bbuf[kKc * NR];
  for (int64_t n = 0; n < width;) {
    const int64_t cols = abi::min_i64(NR, width - n);
    if (stream && rows <= kMr<2 * kNv> && n + 2 * NR <= width) {
      streamed_strip<T, 2 * kNv>(rows, K, a, a_rs, a_cs, b + n * b_cs, b_rs, c + n, N);
      n += 2 * NR;
      continue;
    }
    if (cols == NR && stream) {
      streamed_strip<T, kNv>(rows, K, a, a_rs, a_cs, b + n * b_cs, b_rs, c + n, N);
    } else if (stream && cols >= L) { // the edge's whole vectors, read in place
      const int64_t vectors = cols / L;
      switch (vectors) {
      case 1: streamed_strip<T, 1>(rows, K, a, a_rs, a_cs, b + n * b_cs, b_rs, c + n, N); break;
      case 2: streamed_strip<T, 2>(rows, K, a, a_rs, a_cs, b + n * b_cs, b_rs, c + n, N); break;
      default: streamed_strip<T, 3>(rows, K, a, a_rs, a_cs, b + n * b_cs, b_rs, c + n, N); break;
      }
      n += vectors * L;
      continue;
    } else if (stream) {
      narrow_strip(rows, cols, K, a, a_rs, a_cs, b + n * b_cs, b_rs, c + n, N);
    } else if (cols == NR) {
      packed_strip(rows, K, a, a_rs, a_cs, b + n * b_cs, b_rs, b_cs, c + n, N, bbuf);
    } else {
      // At most one edge strip per tile: dispatch on the vectors it needs.
      switch ((cols + L - 1) / L) {
      case 1:
        edge_strip<T, 1>(rows, cols, K, a, a_rs, a_cs, b + n * b_cs, b_rs, b_cs, c + n, N, bbuf);
        break;
      case 2:
        edge_strip<T, 2>(rows, cols, K, a, a_rs, a_cs, b + n * b_cs, b_rs, b_cs, c + n, N, bbuf);
        break;
      case 3:
        edge_strip<T, 3>(rows, cols, K, a, a_rs, a_cs, b + n * b_cs, b_rs, b_cs, c + n, N, bbuf);
        break;
      default:
        edge_strip<T, 4>(rows, cols, K, a, a_rs, a_cs, b + n * b_cs, b_rs, b_cs, c + n, N, bbuf);
        break;
      }
    }
    n += NR;
  }
}

// One task: C[m0:m1, n0:n1] of batch entry z. Tiles are full except at the
// bottom and right edges of C; tile_body is called with rows and width that
// are constants where they can be, so that each case is specialized.
template <typename T>
KILN_INLINE void matmul_tile(const T *A, const T *B, T *C, int64_t M, int64_t N, int64_t K,
                             int64_t a_rs, int64_t a_cs, int64_t b_rs, int64_t b_cs,
                             const abi::MatmulTile &t) {
  constexpr int64_t TM = abi::kMatmulTileM, TN = abi::kMatmulTileN;
  T *c = C + t.m0 * N + t.n0;
  if (K == 0) { // A and B may be empty (even null) then
    zero_tile(c, N, t.m1 - t.m0, t.n1 - t.n0);
    return;
  }
  const T *a = A + t.m0 * a_rs;
  const T *b = B + t.n0 * b_cs;
  const int64_t rows = t.m1 - t.m0, width = t.n1 - t.n0;
  if (rows == TM && width == TN)
    tile_body(TM, TN, a, b, c, N, K, a_rs, a_cs, b_rs, b_cs);
  else if (rows == TM)
    tile_body(TM, width, a, b, c, N, K, a_rs, a_cs, b_rs, b_cs);
  else if (width == TN)
    tile_body(rows, TN, a, b, c, N, K, a_rs, a_cs, b_rs, b_cs);
  else
    tile_body(rows, width, a, b, c, N, K, a_rs, a_cs, b_rs, b_cs);
}

// Calls f(a_rs, a_cs, b_rs, b_cs) with each operand's unit stride as a
// literal 1 when it has one: inlined, each layout (plain, or transposed as in
// the backward pass) gets code that knows which of its walks are contiguous,
// as it did when the JIT specialized every call for its strides.
template <typename F>
KILN_INLINE void with_unit_strides(int64_t a_rs, int64_t a_cs, int64_t b_rs, int64_t b_cs, F f) {
  const int64_t one = 1;
  if (a_cs == 1 && b_cs == 1) return f(a_rs, one, b_rs, one);
  if (a_cs == 1 && b_rs == 1) return f(a_rs, one, one, b_cs);
  if (a_rs == 1 && b_cs == 1) return f(one, a_cs, b_rs, one);
  if (a_rs == 1 && b_rs == 1) return f(one, a_cs, one, b_cs);
  f(a_rs, a_cs, b_rs, b_cs);
}

template <typename T>
KILN_INLINE void matmul(const T *A, const T *B, T *C, int64_t M, int64_t N, int64_t K, int64_t a_rs,
                        int64_t a_cs, int64_t b_rs, int64_t b_cs, int64_t batch, int64_t a_bs,
                        int64_t b_bs, int64_t c_bs, int64_t task_begin, int64_t task_end) {
  const int64_t tasks = abi::kiln_matmul_tasks(batch, M, N);
  if (task_end > tasks) task_end = tasks;
  with_unit_strides(a_rs, a_cs, b_rs, b_cs,
                    [&](int64_t ars, int64_t acs, int64_t brs, int64_t bcs) {
                      for (int64_t task = task_begin; task < task_end; ++task) {
                        const abi::MatmulTile t = abi::kiln_matmul_tile(task, M, N);
                        matmul_tile(A + t.z * a_bs, B + t.z * b_bs, C + t.z * c_bs, M, N, K, ars,
                                    acs, brs, bcs, t);
                      }
                    });
}

#undef KILN_INLINE

} // namespace kiln::kernels::matmul

extern "C" void kiln_matmul_f32(const float *A, const float *B, float *C, int64_t M, int64_t N,
                                int64_t K, int64_t a_rs, int64_t a_cs, int64_t b_rs, int64_t b_cs,
                                int64_t batch, int64_t a_bs, int64_t b_bs, int64_t c_bs,
                                int64_t task_begin, int64_t task_end) {
  kiln::kernels::matmul::matmul(A, B, C, M, N, K, a_rs, a_cs, b_rs, b_cs, batch, a_bs, b_bs, c_bs,
                                task_begin, task_end);
}

extern "C" void kiln_matmul_f64(const double *A, const double *B, double *C, int64_t M, int64_t N,
                                int64_t K, int64_t a_rs, int64_t a_cs, int64_t b_rs, int64_t b_cs,
                                int64_t batch, int64_t a_bs, int64_t b_bs, int64_t c_bs,
                                int64_t task_begin, int64_t task_end) {
  kiln::kernels::matmul::matmul(A, B, C, M, N, K, a_rs, a_cs, b_rs, b_cs, batch, a_bs, b_bs, c_bs,
                                task_begin, task_end);
}
