/* optim.h -- fused in-place optimizer updates, one pass over memory, float and double.
 * The formulas are numpy_ref.sgd_step / adam_step, operation for operation:
 *
 * SGD:  g <- g + wd p;  b <- g (first step) or mu b + (1 - dampening) g;
 *       g <- g + mu b (Nesterov) or b;  p <- p - lr g
 * Adam: p <- p (1 - lr wd) (decoupled, AdamW)  or  g <- g + wd p (Adam);
 *       m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
 *       p <- p - (lr / (1 - b1^t)) m / (sqrt(v / (1 - b2^t)) + eps)
 *
 * Scalar coefficients arrive precomputed (in the array's precision, like NumPy's
 * casting of Python floats).  Loop-invariant flags are hoisted by the compiler
 * (loop unswitching), so each variant is a straight vectorised loop. */
#ifndef TINYNN_OPTIM_H
#define TINYNN_OPTIM_H

#include <math.h>
#include "simd.h"
#include "elementwise.h"   /* TN_BLOCK, TN_DISPATCH, TN_GRAIN */

#define TN_OPTIM_BODIES(T, SFX, SQRT, PATH, ATTR)                                       \
ATTR static void tn_sgd_##SFX##_##PATH(T *p, const T *g, T *b, long long n, T lr, T mu, \
                                       T damp1, T wd, int nesterov, int first) {       \
    for (long long i = 0; i < n; i++) {                                                 \
        T gi = g[i];                                                                    \
        if (wd != 0) gi = gi + wd * p[i];                                               \
        if (b) {                                                                        \
            T bi = first ? gi : b[i] * mu + damp1 * gi;                                 \
            b[i] = bi;                                                                  \
            gi = nesterov ? gi + mu * bi : bi;                                          \
        }                                                                               \
        p[i] = p[i] - lr * gi;                                                          \
    }                                                                                   \
}                                                                                       \
ATTR static void tn_adam_##SFX##_##PATH(T *p, const T *g, T *m, T *v, long long n,     \
                                        T decay, T wd, T b1, T omb1, T b2, T omb2,     \
                                        T bias2, T step_size, T eps) {                 \
    for (long long i = 0; i < n; i++) {                                                 \
        T pi = p[i];                                                                    \
        if (decay != 1) pi = pi * decay;                                                \
        T gi = g[i];                                                                    \
        if (wd != 0) gi = gi + wd * pi;                                                 \
        T mi = m[i] * b1 + omb1 * gi;                                                   \
        T vi = v[i] * b2 + omb2 * gi * gi;                                              \
        m[i] = mi;                                                                      \
        v[i] = vi;                                                                      \
        p[i] = pi - step_size * mi / (SQRT(vi / bias2) + eps);                          \
    }                                                                                   \
}

#define TN_OPTIM_ALL(T, SFX, SQRT)                                                      \
TN_OPTIM_BODIES(T, SFX, SQRT, portable, )                                               \
TN_OPTIM_BODIES(T, SFX, SQRT, avx2, TINYNN_AVX2_FN)                                     \
static void sgd_step_##SFX(T *p, const T *g, T *b, long long n, T lr, T mu, T damp1,   \
                           T wd, int nesterov, int first) {                            \
    int nt = tinynn_threads_for(n, TN_GRAIN);                                           \
    if (nt <= 1) { /* small tensors: no OpenMP region at all */                         \
        TN_DISPATCH(tn_sgd_##SFX##_avx2(p, g, b, n, lr, mu, damp1, wd, nesterov, first),  \
                    tn_sgd_##SFX##_portable(p, g, b, n, lr, mu, damp1, wd, nesterov, first)) \
        return;                                                                         \
    }                                                                                   \
    _Pragma("omp parallel for num_threads(nt) schedule(dynamic, 1)")                   \
    for (long long blk = 0; blk < TN_BLOCKS(n); blk++) {  /* see TN_BLOCK */            \
        TN_BLOCK_RANGE(n, blk, lo, hi)                                                  \
        T *bb = b ? b + lo : 0;                                                         \
        TN_DISPATCH(tn_sgd_##SFX##_avx2(p + lo, g + lo, bb, hi - lo, lr, mu, damp1, wd, nesterov, first), \
                    tn_sgd_##SFX##_portable(p + lo, g + lo, bb, hi - lo, lr, mu, damp1, wd, nesterov, first)) \
    }                                                                                   \
}                                                                                       \
static void adam_step_##SFX(T *p, const T *g, T *m, T *v, long long n, T decay, T wd,  \
                            T b1, T omb1, T b2, T omb2, T bias2, T step_size, T eps) { \
    int nt = tinynn_threads_for(n, TN_GRAIN);                                           \
    if (nt <= 1) {                                                                      \
        TN_DISPATCH(tn_adam_##SFX##_avx2(p, g, m, v, n, decay, wd, b1, omb1, b2, omb2, bias2, step_size, eps), \
                    tn_adam_##SFX##_portable(p, g, m, v, n, decay, wd, b1, omb1, b2, omb2, bias2, step_size, eps)) \
        return;                                                                         \
    }                                                                                   \
    _Pragma("omp parallel for num_threads(nt) schedule(dynamic, 1)")                   \
    for (long long blk = 0; blk < TN_BLOCKS(n); blk++) {  /* see TN_BLOCK */            \
        TN_BLOCK_RANGE(n, blk, lo, hi)                                                  \
        TN_DISPATCH(tn_adam_##SFX##_avx2(p + lo, g + lo, m + lo, v + lo, hi - lo, decay, wd, b1, omb1, b2, omb2, bias2, step_size, eps), \
                    tn_adam_##SFX##_portable(p + lo, g + lo, m + lo, v + lo, hi - lo, decay, wd, b1, omb1, b2, omb2, bias2, step_size, eps)) \
    }                                                                                   \
}

TN_OPTIM_ALL(float, f32, sqrtf)
TN_OPTIM_ALL(double, f64, sqrt)

#endif /* TINYNN_OPTIM_H */
