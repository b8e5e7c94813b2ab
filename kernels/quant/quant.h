/* quant/quant.h -- the quantization helpers around the int8 GEMM, float32 results:
 *   requantization  y = float(acc) * (s_row s_col) + bias (then relu), as a standalone
 *                   kernel and as the int8 GEMM's epilogue (gemm/gemm_int8.h);
 *   quantize_rows   q = clamp(round_half_even(x / s) + zp, -128, 127);
 *   minmax          (min, max) of an array in one pass.
 * The portable path uses SSE2 intrinsics where the base ISA has them (x86-64: TN_HAVE_SSE2),
 * plain C elsewhere; no AVX2 path (these are bound by memory).
 */
#ifndef TN_QUANT_H
#define TN_QUANT_H

#include <math.h>
#include <stdint.h>
#include "../common/simd.h"

/* Requantization epilogue: NULL pointers for scales mean 1, bias may be NULL. */
typedef struct {
    const float *row_scale;   /* m values */
    const float *col_scale;   /* n values */
    const float *bias;        /* n values or NULL */
    int relu;
} tn_requant;

/* y = float(v) * (s_row * s_col) + b, then relu: in float32, exactly as numpy_ref.requantize. */
static inline float tn_requant_one(int32_t v, float s_row, float s_col, const float *bias, int relu) {
    float scale = s_row * s_col;
    float y = (float)v * scale;
    if (bias) y = y + *bias;
    if (relu) y = y < 0.0f ? 0.0f : y;
    return y;
}

/* One contiguous row of the same epilogue.  The bias/relu choices are made once per row, not per
 * element, and the loops have no data-dependent branches: with random signs a per-element relu
 * branch mispredicted half the time and made this 5x slower than NumPy. */
static inline void tn_requant_row(tn_idx n, const int32_t *restrict acc, float s_row,
                                   const float *restrict s_col, const float *restrict bias, int relu,
                                   float *restrict y) {
    for (tn_idx j = 0; j < n; j++) y[j] = (float)acc[j] * (s_row * s_col[j]);
    if (bias)
        for (tn_idx j = 0; j < n; j++) y[j] = y[j] + bias[j];
    if (relu)
        for (tn_idx j = 0; j < n; j++) y[j] = y[j] < 0.0f ? 0.0f : y[j];
}

/* y[i, j] = requant(acc[i, j]) for an int32 acc (any strides) into a contiguous float32 y. */
static void tn_requantize(tn_idx m, tn_idx n, const int32_t *acc, tn_idx rs, tn_idx cs,
                           const tn_requant *rq, float *y) {
    for (tn_idx i = 0; i < m; i++) {
        if (cs == 1) {
            tn_requant_row(n, acc + i * rs, rq->row_scale[i], rq->col_scale, rq->bias, rq->relu, y + i * n);
        } else {
            for (tn_idx j = 0; j < n; j++)
                y[i * n + j] = tn_requant_one(acc[i * rs + j * cs], rq->row_scale[i], rq->col_scale[j],
                                               rq->bias ? rq->bias + j : NULL, rq->relu);
        }
    }
}

/* q[i, j] = clamp(round_half_even(x[i, j] / s[i]) + zp, -128, 127) as int8 (NaN -> 0),
 * with the division in the precision of x (as NumPy does for float32 / float32).
 * Rounding adds and subtracts 1.5 * 2^(mantissa bits): exact round-half-to-even for |v| below
 * 2^(mantissa bits - 1), and v is clamped into that range first (anything beyond it clamps to
 * -128 or 127 anyway).  No libm call and no branch, so the loop vectorises. */
#if TN_HAVE_SSE2
/* The same operations as tn_quantize_one_f32, 16 values at a time with SSE2 (base x86-64):
 * exact division, clamp to +-LIMIT, round by +-MAGIC, + zp, clamp to [-128, 127], truncate
 * (exact: integral), NaN lanes -> 0.  Returns how many leading values it wrote. */
static inline tn_idx tn_qrow_sse2_f32(const float *x, tn_idx n, float s, float zp, int8_t *q) {
    const __m128 vs = _mm_set1_ps(s), vz = _mm_set1_ps(zp), lim = _mm_set1_ps(4194304.0f);
    const __m128 nlim = _mm_set1_ps(-4194304.0f), magic = _mm_set1_ps(12582912.0f);
    const __m128 lo = _mm_set1_ps(-128.0f), hi = _mm_set1_ps(127.0f);
    tn_idx j = 0;
    for (; j + 16 <= n; j += 16) {
        __m128i r[4];
        for (int k = 0; k < 4; k++) {
            __m128 v = _mm_div_ps(_mm_loadu_ps(x + j + 4 * k), vs);
            __m128 nan = _mm_cmpunord_ps(v, v);
            v = _mm_max_ps(_mm_min_ps(v, lim), nlim);
            v = _mm_add_ps(_mm_sub_ps(_mm_add_ps(v, magic), magic), vz);
            v = _mm_max_ps(_mm_min_ps(v, hi), lo);
            r[k] = _mm_andnot_si128(_mm_castps_si128(nan), _mm_cvttps_epi32(v));
        }
        __m128i w = _mm_packs_epi16(_mm_packs_epi32(r[0], r[1]), _mm_packs_epi32(r[2], r[3]));
        _mm_storeu_si128((__m128i *)(q + j), w);
    }
    return j;
}
#define TN_QROW_SIMD_f32(x, n, s, zp, q) tn_qrow_sse2_f32(x, n, s, zp, q)
#else
#define TN_QROW_SIMD_f32(x, n, s, zp, q) 0
#endif
#define TN_QROW_SIMD_f64(x, n, s, zp, q) 0

