/* softmax/softmax.h -- row-wise softmax family and fused softmax cross-entropy on C-contiguous
 * (N, C) arrays, float and double.  Uses tn_exp_* from common/exp.h.
 *
 * Per row x (length C), with m = max_c x_c and s = sum_c e^(x_c - m):
 *   softmax:          y_c = e^(x_c - m) / s
 *   log_softmax:      y_c = (x_c - m) - log s
 *   softmax_bw:       dx_c = y_c (g_c - sum_j g_j y_j)
 *   log_softmax_bw:   dx_c = g_c - e^(y_c) sum_j g_j
 *   cross_entropy:    p = softmax(x),  log p_c = x_c - m - log s,
 *                     loss = -(1 - e) log p_t - (e / C) sum_c log p_c
 *                          = -(1 - e) log p_t - (e / C) (sum_c (x_c - m) - C log s)
 *   cross_entropy_bw: dx_c = (p_c - q_c) g,  q = (1 - e) onehot(t) + e / C
 * Row reductions (max, sum, dot) keep 8 partial results (vectorised, same order on
 * every path; see TN_REDUCTIONS).  Rows are split across OpenMP threads
 * when N C is large (common/parallel.h); each thread calls the AVX-512, AVX2 or portable body.
 */
#ifndef TN_SOFTMAX_H
#define TN_SOFTMAX_H

#include <math.h>
#include <stdint.h>
#include "../common/exp.h"
#include "../common/parallel.h"

#define TN_SM_GRAIN (1 << 15)

/* Reductions with 8 explicit partial results: GCC turns the inner j-loops into
 * vector operations (SLP) without reassociating anything, so the result is the
 * same on every SIMD path, and short rows (C < 8) cost only the scalar tail. */
#define TN_REDUCTIONS(T, SFX)                                                           \
static inline T tn_rmax_##SFX(const T *v, long long n) {                               \
    T acc[8], m = -INFINITY;                                                            \
    long long c = 0;                                                                    \
    for (int j = 0; j < 8; j++) acc[j] = -INFINITY;                                     \
    for (; c + 8 <= n; c += 8)                                                          \
        for (int j = 0; j < 8; j++) acc[j] = v[c + j] > acc[j] ? v[c + j] : acc[j];     \
    for (int j = 0; j < 8; j++) m = acc[j] > m ? acc[j] : m;                            \
    for (; c < n; c++) m = v[c] > m ? v[c] : m;                                         \
    return m;                                                                           \
}                                                                                       \
static inline T tn_rsum_##SFX(const T *v, long long n) {                               \
    T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s;                                             \
    long long c = 0;                                                                    \
    for (; c + 8 <= n; c += 8)                                                          \
        for (int j = 0; j < 8; j++) acc[j] += v[c + j];                                 \
    s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])); \
    for (; c < n; c++) s += v[c];                                                       \
    return s;                                                                           \
}                                                                                       \
/* sum_c (v_c - m), in the same order as tn_rsum over the stored differences */          \
static inline T tn_rsum_shift_##SFX(const T *v, T m, long long n) {                   \
    T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s;                                             \
    long long c = 0;                                                                    \
    for (; c + 8 <= n; c += 8)                                                          \
        for (int j = 0; j < 8; j++) acc[j] += v[c + j] - m;                             \
    s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])); \
    for (; c < n; c++) s += v[c] - m;                                                   \
    return s;                                                                           \
}                                                                                       \
static inline T tn_rdot_##SFX(const T *a, const T *b, long long n) {                   \
    T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s;                                             \
    long long c = 0;                                                                    \
    for (; c + 8 <= n; c += 8)                                                          \
        for (int j = 0; j < 8; j++) acc[j] += a[c + j] * b[c + j];                      \
    s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])); \
    for (; c < n; c++) s += a[c] * b[c];                                                \
    return s;                                                                           \
}

TN_REDUCTIONS(float, f32)
TN_REDUCTIONS(double, f64)

