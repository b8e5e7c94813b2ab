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

/* Max pooling of 2x2 windows at stride 2 along one output row, four outputs at a time: row0 and
 * row1 are the windows' two input rows (from column 0), `first` the flat index of row0[0].  The
 * same scan as tn_max_pool2d's (a new maximum when strictly greater or NaN, taps in row-major
 * order) lane by lane, with selects where the scalar loop branches (its branches went wrong half
 * the time on real data: max pooling was 12% of a LeNet step).  Returns how many outputs it wrote,
 * a multiple of 4; float32 on SSE2 only (float64 and other machines: none, the scalar loop runs). */
#if TN_HAVE_SSE2
#define TN_POOL_SELECT(v, k)                                                            \
    do {                                                                                \
        __m128 v_ = (v), take_ = _mm_or_ps(_mm_cmpgt_ps(v_, best), _mm_cmpunord_ps(v_, v_)); \
        __m128i t_ = _mm_castps_si128(take_);                                           \
        best = _mm_or_ps(_mm_and_ps(take_, v_), _mm_andnot_ps(take_, best));            \
        code = _mm_or_si128(_mm_and_si128(t_, _mm_set1_epi32(k)), _mm_andnot_si128(t_, code)); \
    } while (0)
#endif
static tn_idx tn_max_pool_2x2_f32(const float *row0, const float *row1, tn_idx first, tn_idx w, tn_idx wo,
                                  float *dst, int64_t *where) {
    tn_idx j = 0;
#if TN_HAVE_SSE2
    for (; j + 4 <= wo; j += 4) {
        __m128 a0 = _mm_loadu_ps(row0 + 2 * j), a1 = _mm_loadu_ps(row0 + 2 * j + 4);
        __m128 b0 = _mm_loadu_ps(row1 + 2 * j), b1 = _mm_loadu_ps(row1 + 2 * j + 4);
        __m128 best = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0));   /* tap (0, 0): lanes 2j, 2j+2, ... */
        __m128i code = _mm_setzero_si128();                              /* which tap: 2 u + v */
        TN_POOL_SELECT(_mm_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1)), 1);
        TN_POOL_SELECT(_mm_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)), 2);
        TN_POOL_SELECT(_mm_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1)), 3);
        int32_t c[4];
        _mm_storeu_ps(dst + j, best);
        _mm_storeu_si128((__m128i *)c, code);
        for (int l = 0; l < 4; l++) where[j + l] = first + 2 * (j + l) + (c[l] & 1) + (c[l] >> 1) * w;
    }
#undef TN_POOL_SELECT
#else
    (void)row0; (void)row1; (void)first; (void)w; (void)wo; (void)dst; (void)where;
#endif
    return j;
}
static tn_idx tn_max_pool_2x2_f64(const double *row0, const double *row1, tn_idx first, tn_idx w, tn_idx wo,
                                  double *dst, int64_t *where) {
    (void)row0; (void)row1; (void)first; (void)w; (void)wo; (void)dst; (void)where;
    return 0;
}

#define TN_POOL_CAT_(a, b) a##_##b
#define TN_POOL_CAT(a, b) TN_POOL_CAT_(a, b)
/* (pool_real.h, the float32 / float64 bodies, is instantiated by conv.h with the convolution's) */

#endif /* TN_POOL_H */
