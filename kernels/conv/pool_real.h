/* conv/pool_real.h -- TEMPLATE for pooling, included by pool.h once per type (T, TS: f32 / f64). */
#define PFN(name) TN_POOL_CAT(name, TS)

/* One step of a window's scan: value src[at] replaces the best so far if larger or NaN. */
#define TN_POOL_PICK(at_)                                                               \
    do {                                                                                \
        T val_ = src[at_];                                                              \
        if (val_ > best || isnan(val_)) { best = val_; at = (at_); }                    \
    } while (0)

/* y and idx (planes, Ho, Wo) = max pooling of x (planes, H, W). */
static void PFN(tn_max_pool2d)(const T *x, T *y, int64_t *idx, const tn_pool_geom *g, int nt) {
    tn_idx hw = g->h * g->w, out = g->ho * g->wo;
    /* 2x2 windows at stride 2 without padding or dilation, all inside the plane (most pooling
     * layers): the general scan below with its bounds known, the same four values in the same order */
    int two = g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0 && g->dh == 1
              && g->dw == 1 && 2 * g->ho <= g->h && 2 * g->wo <= g->w;
    #pragma omp parallel for num_threads(tn_pool_threads(g, nt)) schedule(static)
    for (tn_idx pl = 0; pl < g->planes; pl++) {
        const T *src = x + pl * hw;
        T *dst = y + pl * out;
        int64_t *where = idx + pl * out;
        if (two) {
            for (tn_idx i = 0; i < g->ho; i++)
                for (tn_idx j = TN_POOL_CAT(tn_max_pool_2x2, TS)(src + 2 * i * g->w, src + (2 * i + 1) * g->w,
                                                                  2 * i * g->w, g->w, g->wo, dst + i * g->wo,
                                                                  where + i * g->wo);
                     j < g->wo; j++) {
                    int64_t first = 2 * i * g->w + 2 * j, at = first;
                    T best = -INFINITY;
                    TN_POOL_PICK(first);
                    TN_POOL_PICK(first + 1);
                    TN_POOL_PICK(first + g->w);
                    TN_POOL_PICK(first + g->w + 1);
                    dst[i * g->wo + j] = best;
                    where[i * g->wo + j] = at;
                }
            continue;
        }
        for (tn_idx i = 0; i < g->ho; i++) {
            int u0 = tn_pool_first(i, g->sh, g->ph, g->dh);
            tn_idx r0 = i * g->sh - g->ph + (tn_idx)u0 * g->dh;
            for (tn_idx j = 0; j < g->wo; j++) {
                int v0 = tn_pool_first(j, g->sw, g->pw, g->dw);
                tn_idx q0 = j * g->sw - g->pw + (tn_idx)v0 * g->dw;
                T best = -INFINITY;
                int64_t at = r0 * g->w + q0;
                for (int u = u0; u < g->kh; u++) {
                    tn_idx r = i * g->sh - g->ph + (tn_idx)u * g->dh;
                    if (r >= g->h) break;
                    for (int v = v0; v < g->kw; v++) {
                        tn_idx q = j * g->sw - g->pw + (tn_idx)v * g->dw;
                        if (q >= g->w) break;
                        TN_POOL_PICK(r * g->w + q);
                    }
                }
                dst[i * g->wo + j] = best;
                where[i * g->wo + j] = at;
            }
        }
    }
}

/* dx (planes, H, W) = the sum of gy over the windows whose maximum each element was (an index
 * outside the plane, from a window of padding only, passes nothing on). */
static void PFN(tn_max_pool2d_backward)(const T *gy, const int64_t *idx, T *dx, const tn_pool_geom *g, int nt) {
    tn_idx hw = g->h * g->w, out = g->ho * g->wo;
    #pragma omp parallel for num_threads(tn_pool_threads(g, nt)) schedule(static)
    for (tn_idx pl = 0; pl < g->planes; pl++) {
        T *dst = dx + pl * hw;
        memset(dst, 0, (size_t)hw * sizeof(T));
        for (tn_idx k = 0; k < out; k++) {
            int64_t at = idx[pl * out + k];
            if (at >= 0 && at < hw) dst[at] += gy[pl * out + k];
        }
    }
}

/* The divisor of window (i, j) of average pooling (see pool.h). */
static inline T PFN(tn_avg_divisor)(const tn_pool_geom *g, tn_idx i, tn_idx j) {
    tn_idx h0 = i * g->sh - g->ph, w0 = j * g->sw - g->pw;
    tn_idx h1 = tn_pool_min(h0 + g->kh, g->h + g->ph), w1 = tn_pool_min(w0 + g->kw, g->w + g->pw);
    if (g->count_include_pad) return (T)((h1 - h0) * (w1 - w0));
    h0 = h0 < 0 ? 0 : h0;
    w0 = w0 < 0 ? 0 : w0;
    h1 = tn_pool_min(h1, g->h);
    w1 = tn_pool_min(w1, g->w);
    return (T)((h1 - h0) * (w1 - w0));
}

/* y (planes, Ho, Wo) = average pooling of x (planes, H, W). */
static void PFN(tn_avg_pool2d)(const T *x, T *y, const tn_pool_geom *g, int nt) {
    tn_idx hw = g->h * g->w, out = g->ho * g->wo;
    #pragma omp parallel for num_threads(tn_pool_threads(g, nt)) schedule(static)
    for (tn_idx pl = 0; pl < g->planes; pl++) {
        const T *src = x + pl * hw;
        for (tn_idx i = 0; i < g->ho; i++)
            for (tn_idx j = 0; j < g->wo; j++) {
                tn_idx r0 = i * g->sh - g->ph, q0 = j * g->sw - g->pw;
                tn_idx r1 = tn_pool_min(r0 + g->kh, g->h), q1 = tn_pool_min(q0 + g->kw, g->w);
                T sum = 0;
                for (tn_idx r = r0 < 0 ? 0 : r0; r < r1; r++)
                    for (tn_idx q = q0 < 0 ? 0 : q0; q < q1; q++) sum += src[r * g->w + q];
                y[pl * out + i * g->wo + j] = sum / PFN(tn_avg_divisor)(g, i, j);
            }
    }
}

/* dx (planes, H, W) = the sum over the windows holding each element of gy / divisor. */
static void PFN(tn_avg_pool2d_backward)(const T *gy, T *dx, const tn_pool_geom *g, int nt) {
    tn_idx hw = g->h * g->w, out = g->ho * g->wo;
    #pragma omp parallel for num_threads(tn_pool_threads(g, nt)) schedule(static)
    for (tn_idx pl = 0; pl < g->planes; pl++) {
        T *dst = dx + pl * hw;
        memset(dst, 0, (size_t)hw * sizeof(T));
        for (tn_idx i = 0; i < g->ho; i++)
            for (tn_idx j = 0; j < g->wo; j++) {
                tn_idx r0 = i * g->sh - g->ph, q0 = j * g->sw - g->pw;
                tn_idx r1 = tn_pool_min(r0 + g->kh, g->h), q1 = tn_pool_min(q0 + g->kw, g->w);
                T share = gy[pl * out + i * g->wo + j] / PFN(tn_avg_divisor)(g, i, j);
                for (tn_idx r = r0 < 0 ? 0 : r0; r < r1; r++)
                    for (tn_idx q = q0 < 0 ? 0 : q0; q < q1; q++) dst[r * g->w + q] += share;
            }
    }
}

#undef TN_POOL_PICK
#undef PFN
