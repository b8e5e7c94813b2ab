/* conv/batchnorm.h -- batch normalization of x (N, C, L) for tinynn.kernels: training mode over its
 * M = N L values per channel, forward and backward, and eval mode.  Channels are independent: threads
 * take them.
 * Sums are accumulated in double for both float types (two passes: the mean, then the squared
 * deviations from it, so a large mean does not cancel the variance away).
 *
 *   forward:  mu = sum x / M,  var = sum (x - mu)^2 / M,  y = (x - mu) r gamma + beta,  r = 1 / sqrt(var + eps)
 *   backward: xhat = (x - mu) r,  dgamma = sum g xhat,  dbeta = sum g,
 *             dx = gamma r (g - dbeta / M - xhat dgamma / M)
 * gamma / beta NULL: 1 / 0.  dx, dgamma, dbeta NULL: not computed.
 *
 *   eval:     s = gamma / sqrt(var + eps),  t = beta - mu s,  y = x s + t, every step rounded to T
 * as NumPy rounds it (the reference's order; baseline target, so no FMA contracts x s + t).
 */
#ifndef TN_BATCHNORM_H
#define TN_BATCHNORM_H

#include <math.h>
#include <stdlib.h>
#include "../common/simd.h"

#define TN_BN_MIN_PARALLEL (1 << 16)   /* elements below which one thread does all channels */

#define TN_BN_CAT_(a, b) a##_##b
#define TN_BN_CAT(a, b) TN_BN_CAT_(a, b)

#define TN_BN_DEFINE(T, TS)                                                                        \
static void TN_BN_CAT(tn_batch_norm, TS)(const T *x, const T *gamma, const T *beta, double eps, T *y,       \
                                         T *mean, T *var, tn_idx n, tn_idx c, tn_idx l, int nt) {           \
    tn_idx m = n * l;                                                                              \
    _Pragma("omp parallel for num_threads(n * c * l < TN_BN_MIN_PARALLEL ? 1 : nt) schedule(static)")   \
    for (tn_idx ch = 0; ch < c; ch++) {                                                            \
        double s = 0, ss = 0;                                                                      \
        for (tn_idx i = 0; i < n; i++) {                                                           \
            const T *row = x + (i * c + ch) * l;                                                   \
            for (tn_idx j = 0; j < l; j++) s += row[j];                                            \
        }                                                                                          \
        double mu = m ? s / m : NAN;                                                               \
        for (tn_idx i = 0; i < n; i++) {                                                           \
            const T *row = x + (i * c + ch) * l;                                                   \
            for (tn_idx j = 0; j < l; j++) { double d = row[j] - mu; ss += d * d; }                \
        }                                                                                          \
        double v = m ? ss / m : NAN, r = 1.0 / sqrt(v + eps);                                      \
        double scale = gamma ? r * gamma[ch] : r, shift = beta ? beta[ch] : 0.0;                  \
        mean[ch] = (T)mu;                                                                          \
        var[ch] = (T)v;                                                                            \
        for (tn_idx i = 0; i < n; i++) {                                                           \
            const T *row = x + (i * c + ch) * l;                                                   \
            T *out = y + (i * c + ch) * l;                                                         \
            for (tn_idx j = 0; j < l; j++) out[j] = (T)((row[j] - mu) * scale + shift);           \
        }                                                                                          \
    }                                                                                              \
}                                                                                                  \
static void TN_BN_CAT(tn_batch_norm_backward, TS)(const T *g, const T *x, const T *mean, const T *var,      \
                                                  const T *gamma, double eps, T *dx, T *dgamma, T *dbeta,   \
                                                  tn_idx n, tn_idx c, tn_idx l, int nt) {          \
    tn_idx m = n * l;                                                                              \
    _Pragma("omp parallel for num_threads(n * c * l < TN_BN_MIN_PARALLEL ? 1 : nt) schedule(static)")   \
    for (tn_idx ch = 0; ch < c; ch++) {                                                            \
        double mu = mean[ch], r = 1.0 / sqrt((double)var[ch] + eps), sg = 0, sgx = 0;              \
        for (tn_idx i = 0; i < n; i++) {                                                           \
            const T *gr = g + (i * c + ch) * l, *row = x + (i * c + ch) * l;                       \
            for (tn_idx j = 0; j < l; j++) { sg += gr[j]; sgx += gr[j] * ((row[j] - mu) * r); }    \
        }                                                                                          \
        if (dgamma) dgamma[ch] = (T)sgx;                                                           \
        if (dbeta) dbeta[ch] = (T)sg;                                                              \
        if (!dx) continue;                                                                         \
        double scale = gamma ? r * gamma[ch] : r, a = m ? sg / m : 0, b = m ? sgx / m : 0;         \
        for (tn_idx i = 0; i < n; i++) {                                                           \
            const T *gr = g + (i * c + ch) * l, *row = x + (i * c + ch) * l;                       \
            T *out = dx + (i * c + ch) * l;                                                        \
            for (tn_idx j = 0; j < l; j++) out[j] = (T)(scale * (gr[j] - a - (row[j] - mu) * r * b)); \
        }                                                                                          \
    }                                                                                              \
}                                                                                                  \
static int TN_BN_CAT(tn_batch_norm_eval, TS)(const T *x, const T *mean, const T *var, const T *gamma,       \
                                             const T *beta, double eps, T *y, tn_idx n, tn_idx c, tn_idx l,  \
                                             int nt) {                                             \
    T *st = (T *)malloc(2 * (size_t)(c ? c : 1) * sizeof(T));                                     \
    if (!st) return -1;                                                                            \
    for (tn_idx ch = 0; ch < c; ch++) {                                                            \
        T s = (T)1 / (T)sqrt(var[ch] + (T)eps);                                                    \
        if (gamma) s = s * gamma[ch];                                                              \
        T t = -mean[ch] * s;                                                                       \
        st[2 * ch] = s;                                                                            \
        st[2 * ch + 1] = beta ? t + beta[ch] : t;                                                  \
    }                                                                                              \
    _Pragma("omp parallel for num_threads(n * c * l < TN_BN_MIN_PARALLEL ? 1 : nt) schedule(static)")   \
    for (tn_idx row = 0; row < n * c; row++) {                                                     \
        T s = st[2 * (row % c)], t = st[2 * (row % c) + 1];                                        \
        const T *in = x + row * l;                                                                 \
        T *out = y + row * l;                                                                      \
        for (tn_idx j = 0; j < l; j++) out[j] = in[j] * s + t;                                     \
    }                                                                                              \
    free(st);                                                                                      \
    return 0;                                                                                      \
}

TN_BN_DEFINE(float, f32)
TN_BN_DEFINE(double, f64)
#undef TN_BN_DEFINE

#endif /* TN_BATCHNORM_H */
