// Scalar math functions for the kernels and for elementwise code the JIT emits.
//
// The f32 functions are branch-free (ternaries on computed values become
// selects) and use only float/int arithmetic and bit casts, so a loop that
// calls them vectorizes once they are inlined. They handle inf, NaN, signed
// zero, subnormals, overflow and underflow as IEEE/C99 do. Largest error over
// all 2^32 inputs, in ulp of the exact result (clang with FMA / gcc without):
//   exp 0.99/0.95  expm1 1.44/1.49  log 0.84/0.84  log1p 0.84/0.84
//   tanh 1.33/1.33  erf 0.98/1.24
// pow_f32 works in double internally (log2 and exp2 polynomials; 0.5 ulp on
// random tests), so it vectorizes at half width.
//
// The f64 functions call libm through the builtins (resolved at JIT time).
#include <stdint.h>

#include "kernels.h"

namespace kiln::kernels::math {

#define KILN_INLINE __attribute__((always_inline)) inline

constexpr float kInf = __builtin_inff();
constexpr float kNaN = __builtin_nanf("");

template <typename To, typename From> KILN_INLINE To bit_cast(From x) {
  static_assert(sizeof(To) == sizeof(From));
  To y;
  __builtin_memcpy(&y, &x, sizeof y);
  return y;
}
KILN_INLINE uint32_t bits(float x) { return bit_cast<uint32_t>(x); }
KILN_INLINE uint64_t bits(double x) { return bit_cast<uint64_t>(x); }
KILN_INLINE float as_f32(uint32_t u) { return bit_cast<float>(u); }
KILN_INLINE double as_f64(uint64_t u) { return bit_cast<double>(u); }

KILN_INLINE float abs_f32(float x) { return as_f32(bits(x) & 0x7fffffffu); }
// |magnitude| with the sign of `sign`.
KILN_INLINE float copysign_f32(float magnitude, float sign) {
  return as_f32((bits(magnitude) & 0x7fffffffu) | (bits(sign) & 0x80000000u));
}
// Clamps to [lo, hi]; NaN passes through (comparisons with NaN are false).
KILN_INLINE float clamp(float x, float lo, float hi) {
  x = x < lo ? lo : x;
  return x > hi ? hi : x;
}
// Nearest integer (ties to even) of |x| < 2^22, via the 1.5 * 2^23 trick.
KILN_INLINE float round_int(float x) { return (x + 0x1.8p23f) - 0x1.8p23f; }
// 2^n for -126 <= n <= 127.
KILN_INLINE float pow2i(int32_t n) { return as_f32(uint32_t(n + 127) << 23); }
// v * 2^n for -252 <= n <= 254 in two exact steps, so results that are
// subnormal or overflow round once, correctly.
KILN_INLINE float scale(float v, int32_t n) {
  const int32_t h = n >> 1;
  return v * pow2i(h) * pow2i(n - h);
}

// ---- exp / expm1 -----------------------------------------------------------

// x = n * ln2 + r with |r| <= ln2 / 2: ln2 split in a 15-bit head (n * head is
// exact for |n| < 512) and a tail (Cody-Waite).
struct Reduced {
  float r;
  int32_t n;
};
KILN_INLINE Reduced reduce_ln2(float x) {
  const float n = round_int(x * 1.44269504088896341f);
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-6f;
  return {r, int32_t(n)};
}

// expm1(r) for |r| <= ln2 / 2; under 1 ulp (minimax coefficients from SLEEF).
KILN_INLINE float expm1_reduced(float r) {
  float u = 0.000198527617612853646278381f;
  u = u * r + 0.00139304355252534151077271f;
  u = u * r + 0.00833336077630519866943359f;
  u = u * r + 0.0416664853692054748535156f;
  u = u * r + 0.166666671633720397949219f;
  u = u * r + 0.5f;
  return r + r * r * u;
}

KILN_INLINE float exp_f32(float x) {
  // Beyond [-104, 89] the result is 0 or inf anyway; the clamp keeps n in
  // scale()'s range. NaN is replaced by 0 so the float->int conversion is defined.
  const float xc = x != x ? 0.f : clamp(x, -104.f, 89.f);
  const Reduced red = reduce_ln2(xc);
  const float e = scale(1.f + expm1_reduced(red.r), red.n);
  return x != x ? x : e;
}

KILN_INLINE float expm1_f32(float x) {
  // Below -30 the result rounds to -1; above 89 it overflows like exp.
  const float xc = x != x ? 0.f : clamp(x, -30.f, 89.f);
  const Reduced red = reduce_ln2(xc);
  const float p = expm1_reduced(red.r);
  // expm1(x) = 2^n * p + (2^n - 1): 2^n - 1 is exact for n <= 24 and the
  // one rounding happens in the final add. For larger n, 2^n * (1 + p).
  const float t = pow2i(red.n < 24 ? red.n : 24);
  const float small = t * p + (t - 1.f);
  const float large = scale(1.f + p, red.n);
  const float e = red.n > 24 ? large : small;
  return x != x || x == 0.f ? x : e; // also keeps the sign of -0
}

// ---- log / log1p -----------------------------------------------------------

// k * ln2 + log(1 + f) for |f| <= sqrt(2) - 1 (fdlibm's e_logf kernel:
// log(1 + f) = f - hfsq + s * (hfsq + R) with s = f / (2 + f) and R a minimax
// polynomial in s^2; under 1 ulp).
KILN_INLINE float log_reduced(float k, float f) {
  const float s = f / (2.f + f);
  const float z = s * s;
  const float w = z * z;
  const float t1 = w * (4.0000000596e-01f + w * (2.2222198546e-01f + w * 1.5313838422e-01f));
  const float t2 = z * (6.6666668653e-01f +
                        w * (2.8571429849e-01f + w * (1.8183572590e-01f + w * 1.4798198640e-01f)));
  const float R = t2 + t1;
  const float hfsq = 0.5f * f * f;
  return k * 6.9313812256e-01f - ((hfsq - (s * (hfsq + R) + k * 9.0580006145e-06f)) - f);
}

// Splits a positive normal x into 2^k * m with m in [sqrt(1/2), sqrt(2)).
struct Split {
  float m;
  float k;
};
KILN_INLINE Split split_sqrt2(float x) {
  // Offsetting the bits by (1 - sqrt(1/2)) moves the exponent boundary to sqrt(1/2).
  const uint32_t u = bits(x) + (0x3f800000u - 0x3f3504f3u);
  return {as_f32((u & 0x007fffffu) + 0x3f3504f3u), float(int32_t(u >> 23) - 127)};
}

// log2(a) for a positive normal double in double precision (relative error
// < 1e-13): a = 2^k * m, m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(s) with
// s = (m - 1) / (m + 1).
KILN_INLINE double log2_f64(double a) {
  const uint64_t u = bits(a) + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull);
  const double k = double(int64_t(u >> 52) - 1023);
  const double m = as_f64((u & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull);
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s; // <= 0.0295: the first omitted term, s^16 / 17, is < 4e-14
  double series = 1.0 / 15;
  for (int i = 13; i >= 1; i -= 2) series = series * s2 + 1.0 / i;
  return k + 2.0 * s * series * 1.4426950408889634074;
}

KILN_INLINE float log_f32(float x) {
  // Subnormals are scaled into the normal range first.
  const bool subnormal = x < 0x1p-126f;
  const Split sp = split_sqrt2(subnormal ? x * 0x1p25f : x);
  const float r = log_reduced(subnormal ? sp.k - 25.f : sp.k, sp.m - 1.f);
  float y = x == kInf ? kInf : r;
  y = x == 0.f ? -kInf : y;
  y = x < 0.f ? kNaN : y;
  return x != x ? x : y;
}

KILN_INLINE float log1p_f32(float x) {
  // Around 0, where 1 + x is in [sqrt(1/2), sqrt(2)), the float kernel with
  // f = x is exact enough. Elsewhere 1 + x is formed exactly in double and
  // the logarithm taken in double (the float kernel would lose up to 2 ulp
  // to the rounding of 1 + x and the cancellation against k * ln2).
  const bool near0 = x > -0.29289323f && x < 0.41421354f;
  const double u = 1.0 + double(near0 || x <= -1.f || x == kInf ? 0.f : x);
  const float far = float(log2_f64(u) * 0.69314718055994530942);
  float y = near0 ? log_reduced(0.f, x) : far;
  y = x == kInf ? kInf : y;
  y = x == -1.f ? -kInf : y;
  y = x < -1.f ? kNaN : y;
  return x != x || x == 0.f ? x : y;
}

// ---- tanh / erf ------------------------------------------------------------

KILN_INLINE float tanh_f32(float x) {
  const float a = abs_f32(x);
  // |x| < 0.625: odd polynomial (Cephes tanhf).
  const float z = a * a;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  p = p * z * a + a;
  // Otherwise 1 - 2 / (e^2|x| + 1), which saturates to 1 (e^2|x| may be inf).
  const float q = 1.f - 2.f / (exp_f32(2.f * a) + 1.f);
  return copysign_f32(a < 0.625f ? p : q, x);
}

// Three ranges, each with a least-squares polynomial fitted in double
// precision; errors quoted are of the fit alone.
KILN_INLINE float erf_f32(float x) {
  // erf(x) rounds to +-1 beyond 3.92; clamping keeps the tail formula finite.
  const float a = abs_f32(x) > 4.f ? 4.f : abs_f32(x);
  // [0, 0.921875): erf(x) = x + x * P(x^2), P fitted to erf(x)/x - 1 (error
  // 4e-10); adding the exact x last keeps the rounding error small.
  const float z = a * a;
  float p = 8.370426442176e-05f;
  p = p * z - 8.142794743203e-04f;
  p = p * z + 5.201041946363e-03f;
  p = p * z - 2.685940320974e-02f;
  p = p * z + 1.128369561722e-01f;
  p = p * z - 3.761263374824e-01f;
  p = p * z + 1.28379166641e-01f;
  const float small = a + a * p;
  // [0.921875, 1.25): erf(x) = erf(1) + M(x - 1), M fitted to erf(1 + s) - the
  // float nearest erf(1) (absolute error 6e-10); x - 1 is exact.
  const float s = a - 1.f;
  float m = 1.230509494782e-02f;
  m = m * s - 7.044364684302e-02f;
  m = m * s + 6.919755307308e-02f;
  m = m * s + 1.383804247388e-01f;
  m = m * s - 4.151078857382e-01f;
  m = m * s + 4.151074744804e-01f;
  m = m * s + 1.385753790921e-08f;
  const float mid = 8.427007794380e-01f + m;
  // [1.25, 4]: erf(x) = 1 - exp(-x^2) * Q(1/x) / x, Q fitted to
  // x * erfc(x) * exp(x^2) (relative error 4.4e-9).
  const float u = 1.f / a;
  float q = 1.025917839936e-01f;
  q = q * u - 5.248377120402e-01f;
  q = q * u + 1.161624910536e+00f;
  q = q * u - 1.404663701507e+00f;
  q = q * u + 8.940545178361e-01f;
  q = q * u - 9.301076972284e-02f;
  q = q * u - 2.718507888746e-01f;
  q = q * u - 4.844866491780e-04f;
  q = q * u + 5.641891270797e-01f;
  const float large = 1.f - exp_f32(-z) * (q * u);
  const float r = a < 0.921875f ? small : a < 1.25f ? mid : large;
  return x != x ? x : copysign_f32(r, x);
}

// ---- pow -------------------------------------------------------------------

// 2^t for |t| <= 200 in double precision (Taylor series of e^(f ln2), |f| <= 1/2).
KILN_INLINE double exp2_f64(double t) {
  const double n = (t + 0x1.8p52) - 0x1.8p52;
  const double g = (t - n) * 0.69314718055994530942;
  double p = 1.0 / 39916800; // 1/11!
  p = p * g + 1.0 / 3628800;
  p = p * g + 1.0 / 362880;
  p = p * g + 1.0 / 40320;
  p = p * g + 1.0 / 5040;
  p = p * g + 1.0 / 720;
  p = p * g + 1.0 / 120;
  p = p * g + 1.0 / 24;
  p = p * g + 1.0 / 6;
  p = p * g + 0.5;
  p = p * g + 1.0;
  p = p * g + 1.0;
  return p * as_f64(uint64_t(int64_t(n) + 1023) << 52);
}

// C powf semantics: pow(x, +-0) = 1, pow(1, y) = 1, pow(-1, +-inf) = 1,
// negative finite x with finite non-integer y is NaN, the sign of the result
// is negative iff x is negative (or -0) and y an odd integer.
KILN_INLINE float pow_f32(float x, float y) {
  const float ax = abs_f32(x), ay = abs_f32(y);
  // |y| >= 2^23 is an integer (and even from 2^24 on); below, adding 2^23
  // rounds |y| to an integer.
  const bool y_int = ay >= 0x1p23f || (ay + 0x1p23f) - 0x1p23f == ay;
  const bool y_odd = y_int && ay < 0x1p24f && (int32_t(ay < 0x1p24f ? ay : 0.f) & 1);
  // y * log2|x| in double; log2 of 0 and inf set explicitly.
  double l = log2_f64(ax); // exact input: floats are normal doubles
  l = ax == 0.f ? -double(kInf) : l;
  l = ax == kInf ? double(kInf) : l;
  double t = double(y) * l;
  t = t != t ? 0.0 : t; // NaN handled below; keeps the conversions defined
  t = t < -200.0 ? -200.0 : t > 200.0 ? 200.0 : t;
  float r = float(exp2_f64(t));
  r = y_odd && (bits(x) >> 31) ? -r : r;
  r = x < 0.f && ax != kInf && ay != kInf && !y_int ? kNaN : r;
  r = x != x || y != y ? kNaN : r;
  r = ax == 1.f && ay == kInf ? 1.f : r;
  return x == 1.f || y == 0.f ? 1.f : r;
}

#undef KILN_INLINE

} // namespace kiln::kernels::math

