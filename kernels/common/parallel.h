/* common/parallel.h -- the one parallel loop of the elementwise, softmax and optimizer
 * kernels.
 *
 * A kernel body is a set of functions NAME_avx512 / _avx2 / _portable(args..., lo, hi) that
 * handle items [lo, hi) (elements, or rows of a matrix).  TN_PARALLEL_FOR(NAME, n, size,
 * grain, args...) is the whole body of the driver that runs them over items [0, n) of
 * `size` elements each:
 *   - small work (under `grain` elements per thread): the chosen path called once on
 *     this thread, with no OpenMP region at all (entering even a one-thread region costs
 *     about a microsecond);
 *   - large work: blocks of about TN_BLOCK elements that tn_num_threads threads take from
 *     a shared counter (schedule(dynamic)) rather than one fixed share each: on a busy
 *     machine the OS may start a thread late, and a fixed split would make the whole
 *     call wait for it.
 */
#ifndef TN_PARALLEL_H
#define TN_PARALLEL_H

#include "simd.h"

#define TN_GRAIN (1 << 16)   /* elements per thread below which a loop stays on one thread */
#define TN_BLOCK (1 << 14)   /* elements per block that a thread takes at a time */

/* Threads to use for a loop over n elements: 1 below `grain` elements per thread
 * (a parallel region costs a few microseconds), tn_num_threads above. */
static inline int tn_threads_for(long long n, long long grain) {
    long long t = n / (grain > 0 ? grain : 1);
    if (t < 1) return 1;
    return t < tn_num_threads ? (int)t : tn_num_threads;
}

#define TN_PARALLEL_FOR(NAME, n, size, grain, ...)                                      \
    int nt = tn_threads_for((n) * (size), grain);                                       \
    if (nt <= 1) {                                                                      \
        TN_DISPATCH3(NAME##_avx512(__VA_ARGS__, 0, n), NAME##_avx2(__VA_ARGS__, 0, n),   \
                     NAME##_portable(__VA_ARGS__, 0, n))                          \
        return;                                                                         \
    }                                                                                   \
    long long per = (size) > 0 && (size) < TN_BLOCK ? TN_BLOCK / (size) : 1;            \
    _Pragma("omp parallel for num_threads(nt) schedule(dynamic, 1)")                    \
    for (long long lo = 0; lo < (n); lo += per) {                                       \
        long long hi = lo + per < (n) ? lo + per : (n);                                 \
        TN_DISPATCH3(NAME##_avx512(__VA_ARGS__, lo, hi), NAME##_avx2(__VA_ARGS__, lo, hi), \
                     NAME##_portable(__VA_ARGS__, lo, hi))                        \
    }

#endif /* TN_PARALLEL_H */
