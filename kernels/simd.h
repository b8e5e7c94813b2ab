/* simd.h -- run-time configuration shared by every tinynn kernel: which SIMD path
 * to take and how many OpenMP threads to use.
 *
 * All kernel sources are compiled into ONE translation unit (kernels/kernels.pyx
 * `include`s the .pxi files, which `cdef extern from` the .h files), so the two
 * globals below are plain `static` variables, seen by every kernel.  If a kernel
 * ever moves into a separate .c file, turn them into extern definitions.
 *
 * How a kernel uses this (C side):
 *
 *     #include "simd.h"
 *     TINYNN_AVX2_FN static void foo_avx2(...) { ... _mm256_fmadd_ps ... }
 *     static void foo_portable(...) { ... plain C ... }
 *     static void foo(...) {
 *     #if TINYNN_HAVE_AVX2
 *         if (tinynn_simd_level >= TINYNN_SIMD_AVX2) { foo_avx2(...); return; }
 *     #endif
 *         foo_portable(...);
 *     }
 *
 * Cython side: `from simd_decl cimport ...` is not needed; declare what you use with
 *     cdef extern from "simd.h":
 *         int tinynn_simd_level
 *         int TINYNN_SIMD_AVX2
 *         int tinynn_num_threads
 * and pass `num_threads=tinynn_num_threads` to `prange` (only for big problems).
 *
 * tinynn_simd_level is set once at module import by tinynn_simd_init() (the best
 * level the CPU supports) and changed at run time by kernels.set_simd("auto" |
 * "portable"), so tests can run both paths.  tinynn_num_threads is set by
 * kernels.set_num_threads(n), which tinynn.set_num_threads calls.
 */
#ifndef TINYNN_SIMD_H
#define TINYNN_SIMD_H

#define TINYNN_SIMD_PORTABLE 0
#define TINYNN_SIMD_AVX2 1   /* AVX2 + FMA (Haswell and later) */

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define TINYNN_HAVE_AVX2 1
#include <immintrin.h>
/* Compile one function for AVX2+FMA while the rest of the file stays baseline x86-64. */
#define TINYNN_AVX2_FN __attribute__((target("avx2,fma")))
#else
#define TINYNN_HAVE_AVX2 0
#define TINYNN_AVX2_FN
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

/* The SIMD path kernels take now (TINYNN_SIMD_PORTABLE or TINYNN_SIMD_AVX2). */
static int tinynn_simd_level = TINYNN_SIMD_PORTABLE;
/* Threads the kernels' OpenMP regions use (>= 1). */
static int tinynn_num_threads = 1;

/* The best level this CPU supports. */
static int tinynn_simd_detect(void) {
#if TINYNN_HAVE_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return TINYNN_SIMD_AVX2;
#endif
    return TINYNN_SIMD_PORTABLE;
}

static void tinynn_simd_init(void) {
    tinynn_simd_level = tinynn_simd_detect();
#ifdef _OPENMP
    tinynn_num_threads = omp_get_max_threads();
#endif
}

/* 1 if built with OpenMP. */
static int tinynn_openmp_enabled(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

/* Threads to use for a loop over n elements: 1 below `grain` elements per thread
 * (a parallel region costs a few microseconds), tinynn_num_threads above. */
static inline int tinynn_threads_for(long long n, long long grain) {
    long long t = n / (grain > 0 ? grain : 1);
    if (t < 1) return 1;
    return t < tinynn_num_threads ? (int)t : tinynn_num_threads;
}

#endif /* TINYNN_SIMD_H */