#define TN_SOFTMAX_BODIES(T, SFX, LOG, PATH, ATTR)                                      \
ATTR static void tn_sm_rows_##SFX##_##PATH(const T *x, T *y, int take_log, long long C, \
                                           long long r0, long long r1) {                \
    for (long long r = r0; r < r1; r++) {                                               \
        const T *xr = x + r * C;                                                        \
        T *yr = y + r * C;                                                              \
        T m = tn_rmax_##SFX(xr, C);                                                     \
        for (long long c = 0; c < C; c++) yr[c] = tn_exp_##SFX(xr[c] - m);              \
        T s = tn_rsum_##SFX(yr, C);                                                     \
        if (take_log) {                                                                 \
            T ls = LOG(s);                                                              \
            for (long long c = 0; c < C; c++) yr[c] = (xr[c] - m) - ls;                 \
        } else {                                                                        \
            T inv = (T)1 / s;                                                           \
            for (long long c = 0; c < C; c++) yr[c] *= inv;                             \
        }                                                                               \
    }                                                                                   \
}                                                                                       \
ATTR static void tn_smbw_rows_##SFX##_##PATH(const T *y, const T *g, T *dx, int take_log, \
                                             long long C, long long r0, long long r1) { \
    for (long long r = r0; r < r1; r++) {                                               \
        const T *yr = y + r * C, *gr = g + r * C;                                       \
        T *dr = dx + r * C;                                                             \
        if (take_log) {                                                                 \
            T s = tn_rsum_##SFX(gr, C);                                                 \
            for (long long c = 0; c < C; c++) dr[c] = gr[c] - tn_exp_##SFX(yr[c]) * s;  \
        } else {                                                                        \
            T s = tn_rdot_##SFX(gr, yr, C);                                             \
            for (long long c = 0; c < C; c++) dr[c] = yr[c] * (gr[c] - s);              \
        }                                                                               \
    }                                                                                   \
}                                                                                       \
ATTR static void tn_ce_rows_##SFX##_##PATH(const T *x, const int64_t *t, T e, T *loss, \
                                           T *p, long long C, long long r0, long long r1) { \
    for (long long r = r0; r < r1; r++) {                                               \
        const T *xr = x + r * C;                                                        \
        T *pr = p + r * C;                                                              \
        T m = tn_rmax_##SFX(xr, C);                                                     \
        T sx = e != 0 ? tn_rsum_shift_##SFX(xr, m, C) : 0; /* sum_c (x_c - m), smoothing */ \
        for (long long c = 0; c < C; c++) pr[c] = tn_exp_##SFX(xr[c] - m);              \
        T s = tn_rsum_##SFX(pr, C);                                                     \
        T inv = (T)1 / s, ls = LOG(s);                                                  \
        for (long long c = 0; c < C; c++) pr[c] *= inv;                                 \
        T picked = (xr[t[r]] - m) - ls;                                                 \
        T l = -((T)1 - e) * picked;                                                     \
        if (e != 0) l -= e / (T)C * (sx - (T)C * ls);                                   \
        loss[r] = l;                                                                    \
    }                                                                                   \
}                                                                                       \
ATTR static void tn_cebw_rows_##SFX##_##PATH(const T *p, const int64_t *t, T e, const T *g, \
                                             long long gstride, T *dx, long long C, \
                                             long long r0, long long r1) {              \
    T off = e / (T)C, on = e / (T)C + ((T)1 - e);                                       \
    for (long long r = r0; r < r1; r++) {                                               \
        const T *pr = p + r * C;                                                        \
        T *dr = dx + r * C;                                                             \
        T gr = g[r * gstride];                                                          \
        for (long long c = 0; c < C; c++) dr[c] = (pr[c] - off) * gr;                   \
        dr[t[r]] = (pr[t[r]] - on) * gr;                                                \
    }                                                                                   \
}

#define TN_SOFTMAX_ALL(T, SFX, LOG)                                                     \
TN_SOFTMAX_BODIES(T, SFX, LOG, portable, )                                              \
TN_SOFTMAX_BODIES(T, SFX, LOG, avx2, TN_AVX2_FN)                                        \
TN_SOFTMAX_BODIES(T, SFX, LOG, avx512, TN_AVX512_FN)                                    \
static void tn_softmax_rows_##SFX(const T *x, T *y, long long N, long long C, int take_log) { \
    TN_PARALLEL_FOR(tn_sm_rows_##SFX, N, C, TN_SM_GRAIN, x, y, take_log, C)             \
}                                                                                       \
static void tn_softmax_bw_rows_##SFX(const T *y, const T *g, T *dx, long long N, long long C, int take_log) { \
    TN_PARALLEL_FOR(tn_smbw_rows_##SFX, N, C, TN_SM_GRAIN, y, g, dx, take_log, C)       \
}                                                                                       \
static void tn_cross_entropy_rows_##SFX(const T *x, const int64_t *t, T e, T *loss, T *p, \
                                        long long N, long long C) {                     \
    TN_PARALLEL_FOR(tn_ce_rows_##SFX, N, C, TN_SM_GRAIN, x, t, e, loss, p, C)           \
}                                                                                       \
static void tn_cross_entropy_bw_rows_##SFX(const T *p, const int64_t *t, T e, const T *g, \
                                           long long gstride, T *dx, long long N, long long C) { \
    TN_PARALLEL_FOR(tn_cebw_rows_##SFX, N, C, TN_SM_GRAIN, p, t, e, g, gstride, dx, C)  \
}

TN_SOFTMAX_ALL(float, f32, logf)
TN_SOFTMAX_ALL(double, f64, log)

/* Index of the first target outside [0, C), or -1 if all are valid. */
static long long tn_first_bad_target(const int64_t *t, long long N, long long C) {
    for (long long r = 0; r < N; r++)
        if (t[r] < 0 || t[r] >= C) return r;
    return -1;
}

#endif /* TN_SOFTMAX_H */
