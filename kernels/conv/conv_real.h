/* conv/conv_real.h -- TEMPLATE for the float convolution, included by conv.h once per type
 * (T: float / double, TS: f32 / f64; every function name gets the suffix _TS).
 *
 * The work goes in chunks of B consecutive images (see tn_conv_chunk in conv.h): their columns sit
 * side by side in one cols buffer (C K rows of B P values, image b at column b P), so a small
 * convolution still makes GEMMs with a long side.  gt (O, B P) holds the chunk's outputs or output
 * gradients the same way, image b at column b P: gt[o, b P + q] = y[b, o, q]. */
#define CFN(name) TN_CONV_CAT(name, TS)
#define GEMM TN_CONV_CAT(tn_gemm, TS)

/* Small images (8x8 digits: the bounds and short zero runs of the general loops below cost ~2.5
 * cycles a value, more than the GEMM after them) go through xp, a copy of the image with zeros
 * around it holding exactly the rows and columns the windows read (tn_conv_bordered): im2col copies x
 * into it once, then each row of cols is ho runs of wo values of xp with no bounds to work out;
 * col2im adds the columns into it the same way, then copies its inside out to dx.  Each returns 0
 * (and does nothing) when xp would exceed TN_CONV_BORDERED_MAX values. */
/* dst[i len + j] = src[i stride + j step] for i < runs, j < len: runs of len values one after the
 * other.  TN_CONV_RUNS(step) calls it with the usual widths of small maps as constants, so that
 * each run is a few straight moves rather than a loop paying its set-up for 2 to 8 values. */
TN_CONV_INLINE_COPIES static inline __attribute__((always_inline))
void CFN(tn_copy_runs)(T *dst, const T *src, tn_idx runs, tn_idx len, tn_idx stride, tn_idx step) {
    for (tn_idx i = 0; i < runs; i++)
        for (tn_idx j = 0; j < len; j++) dst[i * len + j] = src[i * stride + j * step];
}
#define TN_CONV_RUNS(step)                                                              \
    switch (wo) {                                                                       \
    case 2: CFN(tn_copy_runs)(row, window, ho, 2, sh * wp, step); break;                \
    case 4: CFN(tn_copy_runs)(row, window, ho, 4, sh * wp, step); break;                \
    case 8: CFN(tn_copy_runs)(row, window, ho, 8, sh * wp, step); break;                \
    default: CFN(tn_copy_runs)(row, window, ho, wo, sh * wp, step);                     \
    }

TN_CONV_INLINE_COPIES
static int CFN(tn_im2col_small)(const T *x, const tn_conv_geom *g, T *cols, tn_idx ld) {
    /* the geometry in locals: every store below could alias *g as far as the compiler knows */
    tn_conv_border b = tn_conv_bordered(g);
    tn_idx c_n = g->c, h = g->h, w = g->w, ho = g->ho, wo = g->wo, sh = g->sh, sw = g->sw, hp = b.hp, wp = b.wp;
    int kh = g->kh, kw = g->kw, dh = g->dh, dw = g->dw;
    T xp[TN_CONV_BORDERED_MAX];
    if (!tn_conv_small(g, &b)) return 0;
    memset(xp, 0, sizeof(T) * (size_t)(c_n * hp * wp));
    T *inside = xp + g->pt * wp + g->pl;
    for (tn_idx c = 0; c < c_n; c++)
        for (tn_idx i = 0; i < b.rows; i++)
            for (tn_idx j = 0; j < b.cols; j++) inside[(c * hp + i) * wp + j] = x[(c * h + i) * w + j];
    for (tn_idx c = 0; c < c_n; c++)
        for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++) {
                T *row = cols + ((c * kh + u) * kw + v) * ld;
                const T *window = xp + (c * hp + (tn_idx)u * dh) * wp + (tn_idx)v * dw;
                if (sw == 1)
                    TN_CONV_RUNS(1)
                else if (sw == 2)
                    TN_CONV_RUNS(2)
                else
                    CFN(tn_copy_runs)(row, window, ho, wo, sh * wp, sw);
            }
    return 1;
}

