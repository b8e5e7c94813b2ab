/* conv/conv_real.h -- TEMPLATE for the float convolution, included by conv.h once per type
 * (T: float / double, TS: f32 / f64; every function name gets the suffix _TS). */
#define CFN(name) TN_CONV_CAT(name, TS)
#define GEMM TN_CONV_CAT(tn_gemm, TS)

/* cols (C kh kw, Ho Wo) = the windows of one image x (C, H, W) (see conv.h); padding reads 0. */
static void CFN(tn_im2col)(const T *x, const tn_conv_geom *g, T *cols) {
    tn_idx h = g->h, w = g->w, ho = g->ho, wo = g->wo, p = ho * wo;
    for (tn_idx c = 0; c < g->c; c++)
        for (int u = 0; u < g->kh; u++)
            for (int v = 0; v < g->kw; v++) {
                T *row = cols + ((c * g->kh + u) * g->kw + v) * p;
                const T *plane = x + c * h * w;
                tn_idx off = (tn_idx)v * g->dw - g->pl, j0, j1;
                tn_conv_valid(w, wo, g->sw, off, &j0, &j1);
                for (tn_idx i = 0; i < ho; i++) {
                    T *dst = row + i * wo;
                    tn_idx r = i * g->sh - g->pt + (tn_idx)u * g->dh;
                    if (r < 0 || r >= h) {
                        memset(dst, 0, (size_t)wo * sizeof(T));
                        continue;
                    }
                    const T *src = plane + r * w + off;
                    for (tn_idx j = 0; j < j0; j++) dst[j] = 0;
                    if (g->sw == 1)
                        memcpy(dst + j0, src + j0, (size_t)(j1 - j0) * sizeof(T));
                    else
                        for (tn_idx j = j0; j < j1; j++) dst[j] = src[j * g->sw];
                    for (tn_idx j = j1; j < wo; j++) dst[j] = 0;
                }
            }
}

/* dx (C, H, W) = col2im(cols): the adjoint of im2col, each column's values added back to the
 * input positions they were copied from (taps on the padding are dropped). */
static void CFN(tn_col2im)(const T *cols, const tn_conv_geom *g, T *dx) {
    tn_idx h = g->h, w = g->w, ho = g->ho, wo = g->wo, p = ho * wo;
    memset(dx, 0, (size_t)(g->c * h * w) * sizeof(T));
    for (tn_idx c = 0; c < g->c; c++)
        for (int u = 0; u < g->kh; u++)
            for (int v = 0; v < g->kw; v++) {
                const T *row = cols + ((c * g->kh + u) * g->kw + v) * p;
                T *plane = dx + c * h * w;
                tn_idx off = (tn_idx)v * g->dw - g->pl, j0, j1;
                tn_conv_valid(w, wo, g->sw, off, &j0, &j1);
                for (tn_idx i = 0; i < ho; i++) {
                    tn_idx r = i * g->sh - g->pt + (tn_idx)u * g->dh;
                    if (r < 0 || r >= h) continue;
                    T *dst = plane + r * w + off;
                    const T *src = row + i * wo;
                    if (g->sw == 1)
                        for (tn_idx j = j0; j < j1; j++) dst[j] += src[j];
                    else
                        for (tn_idx j = j0; j < j1; j++) dst[j * g->sw] += src[j];
                }
            }
}

/* The columns of one image: x itself for a pointwise convolution, else im2col into cols. */
static const T *CFN(tn_conv_cols)(const T *x, const tn_conv_geom *g, T *cols) {
    if (tn_conv_is_pointwise(g)) return x;
    CFN(tn_im2col)(x, g, cols);
    return cols;
}

/* y (O, P) of one image.  Per group, y_g^T (P, Og) = cols_g^T (P, Cg K) W_g^T (Cg K, Og) + bias, relu
 * when act == 1, into tmp (P, O): with P as the GEMM's long side the 12-row micro-kernel tiles are
 * full (O = 64 would leave a third of the last tile empty), and the bias and activation are the GEMM's
 * own epilogue, applied to each tile as it is written.  Then tmp is transposed into y. */
