/* quant/quant.h -- the quantization helpers around the int8 GEMM, float32 results:
 *   requantization  y = float(acc) * (s_row s_col) + bias (then relu), as a standalone
 *                   kernel and as the int8 GEMM's epilogue (gemm/gemm_int8.h);
 *   quantize_rows   q = clamp(nearbyint(fma(x, float32(1 / s), zp)), -128, 127) (PyTorch's);
 *   minmax          (min, max) of an array in one pass.
 * minmax's portable path uses SSE2 intrinsics where the base ISA has them (x86-64: TN_HAVE_SSE2),
 * plain C elsewhere; quantize_rows has an AVX2+FMA body and a portable fmaf loop.
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

/* q[i, j] = clamp(nearbyint(fma(x[i, j], inv_i, zp)), lo, hi) with inv_i = float32(1 / s_i), in
 * float32 (float64 x is rounded to float32 first), NaN -> 0: PyTorch's quantize_per_tensor bit for
 * bit (fbgemm multiplies by the inverse scale; with FMA contraction the product and the zero point
 * are rounded once).  fmaf and nearbyintf are exact by definition (IEEE 754), so the AVX2 body
 * (vfmadd + vroundps in the default round-to-nearest-even mode) and the portable fmaf loop give the
 * same bits.  lo/hi: [-128, 127] for int8, [0, 127] for the 7-bit activations of the int8 layers
 * (both fit a signed byte, so one saturating pack writes either). */
static inline int8_t tn_quantize_one(float x, float inv, float zp, float lo, float hi) {
    float v = nearbyintf(fmaf(x, inv, zp));
    v = v < lo ? lo : v > hi ? hi : v;
    return v == v ? (int8_t)v : 0;
}