extern "C" {

float kiln_exp_f32(float x) { return kiln::kernels::math::exp_f32(x); }
float kiln_expm1_f32(float x) { return kiln::kernels::math::expm1_f32(x); }
float kiln_log_f32(float x) { return kiln::kernels::math::log_f32(x); }
float kiln_log1p_f32(float x) { return kiln::kernels::math::log1p_f32(x); }
float kiln_tanh_f32(float x) { return kiln::kernels::math::tanh_f32(x); }
float kiln_erf_f32(float x) { return kiln::kernels::math::erf_f32(x); }
float kiln_pow_f32(float x, float y) { return kiln::kernels::math::pow_f32(x, y); }
// sin and cos serve schedules and the like, not hot loops: libm's scalar calls.
float kiln_sin_f32(float x) { return __builtin_sinf(x); }
float kiln_cos_f32(float x) { return __builtin_cosf(x); }

double kiln_exp_f64(double x) { return __builtin_exp(x); }
double kiln_expm1_f64(double x) { return __builtin_expm1(x); }
double kiln_log_f64(double x) { return __builtin_log(x); }
double kiln_log1p_f64(double x) { return __builtin_log1p(x); }
double kiln_tanh_f64(double x) { return __builtin_tanh(x); }
double kiln_erf_f64(double x) { return __builtin_erf(x); }
double kiln_pow_f64(double x, double y) { return __builtin_pow(x, y); }
double kiln_sin_f64(double x) { return __builtin_sin(x); }
double kiln_cos_f64(double x) { return __builtin_cos(x); }

} // extern "C"
