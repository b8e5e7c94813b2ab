/* conv/conv_dense_real.h -- TEMPLATE for the convolution of maps no bigger than the kernel, included by
 * conv.h once per type before conv_real.h (T: float / double, TS: f32 / f64).
 *
 * A convolution is linear in x, so per group it is one matrix: with P = Ho Wo outputs and
 * HW = H W inputs per channel,
 *
 *     Wd_g (Og P, Cg HW):  Wd_g[o P + q, c HW + i W + j] = W[o, c, u, v]  where (i, j) is the input
 *                          position tap (u, v) of output q reads (0 where no tap reads it)
 *     forward              y_g (N, Og P)   = x_g (N, Cg HW) Wd_g^T  + bias, relu
 *     input grad           dx_g (N, Cg HW) = dy_g (N, Og P) Wd_g
 *     weight grad          dWd_g = dy_g^T x_g, and dW[o, c, u, v] = sum over q of its entry of dWd_g
 *
 * x and y in NCHW already are those (N, C HW) and (N, O P) matrices, so there is nothing to copy.
 * im2col multiplies Cg K values per output (K = kh kw) where this multiplies Cg HW, so this costs
 * more multiply-adds once HW > K; but on maps of 2x2 to 4x4 im2col copies runs of two to four values
 * and costs as much as the product it feeds (tn_conv_is_dense in conv.h picks this path).
 *
 * The zeros of Wd multiply every input, so an infinite or NaN input would turn outputs that never
 * read it into NaN (0 inf): the dense path runs only on finite inputs (tn_all_finite), the others
 * go through im2col, which reads each output's window only.
 * Each returns 0, or -1 if scratch memory could not be allocated. */
#define DFN(name) TN_CONV_CAT(name, TS)
#define DGEMM TN_CONV_CAT(tn_gemm, TS)


/* 1 if no value of x[0..n) is infinite or NaN (all exponent bits set): an integer test, which
 * vectorizes where a float comparison chain would not. */
static int DFN(tn_all_finite)(const T *x, tn_idx n) {
    typedef TN_CONV_CAT(tn_bits, TS) bits;
    const bits exponent = sizeof(T) == 4 ? (bits)0x7f800000u : (bits)0x7ff0000000000000ull;
    int bad = 0;
    for (tn_idx i = 0; i < n; i++) {
        bits u;
        memcpy(&u, x + i, sizeof u);
        bad |= (u & exponent) == exponent;
    }
    return !bad;
}

/* Wd of every group, one after the other ((O P) x (Cg HW) values in all). */
static T *DFN(tn_conv_dense_matrix)(const T *wt, const tn_conv_geom *g) {
    tn_idx p = g->ho * g->wo, hw = g->h * g->w, cg = g->c / g->groups, cols = cg * hw;
    T *wd = (T *)tn_alloc(sizeof(T) * (size_t)(g->o * p * cols + 1));
    if (wd == NULL) return NULL;
    memset(wd, 0, sizeof(T) * (size_t)(g->o * p * cols));
    for (tn_idx o = 0; o < g->o; o++)
        for (tn_idx c = 0; c < cg; c++) {
            const T *w = wt + (o * cg + c) * g->kh * g->kw;
            T *row = wd + o * p * cols + c * hw;
            TN_CONV_DENSE_TAPS(g, row[q * cols + i] = w[u * g->kw + v];)
        }
    return wd;
}

static int DFN(tn_conv2d_dense)(const T *x, const T *wt, const T *bias, int act, T *y, const tn_conv_geom *g,
                                int nt) {
    tn_idx p = g->ho * g->wo, hw = g->h * g->w, og = g->o / g->groups, cg = g->c / g->groups;
    T *wd = DFN(tn_conv_dense_matrix)(wt, g), *bd = NULL;
    if (wd == NULL) return -1;
    if (bias) {  /* the bias of column o P + q is bias[o] */
        bd = (T *)tn_alloc(sizeof(T) * (size_t)(g->o * p + 1));
        if (bd == NULL) { free(wd); return -1; }
        for (tn_idx j = 0; j < g->o * p; j++) bd[j] = bias[j / p];
    }
    int err = 0;
    for (int gi = 0; gi < g->groups; gi++)
        err |= DGEMM(g->n, og * p, cg * hw, x + gi * cg * hw, g->c * hw, 1, wd + gi * og * p * cg * hw, 1, cg * hw,
                    y + gi * og * p, g->o * p, 1, bd ? bd + gi * og * p : NULL, act, nt);
    free(bd);
    free(wd);
    return err;
}

static int DFN(tn_conv2d_dense_backward_input)(const T *gy, const T *wt, T *dx, const tn_conv_geom *g, int nt) {
    tn_idx p = g->ho * g->wo, hw = g->h * g->w, og = g->o / g->groups, cg = g->c / g->groups;
    T *wd = DFN(tn_conv_dense_matrix)(wt, g);
    if (wd == NULL) return -1;
    int err = 0;
    for (int gi = 0; gi < g->groups; gi++)
        err |= DGEMM(g->n, cg * hw, og * p, gy + gi * og * p, g->o * p, 1, wd + gi * og * p * cg * hw, cg * hw, 1,
                    dx + gi * cg * hw, g->c * hw, 1, NULL, 0, nt);
    free(wd);
    return err;
}

static int DFN(tn_conv2d_dense_backward_weight)(const T *gy, const T *x, T *dw, const tn_conv_geom *g, int nt) {
    tn_idx p = g->ho * g->wo, hw = g->h * g->w, og = g->o / g->groups, cg = g->c / g->groups, cols = cg * hw;
    T *dwd = (T *)tn_alloc(sizeof(T) * (size_t)(g->o * p * cols + 1));
    if (dwd == NULL) return -1;
    int err = 0;
    for (int gi = 0; gi < g->groups; gi++)
        err |= DGEMM(og * p, cols, g->n, gy + gi * og * p, 1, g->o * p, x + gi * cols, g->c * hw, 1,
                    dwd + gi * og * p * cols, cols, 1, NULL, 0, nt);
    memset(dw, 0, sizeof(T) * (size_t)(g->o * cg * g->kh * g->kw));
    if (g->n > 0)
        for (tn_idx o = 0; o < g->o; o++)
            for (tn_idx c = 0; c < cg; c++) {
                T *w = dw + (o * cg + c) * g->kh * g->kw;
                const T *row = dwd + o * p * cols + c * hw;
                TN_CONV_DENSE_TAPS(g, w[u * g->kw + v] += row[q * cols + i];)
            }
    free(dwd);
    return err;
}

#undef DFN
#undef DGEMM
