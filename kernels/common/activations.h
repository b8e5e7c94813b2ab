/* common/activations.h -- relu, sigmoid and tanh (forward and backward) for float and
 * double: the one implementation that the standalone activation kernels
 * (elementwise/elementwise.h) and the GEMM epilogue (gemm/gemm_real.h) both call, so a
 * fused Linear+activation and a Linear followed by the activation give the same bits.
 *
 * Every function is written once as branch-free scalar C (selects instead of ifs, exp by
 * range reduction and a polynomial: common/exp.h), and TN_ACT_SPANS compiles each loop
 * over a span of elements three times: for baseline x86-64 (SSE2: the portable path),
 * inside TN_AVX2_FN and inside TN_AVX512_FN.  GCC's vectoriser turns the same loop into
 * 4-wide (SSE2), 8-wide (AVX2, with FMA contraction) or 16-wide (AVX-512, zmm, FMA) code;
 * tn_simd_level picks one at run time.  The AVX2 and AVX-512 copies contract the same
 * scalar expressions into FMAs, so they give the same bits as each other (the vector width
 * does not change an elementwise result); the error bounds below hold on every path.  The
 * vector copies round differently from the portable one (FMA), so bit-for-bit agreement
 * between a fused and an unfused call needs the same compiled copy: callers go
 * through the span functions below (never inlined: see TN_NOINLINE), never through the
 * scalar ones in a loop of their own.
 *
 * sigmoid(x) = 1 / (1 + e^-x) = num / (1 + z),  z = e^-|x| in (0, 1],
 *   num = 1 (x >= 0) or z (x < 0): never overflows, sigmoid(+-1e4) = 1, 0.
 * tanh(x) = sign(x) t(|x|), with for a = |x|
 *   float:  t(a) = u / (u + 2),  u = e^(2a) - 1 = expm1(2a), for a clamped to 9.1 (where
 *           tanh rounds to 1): one formula without cancellation at any a, and no branch.
 *           expm1(2a) = 2^n expm1(r) + (2^n - 1) with 2a = n ln2 + r, |r| <= ln(2)/2, and
 *           expm1(r) = r + r^2 P(r), P of degree 4 fitted for relative error (1.3e-8 at most).
 *           Measured over every float32 in [0, 12]: at most 2.6 ulp from the correctly rounded
 *           tanh (on every path).  This replaced a series + exp pair that cost twice as much.
 *   double: t(a) = a - a^3/3 + 2a^5/15 - ...  (odd Taylor series to a^37)  if a < 0.55,
 *           t(a) = 1 - 2 / (e^(2a) + 1)                                   otherwise;
 *           the series' truncation error there is far below half an ulp, and the second
 *           form's cancellation costs at most ~2 eps relative (t >= 0.5).
 * Backward (from the forward's input x for relu, its output y for sigmoid and tanh):
 *   relu' = 1 where x > 0 else 0,  sigmoid' = y (1 - y),  tanh' = 1 - y^2.
 */
#ifndef TN_ACTIVATIONS_H
#define TN_ACTIVATIONS_H

#include <math.h>
#include <string.h>
#include "simd.h"
#include "exp.h"

/* Activation ids: the GEMM epilogue's `act` argument (the order of numpy_ref.ACTIVATIONS). */
#define TN_ACT_NONE 0
#define TN_ACT_RELU 1
#define TN_ACT_SIGMOID 2
#define TN_ACT_TANH 3

/* Odd Taylor series of tanh for double, tanh(a) = a + a^3 P(a^2), coefficients
 * 2^2k (2^2k - 1) B_2k / (2k)! (B the Bernoulli numbers).  For a < 0.55 the truncation error
 * is < 3.9e-18 relative with terms to a^37. */
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
    p = p * z + -0.00023912911424355248;     /* a^19 */
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

/* tanh for float through expm1 (see the header comment), after exp.h's range reduction. */
static inline float tn_tanh_f32(float x) {
    float a = fabsf(x);
    a = a > 9.1f ? 9.1f : a;            /* keeps NaN */
    float r;
    float nf = tn_exp_reduce_f32(a + a, &r);
    float p = 1.388251316e-03f;
    p = p * r + 8.366514929e-03f;
    p = p * r + 4.166720062e-02f;
    p = p * r + 1.666654348e-01f;
    p = p * r + 4.999999702e-01f;
    float em = (r * r) * p + r;                            /* expm1(r) */
    float s = tn_bits_to_f32((uint32_t)((int32_t)nf + 127) << 23);   /* 2^n, n in [0, 26] */
    float u = em * s + (s - 1.0f);                         /* expm1(2a) */
    return copysignf(u / (u + 2.0f), x);                   /* keeps -0.0 and NaN */
}