#if TN_HAVE_AVX2
/* 32 values per step; returns how many leading values it wrote. */
TN_AVX2_FN static tn_idx tn_qrow_avx2(const float *x, tn_idx n, float inv, float zp, float lo, float hi, int8_t *q) {
    const __m256 vi = _mm256_set1_ps(inv), vz = _mm256_set1_ps(zp);
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    tn_idx j = 0;
    for (; j + 32 <= n; j += 32) {
        __m256i r[4];
        for (int k = 0; k < 4; k++) {
            __m256 xv = _mm256_loadu_ps(x + j + 8 * k);
            __m256 ok = _mm256_cmp_ps(xv, xv, _CMP_ORD_Q);
            __m256 v = _mm256_round_ps(_mm256_fmadd_ps(xv, vi, vz), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            v = _mm256_and_ps(_mm256_max_ps(_mm256_min_ps(v, vhi), vlo), ok);   /* NaN lanes: +0 */
            r[k] = _mm256_cvtps_epi32(v);
        }
        __m256i w = _mm256_packs_epi16(_mm256_packs_epi32(r[0], r[1]), _mm256_packs_epi32(r[2], r[3]));
        _mm256_storeu_si256((__m256i *)(q + j), _mm256_permutevar8x32_epi32(w, order));
    }
    return j;
}
#else
#define tn_qrow_avx2(x, n, inv, zp, lo, hi, q) 0
#endif

/* One row of n values (stride cs) into q; lo/hi as above. */
static void tn_quantize_row(const float *x, tn_idx n, tn_idx cs, float inv, float zp, float lo, float hi, int8_t *q) {
    tn_idx j = 0;
    if (cs == 1) { TN_DISPATCH(j = tn_qrow_avx2(x, n, inv, zp, lo, hi, q), (void)0) }
    for (; j < n; j++) q[j] = tn_quantize_one(x[j * cs], inv, zp, lo, hi);
}

static void tn_quantize_rows_f32(tn_idx m, tn_idx n, const float *x, tn_idx rs, tn_idx cs,
                                  const float *scale, float zp, int8_t *q) {
    for (tn_idx i = 0; i < m; i++)
        tn_quantize_row(x + i * rs, n, cs, 1.0f / scale[i], zp, -128.0f, 127.0f, q + i * n);
}

static void tn_quantize_rows_f64(tn_idx m, tn_idx n, const double *x, tn_idx rs, tn_idx cs,
                                  const float *scale, double zp, int8_t *q) {
    for (tn_idx i = 0; i < m; i++) {
        float inv = 1.0f / scale[i];
        for (tn_idx j = 0; j < n; j++)
            q[i * n + j] = tn_quantize_one((float)x[i * rs + j * cs], inv, (float)zp, -128.0f, 127.0f);
    }
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

/* The bulk of tn_minmax_f32 on AVX-512 (64 values per step): returns how many leading values it
 * covered (0 if fewer than 64), their min/max in *lo, *hi and whether any was NaN in *nan. */
#if TN_HAVE_AVX2
TN_AVX512_FN static tn_idx tn_minmax_f32_avx512(const float *x, tn_idx n, float *lo, float *hi, int *nan) {
    if (n < 64) return 0;
    __m512 mn[4], mx[4];
    __mmask16 bad = 0;
    for (int u = 0; u < 4; u++) {
        mn[u] = mx[u] = _mm512_loadu_ps(x + 16 * u);
        bad |= _mm512_cmp_ps_mask(mn[u], mn[u], _CMP_UNORD_Q);
    }
    tn_idx i = 64;
    for (; i + 64 <= n; i += 64)
        for (int u = 0; u < 4; u++) {
            __m512 v = _mm512_loadu_ps(x + i + 16 * u);
            bad |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
            mn[u] = _mm512_min_ps(mn[u], v);
            mx[u] = _mm512_max_ps(mx[u], v);
        }
    __m512 a = _mm512_min_ps(_mm512_min_ps(mn[0], mn[1]), _mm512_min_ps(mn[2], mn[3]));
    __m512 b = _mm512_max_ps(_mm512_max_ps(mx[0], mx[1]), _mm512_max_ps(mx[2], mx[3]));
    *lo = _mm512_reduce_min_ps(a);
    *hi = _mm512_reduce_max_ps(b);
    *nan = bad != 0;
    return i;
}
#endif

/* (min, max) over the m rows of k contiguous values (row stride rs) of x, m, k >= 1; NaN if any
 * value is NaN.  AVX-512 bulk where the level allows it, tn_minmax_f32 for the rest. */
static void tn_minmax_rows_f32(tn_idx m, tn_idx k, const float *x, tn_idx rs, float *lo, float *hi) {
    int nan = 0;
    float mn = INFINITY, mx = -INFINITY;
    tn_idx rows = rs == k ? 1 : m, len = rs == k ? m * k : k;
    for (tn_idx r = 0; r < rows; r++) {
        const float *p = x + r * rs;
        tn_idx done = 0;
        float a, b;
        int bad = 0;
#if TN_HAVE_AVX2
        if (tn_simd_level >= TN_SIMD_AVX512) done = tn_minmax_f32_avx512(p, len, &a, &b, &bad);
        if (done) { nan |= bad; mn = a < mn ? a : mn; mx = b > mx ? b : mx; }
#endif
        if (done < len) {
            tn_minmax_f32(p + done, len - done, &a, &b);
            nan |= a != a;
            mn = a < mn ? a : mn;
            mx = b > mx ? b : mx;
        }
    }
    *lo = nan ? NAN : mn;
    *hi = nan ? NAN : mx;
}


/* (s_a, z_a) of a dynamically quantized input with range [lo, hi]: PyTorch's MinMaxObserver for
 * affine 7-bit uint8 (compress/qparams.calc_qparams(lo, hi, "uint8", False, reduce_range=True)),
 * the same float32 operations in the same order:
 *   lo <- min(lo, 0), hi <- max(hi, 0), s = max((hi - lo) / 127, eps), z = clamp(-nearbyint(lo / s), 0, 127).
 * Returns -1 (and sets nothing) unless lo and hi are finite. */
static int tn_u7_qparams(float lo, float hi, float *s, int32_t *z) {
    if (!(isfinite(lo) && isfinite(hi) && lo <= hi)) return -1;
    lo = 0.0f < lo ? 0.0f : lo;
    hi = 0.0f > hi ? 0.0f : hi;
    float d = (hi - lo) / 127.0f, eps = 1.1920928955078125e-07f;
    float scale = eps > d ? eps : d;
    float r = nearbyintf(lo / scale);
    int32_t zp = r > 0.0f ? 0 : r < -127.0f ? 127 : -(int32_t)r;
    *s = scale;
    *z = zp;
    return 0;
}

#endif /* TN_QUANT_H */