/* (Each element of dx gets its taps in (u, v) order, starting from 0, as in tn_col2im: same bits.) */
TN_CONV_INLINE_COPIES
static int CFN(tn_col2im_small)(const T *cols, tn_idx ld, const tn_conv_geom *g, T *dx) {
    tn_conv_border b = tn_conv_bordered(g);
    tn_idx c_n = g->c, h = g->h, w = g->w, ho = g->ho, wo = g->wo, sh = g->sh, sw = g->sw, hp = b.hp, wp = b.wp;
    int kh = g->kh, kw = g->kw, dh = g->dh, dw = g->dw;
    T xp[TN_CONV_BORDERED_MAX];
    if (!tn_conv_small(g, &b)) return 0;
    memset(xp, 0, sizeof(T) * (size_t)(c_n * hp * wp));
    for (tn_idx c = 0; c < c_n; c++)
        for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++) {
                const T *row = cols + ((c * kh + u) * kw + v) * ld;
                T *window = xp + (c * hp + (tn_idx)u * dh) * wp + (tn_idx)v * dw;
                for (tn_idx i = 0; i < ho; i++) {
                    T *dst = window + i * sh * wp;
                    const T *src = row + i * wo;
                    if (sw == 1)
                        for (tn_idx j = 0; j < wo; j++) dst[j] += src[j];
                    else
                        for (tn_idx j = 0; j < wo; j++) dst[j * sw] += src[j];
                }
            }
    memset(dx, 0, (size_t)(c_n * h * w) * sizeof(T));
    const T *inside = xp + g->pt * wp + g->pl;
    for (tn_idx c = 0; c < c_n; c++)
        for (tn_idx i = 0; i < b.rows; i++)
            for (tn_idx j = 0; j < b.cols; j++) dx[(c * h + i) * w + j] = inside[(c * hp + i) * wp + j];
    return 1;
}

/* Rows of cols (C kh kw of them, ld apart) = the windows of one image x (C, H, W); padding reads 0.
 * The tap (u, v) decides which output rows i0 <= i < i1 and columns j0 <= j < j1 read inside the
 * image, so the channels' loop runs inside it with no bounds to work out: on small images (8x8 and
 * below) the bounds cost more than the copies, which are plain loops (TN_CONV_INLINE_COPIES). */
TN_CONV_INLINE_COPIES
static void CFN(tn_im2col)(const T *x, const tn_conv_geom *g, T *cols, tn_idx ld) {
    tn_idx h = g->h, w = g->w, ho = g->ho, wo = g->wo, taps = (tn_idx)g->kh * g->kw;
    if (CFN(tn_im2col_small)(x, g, cols, ld)) return;
    for (int u = 0; u < g->kh; u++) {
        tn_idx roff = (tn_idx)u * g->dh - g->pt, i0, i1;
        tn_conv_valid(h, ho, g->sh, roff, &i0, &i1);
        for (int v = 0; v < g->kw; v++) {
            tn_idx off = (tn_idx)v * g->dw - g->pl, j0, j1;
            tn_conv_valid(w, wo, g->sw, off, &j0, &j1);
            for (tn_idx c = 0; c < g->c; c++) {
                T *row = cols + (c * taps + u * g->kw + v) * ld;
                const T *plane = x + c * h * w;
                for (tn_idx j = 0; j < i0 * wo; j++) row[j] = 0;
                for (tn_idx i = i0; i < i1; i++) {
                    T *dst = row + i * wo;
                    const T *src = plane + (i * g->sh + roff) * w + off;
                    for (tn_idx j = 0; j < j0; j++) dst[j] = 0;
                    if (g->sw == 1)
                        for (tn_idx j = j0; j < j1; j++) dst[j] = src[j];
                    else
                        for (tn_idx j = j0; j < j1; j++) dst[j] = src[j * g->sw];
                    for (tn_idx j = j1; j < wo; j++) dst[j] = 0;
                }
                for (tn_idx j = i1 * wo; j < ho * wo; j++) row[j] = 0;
            }
        }
    }
}

/* dx (C, H, W) = col2im(cols): the adjoint of im2col, each column's values added back to the
 * input positions they were copied from (taps on the padding are dropped).  Loops as im2col's;
 * each element of dx still gets its taps in (u, v) order. */
