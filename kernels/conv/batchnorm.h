/* conv/batchnorm.h -- training-mode batch normalization of x (N, C, L) over its M = N L values per
 * channel, forward and backward, for tinynn.kernels.  Channels are independent: threads take them.
 * Sums are accumulated in double for both float types (two passes: the mean, then the squared
 * deviations from it, so a large mean does not cancel the variance away).
 *
 *   forward:  mu = sum x / M,  var = sum (x - mu)^2 / M,  y = (x - mu) r gamma + beta,  r = 1 / sqrt(var + eps)
 *   backward: xhat = (x - mu) r,  dgamma = sum g xhat,  dbeta = sum g,
 *             dx = gamma r (g - dbeta / M - xhat dgamma / M)
 * gamma / beta NULL: 1 / 0.  dx, dgamma, dbeta NULL: not computed.
 */
#ifndef TN_BATCHNORM_H
#define TN_BATCHNORM_H

#include <math.h>
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
}

TN_BN_DEFINE(float, f32)
TN_BN_DEFINE(double, f64)
#undef TN_BN_DEFINE

#endif /* TN_BATCHNORM_H */
