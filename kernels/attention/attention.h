/* attention/attention.h -- the sequence-model kernels on C-contiguous float/double rows:
 * the scaled (optionally causal) softmax of attention scores, layer normalization and GELU,
 * each forward and backward.  The readable specification is tinynn/backend/reference_attention.py.
 *
 * Scaled softmax over rows of scores S (..., L, K), row r being query i = r mod L:
 *   n = K, or min(i + 1, K) when causal (keys j > i take no part: the mask is never built)
 *   P_j = e^(s z_j - m) / sum_{j<n} e^(s z_j - m), m = max_{j<n} s z_j, for j < n;  P_j = 0 for j >= n
 *   backward: dZ_j = s P_j (G_j - sum_k G_k P_k)
 * Layer norm per row x of N:  mu = sum x / N,  r = 1 / sqrt(sum (x - mu)^2 / N + eps),
 *   y = (x - mu) r w + b;  backward with xhat = (x - mu) r, d = g w:
 *   dx = r (d - mean d - xhat mean(d xhat)),  dw = sum_rows g xhat,  db = sum_rows g.
 * GELU:  exact  y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2, y' = Phi(x) + x e^(-x^2/2) / sqrt(2 pi);
 *        tanh   y = x (1 + t) / 2, t = tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3),
 *               y' = (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2) / 2,
 *               computed as (1 + t) / 2 = sigmoid(2u) = 1 / (1 + e^(-2u)) and
 *               (1 - t^2) / 2 = 2 s (1 - s), s = sigmoid(2u): no cancellation where t is near -1,
 *               and tn_exp lets the loop vectorise.
 * Row reductions reuse softmax/softmax.h's eight-partial sums; every body is compiled for the
 * portable, AVX2 and AVX-512 paths and picked at run time (common/parallel.h).
 */
#ifndef TN_ATTENTION_H
#define TN_ATTENTION_H

#include <math.h>
#include "../common/exp.h"
#include "../common/parallel.h"
#include "../softmax/softmax.h"

#define TN_ATT_GRAIN (1 << 15)