TN_CONV_INLINE_COPIES
static void CFN(tn_col2im)(const T *cols, tn_idx ld, const tn_conv_geom *g, T *dx) {
    tn_idx h = g->h, w = g->w, wo = g->wo, taps = (tn_idx)g->kh * g->kw;
    if (CFN(tn_col2im_small)(cols, ld, g, dx)) return;
    memset(dx, 0, (size_t)(g->c * h * w) * sizeof(T));
    for (int u = 0; u < g->kh; u++) {
        tn_idx roff = (tn_idx)u * g->dh - g->pt, i0, i1;
        tn_conv_valid(h, g->ho, g->sh, roff, &i0, &i1);
        for (int v = 0; v < g->kw; v++) {
            tn_idx off = (tn_idx)v * g->dw - g->pl, j0, j1;
            tn_conv_valid(w, wo, g->sw, off, &j0, &j1);
            for (tn_idx c = 0; c < g->c; c++) {
                const T *row = cols + (c * taps + u * g->kw + v) * ld;
                T *plane = dx + c * h * w;
                for (tn_idx i = i0; i < i1; i++) {
                    T *dst = plane + (i * g->sh + roff) * w + off;
                    const T *src = row + i * wo;
                    if (g->sw == 1)
                        for (tn_idx j = j0; j < j1; j++) dst[j] += src[j];
                    else
                        for (tn_idx j = j0; j < j1; j++) dst[j * g->sw] += src[j];
                }
            }
        }
    }
}

/* The columns of images [n0, n0 + b): x itself for one image of a pointwise convolution (its
 * (C, P) plane is already its cols), else im2col into cols (rows tn_conv_ld(b P) apart).  *ld: the
 * row stride of the result. */
static const T *CFN(tn_conv_cols)(const T *x, tn_idx n0, tn_idx b, const tn_conv_geom *g, T *cols, tn_idx *ld) {
    tn_idx p = g->ho * g->wo, xs = g->c * g->h * g->w;
    if (b == 1 && tn_conv_is_pointwise(g)) {
        *ld = p;
        return x + n0 * xs;
    }
    *ld = tn_conv_ld(b * p, sizeof(T));
    for (tn_idx i = 0; i < b; i++) CFN(tn_im2col)(x + (n0 + i) * xs, g, cols + i * p, *ld);
    return cols;
}

/* The output (gradient) rows of images [n0, n0 + b) of y (N, O, P) side by side, as one (O, b P)
 * matrix: y's own rows for one image (*ld = P), else copied into buf (*ld = b P). */
TN_CONV_INLINE_COPIES
static const T *CFN(tn_conv_rows)(const T *y, tn_idx n0, tn_idx b, const tn_conv_geom *g, T *buf, tn_idx *ld) {
    tn_idx p = g->ho * g->wo;
    *ld = b * p;
    if (b == 1) return y + n0 * g->o * p;
    for (tn_idx i = 0; i < b; i++)
        for (tn_idx o = 0; o < g->o; o++)
            for (tn_idx q = 0; q < p; q++) buf[o * *ld + i * p + q] = y[((n0 + i) * g->o + o) * p + q];
    return buf;
}

/* Forward of images [n0, n0 + b).  Per group, y_g (Og, b P) = W_g (Og, Cg K) cols_g (Cg K, b P): the
 * GEMM's B is im2col's row-major output (its packing one memcpy per row and sliver), and its
 * result is already NCHW for one image.  Bias and activation then run on each output row (one
 * image's chunk: straight into y; several: while copying image i's columns out to y[n0 + i]);
 * without a bias the activation is the GEMM's own epilogue. */
static int CFN(tn_conv2d_chunk)(const T *x, const T *wt, const T *bias, int act, T *y, tn_idx n0, tn_idx b,
                                 const tn_conv_geom *g, T *cols, T *gt, int nt) {
    tn_idx p = g->ho * g->wo, og = g->o / g->groups, kk = g->c / g->groups * g->kh * g->kw, ld, n = b * p;
    const T *a = CFN(tn_conv_cols)(x, n0, b, g, cols, &ld);
    T *out = b == 1 ? y + n0 * g->o * p : gt;
    int fused = b == 1 && bias == NULL, err = 0;
    for (int gi = 0; gi < g->groups; gi++)
        err |= GEMM(og, n, kk, wt + gi * og * kk, kk, 1, a + gi * kk * ld, ld, 1, out + gi * og * n, n, 1, NULL,
                    fused ? act : TN_ACT_NONE, nt);
    if (fused) return err;
    for (tn_idx i = 0; i < b; i++)
        for (tn_idx o = 0; o < g->o; o++) {
            T *dst = y + ((n0 + i) * g->o + o) * p;
            const T *src = out + o * n + i * p;
            T add = bias ? bias[o] : (T)0;
            for (tn_idx q = 0; q < p; q++) dst[q] = src[q] + add;
            TN_CONV_CAT(tn_activate, TS)(act, dst, dst, p);
        }
    return err;
}

