/* elementwise.h -- activation kernels (relu, sigmoid, tanh; forward and backward)
 * for float and double, on contiguous arrays of n elements.
 *
 * How it is vectorised.  Every function below is written once as branch-free
 * scalar C (selects instead of ifs, exp by range reduction and a polynomial), and
 * each loop is compiled twice by the TN_LOOP macros: once for baseline x86-64
 * (SSE2: the portable path) and once inside __attribute__((target("avx2,fma"))).
 * GCC's vectoriser turns the same loop into 4-wide (SSE2) or 8-wide (AVX2, with
 * FMA contraction) code; tinynn_simd_level (simd.h) picks one at run time.
 * No -ffast-math: NaN and inf keep their IEEE meaning.
 *
 * exp(x), both precisions (tn_exp_f32 / tn_exp_f64):
 *   n = rint(x / ln 2),  r = x - n ln2  (Cody-Waite: ln 2 = hi + lo, n*hi exact),
 *   so |r| <= ln(2)/2 = 0.3466, and exp(x) = 2^n exp(r), with exp(r) from its
 *   Taylor polynomial (degree 7 for float: truncation error < 5.3e-9 relative,
 *   degree 13 for double: < 4.4e-18), evaluated by Horner.  2^n is built from
 *   the exponent bits in two factors 2^(n/2) 2^(n - n/2), so results that underflow
 *   into subnormals are still right and overflow gives +inf, as in libm.
 *   Measured max error against float64 np.exp over [-103, 88]: <= 1 ulp (float),
 *   <= 2 ulp (double)  -- see tests/test_kernels_elementwise.py.
 *
 * sigmoid(x) = 1 / (1 + e^-x) = num / (1 + z),  z = e^-|x| in (0, 1],
 *   num = 1 (x >= 0) or z (x < 0): never overflows, sigmoid(+-1e4) = 1, 0.
 * tanh(x) = sign(x) t(|x|), with for a = |x|
 *   t(a) = a - a^3/3 + 2a^5/15 - ...  (odd Taylor series to a^19 for float,
 *                                      a^37 for double)            if a < 0.55,
 *   t(a) = 1 - 2 / (e^(2a) + 1)                                      otherwise;
 *   the series' truncation error there is far below half an ulp, and the second
 *   form's cancellation costs at most ~2 eps relative (t >= 0.5).
 */
#ifndef TINYNN_ELEMENTWISE_H
#define TINYNN_ELEMENTWISE_H

#include <stdint.h>
#include <string.h>
#include <math.h>
#include "simd.h"

/* ---------------------------------------------------------------- exp */
static inline float tn_bits_to_f32(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static inline double tn_bits_to_f64(uint64_t b) { double f; memcpy(&f, &b, 8); return f; }

static inline float tn_exp_f32(float x) {
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    x = x > 89.0f ? 89.0f : x;          /* e^89 > FLT_MAX: still +inf after scaling */
    x = x < -104.0f ? -104.0f : x;      /* e^-104 < half the smallest subnormal: 0 */
    float nf = (x * log2e + shifter) - shifter;
    float r = (x - nf * ln2_hi) - nf * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t n = (int32_t)nf;
    int32_t n1 = n >> 1, n2 = n - n1;  /* each in [-75, 64]: 2^n1, 2^n2 are normal floats */
    float s1 = tn_bits_to_f32((uint32_t)(n1 + 127) << 23);
    float s2 = tn_bits_to_f32((uint32_t)(n2 + 127) << 23);
    return p * s1 * s2;
}

static inline double tn_exp_f64(double x) {
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 0.69314670562744141, ln2_lo = 4.7493250390316726e-07;
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52 */
    x = x > 710.0 ? 710.0 : x;
    x = x < -746.0 ? -746.0 : x;
    double nf = (x * log2e + shifter) - shifter;
    double r = (x - nf * ln2_hi) - nf * ln2_lo;
    double p = 1.0 / 6227020800.0;           /* 1/13! */
    p = p * r + 1.0 / 479001600.0;           /* 1/12! */
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t n = (int64_t)nf;
    int64_t n1 = n >> 1, n2 = n - n1;  /* each in [-538, 512] */
    double s1 = tn_bits_to_f64((uint64_t)(n1 + 1023) << 52);
    double s2 = tn_bits_to_f64((uint64_t)(n2 + 1023) << 52);
    return p * s1 * s2;
}

/* ---------------------------------------------------------------- activations */
/* Odd Taylor series of tanh, tanh(a) = a + a^3 P(a^2), coefficients 2^2k (2^2k - 1) B_2k / (2k)!
 * (B the Bernoulli numbers).  For a < 0.55 the truncation error is < 6.1e-10 relative with
 * terms to a^19 (float) and < 3.9e-18 with terms to a^37 (double). */
static inline float tn_tanh_series_f32(float z) {
    float p = -0.00023912911424355248f;      /* a^19 */
    p = p * z + 0.00059002744094558595f;
    p = p * z + -0.0014558343870513183f;
    p = p * z + 0.0035921280365724811f;
    p = p * z + -0.0088632355299021973f;
    p = p * z + 0.021869488536155203f;
    p = p * z + -0.053968253968253971f;
    p = p * z + 0.13333333333333333f;
    p = p * z + -0.33333333333333331f;       /* a^3 */
    return p;
}

static inline double tn_tanh_series_f64(double z) {
    double p = 7.0546369464009681e-08;       /* a^37 */
    p = p * z + -1.7406618963571648e-07;
    p = p * z + 4.2949110782738057e-07;
    p = p * z + -1.0597268320104654e-06;
    p = p * z + 2.6147711512907546e-06;
    p = p * z + -6.4516892156554306e-06;
    p = p * z + 1.5918905069328964e-05;
    p = p * z + -3.9278323883316833e-05;
    p = p * z + 9.6915379569294509e-05;
    p = p * z + -0.00023912911424355248;
    p = p * z + 0.00059002744094558595;
    p = p * z + -0.0014558343870513183;
    p = p * z + 0.0035921280365724811;
    p = p * z + -0.0088632355299021973;
    p = p * z + 0.021869488536155203;
    p = p * z + -0.053968253968253971;
    p = p * z + 0.13333333333333333;
    p = p * z + -0.33333333333333331;        /* a^3 */
    return p;
}

#define TN_ACTIVATIONS(T, SFX, ABS)                                                     \
static inline T tn_relu_##SFX(T x) { return x < 0 ? (T)0 : x; } /* relu(NaN) = NaN */ \
static inline T tn_sigmoid_##SFX(T x) {                                                 \
    T z = tn_exp_##SFX(-ABS(x));                                                        \
    T num = x >= 0 ? (T)1 : z;                                                          \
    return num / ((T)1 + z);                                                            \
}                                                                                       \
static inline T tn_tanh_##SFX(T x) {                                                    \
    T a = ABS(x), z = x * x;                                                            \
    T small = a + a * z * tn_tanh_series_##SFX(z);                                      \
    T big = (T)1 - (T)2 / (tn_exp_##SFX((T)2 * a) + (T)1);                              \
    T t = a < (T)0.55 ? small : big;                                                    \
    return x < 0 ? -t : (x > 0 ? t : x); /* keeps -0.0 and NaN */                       \
}                                                                                       \
static inline T tn_relu_bw_##SFX(T x, T g) { return x > 0 ? g : (T)0; }               \
static inline T tn_sigmoid_bw_##SFX(T y, T g) { return g * y * ((T)1 - y); }           \
static inline T tn_tanh_bw_##SFX(T y, T g) { return g * ((T)1 - y * y); }

