/* conv/conv.h -- 2-D convolution (NCHW) for tinynn.kernels, on the blocked GEMM (gemm/gemm.h).
 *
 * im2col: the window of every output position is copied into a column, so that one image's
 * convolution is one matrix product per group (shapes for groups G, Cg = C / G, Og = O / G,
 * K = kh kw, P = Ho Wo):
 *
 *     cols (C K, P):   cols[(c kh + u) kw + v, i Wo + j] = x_pad[c, s_h i + d_h u, s_w j + d_w v]
 *     y_g (Og, P)    = W_g (Og, Cg K) cols_g (Cg K, P)            forward, then + bias per row
 *     dcols_g        = W_g^T (Cg K, Og) dy_g (Og, P)               then col2im (the adjoint of
 *                                                                  im2col: add each column back)
 *     dW_g (Og, Cg K) = sum_n dy_g[n] (Og, P) cols_g[n]^T (P, Cg K)
 *
 * A 1x1 kernel at stride 1 without padding needs no copy: cols is the image itself.
 * Threads: across the images of the batch (each with its own cols buffer and a one-thread
 * GEMM) when there are at least as many images as threads, else one image at a time with
 * the GEMM's own threads.  The weight gradient sums per-thread partial sums in thread order.
 * Every function returns 0, or -1 if scratch memory could not be allocated.
 */
#ifndef TN_CONV_H
#define TN_CONV_H

#include <string.h>
#include "../gemm/gemm.h"

typedef struct {
    tn_idx n, c, h, w;          /* input */
    tn_idx o;                   /* output channels */
    int groups;
    int kh, kw, sh, sw, pt, pl, dh, dw;
    tn_idx ho, wo;              /* output size */
} tn_conv_geom;

/* Below this many multiply-adds a convolution runs on one thread. */
#define TN_CONV_MIN_PARALLEL (1LL << 18)

static inline int tn_conv_is_pointwise(const tn_conv_geom *g) {
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0
           && g->ho == g->h && g->wo == g->w;
}

static inline long long tn_conv_work(const tn_conv_geom *g) {
    return (long long)g->n * g->o * (g->c / g->groups) * g->kh * g->kw * g->ho * g->wo;
}

/* Threads across the batch (the rest of the threads, if any, go to each GEMM). */
static inline int tn_conv_outer_threads(const tn_conv_geom *g, int nt) {
    if (nt <= 1 || tn_conv_work(g) < TN_CONV_MIN_PARALLEL) return 1;
    return g->n >= nt ? nt : 1;
}

/* The columns j whose tap j s - p + off lies in [0, size): j0 <= j < j1 (within [0, out)). */
static inline void tn_conv_valid(tn_idx size, tn_idx out, int s, tn_idx off, tn_idx *j0, tn_idx *j1) {
    tn_idx lo = off >= 0 ? 0 : (-off + s - 1) / s;
    tn_idx hi = size - off <= 0 ? 0 : (size - off + s - 1) / s;
    if (hi > out) hi = out;
    if (lo > hi) lo = hi;
    *j0 = lo;
    *j1 = hi;
}

#define TN_CONV_CAT_(a, b) a##_##b
#define TN_CONV_CAT(a, b) TN_CONV_CAT_(a, b)

#define T float
#define TS f32
#include "conv_real.h"
#undef T
#undef TS

#define T double
#define TS f64
#include "conv_real.h"
#undef T
#undef TS

#endif /* TN_CONV_H */
