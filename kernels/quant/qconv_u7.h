/* quant/qconv_u7.h -- the int8 convolution (QuantizedConv2d) on the quantized Linear's kernel
 * (gemm/gemm_int8_u7.h): 7-bit activations, int8 weights packed once per group, exact int32
 * accumulation, the dequantize + bias + activation epilogue fused into the write of y (NCHW).
 *
 *   a = clamp(nearbyint(fma(x, float32(1 / s_a), z_a)), 0, 127)     once per input value
 *   xq (N, Hp, Wp, C) u8: a laid out channel-last, the padding filled with z_a (what a zero input
 *        quantizes to: fma(0, inv, z_a) = z_a exactly, so padding before or after quantizing is the same)
 *   cols[(n, i, j), (u, v, c)] = xq[n, s_h i + d_h u, s_w j + d_w v, g Cg + c]  (one row per output
 *        position, built block by block straight in the micro-kernels' row layout: stride kp, zero padded)
 *   y[n, g Og + o, i, j] = the quantized Linear's epilogue of (cols W_g^T)[(n, i, j), o]
 *
 * Channel-last xq makes each row of cols kh copies of kw Cg contiguous bytes (when d_w = 1 and one
 * group), or kh kw copies of Cg bytes; the copies are word moves.  Blocks of rows are spread over
 * the threads, each with its own columns buffer; the outputs go to their NCHW places in the
 * epilogue (rows in groups of Ho Wo positions per image).
 */
#ifndef TN_QCONV_U7_H
#define TN_QCONV_U7_H

#include "../gemm/gemm_int8_u7.h"
#include "../conv/conv.h"

/* len bytes from s to d: 8-byte words, the last one overlapping, for len >= 8. */
static inline void tn_u7_copy(uint8_t *d, const uint8_t *s, tn_idx len) {
    uint64_t v;
    if (len < 8) {
        for (tn_idx i = 0; i < len; i++) d[i] = s[i];
        return;
    }
    tn_idx i = 0;
    for (; i + 8 <= len; i += 8) { memcpy(&v, s + i, 8); memcpy(d + i, &v, 8); }
    if (i < len) { memcpy(&v, s + len - 8, 8); memcpy(d + len - 8, &v, 8); }
}

#if TN_HAVE_AVX2
/* d[w dstride + k] = s[k sstride + w] for k, w < 8: an 8 x 8 byte transposition in SSE2 registers
 * (8 channels' rows of 8 positions into 8 positions' runs of 8 channels). */
static inline void tn_u7_transpose8(const int8_t *s, tn_idx sstride, uint8_t *d, tn_idx dstride) {
    __m128i a[8];
    for (int k = 0; k < 8; k++) a[k] = _mm_loadl_epi64((const __m128i *)(s + k * sstride));
    __m128i t0 = _mm_unpacklo_epi8(a[0], a[1]), t1 = _mm_unpacklo_epi8(a[2], a[3]);
    __m128i t2 = _mm_unpacklo_epi8(a[4], a[5]), t3 = _mm_unpacklo_epi8(a[6], a[7]);
    __m128i u0 = _mm_unpacklo_epi16(t0, t1), u1 = _mm_unpackhi_epi16(t0, t1);
    __m128i u2 = _mm_unpacklo_epi16(t2, t3), u3 = _mm_unpackhi_epi16(t2, t3);
    __m128i v[4] = {_mm_unpacklo_epi32(u0, u2), _mm_unpackhi_epi32(u0, u2),
                    _mm_unpacklo_epi32(u1, u3), _mm_unpackhi_epi32(u1, u3)};
    for (int w = 0; w < 4; w++) {
        _mm_storel_epi64((__m128i *)(d + 2 * w * dstride), v[w]);
        _mm_storel_epi64((__m128i *)(d + (2 * w + 1) * dstride), _mm_srli_si128(v[w], 8));
    }
}
#endif

/* Quantize x (N, C, H, W) into xq (N, hp, wp, C) (b: tn_conv_bordered), the padding at z_a: all of
 * x in one vector pass into q (N C H W bytes; a row of a small image is shorter than one vector
 * step), then moved. */
static void tn_u7_conv_quantize(const tn_conv_geom *g, const tn_conv_border *b, const float *x, float sa, int32_t za,
                                uint8_t *xq, int8_t *q) {
    tn_idx C = g->c, H = g->h, W = g->w, hp = b->hp, wp = b->wp, h1 = b->rows, w1 = b->cols;
    memset(xq, (int)za, (size_t)(g->n * hp * wp * C));
    tn_quantize_row(x, g->n * C * H * W, 1, 1.0f / sa, (float)za, 0.0f, 127.0f, q);
    for (tn_idx n = 0; n < g->n; n++)
        for (tn_idx h = 0; h < h1; h++) {
            uint8_t *dst = xq + ((n * hp + h + g->pt) * wp + g->pl) * C;
            const int8_t *src = q + (n * C * H + h) * W;
            tn_idx c = 0;
#if TN_HAVE_AVX2
            for (; c + 8 <= C; c += 8) {
                tn_idx w = 0;
                for (; w + 8 <= w1; w += 8) tn_u7_transpose8(src + c * H * W + w, H * W, dst + w * C + c, C);
                for (; w < w1; w++)
                    for (tn_idx k = 0; k < 8; k++) dst[w * C + c + k] = (uint8_t)src[(c + k) * H * W + w];
            }
#endif
            for (; c < C; c++)
                for (tn_idx w = 0; w < w1; w++) dst[w * C + c] = (uint8_t)src[c * H * W + w];
        }
}

/* Rows [r0, r0 + m) of group gi's columns into cols (stride kp, zero padded to kp).  The geometry
 * is read into locals first: a byte store may alias anything, so the compiler would otherwise load
 * every field of *g again after each copy. */