TN_ACTIVATIONS(float, f32, fabsf)
TN_ACTIVATIONS(double, f64, fabs)

/* ---------------------------------------------------------------- loops
 * TN_UNARY(name, T, SFX): name_SFX(x, y, n)      y[i] = tn_name_SFX(x[i])
 * TN_BINARY(name, T, SFX): name_SFX(a, b, y, n)  y[i] = tn_name_SFX(a[i], b[i])
 * Each defines a portable and an AVX2 body and a dispatcher that splits n across
 * OpenMP threads when n is large (>= TN_GRAIN elements per thread) and calls the body
 * directly otherwise (no parallel region: even a one-thread region costs about a
 * microsecond).  y may alias x.
 * The threads take blocks of TN_BLOCK elements from a shared counter (schedule(dynamic))
 * rather than one fixed half each: on a busy 2-core machine the OS may start the second
 * thread late, and a fixed split would make the whole call wait for it. */
#define TN_GRAIN (1 << 16)
#define TN_BLOCK (1 << 14)
#define TN_BLOCKS(n) (((n) + TN_BLOCK - 1) / TN_BLOCK)
#define TN_BLOCK_RANGE(n, blk, lo, hi)                                                  \
    long long lo = (blk) * TN_BLOCK;                                                    \
    long long hi = lo + TN_BLOCK < (n) ? lo + TN_BLOCK : (n);

#if TINYNN_HAVE_AVX2
#define TN_DISPATCH(call_avx2, call_portable)                                           \
    if (tinynn_simd_level >= TINYNN_SIMD_AVX2) { call_avx2; } else { call_portable; }
#else
#define TN_DISPATCH(call_avx2, call_portable) call_portable;
#endif

