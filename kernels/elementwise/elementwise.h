/* elementwise/elementwise.h -- activation kernels (relu, sigmoid, tanh; forward and
 * backward) over contiguous arrays of n float or double elements, and the small-array
 * arithmetic (add, subtract, multiply) with the floating-point flags NumPy watches.
 *
 * The arithmetic of each activation is in common/activations.h (shared with the GEMM
 * epilogue); this file runs its span bodies over whole arrays, split across OpenMP
 * threads when the array is large (common/parallel.h).
 */
#ifndef TN_ELEMENTWISE_H
#define TN_ELEMENTWISE_H

#include <fenv.h>
#include "../common/activations.h"
#include "../common/parallel.h"

/* tn_NAME_array_f32 / _f64 (x, y, n): y[i] = tn_NAME(x[i]) for i < n (y may alias x). */
#define TN_UNARY(NAME)                                                                  \
static void tn_##NAME##_array_f32(const float *x, float *y, long long n) {             \
    TN_PARALLEL_FOR(tn_##NAME##_f32, n, 1, TN_GRAIN, x, y)                              \
}                                                                                       \
static void tn_##NAME##_array_f64(const double *x, double *y, long long n) {           \
    TN_PARALLEL_FOR(tn_##NAME##_f64, n, 1, TN_GRAIN, x, y)                              \
}
/* tn_NAME_array_f32 / _f64 (a, g, y, n): y[i] = tn_NAME(a[i], g[i]) for i < n. */
#define TN_BINARY(NAME)                                                                 \
static void tn_##NAME##_array_f32(const float *a, const float *g, float *y, long long n) { \
    TN_PARALLEL_FOR(tn_##NAME##_f32, n, 1, TN_GRAIN, a, g, y)                           \
}                                                                                       \
static void tn_##NAME##_array_f64(const double *a, const double *g, double *y, long long n) { \
    TN_PARALLEL_FOR(tn_##NAME##_f64, n, 1, TN_GRAIN, a, g, y)                           \
}

TN_UNARY(relu)
TN_UNARY(sigmoid)
TN_UNARY(tanh)
TN_BINARY(relu_bw)
TN_BINARY(sigmoid_bw)
TN_BINARY(tanh_bw)
#undef TN_UNARY
#undef TN_BINARY

/* ---------------------------------------------------------------- small arithmetic
 * y = a + b, a - b, a * b over n contiguous values: one IEEE operation per element, so the
 * same bits as NumPy's loops (only a NaN's payload may differ when both operands are NaN).
 * For small arrays only (the wrappers in elementwise.pxi), where NumPy's per-call cost is
 * the whole cost; the caller checks the floating-point flags afterwards (tn_fp_flags) and
 * lets NumPy redo a call that raised one, so np.errstate applies as it would. */
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
#if defined(__x86_64__)   /* SSE arithmetic, flags in MXCSR */
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

#endif /* TN_ELEMENTWISE_H */
