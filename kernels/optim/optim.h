/* optim/optim.h -- fused in-place optimizer updates, one pass over memory, float and double.
 * The formulas are reference.sgd_step / adam_step, operation for operation:
 *
 * SGD:  g <- g + wd p;  b <- g (first step) or mu b + (1 - dampening) g;
 *       g <- g + mu b (Nesterov) or b;  p <- p - lr g
 * Adam: p <- p (1 - lr wd) (decoupled, AdamW)  or  g <- g + wd p (Adam);
 *       m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
 *       p <- p - (lr / (1 - b1^t)) m / (sqrt(v / (1 - b2^t)) + eps)
 *
 * Inside the AVX2 / AVX-512 paths GCC (-O3) contracts a multiply and the add after it into one FMA
 * (one rounding: p - lr g as PyTorch's vectorised add(alpha=-lr)); the portable path rounds the
 * product first.  They differ in the last bit, and where lr g alone overflows: p = -inf, lr g =
 * -1e68 is -inf fused, -inf + inf = NaN unfused (tests/fuzz: test_sgd_step_whose_product_overflows...).
 *
 * Scalar coefficients arrive precomputed (in the array's precision, like NumPy's
 * casting of Python floats).  Loop-invariant flags are hoisted by the compiler
 * (loop unswitching), so each variant is a straight vectorised loop. */
#ifndef TN_OPTIM_H
#define TN_OPTIM_H

#include <math.h>
#include "../common/parallel.h"

#define TN_OPTIM_BODIES(T, SFX, SQRT, PATH, ATTR)                                       \
ATTR static void tn_sgd_##SFX##_##PATH(T *p, const T *g, T *b, T lr, T mu, T damp1, T wd, \
                                       int nesterov, int first, long long lo, long long hi) { \
    for (long long i = lo; i < hi; i++) {                                               \
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
ATTR static void tn_adam_##SFX##_##PATH(T *p, const T *g, T *m, T *v, T decay, T wd,   \
                                        T b1, T omb1, T b2, T omb2, T bias2, T step_size, \
                                        T eps, long long lo, long long hi) {           \
    for (long long i = lo; i < hi; i++) {                                               \
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
TN_OPTIM_BODIES(T, SFX, SQRT, avx2, TN_AVX2_FN)                                         \
TN_OPTIM_BODIES(T, SFX, SQRT, avx512, TN_AVX512_FN)                                     \
static void tn_sgd_step_##SFX(T *p, const T *g, T *b, long long n, T lr, T mu, T damp1, \
                              T wd, int nesterov, int first) {                         \
    TN_PARALLEL_FOR(tn_sgd_##SFX, n, 1, TN_GRAIN, p, g, b, lr, mu, damp1, wd, nesterov, first) \
}                                                                                       \
static void tn_adam_step_##SFX(T *p, const T *g, T *m, T *v, long long n, T decay, T wd, \
                               T b1, T omb1, T b2, T omb2, T bias2, T step_size, T eps) { \
    TN_PARALLEL_FOR(tn_adam_##SFX, n, 1, TN_GRAIN, p, g, m, v, decay, wd, b1, omb1, b2, omb2, \
                    bias2, step_size, eps)                                              \
}

TN_OPTIM_ALL(float, f32, sqrtf)
TN_OPTIM_ALL(double, f64, sqrt)

#endif /* TN_OPTIM_H */