#define TN_UNARY(NAME, T, SFX)                                                          \
static void NAME##_##SFX##_portable(const T *x, T *y, long long n) {                   \
    for (long long i = 0; i < n; i++) y[i] = tn_##NAME##_##SFX(x[i]);                  \
}                                                                                       \
TINYNN_AVX2_FN static void NAME##_##SFX##_avx2(const T *x, T *y, long long n) {        \
    for (long long i = 0; i < n; i++) y[i] = tn_##NAME##_##SFX(x[i]);                  \
}                                                                                       \
static void NAME##_##SFX(const T *x, T *y, long long n) {                              \
    int nt = tinynn_threads_for(n, TN_GRAIN);                                           \
    if (nt <= 1) { /* small arrays: no OpenMP region at all (entering one costs ~1 us) */ \
        TN_DISPATCH(NAME##_##SFX##_avx2(x, y, n), NAME##_##SFX##_portable(x, y, n))       \
        return;                                                                         \
    }                                                                                   \
    _Pragma("omp parallel for num_threads(nt) schedule(dynamic, 1)")                   \
    for (long long blk = 0; blk < TN_BLOCKS(n); blk++) {                                \
        TN_BLOCK_RANGE(n, blk, lo, hi)                                                  \
        TN_DISPATCH(NAME##_##SFX##_avx2(x + lo, y + lo, hi - lo),                       \
                    NAME##_##SFX##_portable(x + lo, y + lo, hi - lo))                   \
    }                                                                                   \
}

#define TN_BINARY(NAME, T, SFX)                                                         \
static void NAME##_##SFX##_portable(const T *a, const T *b, T *y, long long n) {       \
    for (long long i = 0; i < n; i++) y[i] = tn_##NAME##_##SFX(a[i], b[i]);            \
}                                                                                       \
TINYNN_AVX2_FN static void NAME##_##SFX##_avx2(const T *a, const T *b, T *y, long long n) { \
    for (long long i = 0; i < n; i++) y[i] = tn_##NAME##_##SFX(a[i], b[i]);            \
}                                                                                       \
static void NAME##_##SFX(const T *a, const T *b, T *y, long long n) {                  \
    int nt = tinynn_threads_for(n, TN_GRAIN);                                           \
    if (nt <= 1) {                                                                      \
        TN_DISPATCH(NAME##_##SFX##_avx2(a, b, y, n), NAME##_##SFX##_portable(a, b, y, n)) \
        return;                                                                         \
    }                                                                                   \
    _Pragma("omp parallel for num_threads(nt) schedule(dynamic, 1)")                   \
    for (long long blk = 0; blk < TN_BLOCKS(n); blk++) {                                \
        TN_BLOCK_RANGE(n, blk, lo, hi)                                                  \
        TN_DISPATCH(NAME##_##SFX##_avx2(a + lo, b + lo, y + lo, hi - lo),               \
                    NAME##_##SFX##_portable(a + lo, b + lo, y + lo, hi - lo))           \
    }                                                                                   \
}

TN_UNARY(relu, float, f32)
TN_UNARY(relu, double, f64)
TN_UNARY(sigmoid, float, f32)
TN_UNARY(sigmoid, double, f64)
TN_UNARY(tanh, float, f32)
TN_UNARY(tanh, double, f64)
TN_BINARY(relu_bw, float, f32)
TN_BINARY(relu_bw, double, f64)
TN_BINARY(sigmoid_bw, float, f32)
TN_BINARY(sigmoid_bw, double, f64)
TN_BINARY(tanh_bw, float, f32)
TN_BINARY(tanh_bw, double, f64)

/* ---------------------------------------------------------------- small arithmetic
 * y = a + b, a - b, a * b over n contiguous values: one IEEE operation per element, so the
 * same bits as NumPy's loops (only a NaN's payload may differ when both operands are NaN).
 * For small arrays only (the wrappers in elementwise.pxi), where NumPy's per-call cost is
 * the whole cost; the caller checks the floating-point flags afterwards (tn_fp_flags) and
 * lets NumPy redo a call that raised one, so np.errstate applies as it would. */
#include <fenv.h>

#define TN_ARITH(NAME, OP, T, SFX)                                                      \
static void tn_##NAME##_##SFX(const T *a, const T *b, T *y, long long n) {             \
    for (long long i = 0; i < n; i++) y[i] = a[i] OP b[i];                              \
}
TN_ARITH(add, +, float, f32)
TN_ARITH(add, +, double, f64)
TN_ARITH(subtract, -, float, f32)
TN_ARITH(subtract, -, double, f64)
TN_ARITH(multiply, *, float, f32)
TN_ARITH(multiply, *, double, f64)

/* The flags NumPy's errstate watches (invalid, divide by zero, overflow, underflow): clear
 * them, then test them.  On x86-64 float arithmetic is SSE, whose flags live in MXCSR (one
 * instruction to read; glibc's feclearexcept also saves and reloads the x87 environment,
 * ~50 ns); elsewhere <fenv.h>. */
#if TINYNN_HAVE_AVX2
#define TN_MXCSR_WATCHED 0x1D   /* IE | ZE | OE | UE (not DE, PE) */
static inline void tn_fp_clear(void) {
    unsigned int csr = _mm_getcsr();
    if (csr & TN_MXCSR_WATCHED) _mm_setcsr(csr & ~TN_MXCSR_WATCHED);
}
static inline int tn_fp_flags(void) { return (int)(_mm_getcsr() & TN_MXCSR_WATCHED); }
#else
#define TN_FP_WATCHED (FE_OVERFLOW | FE_INVALID | FE_DIVBYZERO | FE_UNDERFLOW)
static inline void tn_fp_clear(void) { feclearexcept(TN_FP_WATCHED); }
static inline int tn_fp_flags(void) { return fetestexcept(TN_FP_WATCHED); }
#endif

#endif /* TINYNN_ELEMENTWISE_H */
