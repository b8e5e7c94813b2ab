/* common/simd.h -- run-time configuration shared by every tinynn kernel: which SIMD path
 * to take and how many OpenMP threads to use.
 *
 * All kernel sources are compiled into ONE translation unit (kernels/kernels.pyx
 * `include`s the .pxi files, which `cdef extern from` the .h files), so the globals
 * below are plain `static` variables, seen by every kernel.  If a kernel ever moves
 * into a separate .c file, turn them into extern definitions.
 *
 * Every symbol and macro of the kernels starts with tn_ / TN_.
 *
 * SIMD dispatch, one style everywhere: each path is a separate function, compiled on
 * every build (the AVX2 one with TN_AVX2_FN, a target attribute, so the rest of the
 * file stays baseline x86-64), and the caller picks one at run time with TN_DISPATCH:
 *
 *     TN_AVX2_FN static void foo_avx2(...) { ... }
 *     static void foo_portable(...) { ... }
 *     ...
 *     TN_DISPATCH(foo_avx2(...), foo_portable(...))
 *
 * Where one body serves both paths (the elementwise, softmax and optimizer loops), a
 * macro stamps it out twice and GCC vectorises each copy for its target.
 *
 * tn_simd_level is set once at module import by tn_simd_init() (the best level the CPU
 * supports) and changed at run time by kernels.set_simd("auto" | "portable" | "avx2+fma"),
 * so tests can run every path.  tn_num_threads is set by kernels.set_num_threads(n),
 * which tinynn.set_num_threads calls; large loops pass it to their OpenMP region.
 */
#ifndef TN_SIMD_H
#define TN_SIMD_H

#define TN_SIMD_PORTABLE 0
#define TN_SIMD_AVX2 1   /* AVX2 + FMA (Haswell and later) */

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define TN_HAVE_AVX2 1
#include <immintrin.h>
/* Compile one function for AVX2+FMA while the rest of the file stays baseline x86-64. */
#define TN_AVX2_FN __attribute__((target("avx2,fma")))
#else
#define TN_HAVE_AVX2 0
#define TN_AVX2_FN
#endif

/* A function whose compiled code must be the one every caller runs: GCC may inline a
 * baseline function into a TN_AVX2_FN caller and recompile it there with FMA contraction,
 * which changes its rounding (see common/activations.h). */
#if defined(__GNUC__) || defined(__clang__)
#define TN_NOINLINE __attribute__((noinline))
#else
#define TN_NOINLINE
#endif

/* SSE2 is part of baseline x86-64: the portable path may use its intrinsics directly. */
#if defined(__SSE2__)
#define TN_HAVE_SSE2 1
#include <emmintrin.h>
#else
#define TN_HAVE_SSE2 0
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

#include <stddef.h>
/* Index and stride type of the matrix kernels (signed: strides may be negative). */
typedef ptrdiff_t tn_idx;

/* The SIMD path kernels take now (TN_SIMD_PORTABLE or TN_SIMD_AVX2). */
static int tn_simd_level = TN_SIMD_PORTABLE;
/* Threads the kernels' OpenMP regions use (>= 1). */
static int tn_num_threads = 1;

/* Run call_avx2 on the AVX2 path, call_portable otherwise (each a statement). */
#if TN_HAVE_AVX2
#define TN_DISPATCH(call_avx2, call_portable)                                           \
    if (tn_simd_level >= TN_SIMD_AVX2) { call_avx2; } else { call_portable; }
#else
#define TN_DISPATCH(call_avx2, call_portable) { call_portable; }
#endif

/* The best level this CPU supports. */
static int tn_simd_detect(void) {
#if TN_HAVE_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return TN_SIMD_AVX2;
#endif
    return TN_SIMD_PORTABLE;
}

static void tn_simd_init(void) {
    tn_simd_level = tn_simd_detect();
#ifdef _OPENMP
    tn_num_threads = omp_get_max_threads();
#endif
}

/* 1 if built with OpenMP. */
static int tn_openmp_enabled(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

#endif /* TN_SIMD_H */
