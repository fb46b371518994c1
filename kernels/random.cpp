// Counter-based random numbers: out[i] is a pure function of (seed, *counter,
// i) through kernel_abi.h's SplitMix64 hashing, so values agree with the
// reference kernels and do not depend on how tasks are split. A task is a
// block of kElementBlock elements (kernel_abi.h). Doubles (lo, hi, mean,
// stddev) arrive as their bit patterns in int64 arguments.
//
// uniform: lo + (hi - lo) * u in double, rounded once: bit-exact with the
// reference. normal: Box-Muller on two draws per element (2i, 2i + 1),
//   z = sqrt(-2 log u1) * cos(2 pi u2),  u1 in (0, 1], u2 in [0, 1).
// f32 works in float with the kernel library's log and a polynomial cosine
// (a few ulp from the double reference; the tails end at 5.8 sigma, where
// u1 = 2^-24). f64 calls libm's log and cos in the reference's order.
#include <stdint.h>

#include "kernel_abi.h"
#include "kernels.h"

namespace kiln::kernels::random {

#define KILN_INLINE __attribute__((always_inline)) inline

constexpr double kTwoPi = 6.283185307179586; // 2 * M_PI, exactly

// sqrt as an instruction: the libm call that __builtin_sqrt becomes under
// errno semantics would not vectorize (gcc, for the native tests, has no
// elementwise builtin but needs none).
KILN_INLINE float sqrt(float x) {
#if defined(__clang__)
  return __builtin_elementwise_sqrt(x);
#else
  return __builtin_sqrtf(x);
#endif
}
KILN_INLINE double sqrt(double x) {
#if defined(__clang__)
  return __builtin_elementwise_sqrt(x);
#else
  return __builtin_sqrt(x);
#endif
}

// cos(2 pi u) for u in [0, 1) with 24-bit u: folded exactly to sin(2 pi r),
// |r| <= 1/4, then Taylor to r^13 (truncation under 7e-10).
KILN_INLINE float cos_2pi_f32(float u) {
  const float t = u >= 0.5f ? u - 1.f : u; // [-1/2, 1/2), exact
  const float a = t < 0.f ? -t : t;
  const float r = 0.25f - a; // exact: a is a multiple of 2^-24 below 1/2
  const float r2 = r * r;
  float p = 3.8199525848482803f;
  p = p * r2 - 15.094642576822984f;
  p = p * r2 + 42.058693944897634f;
  p = p * r2 - 76.70585975306136f;
  p = p * r2 + 81.60524927607504f;
  p = p * r2 - 41.341702240399755f;
  p = p * r2 + 6.283185307179586f;
  return r * p;
}

// Calls f(i) for every element of tasks [task_begin, task_end).
template <typename F>
KILN_INLINE void for_each_element(int64_t n, int64_t task_begin, int64_t task_end, F f) {
  const int64_t tasks = abi::kiln_block_tasks(n);
  if (task_end > tasks) task_end = tasks;
  if (task_begin >= task_end) return;
  const int64_t end = abi::min_i64(task_end * abi::kElementBlock, n);
  for (int64_t i = task_begin * abi::kElementBlock; i < end; ++i) f(i);
}

template <typename T>
KILN_INLINE void uniform(const int64_t *counter, T *out, int64_t n, int64_t seed, int64_t lo_bits,
                         int64_t hi_bits, int64_t task_begin, int64_t task_end) {
  const uint64_t key = abi::kiln_random_key(seed, *counter);
  const double lo = abi::kiln_f64_from_bits(lo_bits), hi = abi::kiln_f64_from_bits(hi_bits);
  for_each_element(n, task_begin, task_end, [&](int64_t i) {
    const uint64_t bits = abi::kiln_random_bits(key, i);
    const double u = sizeof(T) == 4 ? double(abi::kiln_unit_f32(bits)) : abi::kiln_unit_f64(bits);
    out[i] = abi::kiln_scale_uniform<T>(u, lo, hi);
  });
}

KILN_INLINE void normal(const int64_t *counter, float *out, int64_t n, int64_t seed,
                        int64_t mean_bits, int64_t stddev_bits, int64_t task_begin,
                        int64_t task_end) {
  const uint64_t key = abi::kiln_random_key(seed, *counter);
  const float mean = float(abi::kiln_f64_from_bits(mean_bits)),
              stddev = float(abi::kiln_f64_from_bits(stddev_bits));
  for_each_element(n, task_begin, task_end, [&](int64_t i) {
    const float u1 = abi::kiln_unit_open_f32(abi::kiln_random_bits(key, 2 * i));
    const float u2 = abi::kiln_unit_f32(abi::kiln_random_bits(key, 2 * i + 1));
    const float z = sqrt(-2.f * kiln_log_f32(u1)) * cos_2pi_f32(u2);
    out[i] = mean + stddev * z;
  });
}

KILN_INLINE void normal(const int64_t *counter, double *out, int64_t n, int64_t seed,
                        int64_t mean_bits, int64_t stddev_bits, int64_t task_begin,
                        int64_t task_end) {
  const uint64_t key = abi::kiln_random_key(seed, *counter);
  const double mean = abi::kiln_f64_from_bits(mean_bits),
               stddev = abi::kiln_f64_from_bits(stddev_bits);
  for_each_element(n, task_begin, task_end, [&](int64_t i) {
    const double u1 = abi::kiln_unit_open_f64(abi::kiln_random_bits(key, 2 * i));
    const double u2 = abi::kiln_unit_f64(abi::kiln_random_bits(key, 2 * i + 1));
    // The reference's operations, one per statement (no FMA contraction).
    const double angle = kTwoPi * u2;
    const double radius = sqrt(-2.0 * __builtin_log(u1));
    const double z = radius * __builtin_cos(angle);
    const double scaled = stddev * z;
    out[i] = mean + scaled;
  });
}

#undef KILN_INLINE

} // namespace kiln::kernels::random

#define KILN_RANDOM(name, T, suffix)                                                               \
  extern "C" void kiln_random_##name##_##suffix(const int64_t *counter, T *out, int64_t n,         \
                                                int64_t seed, int64_t a_bits, int64_t b_bits,      \
                                                int64_t task_begin, int64_t task_end) {            \
    kiln::kernels::random::name(counter, out, n, seed, a_bits, b_bits, task_begin, task_end);      \
  }

KILN_RANDOM(uniform, float, f32)
KILN_RANDOM(uniform, double, f64)
KILN_RANDOM(normal, float, f32)
KILN_RANDOM(normal, double, f64)

#undef KILN_RANDOM
