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
 * every build (the AVX2 and AVX-512 ones with TN_AVX2_FN / TN_AVX512_FN, target
 * attributes, so the rest of the file stays baseline x86-64), and the caller picks one at
 * run time with TN_DISPATCH3 (three paths) or TN_DISPATCH (a family with no AVX-512 code
 * of its own: its AVX2 function also serves the AVX-512 level):
 *
 *     TN_AVX512_FN static void foo_avx512(...) { ... }
 *     TN_AVX2_FN static void foo_avx2(...) { ... }
 *     static void foo_portable(...) { ... }
 *     ...
 *     TN_DISPATCH3(foo_avx512(...), foo_avx2(...), foo_portable(...))
 *
 * Where one body serves every path (the elementwise, softmax and optimizer loops), a
 * macro stamps it out once per path and GCC vectorises each copy for its target.
 *
 * tn_simd_level is set once at module import by tn_simd_init() (the best level the CPU
 * and the OS support) and changed at run time by kernels.set_simd("auto" | "portable" |
 * "avx2" | "avx512"), so tests can run every path.  tn_num_threads is set by kernels.set_num_threads(n),
 * which tinynn.set_num_threads calls; large loops pass it to their OpenMP region.
 */
#ifndef TN_SIMD_H
#define TN_SIMD_H

#define TN_SIMD_PORTABLE 0
#define TN_SIMD_AVX2 1   /* AVX2 + FMA (Haswell and later) */
#define TN_SIMD_AVX512 2 /* AVX-512 F, BW, DQ, VL (+ AVX2, FMA; Skylake-SP, Zen 4 and later) */

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define TN_HAVE_AVX2 1
#define TN_HAVE_AVX512 1
#include <immintrin.h>
#include <cpuid.h>
/* Compile one function for AVX2+FMA (or AVX-512) while the rest of the file stays baseline
 * x86-64.  prefer-vector-width=512: GCC would otherwise vectorise plain loops (the stamped
 * elementwise bodies) with ymm only, even for an AVX-512 target. */
#define TN_AVX2_FN __attribute__((target("avx2,fma")))
#if defined(__clang__)   /* (clang has no prefer-vector-width in a target attribute) */
#define TN_AVX512_FN __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#else
#define TN_AVX512_FN __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,prefer-vector-width=512")))
#endif
#else
#define TN_HAVE_AVX2 0
#define TN_HAVE_AVX512 0
#define TN_AVX2_FN
#define TN_AVX512_FN
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
#include <pthread.h>
#endif

#include <stddef.h>
/* Index and stride type of the matrix kernels (signed: strides may be negative). */
typedef ptrdiff_t tn_idx;

/* The SIMD path kernels take now (a TN_SIMD_* level). */
static int tn_simd_level = TN_SIMD_PORTABLE;
/* The best level this CPU and OS support, detected once by tn_simd_init(): CPUID traps to the
 * hypervisor in a VM (several microseconds), too slow to ask again on every set_simd. */
static int tn_simd_best = TN_SIMD_PORTABLE;
/* Threads the kernels' OpenMP regions use (>= 1). */
static int tn_num_threads = 1;
/* 1 in a process forked from the one that loaded the kernels.  GNU OpenMP's thread pool does
 * not survive fork(): the child sees the parent's pool but not its threads, and its next
 * region of more than one thread waits for them forever.  So a forked child runs every
 * region on one thread, as PyTorch's DataLoader workers do (they set one thread). */
static int tn_forked = 0;
#ifdef _OPENMP
static void tn_after_fork_in_child(void) {
    tn_forked = 1;
    tn_num_threads = 1;
}
#endif

/* Run call_avx512 on the AVX-512 path, call_avx2 on the AVX2 path, call_portable otherwise
 * (each a statement); TN_DISPATCH: the AVX2 call on both vector paths. */
#if TN_HAVE_AVX2
#define TN_DISPATCH3(call_avx512, call_avx2, call_portable)                             \
    if (tn_simd_level >= TN_SIMD_AVX512) { call_avx512; }                               \
    else if (tn_simd_level >= TN_SIMD_AVX2) { call_avx2; } else { call_portable; }
#else
#define TN_DISPATCH3(call_avx512, call_avx2, call_portable) { call_portable; }
#endif
#define TN_DISPATCH(call_avx2, call_portable) TN_DISPATCH3(call_avx2, call_avx2, call_portable)

#if TN_HAVE_AVX2
/* XCR0, the register states the OS saves on a context switch (0 if it has no XSAVE: then
 * no ymm/zmm state is saved and no AVX code may run, whatever CPUID says). */
static unsigned long long tn_xcr0(void) {
    unsigned int a, b, c, d, lo, hi;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#define TN_XCR0_YMM 0x06ULL   /* bits 1, 2: xmm, ymm upper halves */
#define TN_XCR0_ZMM 0xE6ULL   /* + bits 5, 6, 7: opmask, zmm0-15 upper halves, zmm16-31 */
#endif

/* The best level this CPU and OS support. */
static int tn_simd_detect(void) {
#if TN_HAVE_AVX2
    unsigned long long xcr0 = tn_xcr0();
    __builtin_cpu_init();
    if ((xcr0 & TN_XCR0_ZMM) == TN_XCR0_ZMM && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return TN_SIMD_AVX512;
    if ((xcr0 & TN_XCR0_YMM) == TN_XCR0_YMM && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return TN_SIMD_AVX2;
#endif
    return TN_SIMD_PORTABLE;
}

static void tn_simd_init(void) {
    tn_simd_level = tn_simd_best = tn_simd_detect();
#ifdef _OPENMP
    tn_num_threads = omp_get_max_threads();
    pthread_atfork(NULL, NULL, tn_after_fork_in_child);
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