#define TN_ATTENTION_BODIES(T, SFX, SQRT, ERF, PATH, ATTR)                              \
ATTR static void tn_ssm_rows_##SFX##_##PATH(const T *x, T *y, T scale, int causal,     \
                                            long long L, long long K, long long r0, long long r1) { \
    for (long long r = r0; r < r1; r++) {                                               \
        const T *xr = x + r * K;                                                        \
        T *yr = y + r * K;                                                              \
        long long i = r % L, n = causal && i + 1 < K ? i + 1 : K;                       \
        for (long long c = 0; c < n; c++) yr[c] = scale * xr[c];                        \
        T m = tn_rmax_##SFX(yr, n);                                                     \
        for (long long c = 0; c < n; c++) yr[c] = tn_exp_##SFX(yr[c] - m);              \
        T inv = (T)1 / tn_rsum_##SFX(yr, n);                                            \
        for (long long c = 0; c < n; c++) yr[c] *= inv;                                 \
        for (long long c = n; c < K; c++) yr[c] = 0;                                    \
    }                                                                                   \
}                                                                                       \
ATTR static void tn_ssmbw_rows_##SFX##_##PATH(const T *y, const T *g, T *dx, T scale, \
                                              long long K, long long r0, long long r1) { \
    for (long long r = r0; r < r1; r++) {                                               \
        const T *yr = y + r * K, *gr = g + r * K;                                       \
        T *dr = dx + r * K;                                                             \
        T s = tn_rdot_##SFX(gr, yr, K);                                                 \
        for (long long c = 0; c < K; c++) dr[c] = scale * (yr[c] * (gr[c] - s));        \
    }                                                                                   \
}                                                                                       \
ATTR static void tn_ln_rows_##SFX##_##PATH(const T *x, const T *w, const T *b, T *y,   \
                                           T *mean, T *rstd, T eps, long long N,        \
                                           long long r0, long long r1) {                \
    for (long long r = r0; r < r1; r++) {                                               \
        const T *xr = x + r * N;                                                        \
        T *yr = y + r * N;                                                              \
        T mu = tn_rsum_##SFX(xr, N) / (T)N;                                             \
        for (long long c = 0; c < N; c++) yr[c] = (xr[c] - mu) * (xr[c] - mu);          \
        T rs = (T)1 / SQRT(tn_rsum_##SFX(yr, N) / (T)N + eps);                          \
        for (long long c = 0; c < N; c++) {                                             \
            T v = (xr[c] - mu) * rs;                                                    \
            if (w) v = v * w[c];                                                        \
            if (b) v = v + b[c];                                                        \
            yr[c] = v;                                                                  \
        }                                                                               \
        mean[r] = mu;                                                                   \
        rstd[r] = rs;                                                                   \
    }                                                                                   \
}                                                                                       \
ATTR static void tn_lnbw_rows_##SFX##_##PATH(const T *x, const T *w, const T *mean,    \
                                             const T *rstd, const T *g, T *dx, long long N, \
                                             long long r0, long long r1) {              \
    for (long long r = r0; r < r1; r++) {                                               \
        const T *xr = x + r * N, *gr = g + r * N;                                       \
        T *dr = dx + r * N;                                                             \
        T mu = mean[r], rs = rstd[r];                                                   \
        for (long long c = 0; c < N; c++) dr[c] = w ? gr[c] * w[c] : gr[c];             \
        T a = tn_rsum_##SFX(dr, N) / (T)N;                                              \
        T bsum = 0;                                                                     \
        for (long long c = 0; c < N; c++) bsum += dr[c] * ((xr[c] - mu) * rs);          \
        bsum /= (T)N;                                                                   \
        for (long long c = 0; c < N; c++)                                               \
            dr[c] = rs * (dr[c] - a - ((xr[c] - mu) * rs) * bsum);                      \
    }                                                                                   \
}                                                                                       \
ATTR static void tn_gelu_##SFX##_##PATH(const T *x, T *y, int tanh_form, long long lo, long long hi) { \
    const T k = (T)0.7978845608028654, a = (T)0.044715;                                 \
    if (tanh_form) {                                                                    \
        for (long long c = lo; c < hi; c++) {                                           \
            T u = k * (x[c] + a * x[c] * x[c] * x[c]);                                  \
            y[c] = x[c] / ((T)1 + tn_exp_##SFX((T)-2 * u));  /* (1 + t) / 2 = sigmoid(2u) */ \
        }                                                                               \
    } else {                                                                            \
        for (long long c = lo; c < hi; c++)                                             \
            y[c] = x[c] * ((T)0.5 * ((T)1 + ERF(x[c] * (T)0.7071067811865476)));        \
    }                                                                                   \
}                                                                                       \
ATTR static void tn_gelubw_##SFX##_##PATH(const T *x, const T *g, T *dx, int tanh_form, \
                                          long long lo, long long hi) {                 \
    const T k = (T)0.7978845608028654, a = (T)0.044715;                                 \
    if (tanh_form) {                                                                    \
        for (long long c = lo; c < hi; c++) {                                           \
            T v = x[c];                                                                 \
            T s = (T)1 / ((T)1 + tn_exp_##SFX((T)-2 * k * (v + a * v * v * v)));         \
            T d = s + (T)2 * v * s * ((T)1 - s) * k * ((T)1 + (T)3 * a * v * v);         \
            dx[c] = g[c] * d;                                                           \
        }                                                                               \
    } else {                                                                            \
        for (long long c = lo; c < hi; c++) {                                           \
            T v = x[c];                                                                 \
            T d = (T)0.5 * ((T)1 + ERF(v * (T)0.7071067811865476))                      \
                + v * tn_exp_##SFX((T)-0.5 * v * v) * (T)0.3989422804014327;            \
            dx[c] = g[c] * d;                                                           \
        }                                                                               \
    }                                                                                   \
}

#define TN_ATTENTION_ALL(T, SFX, SQRT, ERF)                                             \
TN_ATTENTION_BODIES(T, SFX, SQRT, ERF, portable, )                                      \
TN_ATTENTION_BODIES(T, SFX, SQRT, ERF, avx2, TN_AVX2_FN)                                \
TN_ATTENTION_BODIES(T, SFX, SQRT, ERF, avx512, TN_AVX512_FN)                            \
static void tn_scaled_softmax_##SFX(const T *x, T *y, T scale, int causal, long long rows, \
                                    long long L, long long K) {                         \
    TN_PARALLEL_FOR(tn_ssm_rows_##SFX, rows, K, TN_ATT_GRAIN, x, y, scale, causal, L, K) \
}                                                                                       \
static void tn_scaled_softmax_bw_##SFX(const T *y, const T *g, T *dx, T scale, long long rows, long long K) { \
    TN_PARALLEL_FOR(tn_ssmbw_rows_##SFX, rows, K, TN_ATT_GRAIN, y, g, dx, scale, K)     \
}                                                                                       \
static void tn_layer_norm_##SFX(const T *x, const T *w, const T *b, T *y, T *mean, T *rstd, \
                                T eps, long long M, long long N) {                      \
    TN_PARALLEL_FOR(tn_ln_rows_##SFX, M, N, TN_ATT_GRAIN, x, w, b, y, mean, rstd, eps, N) \
}                                                                                       \
static void tn_layer_norm_dx_##SFX(const T *x, const T *w, const T *mean, const T *rstd, \
                                   const T *g, T *dx, long long M, long long N) {       \
    TN_PARALLEL_FOR(tn_lnbw_rows_##SFX, M, N, TN_ATT_GRAIN, x, w, mean, rstd, g, dx, N) \
}                                                                                       \
/* dw = sum_rows g xhat, db = sum_rows g (either may be NULL): one pass, row by row */   \
static void tn_layer_norm_dwdb_##SFX(const T *x, const T *mean, const T *rstd, const T *g, \
                                     T *dw, T *db, long long M, long long N) {          \
    for (long long c = 0; c < N; c++) {                                                 \
        if (dw) dw[c] = 0;                                                              \
        if (db) db[c] = 0;                                                              \
    }                                                                                   \
    for (long long r = 0; r < M; r++) {                                                 \
        const T *xr = x + r * N, *gr = g + r * N;                                       \
        T mu = mean[r], rs = rstd[r];                                                   \
        if (dw) for (long long c = 0; c < N; c++) dw[c] += gr[c] * ((xr[c] - mu) * rs); \
        if (db) for (long long c = 0; c < N; c++) db[c] += gr[c];                       \
    }                                                                                   \
}                                                                                       \
static void tn_gelu_fw_##SFX(const T *x, T *y, int tanh_form, long long n) {            \
    TN_PARALLEL_FOR(tn_gelu_##SFX, n, 1, TN_GRAIN, x, y, tanh_form)                     \
}                                                                                       \
static void tn_gelu_bw_##SFX(const T *x, const T *g, T *dx, int tanh_form, long long n) { \
    TN_PARALLEL_FOR(tn_gelubw_##SFX, n, 1, TN_GRAIN, x, g, dx, tanh_form)               \
}

TN_ATTENTION_ALL(float, f32, sqrtf, erff)
TN_ATTENTION_ALL(double, f64, sqrt, erf)

#endif /* TN_ATTENTION_H */