/* dx of images [n0, n0 + b): per group dcols_g (Cg K, b P) = W_g^T (Cg K, Og) dy_g (Og, b P), then
 * col2im per image. */
static int CFN(tn_conv2d_bwi_chunk)(const T *gy, const T *wt, T *dx, tn_idx n0, tn_idx b, const tn_conv_geom *g,
                                     T *dcols, T *gt, int nt) {
    tn_idx og = g->o / g->groups, kk = g->c / g->groups * g->kh * g->kw, n, p = g->ho * g->wo;
    tn_idx xs = g->c * g->h * g->w;
    int pointwise = b == 1 && tn_conv_is_pointwise(g), err = 0;
    T *d = pointwise ? dx + n0 * xs : dcols;
    const T *dy = CFN(tn_conv_rows)(gy, n0, b, g, gt, &n);
    tn_idx ld = pointwise ? n : tn_conv_ld(n, sizeof(T));
    for (int gi = 0; gi < g->groups; gi++)
        err |= GEMM(kk, n, og, wt + gi * og * kk, 1, kk, dy + gi * og * n, n, 1, d + gi * kk * ld, ld, 1, NULL, 0, nt);
    if (!pointwise)
        for (tn_idx i = 0; i < b; i++) CFN(tn_col2im)(dcols + i * p, ld, g, dx + (n0 + i) * xs);
    return err;
}

/* acc (O, Cg K) (+)= sum over images [n0, n0 + b) of dy_g cols_g^T: per group the GEMM
 * dy_g (Og, b P) cols_g^T (b P, Cg K) into tmp (first: into acc itself). */
static int CFN(tn_conv2d_bww_chunk)(const T *gy, const T *x, T *acc, T *tmp, int first, tn_idx n0, tn_idx b,
                                     const tn_conv_geom *g, T *cols, T *gt, int nt) {
    tn_idx og = g->o / g->groups, kk = g->c / g->groups * g->kh * g->kw, ld, n;
    const T *a = CFN(tn_conv_cols)(x, n0, b, g, cols, &ld);
    const T *dy = CFN(tn_conv_rows)(gy, n0, b, g, gt, &n);
    T *dst = first ? acc : tmp;
    int err = 0;
    for (int gi = 0; gi < g->groups; gi++)
        err |= GEMM(og, kk, n, dy + gi * og * n, n, 1, a + gi * kk * ld, 1, ld, dst + gi * og * kk, kk, 1, NULL, 0, nt);
    if (!first)
        for (tn_idx i = 0; i < g->o * kk; i++) acc[i] += tmp[i];
    return err;
}

/* Per-thread scratch: the cols of a chunk (none for a pointwise convolution of single images),
 * its gt, and `extra` more values.  *per: the values per thread. */
static T *CFN(tn_conv_scratch)(const tn_conv_geom *g, tn_idx b, int threads, tn_idx extra, tn_idx *per) {
    tn_idx p = g->ho * g->wo;
    tn_idx cols = b == 1 && tn_conv_is_pointwise(g) ? 0 : g->c * g->kh * g->kw * tn_conv_ld(b * p, sizeof(T));
    *per = cols + b * p * g->o + extra;
    return (T *)tn_alloc(sizeof(T) * (size_t)*per * (size_t)threads);
}

static inline tn_idx CFN(tn_conv_cols_size)(const tn_conv_geom *g, tn_idx b) {
    return b == 1 && tn_conv_is_pointwise(g) ? 0 : g->c * g->kh * g->kw * tn_conv_ld(b * g->ho * g->wo, sizeof(T));
}

/* The forward (backward_input 0: out = y from in = x) or the input gradient (1: out = dx from in = gy)
 * of every chunk of images, the chunks across threads. */
static int CFN(tn_conv2d_chunks)(const T *in, const T *wt, const T *bias, int act, T *out, const tn_conv_geom *g,
                                  int nt, int backward_input) {
    int outer = tn_conv_outer_threads(g, nt), err = 0;
    tn_idx b = tn_conv_chunk(g, outer), chunks = tn_ceil_div(g->n, b), per;
    tn_idx cols = CFN(tn_conv_cols_size)(g, b);
    T *scratch = CFN(tn_conv_scratch)(g, b, outer, 0, &per);
    if (scratch == NULL) return -1;
    int inner = outer > 1 || tn_conv_work(g) < TN_CONV_MIN_PARALLEL ? 1 : nt;
    #pragma omp parallel for num_threads(outer) schedule(dynamic, 1) reduction(|: err) if (outer > 1)
    for (tn_idx k = 0; k < chunks; k++) {
        T *mine = scratch + per * tn_thread_id();
        tn_idx n0 = k * b, size = tn_min(b, g->n - n0);
        err |= backward_input ? CFN(tn_conv2d_bwi_chunk)(in, wt, out, n0, size, g, mine, mine + cols, inner)
                              : CFN(tn_conv2d_chunk)(in, wt, bias, act, out, n0, size, g, mine, mine + cols, inner);
    }
    free(scratch);
    return err ? -1 : 0;
}