static int CFN(tn_conv2d_image)(const T *x, const T *wt, const T *bias, int act, T *y, const tn_conv_geom *g,
                                 T *cols, T *tmp, int nt) {
    tn_idx p = g->ho * g->wo, og = g->o / g->groups, kk = g->c / g->groups * g->kh * g->kw, o = g->o;
    const T *b = CFN(tn_conv_cols)(x, g, cols);
    int err = 0;
    for (int gi = 0; gi < g->groups; gi++)
        err |= GEMM(p, og, kk, b + gi * kk * p, 1, p, wt + gi * og * kk, 1, kk, tmp + gi * og, o, 1,
                    bias ? bias + gi * og : NULL, act, nt);
    for (tn_idx j0 = 0; j0 < p; j0 += 32)          /* blocks of 32 positions: both sides stay in L1 */
        for (tn_idx c = 0; c < o; c++) {
            tn_idx j1 = tn_min(p, j0 + 32);
            for (tn_idx j = j0; j < j1; j++) y[c * p + j] = tmp[j * o + c];
        }
    return err;
}

/* dx (C, H, W) of one image: W_g^T dy_g per group into dcols, then col2im. */
static int CFN(tn_conv2d_bwi_image)(const T *gy, const T *wt, T *dx, const tn_conv_geom *g, T *dcols, int nt) {
    tn_idx p = g->ho * g->wo, og = g->o / g->groups, kk = g->c / g->groups * g->kh * g->kw;
    int pointwise = tn_conv_is_pointwise(g), err = 0;
    T *d = pointwise ? dx : dcols;
    for (int gi = 0; gi < g->groups; gi++)
        err |= GEMM(kk, p, og, wt + gi * og * kk, 1, kk, gy + gi * og * p, p, 1, d + gi * kk * p, p, 1, NULL, 0, nt);
    if (!pointwise) CFN(tn_col2im)(dcols, g, dx);
    return err;
}

/* acc (O, Cg K) (+)= dy_g cols_g^T of one image (tmp: O Cg K scratch; first: write, not add). */
static int CFN(tn_conv2d_bww_image)(const T *gy, const T *x, T *acc, T *tmp, int first, const tn_conv_geom *g,
                                     T *cols, int nt) {
    tn_idx p = g->ho * g->wo, og = g->o / g->groups, kk = g->c / g->groups * g->kh * g->kw;
    const T *b = CFN(tn_conv_cols)(x, g, cols);
    T *dst = first ? acc : tmp;
    int err = 0;
    for (int gi = 0; gi < g->groups; gi++)
        err |= GEMM(og, kk, p, gy + gi * og * p, p, 1, b + gi * kk * p, 1, p, dst + gi * og * kk, kk, 1, NULL, 0, nt);
    if (!first)
        for (tn_idx i = 0; i < g->o * kk; i++) acc[i] += tmp[i];
    return err;
}

/* Scratch for the columns of one image per thread (none for a pointwise convolution). */
static T *CFN(tn_conv_scratch)(const tn_conv_geom *g, int threads, tn_idx extra) {
    tn_idx cols = tn_conv_is_pointwise(g) ? 0 : g->c * g->kh * g->kw * g->ho * g->wo;
    return (T *)tn_alloc(sizeof(T) * (size_t)(cols + extra) * (size_t)threads);
}

/* y (N, O, Ho, Wo) = conv2d(x (N, C, H, W), W (O, C/G, kh, kw)) + bias, then relu if act == 1. */
static int CFN(tn_conv2d)(const T *x, const T *wt, const T *bias, int act, T *y, const tn_conv_geom *g, int nt) {
    int outer = tn_conv_outer_threads(g, nt), err = 0;
    tn_idx cols = tn_conv_is_pointwise(g) ? 0 : g->c * g->kh * g->kw * g->ho * g->wo;
    tn_idx xs = g->c * g->h * g->w, ys = g->o * g->ho * g->wo;
    T *scratch = CFN(tn_conv_scratch)(g, outer, ys);
    if (scratch == NULL) return -1;
    if (tn_conv_work(g) < TN_CONV_MIN_PARALLEL) nt = 1;
    #pragma omp parallel for num_threads(outer) schedule(dynamic, 1) reduction(|: err) if (outer > 1)
    for (tn_idx n = 0; n < g->n; n++) {
        T *mine = scratch + (cols + ys) * tn_thread_id();
        err |= CFN(tn_conv2d_image)(x + n * xs, wt, bias, act, y + n * ys, g, mine, mine + cols, outer > 1 ? 1 : nt);
    }
    free(scratch);
    return err ? -1 : 0;
}

