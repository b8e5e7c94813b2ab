/* conv/conv.h -- 2-D convolution (NCHW) for tinynn.kernels, on the blocked GEMM (gemm/gemm.h).
 *
 * im2col: the window of every output position is copied into a column, so that a convolution is
 * one matrix product per group (G groups, Cg = C / G, Og = O / G, K = kh kw, P = Ho Wo positions):
 *
 *     cols (C K, P):  cols[(c kh + u) kw + v, i Wo + j] = x_pad[c, s_h i + d_h u, s_w j + d_w v]
 *     forward         y_g (Og, P) = W_g (Og, Cg K) cols_g (Cg K, P)  + bias, relu
 *     input grad      dcols_g (Cg K, P) = W_g^T (Cg K, Og) dy_g (Og, P), then col2im (im2col's adjoint:
 *                     each column added back where it was copied from)
 *     weight grad     dW_g (Og, Cg K) = sum_n dy_g[n] (Og, P) cols_g[n]^T (P, Cg K)
 *
 * The forward product is already NCHW (an image's (O, P) block), and cols is the GEMM's row-major B:
 * its slivers are read in place or packed by memcpy.  (The transposed product cols^T W^T fills the
 * 12-row micro-kernel tiles better when O is small, but packing cols^T is a strided copy and its
 * position-major result needs a transposition: together a third of the forward at 64 -> 64
 * channels, 3x3, 32x32.)  Small images go in chunks of B images whose columns sit side by side
 * (B P columns), so a LeNet-sized convolution still makes one GEMM with a long side per chunk.
 * A 1x1 kernel at stride 1 without padding needs no copy: one image's cols is the image itself,
 * and neither do maps of at most twice the kernel's taps (3x3 on 2x2 to 4x4): there the whole
 * convolution is one dense matrix product on x and y as they are (conv_dense_real.h).
 * Threads: across the chunks of the batch (each thread its own cols buffer and one-thread GEMMs)
 * when there are at least as many images as threads, else one chunk at a time with the GEMM's own
 * threads.  The weight gradient adds per-thread partial sums in thread order.
 * Every function returns 0, or -1 if scratch memory could not be allocated.
 */
#ifndef TN_CONV_H
#define TN_CONV_H

#include <stdint.h>
#include <string.h>
#include "../gemm/gemm.h"
#include "pool.h"

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

/* Threads across the batch (else all of them go to each GEMM). */
static inline int tn_conv_outer_threads(const tn_conv_geom *g, int nt) {
    if (nt <= 1 || tn_conv_work(g) < TN_CONV_MIN_PARALLEL) return 1;
    return g->n >= nt ? nt : 1;
}

/* Images per chunk: enough that the chunk's columns hold about TN_CONV_CHUNK_VALUES values (a
 * small convolution then still makes GEMMs with a long side), at most the images per thread. */
#define TN_CONV_CHUNK_VALUES (1 << 17)
static long long tn_conv_chunk_values = TN_CONV_CHUNK_VALUES;  /* (tests set 0: one image per chunk) */
static inline tn_idx tn_conv_chunk(const tn_conv_geom *g, int threads) {
    tn_idx per_image = g->c * g->kh * g->kw * g->ho * g->wo, b;
    if (per_image <= 0) return 1;
    b = (tn_idx)(tn_conv_chunk_values / per_image);
    tn_idx per_thread = (g->n + threads - 1) / threads;
    if (b > per_thread) b = per_thread;
    return b < 1 ? 1 : b;
}

/* What a convolution of geometry g reads of one channel of x, with its border: hp rows and wp
 * columns (rows -pt .. (ho - 1) sh + (kh - 1) dh - pt, columns likewise), of which x's first `rows`
 * rows and `cols` columns land at (pt, pl) (the rest of x is never read).  The int8 convolution
 * quantizes x into such a copy; small images' im2col / col2im work in one (conv_real.h). */
typedef struct { tn_idx hp, wp, rows, cols; } tn_conv_border;
static inline tn_conv_border tn_conv_bordered(const tn_conv_geom *g) {
    tn_conv_border b;
    b.hp = (g->ho - 1) * g->sh + (tn_idx)(g->kh - 1) * g->dh + 1;
    b.wp = (g->wo - 1) * g->sw + (tn_idx)(g->kw - 1) * g->dw + 1;
    b.rows = tn_min(g->h, b.hp - g->pt);
    b.cols = tn_min(g->w, b.wp - g->pl);
    return b;
}