/* y (N, O, Ho, Wo) = conv2d(x (N, C, H, W), W (O, C/G, kh, kw)) + bias, then relu if act == 1. */
static int CFN(tn_conv2d)(const T *x, const T *wt, const T *bias, int act, T *y, const tn_conv_geom *g, int nt) {
    if (tn_conv_is_dense(g) && CFN(tn_all_finite)(x, g->n * g->c * g->h * g->w))
        return CFN(tn_conv2d_dense)(x, wt, bias, act, y, g, nt);
    return CFN(tn_conv2d_chunks)(x, wt, bias, act, y, g, nt, 0);
}

/* dx (N, C, H, W) = the transposed convolution of gy (N, O, Ho, Wo) with W. */
static int CFN(tn_conv2d_backward_input)(const T *gy, const T *wt, T *dx, const tn_conv_geom *g, int nt) {
    if (tn_conv_is_dense(g) && CFN(tn_all_finite)(gy, g->n * g->o * g->ho * g->wo))
        return CFN(tn_conv2d_dense_backward_input)(gy, wt, dx, g, nt);
    return CFN(tn_conv2d_chunks)(gy, wt, NULL, 0, dx, g, nt, 1);
}

/* dW (O, C/G, kh, kw) = sum_n dy[n] cols[n]^T: each thread sums a contiguous run of chunks into
 * its own partial sum, then the partial sums are added in thread order. */
static int CFN(tn_conv2d_backward_weight)(const T *gy, const T *x, T *dw, const tn_conv_geom *g, int nt) {
    if (tn_conv_is_dense(g) && CFN(tn_all_finite)(gy, g->n * g->o * g->ho * g->wo)
        && CFN(tn_all_finite)(x, g->n * g->c * g->h * g->w))
        return CFN(tn_conv2d_dense_backward_weight)(gy, x, dw, g, nt);
    int outer = tn_conv_outer_threads(g, nt), err = 0;
    tn_idx b = tn_conv_chunk(g, outer), chunks = tn_ceil_div(g->n, b), per;
    tn_idx cols = CFN(tn_conv_cols_size)(g, b), gts = b * g->ho * g->wo * g->o;
    tn_idx wsize = g->o * (g->c / g->groups) * g->kh * g->kw;
    T *scratch = CFN(tn_conv_scratch)(g, b, outer, 2 * wsize, &per);
    if (scratch == NULL) return -1;
    int inner = outer > 1 || tn_conv_work(g) < TN_CONV_MIN_PARALLEL ? 1 : nt;
    if (g->n == 0) memset(dw, 0, (size_t)wsize * sizeof(T));
    #pragma omp parallel num_threads(outer) reduction(|: err) if (outer > 1)
    {
        int t = tn_thread_id(), parts = 1;
#ifdef _OPENMP
        parts = omp_get_num_threads();
#endif
        T *mine = scratch + per * t, *acc = t == 0 ? dw : mine + cols + gts, *tmp = mine + cols + gts + wsize;
        tn_idx lo = chunks * t / parts, hi = chunks * (t + 1) / parts;
        if (lo == hi && t > 0) memset(acc, 0, (size_t)wsize * sizeof(T));
        for (tn_idx k = lo; k < hi; k++)
            err |= CFN(tn_conv2d_bww_chunk)(gy, x, acc, tmp, k == lo, k * b, tn_min(b, g->n - k * b), g, mine,
                                            mine + cols, inner);
        #pragma omp barrier
        #pragma omp single
        for (int q = 1; q < parts; q++) {
            const T *part = scratch + per * q + cols + gts;
            for (tn_idx i = 0; i < wsize; i++) dw[i] += part[i];
        }
    }
    free(scratch);
    return err ? -1 : 0;
}

#undef CFN
#undef GEMM
#undef TN_CONV_RUNS