#define TN_QUANTIZE_ROWS(S, T, MAGIC, LIMIT)                                               \
static inline int8_t tn_quantize_one_##S(T x, T s, T zp) {                                 \
    T v = x / s;                                                                            \
    int is_nan = v != v;                                                                    \
    v = is_nan ? (T)0 : v;                                                                  \
    v = v < -(T)LIMIT ? -(T)LIMIT : v > (T)LIMIT ? (T)LIMIT : v;                            \
    v = ((v + (T)MAGIC) - (T)MAGIC) + zp;                                                   \
    v = v < (T)-128 ? (T)-128 : v > (T)127 ? (T)127 : v;                                    \
    return is_nan ? 0 : (int8_t)v;                                                          \
}                                                                                           \
static void tn_quantize_rows_##S(tn_idx m, tn_idx n, const T *x, tn_idx rs, tn_idx cs,  \
                                  const float *scale, T zp, int8_t *q) {                    \
    for (tn_idx i = 0; i < m; i++) {                                                       \
        T s = (T)scale[i];                                                                  \
        const T *xr = x + i * rs;                                                           \
        int8_t *qr = q + i * n;                                                             \
        if (cs == 1) {                  /* rows contiguous: a unit-stride loop, vectorised */ \
            tn_idx j = TN_QROW_SIMD_##S(xr, n, s, zp, qr);                                  \
            for (; j < n; j++) qr[j] = tn_quantize_one_##S(xr[j], s, zp);                  \
        } else {                                                                            \
            for (tn_idx j = 0; j < n; j++) qr[j] = tn_quantize_one_##S(xr[j * cs], s, zp); \
        }                                                                                   \
    }                                                                                       \
}
/* lo = min_i x_i, hi = max_i x_i over n >= 1 contiguous values; both NaN if any x_i is NaN.
 * min and max are exact, so the order of the reduction does not change the result.  On x86-64
 * (SSE2 is part of the base ISA) two vector accumulators per bound with minps/maxps and an
 * unordered-compare NaN mask (GCC does not turn the NaN-aware selects into minps itself);
 * elsewhere, and for the tail, plain C. */
#define TN_MINMAX_TAIL(T)                                                                  \
    for (; i < n; i++) {                                                                    \
        T v = x[i];                                                                         \
        any |= v != v;                                                                      \
        mn = v < mn ? v : mn;                                                               \
        mx = v > mx ? v : mx;                                                               \
    }                                                                                       \
    *lo = any ? (T)NAN : mn;                                                                \
    *hi = any ? (T)NAN : mx;
#if TN_HAVE_SSE2
/* V vector type, W lanes, P = ps | pd */
#define TN_MINMAX(S, T, V, W, P)                                                           \
static void tn_minmax_##S(const T *x, tn_idx n, T *lo, T *hi) {                          \
    V mn0 = _mm_set1_##P(x[0]), mn1 = mn0, mx0 = mn0, mx1 = mn0, bad = _mm_setzero_##P();   \
    tn_idx i = 0;                                                                          \
    for (; i + 2 * W <= n; i += 2 * W) {                                                    \
        V a = _mm_loadu_##P(x + i), b = _mm_loadu_##P(x + i + W);                           \
        bad = _mm_or_##P(bad, _mm_or_##P(_mm_cmpunord_##P(a, a), _mm_cmpunord_##P(b, b))); \
        mn0 = _mm_min_##P(mn0, a); mn1 = _mm_min_##P(mn1, b);                               \
        mx0 = _mm_max_##P(mx0, a); mx1 = _mm_max_##P(mx1, b);                               \
    }                                                                                       \
    T m[W], M[W], mn, mx;                                                                   \
    int any = _mm_movemask_##P(bad) != 0;                                                   \
    _mm_storeu_##P(m, _mm_min_##P(mn0, mn1));                                               \
    _mm_storeu_##P(M, _mm_max_##P(mx0, mx1));                                               \
    mn = m[0]; mx = M[0];                                                                   \
    for (int j = 1; j < W; j++) { mn = m[j] < mn ? m[j] : mn; mx = M[j] > mx ? M[j] : mx; } \
    TN_MINMAX_TAIL(T)                                                                      \
}
TN_MINMAX(f32, float, __m128, 4, ps)
TN_MINMAX(f64, double, __m128d, 2, pd)
#else
#define TN_MINMAX(S, T)                                                                    \
static void tn_minmax_##S(const T *x, tn_idx n, T *lo, T *hi) {                          \
    T mn = x[0], mx = x[0];                                                                 \
    int any = 0;                                                                            \
    tn_idx i = 0;                                                                          \
    TN_MINMAX_TAIL(T)                                                                      \
}
TN_MINMAX(f32, float)
TN_MINMAX(f64, double)
#endif
#undef TN_MINMAX
#undef TN_MINMAX_TAIL

TN_QUANTIZE_ROWS(f32, float, 12582912.0f, 4194304.0f)
TN_QUANTIZE_ROWS(f64, double, 6755399441055744.0, 2251799813685248.0)
#undef TN_QUANTIZE_ROWS

#endif /* TN_QUANT_H */