static void tn_u7_conv_cols(const tn_conv_geom *g, tn_idx hp, tn_idx wp, const uint8_t *xq, int gi,
                            tn_idx r0, tn_idx m, tn_idx kp, uint8_t *cols) {
    const tn_idx C = g->c, cg = C / g->groups, ho = g->ho, wo = g->wo, P = ho * wo;
    const tn_idx kh = g->kh, kw = g->kw, sh = g->sh, sw = g->sw, dh = g->dh, dw = g->dw, k = kh * kw * cg;
    const int whole = dw == 1 && g->groups == 1;  /* kw taps x C channels: one run of bytes */
    tn_idx img = r0 / P, i = r0 % P / wo, j = r0 % wo;   /* row r's position, advanced below */
    for (tn_idx r = 0; r < m; r++, j = j + 1 < wo ? j + 1 : 0) {   /* (no divisions per row) */
        if (r > 0 && j == 0 && ++i == ho) {
            i = 0;
            img++;
        }
        uint8_t *dst = cols + r * kp;
        const uint8_t *src = xq + ((img * hp + i * sh) * wp + j * sw) * C + gi * cg;
        for (tn_idx u = 0; u < kh; u++, src += dh * wp * C) {
            if (whole) {
                switch (kw * C) {   /* 3x3 kernels on 8, 16, 32 channels: a few constant moves */
                case 24: memcpy(dst + u * 24, src, 24); break;
                case 48: memcpy(dst + u * 48, src, 48); break;
                case 96: memcpy(dst + u * 96, src, 96); break;
                default: tn_u7_copy(dst + u * kw * C, src, kw * C);
                }
            } else {
                for (tn_idx v = 0; v < kw; v++) tn_u7_copy(dst + (u * kw + v) * cg, src + v * dw * C, cg);
            }
        }
        if (kp > k) memset(dst + k, 0, (size_t)(kp - k));
    }
}

/* y (N, O, Ho, Wo) = the int8 convolution of float32 x (N, C, H, W, contiguous) with geometry g
 * (g->pt, g->pl the top/left padding; the bottom/right padding is what Ho, Wo imply), weights packed
 * per group (bps[gi]: tn_u7_pack of the (Og, kh kw Cg) matrix with columns in (u, v, c) order, K
 * padded to kp), rowsum (O), sw (O), bias (O or NULL), act; activations at (*sa, *za), or measured
 * from x if *sa <= 0 (as tn_u7_linear).  Returns 0, -1 if memory ran out, -2 if a dynamic range
 * is not finite. */
static int tn_u7_conv(const tn_conv_geom *g, const float *x, float *sa_io, int32_t *za_io,
                      const int8_t *const *bps, tn_idx kp, const int32_t *rowsum, const float *sw,
                      const float *bias, int act, float *y, int nt) {
    tn_idx O = g->o, P = g->ho * g->wo, M = g->n * P, og = O / g->groups;
    if (M <= 0 || O <= 0) return 0;
    if (*sa_io <= 0.0f) {
        float lo, hi;
        tn_minmax_rows_f32(1, g->n * g->c * g->h * g->w, x, 0, &lo, &hi);
        if (tn_u7_qparams(lo, hi, sa_io, za_io) != 0) return -2;
    }
    float sa = *sa_io;
    int32_t za = *za_io;
    tn_conv_border b = tn_conv_bordered(g);
    tn_idx hp = b.hp, wp = b.wp;
    size_t xbytes = (size_t)(g->n * hp * wp * g->c + 63) / 64 * 64;
    uint8_t *xq = tn_u7_scratch(0, xbytes + 8 * (size_t)O + (size_t)(g->n * g->c * g->h * g->w) + 64);
    if (xq == NULL) return -1;
    int32_t *zrs = (int32_t *)(xq + xbytes);
    float *scale = (float *)(zrs + O);
    tn_u7_epi_columns(O, sa, za, rowsum, sw, zrs, scale);
    tn_u7_conv_quantize(g, &b, x, sa, za, xq, (int8_t *)(scale + O));
    tn_u7_kernels ks = tn_u7_select(kp, og);
    /* rows per block: about 48 KB of columns, a multiple of 48 (every MR divides it) */
    tn_idx mb = (49152 / kp) / 48 * 48;
    if (mb < 48) mb = 48;
    if (mb > M) mb = M;
    tn_idx blocks = tn_ceil_div(M, mb);
    if (tn_conv_work(g) < TN_CONV_MIN_PARALLEL) nt = 1;
    if (nt > blocks) nt = (int)blocks;
    int failed = 0;
    #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (tn_idx bi = 0; bi < blocks; bi++) {
        uint8_t *cols = tn_u7_scratch(1, (size_t)(mb + TN_U7_ROWPAD) * (size_t)kp);
        if (cols == NULL) { failed = 1; continue; }
        tn_idx r0 = bi * mb, m = tn_min(mb, M - r0);
        memset(cols + m * kp, 0, (size_t)(TN_U7_ROWPAD * kp));
        for (int gi = 0; gi < g->groups; gi++) {
            tn_u7_conv_cols(g, hp, wp, xq, gi, r0, m, kp, cols);
            tn_u7_epi e = {og, kp, bps[gi], zrs + gi * og, scale + gi * og, bias ? bias + gi * og : NULL, act};
            tn_u7_out o = {y + gi * og * P, P, O * P, 1, P, r0};
            tn_u7_gemm(m, cols, &e, &ks, &o, 0, tn_ceil_div(og, TN_U7_NR));
        }
    }
    return failed ? -1 : 0;
}

#endif /* TN_QCONV_U7_H */
