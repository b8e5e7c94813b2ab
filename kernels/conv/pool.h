/* conv/pool.h -- 2-D max and average pooling (NCHW) for tinynn.kernels, forward and backward.
 *
 * Each (image, channel) plane is independent: threads take planes.  Window (i, j) covers rows
 * s_h i - p_h + d_h u (u < kh) and columns s_w j - p_w + d_w v (v < kw); taps outside the input
 * are padding (-inf for max, 0 for average).
 *   max:  PyTorch's CPU rule, in-bounds taps in row-major order, a new maximum when strictly
 *         greater or NaN; the index (r W + q) starts at the window's first in-bounds row and
 *         column, so a window of padding (or of -inf) only still names a position.
 *   avg:  the sum over the in-bounds taps over the divisor: the window clipped to the padded
 *         input (count_include_pad) or to the input.
 */
#ifndef TN_POOL_H
#define TN_POOL_H

#include <stdint.h>
#include <string.h>
#include <math.h>
#include "../common/simd.h"

typedef struct {
    tn_idx planes, h, w, ho, wo;
    int kh, kw, sh, sw, ph, pw, dh, dw;
    int count_include_pad;
} tn_pool_geom;

/* Below this many elements (input plus output) a pooling call runs on one thread. */
#define TN_POOL_MIN_PARALLEL (1 << 16)

static inline int tn_pool_threads(const tn_pool_geom *g, int nt) {
    long long work = (long long)g->planes * (g->h * g->w + g->ho * g->wo);
    return work < TN_POOL_MIN_PARALLEL ? 1 : nt;
}

static inline tn_idx tn_pool_min(tn_idx a, tn_idx b) { return a < b ? a : b; }

/* First tap index u >= 0 whose row s i - p + d u is >= 0: ceil((p - s i) / d), at least 0. */
static inline int tn_pool_first(tn_idx i, int s, int p, int d) {
    tn_idx need = p - i * s;
    return need <= 0 ? 0 : (int)((need + d - 1) / d);
}

#define TN_POOL_CAT_(a, b) a##_##b
#define TN_POOL_CAT(a, b) TN_POOL_CAT_(a, b)
/* (pool_real.h, the float32 / float64 bodies, is instantiated by conv.h with the convolution's) */

#endif /* TN_POOL_H */
