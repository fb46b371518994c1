// Tests of the native kernel library (kernels/, compiled by clang at build
// time and linked into the runtime), against straightforward double-precision
// loops. Every check states
// its tolerance. Task ranges are also split in different ways (all at once,
// one by one, in reverse, in random chunks, past the end) and the outputs
// must be bit-identical.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/kernel_abi.h"
#include "kernels/kernels.h"

namespace {

using kiln::abi::kiln_matmul_tasks;
using kiln::abi::kiln_reduce_tasks;
using kiln::abi::kiln_softmax_tasks;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kInfD = std::numeric_limits<double>::infinity();
constexpr double kNaND = std::numeric_limits<double>::quiet_NaN();

// ---- task splitting --------------------------------------------------------

using Range = std::function<void(int64_t, int64_t)>;

enum class Split { kAll, kOneByOne, kReverse, kRandom, kPastEnd };
const Split kSplits[] = {Split::kAll, Split::kOneByOne, Split::kReverse, Split::kRandom,
                         Split::kPastEnd};

// Runs [0, tasks) through run(begin, end) in the given way.
void run_tasks(int64_t tasks, Split split, std::mt19937 &rng, const Range &run) {
  switch (split) {
  case Split::kAll: run(0, tasks); break;
  case Split::kOneByOne:
    for (int64_t t = 0; t < tasks; ++t) run(t, t + 1);
    break;
  case Split::kReverse:
    for (int64_t t = tasks; t-- > 0;) run(t, t + 1);
    break;
  case Split::kRandom:
    for (int64_t t = 0; t < tasks;) {
      const int64_t n = std::uniform_int_distribution<int64_t>(0, 3)(rng); // empty chunks too
      run(t, std::min(tasks, t + n));
      t += n;
    }
    break;
  case Split::kPastEnd: // kernels clamp task_end to their task count
    run(0, tasks + 7);
    run(tasks, tasks + 3);
    break;
  }
}

template <typename T> bool bit_equal(const std::vector<T> &a, const std::vector<T> &b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// ---- math helpers ----------------------------------------------------------

// |got - ref| in units of the float ulp at ref (subnormal ulp below 2^-126).
// Results that round to inf (or are NaN) must match exactly.
double ulp_error(float got, double ref) {
  if (std::isnan(ref)) return std::isnan(got) ? 0 : 1e30;
  const float rf = static_cast<float>(ref);
  if (std::isinf(rf) || std::isinf(got)) return got == rf ? 0 : 1e30;
  int e;
  std::frexp(ref, &e);
  const double ulp = std::max(std::ldexp(1.0, e - 24), 0x1p-149);
  return std::fabs(double(got) - ref) / ulp;
}

// The f32 accuracy target: 2 ulp, or 1e-6 relative where that is looser.
bool within_target(float got, double ref) {
  return ulp_error(got, ref) <= 2.0 || std::fabs(double(got) - ref) <= 1e-6 * std::fabs(ref);
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

bool same_value(float a, float b) { // NaN == NaN, and the sign of zero matters
  return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}
bool same_value(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

struct UnaryF32 {
  const char *name;
  float (*f)(float);
  double (*ref)(double);
};
const UnaryF32 kUnary[] = {
    {"exp", kiln_exp_f32, [](double x) { return std::exp(x); }},
    {"expm1", kiln_expm1_f32, [](double x) { return std::expm1(x); }},
    {"log", kiln_log_f32, [](double x) { return std::log(x); }},
    {"log1p", kiln_log1p_f32, [](double x) { return std::log1p(x); }},
    {"tanh", kiln_tanh_f32, [](double x) { return std::tanh(x); }},
    {"erf", kiln_erf_f32, [](double x) { return std::erf(x); }},
};

} // namespace

// ---- math ------------------------------------------------------------------

TEST_CASE("math f32: special values", "[kernels][math]") {
  // Exact expectations (tolerance 0): IEEE special cases and saturation.
  CHECK(kiln_exp_f32(0.f) == 1.f);
  CHECK(kiln_exp_f32(100.f) == kInf);
  CHECK(kiln_exp_f32(89.f) == kInf);
  CHECK(kiln_exp_f32(-200.f) == 0.f);
  CHECK(kiln_exp_f32(-104.f) == 0.f);
  CHECK(kiln_exp_f32(kInf) == kInf);
  CHECK(kiln_exp_f32(-kInf) == 0.f);
  CHECK(std::isnan(kiln_exp_f32(kNaN)));
  CHECK(kiln_exp_f32(-100.f) > 0.f); // subnormal result, not flushed

  CHECK(same_value(kiln_expm1_f32(-0.f), -0.f));
  CHECK(kiln_expm1_f32(kInf) == kInf);
  CHECK(kiln_expm1_f32(100.f) == kInf);
  CHECK(kiln_expm1_f32(-kInf) == -1.f);
  CHECK(kiln_expm1_f32(-50.f) == -1.f);
  CHECK(std::isnan(kiln_expm1_f32(kNaN)));

  CHECK(kiln_log_f32(1.f) == 0.f);
  CHECK(kiln_log_f32(0.f) == -kInf);
  CHECK(kiln_log_f32(-0.f) == -kInf);
  CHECK(std::isnan(kiln_log_f32(-1.f)));
  CHECK(std::isnan(kiln_log_f32(-kInf)));
  CHECK(kiln_log_f32(kInf) == kInf);
  CHECK(std::isnan(kiln_log_f32(kNaN)));

  CHECK(same_value(kiln_log1p_f32(-0.f), -0.f));
  CHECK(kiln_log1p_f32(-1.f) == -kInf);
  CHECK(std::isnan(kiln_log1p_f32(-2.f)));
  CHECK(kiln_log1p_f32(kInf) == kInf);
  CHECK(std::isnan(kiln_log1p_f32(kNaN)));

  CHECK(same_value(kiln_tanh_f32(0.f), 0.f));
  CHECK(same_value(kiln_tanh_f32(-0.f), -0.f));
  CHECK(kiln_tanh_f32(20.f) == 1.f);
  CHECK(kiln_tanh_f32(-20.f) == -1.f);
  CHECK(kiln_tanh_f32(kInf) == 1.f);
  CHECK(kiln_tanh_f32(-kInf) == -1.f);
  CHECK(std::isnan(kiln_tanh_f32(kNaN)));

  CHECK(same_value(kiln_erf_f32(0.f), 0.f));
  CHECK(same_value(kiln_erf_f32(-0.f), -0.f));
  CHECK(kiln_erf_f32(5.f) == 1.f);
  CHECK(kiln_erf_f32(-kInf) == -1.f);
  CHECK(std::isnan(kiln_erf_f32(kNaN)));
}

TEST_CASE("math f32: accuracy over all exponents", "[kernels][math]") {
  // Every 997th bit pattern (about 4.3 million inputs: all signs, exponents,
  // subnormals, inf and NaN), plus a dense walk over [-20, 20].
  // Tolerance: within_target, i.e. 2 ulp or 1e-6 relative, of libm in double.
  std::vector<float> xs;
  for (uint64_t u = 0; u < (1ull << 32); u += 997) xs.push_back(from_bits(uint32_t(u)));
  for (float x = -20.f; x <= 20.f; x += 1.f / 4096) xs.push_back(x);
  for (float x : {0x1p-149f, 0x1p-126f, 0x1.fffffep127f, 88.7228f, 88.72284f, -87.33655f, -103.97f,
                  3.92f, 0.625f, 0.921875f, 0.41421354f, -0.29289323f, 1e-8f, -1e-8f})
    for (float s : {1.f, -1.f}) xs.push_back(s * x);
  for (const UnaryF32 &fn : kUnary) {
    INFO(fn.name);
    double worst = 0;
    float worst_x = 0;
    int64_t failures = 0;
    for (float x : xs) {
      const float got = fn.f(x);
      const double ref = fn.ref(x);
      if (!within_target(got, ref)) {
        if (failures++ == 0) worst_x = x;
      }
      worst = std::max(worst, std::isnan(ref) ? 0.0 : ulp_error(got, ref));
    }
    INFO("first failing x = " << worst_x << ", worst ulp error " << worst);
    CHECK(failures == 0);
  }
}

TEST_CASE("math f32: pow", "[kernels][math]") {
  const float specials[] = {0.f,
                            -0.f,
                            1.f,
                            -1.f,
                            0.5f,
                            -0.5f,
                            2.f,
                            -2.f,
                            3.f,
                            -3.f,
                            2.5f,
                            -2.5f,
                            1e-30f,
                            1e30f,
                            0x1p-149f,
                            0x1.fffffep127f,
                            0x1p24f,
                            -0x1p24f,
                            0x1p23f + 1.f,
                            -(0x1p23f + 1.f),
                            0x1p22f + 1.f,
                            -(0x1p22f + 1.f),
                            0x1p22f + 0.5f,
                            1.0000001f,
                            -1.0000001f,
                            kInf,
                            -kInf,
                            kNaN};
  SECTION("special cases follow C powf exactly (tolerance 0 for 0, inf, NaN and signs)") {
    for (float x : specials)
      for (float y : specials) {
        const float got = kiln_pow_f32(x, y);
        const float want = std::pow(x, y); // glibc powf
        INFO("pow(" << x << ", " << y << ") = " << got << ", powf gives " << want);
        if (std::isnan(want) || std::isinf(want) || want == 0.f || std::isnan(got) ||
            std::isinf(got) || got == 0.f)
          CHECK(same_value(got, want));
        else
          CHECK(within_target(got, std::pow(double(x), double(y))));
      }
  }
  SECTION("random finite arguments: 2 ulp or 1e-6 relative of pow in double") {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> base(-30.f, 30.f), expo(-40.f, 40.f), unit(0.f, 1.f);
    std::uniform_int_distribution<int> small_int(-40, 40);
    for (int i = 0; i < 200000; ++i) {
      float x = base(rng);
      const float y = i % 2 ? float(small_int(rng)) : expo(rng); // integer y for negative bases
      if (i % 5 == 0) x = unit(rng) * 3.f;
      const double want = std::pow(double(x), double(y));
      const float got = kiln_pow_f32(x, y);
      INFO("pow(" << x << ", " << y << ")");
      if (std::isnan(want))
        CHECK(std::isnan(got));
      else
        CHECK(within_target(got, want));
    }
  }
}

TEST_CASE("math f64: same as libm", "[kernels][math]") {
  // The f64 functions call libm: results must be identical (tolerance 0).
  const double xs[] = {0.0,  -0.0,  1e-310, 0.3,   -0.7,   1.0,   -1.0,   2.5,
                       20.0, -20.0, 700.0,  710.0, -750.0, kInfD, -kInfD, kNaND};
  for (double x : xs) {
    INFO("x = " << x);
    CHECK(same_value(kiln_exp_f64(x), std::exp(x)));
    CHECK(same_value(kiln_expm1_f64(x), std::expm1(x)));
    CHECK(same_value(kiln_log_f64(x), std::log(x)));
    CHECK(same_value(kiln_log1p_f64(x), std::log1p(x)));
    CHECK(same_value(kiln_tanh_f64(x), std::tanh(x)));
    CHECK(same_value(kiln_erf_f64(x), std::erf(x)));
    for (double y : xs) CHECK(same_value(kiln_pow_f64(x, y), std::pow(x, y)));
  }
}

// ---- matmul ----------------------------------------------------------------

namespace {

enum class Layout { kRowMajor, kTransposed, kStrided };

struct MatmulCase {
  int64_t M, N, K;
  Layout a_layout = Layout::kRowMajor, b_layout = Layout::kRowMajor;
  int64_t batch = 1;
  bool broadcast_a = false, broadcast_b = false; // batch stride 0
};

struct Strides {
  int64_t rs, cs;
};

// Strides of a rows x cols operand stored in the given layout.
Strides strides(Layout layout, int64_t rows, int64_t cols) {
  if (layout == Layout::kTransposed) return {1, rows};
  if (layout == Layout::kStrided) return {2 * cols + 3, 2}; // every other column of a padded matrix
  return {cols, 1};
}

// One past the largest offset of a rows x cols operand (0 if empty).
int64_t extent(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  return rows == 0 || cols == 0 ? 0 : (rows - 1) * rs + (cols - 1) * cs + 1;
}

void matmul(const float *A, const float *B, float *C, int64_t M, int64_t N, int64_t K, int64_t a_rs,
            int64_t a_cs, int64_t b_rs, int64_t b_cs, int64_t batch, int64_t a_bs, int64_t b_bs,
            int64_t c_bs, int64_t tb, int64_t te) {
  kiln_matmul_f32(A, B, C, M, N, K, a_rs, a_cs, b_rs, b_cs, batch, a_bs, b_bs, c_bs, tb, te);
}
void matmul(const double *A, const double *B, double *C, int64_t M, int64_t N, int64_t K,
            int64_t a_rs, int64_t a_cs, int64_t b_rs, int64_t b_cs, int64_t batch, int64_t a_bs,
            int64_t b_bs, int64_t c_bs, int64_t tb, int64_t te) {
  kiln_matmul_f64(A, B, C, M, N, K, a_rs, a_cs, b_rs, b_cs, batch, a_bs, b_bs, c_bs, tb, te);
}

// Runs the case with every split, checks the result against a double
// reference with tolerance (K + 2) * eps * sum_k |A_ik B_kj| (eps = 2^-24 for
// f32, 2^-53 for f64), checks that the gaps between batch entries of C are
// untouched, and that all splits agree bit for bit.
template <typename T> void check_matmul(const MatmulCase &c, std::mt19937 &rng) {
  const auto [a_rs, a_cs] = strides(c.a_layout, c.M, c.K);
  const auto [b_rs, b_cs] = strides(c.b_layout, c.K, c.N);
  const int64_t a_ext = extent(c.M, c.K, a_rs, a_cs), b_ext = extent(c.K, c.N, b_rs, b_cs);
  const int64_t a_bs = c.broadcast_a ? 0 : a_ext, b_bs = c.broadcast_b ? 0 : b_ext;
  const int64_t c_bs = c.M * c.N + 5; // a gap between batch entries that must stay untouched
  // Inputs sized exactly, so that an out-of-bounds read shows up under ASan.
  std::vector<T> A(c.broadcast_a ? a_ext : c.batch * a_ext),
      B(c.broadcast_b ? b_ext : c.batch * b_ext);
  std::uniform_real_distribution<T> dist(-1, 1);
  for (T &x : A) x = dist(rng);
  for (T &x : B) x = dist(rng);
  const T sentinel = T(12345.5);
  const int64_t c_size = c.batch * c_bs;

  const int64_t tasks = kiln_matmul_tasks(c.batch, c.M, c.N);
  std::vector<T> first;
  for (Split split : kSplits) {
    std::vector<T> C(c_size, std::numeric_limits<T>::quiet_NaN());
    for (int64_t z = 0; z < c.batch; ++z)
      for (int64_t i = c.M * c.N; i < c_bs; ++i) C[z * c_bs + i] = sentinel;
    run_tasks(tasks, split, rng, [&](int64_t tb, int64_t te) {
      matmul(A.data(), B.data(), C.data(), c.M, c.N, c.K, a_rs, a_cs, b_rs, b_cs, c.batch, a_bs,
             b_bs, c_bs, tb, te);
    });
    if (split == Split::kAll) {
      const double eps = sizeof(T) == 4 ? 0x1p-24 : 0x1p-53;
      int64_t bad = 0;
      for (int64_t z = 0; z < c.batch; ++z) {
        for (int64_t i = 0; i < c.M; ++i)
          for (int64_t j = 0; j < c.N; ++j) {
            double ref = 0, mag = 0;
            for (int64_t k = 0; k < c.K; ++k) {
              const double p = double(A[z * a_bs + i * a_rs + k * a_cs]) *
                               double(B[z * b_bs + k * b_rs + j * b_cs]);
              ref += p;
              mag += std::fabs(p);
            }
            const double got = C[z * c_bs + i * c.N + j];
            if (!(std::fabs(got - ref) <= double(c.K + 2) * eps * mag)) ++bad;
          }
        for (int64_t i = c.M * c.N; i < c_bs; ++i)
          if (C[z * c_bs + i] != sentinel) ++bad;
      }
      CHECK(bad == 0);
      first = C;
    } else {
      // NaN in the gaps is the sentinel's absence; compare bits of everything.
      CHECK(bit_equal(C, first));
    }
  }
}

std::string describe(const MatmulCase &c) {
  const char *names[] = {"row-major", "transposed", "strided"};
  return "M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) +
         " A " + names[int(c.a_layout)] + " B " + names[int(c.b_layout)] +
         " batch=" + std::to_string(c.batch) + (c.broadcast_a ? " A broadcast" : "") +
         (c.broadcast_b ? " B broadcast" : "");
}

} // namespace

TEST_CASE("matmul f32: shapes, layouts, batches, splits", "[kernels][matmul]") {
  std::mt19937 rng(1);
  const int64_t dims[] = {0, 1, 7, 17, 33, 64, 100};
  const Layout layouts[] = {Layout::kRowMajor, Layout::kTransposed, Layout::kStrided};
  int n = 0;
  for (int64_t M : dims)
    for (int64_t N : dims)
      for (int64_t K : dims) {
        MatmulCase c{M, N, K, layouts[n % 3], layouts[(n / 3) % 3]};
        if (n % 4 == 1) c.batch = 3;
        if (n % 8 == 5) c.batch = 0;
        c.broadcast_a = n % 16 == 1;
        c.broadcast_b = n % 16 == 9;
        ++n;
        INFO(describe(c));
        check_matmul<float>(c, rng);
      }
  // Larger shapes: several task tiles, K blocks and edge strips.
  const MatmulCase big[] = {
      {513, 100, 33},
      {1, 513, 513},
      {513, 1, 7},
      {33, 513, 100, Layout::kTransposed, Layout::kRowMajor},
      {100, 17, 513, Layout::kRowMajor, Layout::kTransposed},
      {200, 300, 129, Layout::kRowMajor, Layout::kTransposed},
      {6, 300, 200, Layout::kRowMajor, Layout::kRowMajor},
      {3, 256, 300, Layout::kStrided, Layout::kRowMajor, 2, false, true},
      {97, 130, 257, Layout::kTransposed, Layout::kStrided, 2, true, false},
      {784, 512, 64, Layout::kTransposed, Layout::kRowMajor},
      // Right edges 4 vectors wide but not full (N % 64 in 49..63).
      {64, 50, 784, Layout::kTransposed, Layout::kRowMajor},
      {7, 63, 20},
      {30, 120, 33, Layout::kRowMajor, Layout::kTransposed},
      {2, 186, 40, Layout::kStrided, Layout::kStrided},
  };
  for (const MatmulCase &c : big) {
    INFO(describe(c));
    check_matmul<float>(c, rng);
  }
}

TEST_CASE("matmul f64: shapes, layouts, batches, splits", "[kernels][matmul]") {
  std::mt19937 rng(2);
  const int64_t dims[] = {0, 1, 7, 17, 33, 100};
  const Layout layouts[] = {Layout::kRowMajor, Layout::kTransposed, Layout::kStrided};
  int n = 0;
  for (int64_t M : dims)
    for (int64_t N : dims)
      for (int64_t K : {int64_t(0), int64_t(1), int64_t(17), int64_t(130)}) {
        MatmulCase c{M, N, K, layouts[n % 3], layouts[(n / 3) % 3]};
        if (n % 4 == 1) c.batch = 2;
        c.broadcast_b = n % 8 == 1;
        ++n;
        INFO(describe(c));
        check_matmul<double>(c, rng);
      }
  const MatmulCase big[] = {{1, 513, 200},
                            {200, 150, 70, Layout::kRowMajor, Layout::kTransposed},
                            {100, 64, 513},
                            // Right edges 4 vectors wide but not full (N % 32 in 25..31).
                            {64, 30, 100, Layout::kTransposed, Layout::kRowMajor},
                            {9, 61, 40},
                            {100, 127, 20, Layout::kStrided, Layout::kTransposed}};
  for (const MatmulCase &c : big) {
    INFO(describe(c));
    check_matmul<double>(c, rng);
  }
}

// ---- reductions --------------------------------------------------------------

namespace {

template <typename T> struct ReduceFns;
#define KILN_TEST_REDUCE_FNS(T, s, mean_fn)                                                        \
  template <> struct ReduceFns<T> {                                                                \
    using Fn = void (*)(const T *, T *, int64_t, int64_t, int64_t, int64_t, int64_t);              \
    using ArgFn = void (*)(const T *, int64_t *, int64_t, int64_t, int64_t, int64_t, int64_t);     \
    static constexpr Fn sum = kiln_reduce_sum_##s, max = kiln_reduce_max_##s,                      \
                        min = kiln_reduce_min_##s;                                                 \
    static constexpr Fn mean = mean_fn;                                                            \
    static constexpr ArgFn argmax = kiln_argmax_##s, argmin = kiln_argmin_##s;                     \
  };
KILN_TEST_REDUCE_FNS(float, f32, kiln_reduce_mean_f32)
KILN_TEST_REDUCE_FNS(double, f64, kiln_reduce_mean_f64)
KILN_TEST_REDUCE_FNS(int32_t, i32, nullptr) // no integer mean
KILN_TEST_REDUCE_FNS(int64_t, i64, nullptr)
#undef KILN_TEST_REDUCE_FNS

// Runs fn over all splits; returns the kAll output and checks the others are bit-identical.
template <typename Out, typename Fn>
std::vector<Out> run_all_splits(int64_t tasks, size_t out_size, std::mt19937 &rng, Fn fn) {
  std::vector<Out> first;
  for (Split split : kSplits) {
    std::vector<Out> out(out_size, Out(77));
    run_tasks(tasks, split, rng, [&](int64_t tb, int64_t te) { fn(out.data(), tb, te); });
    if (split == Split::kAll)
      first = out;
    else
      CHECK(bit_equal(out, first));
  }
  return first;
}

template <typename T> bool is_nan_value(T x) { return x != x; }

enum class Values { kTies, kReals, kNaNs }; // few distinct values; random reals; ties and NaNs

// Checks sum (and mean for floats), max, min, argmax, argmin of one shape.
// Integers: exact. Floats: sum within reduce * eps * sum|x| of the double sum
// (mean: (reduce + 1) * eps * sum|x| / reduce), max/min/arg* exact, including
// NaN propagation and first-index ties.
template <typename T>
void check_reduce(int64_t outer, int64_t reduce, int64_t inner, Values values, std::mt19937 &rng) {
  const bool is_float = std::is_floating_point_v<T>;
  std::vector<T> in(outer * reduce * inner);
  std::uniform_int_distribution<int> small(-20, 20);
  std::uniform_real_distribution<double> real(-100, 100);
  for (T &x : in)
    x = is_float ? (values == Values::kReals ? T(real(rng)) : T(small(rng)) / T(4)) : T(small(rng));
  if (is_float && values == Values::kNaNs)
    for (size_t i = 0; i < in.size(); i += 7) in[i] = std::numeric_limits<T>::quiet_NaN();
  const int64_t tasks = kiln_reduce_tasks(outer, inner);
  const size_t out_size = outer * inner;
  using F = ReduceFns<T>;
  const auto run = [&](typename F::Fn fn) {
    return run_all_splits<T>(tasks, out_size, rng, [&](T *o, int64_t b, int64_t e) {
      fn(in.data(), o, outer, reduce, inner, b, e);
    });
  };
  const auto run_arg = [&](typename F::ArgFn fn) {
    return run_all_splits<int64_t>(tasks, out_size, rng, [&](int64_t *o, int64_t b, int64_t e) {
      fn(in.data(), o, outer, reduce, inner, b, e);
    });
  };
  const auto sum = run(F::sum), mx = run(F::max), mn = run(F::min);
  std::vector<T> mean;
  if constexpr (std::is_floating_point_v<T>) mean = run(F::mean);
  const auto amax = run_arg(F::argmax), amin = run_arg(F::argmin);
  const double eps = sizeof(T) == 4 ? 0x1p-24 : 0x1p-53;
  int64_t bad = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double ref_sum = 0, mag = 0;
      T ref_max = std::numeric_limits<T>::lowest(), ref_min = std::numeric_limits<T>::max();
      if (is_float)
        ref_max = -std::numeric_limits<T>::infinity(), ref_min = std::numeric_limits<T>::infinity();
      int64_t ref_amax = -1, ref_amin = -1;
      bool nan = false;
      for (int64_t r = 0; r < reduce; ++r) {
        const T x = in[(o * reduce + r) * inner + i];
        ref_sum += double(x);
        mag += std::fabs(double(x));
        if (is_nan_value(x)) {
          if (!nan) ref_amax = ref_amin = r;
          nan = true;
        } else if (!nan) {
          if (ref_amax < 0 || x > ref_max) ref_max = x, ref_amax = r;
          if (ref_amin < 0 || x < ref_min) ref_min = x, ref_amin = r;
        }
      }
      if (reduce == 0) ref_amax = ref_amin = 0;
      if (nan) ref_max = ref_min = std::numeric_limits<T>::quiet_NaN();
      const int64_t at = o * inner + i;
      if (!is_float) {
        if (sum[at] != T(ref_sum)) ++bad;
      } else if (nan) {
        if (!is_nan_value(sum[at])) ++bad;
      } else if (!(std::fabs(double(sum[at]) - ref_sum) <= double(reduce) * eps * mag)) {
        ++bad;
      }
      if (!(mx[at] == ref_max || (nan && is_nan_value(mx[at])))) ++bad;
      if (!(mn[at] == ref_min || (nan && is_nan_value(mn[at])))) ++bad;
      if (amax[at] != ref_amax || amin[at] != ref_amin) ++bad;
      if (!mean.empty()) {
        if (reduce == 0 || nan) {
          if (!is_nan_value(mean[at])) ++bad;
        } else {
          const double n = double(reduce);
          if (!(std::fabs(double(mean[at]) - ref_sum / n) <= (n + 1) * eps * mag / n)) ++bad;
        }
      }
    }
  CHECK(bad == 0);
}

} // namespace

TEMPLATE_TEST_CASE("reduce: shapes, NaN, empty axes, splits", "[kernels][reduce]", float, double,
                   int32_t, int64_t) {
  std::mt19937 rng(3);
  const int64_t sizes[] = {0, 1, 2, 5, 17, 40, 300};
  for (int64_t outer : sizes)
    for (int64_t reduce : sizes)
      for (int64_t inner : sizes) {
        if (outer * reduce * inner > 30000) continue;
        for (Values values : {Values::kTies, Values::kReals, Values::kNaNs}) {
          INFO("outer=" << outer << " reduce=" << reduce << " inner=" << inner
                        << " values=" << int(values));
          check_reduce<TestType>(outer, reduce, inner, values, rng);
        }
      }
  INFO("long contiguous rows");
  check_reduce<TestType>(3, 100003, 1, Values::kReals, rng);
}

TEST_CASE("reduce: empty-axis identities and integer wrap-around", "[kernels][reduce]") {
  float f = 1;
  int32_t i = 1;
  int64_t idx = 5;
  kiln_reduce_sum_f32(nullptr, &f, 1, 0, 1, 0, 1);
  CHECK(f == 0.f);
  kiln_reduce_max_f32(nullptr, &f, 1, 0, 1, 0, 1);
  CHECK(f == -kInf);
  kiln_reduce_min_f32(nullptr, &f, 1, 0, 1, 0, 1);
  CHECK(f == kInf);
  kiln_reduce_mean_f32(nullptr, &f, 1, 0, 1, 0, 1);
  CHECK(std::isnan(f));
  kiln_reduce_max_i32(nullptr, &i, 1, 0, 1, 0, 1);
  CHECK(i == INT32_MIN);
  kiln_reduce_min_i32(nullptr, &i, 1, 0, 1, 0, 1);
  CHECK(i == INT32_MAX);
  kiln_argmax_f32(nullptr, &idx, 1, 0, 1, 0, 1);
  CHECK(idx == 0);
  const int32_t big[] = {INT32_MAX, 1};
  kiln_reduce_sum_i32(big, &i, 1, 2, 1, 0, 1);
  CHECK(i == INT32_MIN); // two's complement wrap, as in numpy
  const float inf_row[] = {-kInf, -kInf, 1.f, kInf, kInf};
  kiln_argmax_f32(inf_row, &idx, 1, 5, 1, 0, 1);
  CHECK(idx == 3);
  kiln_argmin_f32(inf_row, &idx, 1, 5, 1, 0, 1);
  CHECK(idx == 0);
}

// ---- softmax -------------------------------------------------------------------

namespace {

void softmax(const float *x, float *y, int64_t outer, int64_t axis, int64_t inner, int64_t tb,
             int64_t te, bool log) {
  (log ? kiln_log_softmax_f32 : kiln_softmax_f32)(x, y, outer, axis, inner, tb, te);
}
void softmax(const double *x, double *y, int64_t outer, int64_t axis, int64_t inner, int64_t tb,
             int64_t te, bool log) {
  (log ? kiln_log_softmax_f64 : kiln_softmax_f64)(x, y, outer, axis, inner, tb, te);
}

// Tolerances against a double reference, n = axis length, d = x - max,
// eps = 2^-24 (f32) or 2^-53 (f64); the |d| terms are the rounding of d itself:
//   softmax:     |y - ref| <= (n + 8 + 2 |d|) * eps * ref + 1e-30
//   log_softmax: |y - ref| <= (n + 8) * eps * (|d| + |log sum| + 1)
template <typename T>
void check_softmax(int64_t outer, int64_t axis, int64_t inner, std::mt19937 &rng) {
  std::vector<T> in(outer * axis * inner);
  std::uniform_real_distribution<T> dist(-30, 30);
  for (T &x : in) x = dist(rng);
  if (!in.empty()) in[0] = T(500); // large logits must not overflow
  const int64_t tasks = kiln_softmax_tasks(outer, inner);
  const auto y = run_all_splits<T>(tasks, in.size(), rng, [&](T *o, int64_t b, int64_t e) {
    softmax(in.data(), o, outer, axis, inner, b, e, false);
  });
  const auto ly = run_all_splits<T>(tasks, in.size(), rng, [&](T *o, int64_t b, int64_t e) {
    softmax(in.data(), o, outer, axis, inner, b, e, true);
  });
  const double eps = sizeof(T) == 4 ? 0x1p-24 : 0x1p-53;
  int64_t bad = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t r) { return (o * axis + r) * inner + i; };
      double m = -kInfD, s = 0;
      for (int64_t r = 0; r < axis; ++r) m = std::max(m, double(in[at(r)]));
      for (int64_t r = 0; r < axis; ++r) s += std::exp(double(in[at(r)]) - m);
      const double tol = double(axis + 8) * eps;
      for (int64_t r = 0; r < axis; ++r) {
        const double d = double(in[at(r)]) - m;
        const double ref = std::exp(d) / s, lref = d - std::log(s);
        if (!(std::fabs(double(y[at(r)]) - ref) <= (tol + 2 * std::fabs(d) * eps) * ref + 1e-30))
          ++bad;
        if (!(std::fabs(double(ly[at(r)]) - lref) <=
              tol * (std::fabs(d) + std::fabs(std::log(s)) + 1)))
          ++bad;
      }
    }
  CHECK(bad == 0);
}

} // namespace