#define TN_ACTIVATIONS(T, SFX, ABS)                                                     \
static inline T tn_relu_##SFX(T x) { return x < 0 ? (T)0 : x; } /* relu(NaN) = NaN */ \
static inline T tn_sigmoid_##SFX(T x) {                                                 \
    T z = tn_exp_##SFX(-ABS(x));                                                        \
    T num = x >= 0 ? (T)1 : z;                                                          \
    return num / ((T)1 + z);                                                            \
}                                                                                       \
static inline T tn_relu_bw_##SFX(T x, T g) { return x > 0 ? g : (T)0; }               \
static inline T tn_sigmoid_bw_##SFX(T y, T g) { return g * y * ((T)1 - y); }           \
static inline T tn_tanh_bw_##SFX(T y, T g) { return g * ((T)1 - y * y); }

TN_ACTIVATIONS(float, f32, fabsf)
TN_ACTIVATIONS(double, f64, fabs)

static inline double tn_tanh_f64(double x) {
    double a = fabs(x), z = x * x;
    double small = a + a * z * tn_tanh_series_f64(z);
    double big = 1.0 - 2.0 / (tn_exp_f64(2.0 * a) + 1.0);
    double t = a < 0.55 ? small : big;
    return x < 0 ? -t : (x > 0 ? t : x); /* keeps -0.0 and NaN */
}

/* Span bodies, one per path: tn_NAME_SFX_portable / _avx2 (x, y, lo, hi) computes
 * y[i] = tn_NAME_SFX(x[i]) for i in [lo, hi), and the backward ones (a, g, y, lo, hi)
 * y[i] = tn_NAME_SFX(a[i], g[i]).  y may alias x (or a). */
#define TN_ACT_SPAN(NAME, T, SFX, PATH, ATTR)                                           \
ATTR TN_NOINLINE static void tn_##NAME##_##SFX##_##PATH(const T *x, T *y, long long lo, long long hi) { \
    for (long long i = lo; i < hi; i++) y[i] = tn_##NAME##_##SFX(x[i]);                \
}
#define TN_ACT_SPAN_BW(NAME, T, SFX, PATH, ATTR)                                        \
ATTR TN_NOINLINE static void tn_##NAME##_##SFX##_##PATH(const T *a, const T *g, T *y, long long lo, long long hi) { \
    for (long long i = lo; i < hi; i++) y[i] = tn_##NAME##_##SFX(a[i], g[i]);          \
}
#define TN_ACT_SPANS(T, SFX, PATH, ATTR)                                                \
TN_ACT_SPAN(relu, T, SFX, PATH, ATTR)                                                   \
TN_ACT_SPAN(sigmoid, T, SFX, PATH, ATTR)                                                \
TN_ACT_SPAN(tanh, T, SFX, PATH, ATTR)                                                   \
TN_ACT_SPAN_BW(relu_bw, T, SFX, PATH, ATTR)                                             \
TN_ACT_SPAN_BW(sigmoid_bw, T, SFX, PATH, ATTR)                                          \
TN_ACT_SPAN_BW(tanh_bw, T, SFX, PATH, ATTR)

TN_ACT_SPANS(float, f32, portable, )
TN_ACT_SPANS(float, f32, avx2, TN_AVX2_FN)
TN_ACT_SPANS(float, f32, avx512, TN_AVX512_FN)
TN_ACT_SPANS(double, f64, portable, )
TN_ACT_SPANS(double, f64, avx2, TN_AVX2_FN)
TN_ACT_SPANS(double, f64, avx512, TN_AVX512_FN)

/* y[0:n] = act(x[0:n]) on this thread, on the current SIMD path, through the same span
 * bodies as the standalone kernels (act: a TN_ACT_* id; y may alias x). */
#define TN_ACTIVATE(T, SFX)                                                             \
static void tn_activate_##SFX(int act, const T *x, T *y, long long n) {                \
    switch (act) {                                                                      \
    case TN_ACT_RELU:                                                                   \
        TN_DISPATCH3(tn_relu_##SFX##_avx512(x, y, 0, n), tn_relu_##SFX##_avx2(x, y, 0, n),       \
                     tn_relu_##SFX##_portable(x, y, 0, n)) break;                              \
    case TN_ACT_SIGMOID:                                                                \
        TN_DISPATCH3(tn_sigmoid_##SFX##_avx512(x, y, 0, n), tn_sigmoid_##SFX##_avx2(x, y, 0, n),       \
                     tn_sigmoid_##SFX##_portable(x, y, 0, n)) break;                              \
    case TN_ACT_TANH:                                                                   \
        TN_DISPATCH3(tn_tanh_##SFX##_avx512(x, y, 0, n), tn_tanh_##SFX##_avx2(x, y, 0, n),       \
                     tn_tanh_##SFX##_portable(x, y, 0, n)) break;                              \
    default:                                                                            \
        if (y != x) memmove(y, x, sizeof(T) * (size_t)n);                               \
    }                                                                                   \
}
TN_ACTIVATE(float, f32)
TN_ACTIVATE(double, f64)
#undef TN_ACTIVATE
#undef TN_ACT_SPANS
#undef TN_ACT_SPAN_BW
#undef TN_ACT_SPAN

#endif /* TN_ACTIVATIONS_H */