/* dx (N, C, H, W) = the transposed convolution of gy (N, O, Ho, Wo) with W. */
static int CFN(tn_conv2d_backward_input)(const T *gy, const T *wt, T *dx, const tn_conv_geom *g, int nt) {
    int outer = tn_conv_outer_threads(g, nt), err = 0;
    tn_idx cols = tn_conv_is_pointwise(g) ? 0 : g->c * g->kh * g->kw * g->ho * g->wo;
    tn_idx xs = g->c * g->h * g->w, ys = g->o * g->ho * g->wo;
    T *scratch = CFN(tn_conv_scratch)(g, outer, 0);
    if (scratch == NULL) return -1;
    if (tn_conv_work(g) < TN_CONV_MIN_PARALLEL) nt = 1;
    #pragma omp parallel for num_threads(outer) schedule(dynamic, 1) reduction(|: err) if (outer > 1)
    for (tn_idx n = 0; n < g->n; n++)
        err |= CFN(tn_conv2d_bwi_image)(gy + n * ys, wt, dx + n * xs, g, scratch + cols * tn_thread_id(),
                                        outer > 1 ? 1 : nt);
    free(scratch);
    return err ? -1 : 0;
}

/* dW (O, C/G, kh, kw) = sum_n dy[n] cols[n]^T: each thread sums a contiguous run of images into
 * its own partial sum, then the partial sums are added in thread order. */
static int CFN(tn_conv2d_backward_weight)(const T *gy, const T *x, T *dw, const tn_conv_geom *g, int nt) {
    int outer = tn_conv_outer_threads(g, nt), err = 0;
    tn_idx cols = tn_conv_is_pointwise(g) ? 0 : g->c * g->kh * g->kw * g->ho * g->wo;
    tn_idx wsize = g->o * (g->c / g->groups) * g->kh * g->kw;
    tn_idx xs = g->c * g->h * g->w, ys = g->o * g->ho * g->wo, per = cols + 2 * wsize;
    T *scratch = CFN(tn_conv_scratch)(g, outer, 2 * wsize);
    if (scratch == NULL) return -1;
    if (tn_conv_work(g) < TN_CONV_MIN_PARALLEL) nt = 1;
    if (g->n == 0) memset(dw, 0, (size_t)wsize * sizeof(T));
    #pragma omp parallel num_threads(outer) reduction(|: err) if (outer > 1)
    {
        int t = tn_thread_id(), parts = 1;
#ifdef _OPENMP
        parts = omp_get_num_threads();
#endif
        T *mine = scratch + per * t, *acc = t == 0 ? dw : mine + cols, *tmp = mine + cols + wsize;
        tn_idx lo = g->n * t / parts, hi = g->n * (t + 1) / parts;
        if (lo == hi && t > 0) memset(acc, 0, (size_t)wsize * sizeof(T));
        for (tn_idx n = lo; n < hi; n++)
            err |= CFN(tn_conv2d_bww_image)(gy + n * ys, x + n * xs, acc, tmp, n == lo, g, mine,
                                            outer > 1 ? 1 : nt);
        #pragma omp barrier
        #pragma omp single
        for (int q = 1; q < parts; q++) {
            const T *part = scratch + per * q + cols;
            for (tn_idx i = 0; i < wsize; i++) dw[i] += part[i];
        }
    }
    free(scratch);
    return err ? -1 : 0;
}

#undef CFN
#undef GEMM