TEMPLATE_TEST_CASE("softmax and log_softmax: shapes and splits", "[kernels][softmax]", float,
                   double) {
  std::mt19937 rng(4);
  const int64_t sizes[] = {0, 1, 3, 10, 33, 300};
  for (int64_t outer : sizes)
    for (int64_t axis : sizes)
      for (int64_t inner : sizes) {
        if (outer * axis * inner > 30000) continue;
        INFO("outer=" << outer << " axis=" << axis << " inner=" << inner);
        check_softmax<TestType>(outer, axis, inner, rng);
      }
  INFO("long rows");
  check_softmax<TestType>(2, 50001, 1, rng);
}

TEST_CASE("softmax: special rows", "[kernels][softmax]") {
  // Exact expectations: a -inf logit gets probability 0 (log-probability
  // -inf); a NaN logit makes the row NaN; equal logits give exactly 1/n.
  const float row[] = {-kInf, 0.f, 0.f, 0.f, 0.f};
  float y[5], ly[5];
  kiln_softmax_f32(row, y, 1, 5, 1, 0, 1);
  kiln_log_softmax_f32(row, ly, 1, 5, 1, 0, 1);
  CHECK(y[0] == 0.f);
  CHECK(ly[0] == -kInf);
  for (int i = 1; i < 5; ++i) {
    CHECK(y[i] == 0.25f);
    CHECK(ly[i] == -kiln_log_f32(4.f));
  }
  const float nan_row[] = {1.f, kNaN, 2.f};
  kiln_softmax_f32(nan_row, y, 1, 3, 1, 0, 1);
  for (int i = 0; i < 3; ++i) CHECK(std::isnan(y[i]));
}

TEST_CASE("softmax: in place gives the same bits", "[kernels][softmax]") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-10, 10);
  for (bool log : {false, true})
    for (int64_t inner : {1, 5}) {
      const int64_t outer = 3, axis = 700, tasks = kiln_softmax_tasks(outer, inner);
      std::vector<float> x(outer * axis * inner), y(x.size());
      for (float &v : x) v = dist(rng);
      softmax(x.data(), y.data(), outer, axis, inner, 0, tasks, log);
      softmax(x.data(), x.data(), outer, axis, inner, 0, tasks, log);
      CHECK(bit_equal(x, y));
    }
}