/* Small images' bordered copy (all channels) lives on the stack: at most this many values. */
#define TN_CONV_BORDERED_MAX 8192
static inline int tn_conv_small(const tn_conv_geom *g, const tn_conv_border *b) {
    return g->ho > 0 && g->wo > 0 && g->c * b->hp * b->wp <= TN_CONV_BORDERED_MAX;
}

/* For the copy loops of im2col / col2im: GCC would turn a loop that zeroes or copies a run into a
 * memset / memcpy call, which costs more than the run on the short rows of small images (they
 * made im2col a fifth of a digits ResNet step). */
#if defined(__GNUC__) && !defined(__clang__)
#define TN_CONV_INLINE_COPIES __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define TN_CONV_INLINE_COPIES
#endif

/* The row stride of an im2col buffer of n columns of `size`-byte values: n, or one cache line more
 * when n values are a multiple of 2 KB, whose rows would share L1 sets (the GEMM then reads them
 * in place instead of packing them: 2 KB-strided rows of a sliver would evict each other). */
static inline tn_idx tn_conv_ld(tn_idx n, size_t size) {
    return (n * (tn_idx)size) % 2048 == 0 ? n + 64 / (tn_idx)size : n;
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

/* Runs body for every tap (u, v) of output position q that reads an input position i (a flat index
 * into the H x W map) rather than padding: q ascending, then u, then v (conv_dense_real.h). */
#define TN_CONV_DENSE_TAPS(g, body)                                                               \
    for (tn_idx q = 0; q < (g)->ho * (g)->wo; q++) {                                              \
        tn_idx oh = q / (g)->wo, ow = q % (g)->wo;                                                \
        for (int u = 0; u < (g)->kh; u++) {                                                       \
            tn_idx ih = oh * (g)->sh - (g)->pt + (tn_idx)u * (g)->dh;                             \
            if (ih < 0 || ih >= (g)->h) continue;                                                 \
            for (int v = 0; v < (g)->kw; v++) {                                                   \
                tn_idx iw = ow * (g)->sw - (g)->pl + (tn_idx)v * (g)->dw;                         \
                if (iw < 0 || iw >= (g)->w) continue;                                             \
                tn_idx i = ih * (g)->w + iw;                                                      \
                body                                                                              \
            }                                                                                     \
        }                                                                                         \
    }

/* Maps of at most twice as many positions as the kernel has taps (H W <= 2 kh kw: a 3x3 kernel on
 * maps up to 4x4) go through the dense matrix of conv_dense_real.h instead of im2col, as long as
 * that matrix is no bigger than the columns im2col would write for the batch, nor than
 * TN_CONV_DENSE_MAX values (wide layers on 4x4 maps would make it larger than the activations). */
#define TN_CONV_DENSE_MAX (1 << 22)
static inline int tn_conv_is_dense(const tn_conv_geom *g) {
    tn_idx taps = (tn_idx)g->kh * g->kw, hw = g->h * g->w, p = g->ho * g->wo;
    tn_idx dense = g->o * p * (g->c / g->groups) * hw;
    return hw <= 2 * taps && !tn_conv_is_pointwise(g) && dense <= TN_CONV_DENSE_MAX
           && dense <= g->n * g->c * taps * p;
}

typedef uint32_t tn_bits_f32;   /* the bits of a float / double (tn_all_finite) */
typedef uint64_t tn_bits_f64;

#define TN_CONV_CAT_(a, b) a##_##b
#define TN_CONV_CAT(a, b) TN_CONV_CAT_(a, b)

/* Both families' float32 and float64 bodies (conv_real.h, pool_real.h) */
#define T float
#define TS f32
#include "conv_dense_real.h"
#include "conv_real.h"
#include "pool_real.h"
#undef T
#undef TS

#define T double
#define TS f64
#include "conv_dense_real.h"
#include "conv_real.h"
#include "pool_real.h"
#undef T
#undef TS

#endif /* TN_CONV_H */
