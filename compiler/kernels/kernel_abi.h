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

#ifdef __cplusplus
namespace kiln::abi {

inline constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline constexpr int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }
inline constexpr int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }

// ---------------------------------------------------------------------------
// Matmul: C[z] (M x N, row-major) = A[z] (M x K) * B[z] (K x N).
// A task is one tile of C of at most kMatmulTileM x kMatmulTileN elements
// within one batch entry. Tasks are numbered batch-major, then by column
// block, then by row block, so consecutive tasks share a panel of B.
inline constexpr int64_t kMatmulTileM = 96;  // a multiple of every register-tile height
inline constexpr int64_t kMatmulTileN = 128; // a multiple of every register-tile width

inline constexpr int64_t kiln_matmul_m_blocks(int64_t M) { return ceil_div(M, kMatmulTileM); }
inline constexpr int64_t kiln_matmul_n_blocks(int64_t N) { return ceil_div(N, kMatmulTileN); }

inline constexpr int64_t kiln_matmul_tasks(int64_t batch, int64_t M, int64_t N) {
  if (batch <= 0 || M <= 0 || N <= 0) return 0;
  return batch * kiln_matmul_m_blocks(M) * kiln_matmul_n_blocks(N);
}

// Flops of one (full-size) task.
inline constexpr int64_t kiln_matmul_task_cost(int64_t M, int64_t N, int64_t K) {
  return 2 * min_i64(M, kMatmulTileM) * min_i64(N, kMatmulTileN) * max_i64(K, 1);
}

// The tile of C computed by task `task`: batch entry z, rows [m0, m1), columns [n0, n1).
struct MatmulTile {
  int64_t z, m0, m1, n0, n1;
};

inline constexpr MatmulTile kiln_matmul_tile(int64_t task, int64_t M, int64_t N) {
  const int64_t mb = kiln_matmul_m_blocks(M);
  const int64_t nb = kiln_matmul_n_blocks(N);
  const int64_t z = task / (mb * nb);
  const int64_t rest = task % (mb * nb);
  const int64_t m0 = (rest % mb) * kMatmulTileM;
  const int64_t n0 = (rest / mb) * kMatmulTileN;
  return MatmulTile{z, m0, min_i64(m0 + kMatmulTileM, M), n0, min_i64(n0 + kMatmulTileN, N)};
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

} // namespace kiln::abi
#endif
