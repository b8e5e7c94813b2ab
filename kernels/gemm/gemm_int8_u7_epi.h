/* gemm/gemm_int8_u7_epi.h -- the epilogue of the quantized Linear's kernel (gemm/gemm_int8_u7.h,
 * which includes this file after its tile sizes): per output column j,
 *   y[j] = act(float32(acc[j] - z_a rowsum[j]) * float32(s_a s_w[j]) + b[j]),
 * written row by row to a row-major y (the Linear) or through a float tile to NCHW (the convolution).
 */
#ifndef TN_GEMM_INT8_U7_EPI_H
#define TN_GEMM_INT8_U7_EPI_H

/* What the epilogue needs per output column j, computed once per call:
 *   y[j] = act(float32(acc[j] - zrs[j]) * scale[j] + bias[j]),  zrs[j] = z_a rowsum[j] (wrapping
 *   int32, like the SIMD adds), scale[j] = float32(s_a s_w[j]). */
typedef struct {
    tn_idx n, kp;
    const int8_t *bp;
    const int32_t *zrs;
    const float *scale, *bias;
    int act;
} tn_u7_epi;

/* zrs and scale of n columns (tn_u7_epi). */
static void tn_u7_epi_columns(tn_idx n, float sa, int32_t za, const int32_t *rowsum, const float *sw,
                              int32_t *zrs, float *scale) {
    for (tn_idx j = 0; j < n; j++) {
        zrs[j] = (int32_t)((uint32_t)za * (uint32_t)rowsum[j]);
        scale[j] = sa * sw[j];
    }
}

/* The epilogue of one tile row, contiguous y; one compiled copy per SIMD level, the same IEEE
 * operations in the same order (int32 -> float32 conversion, one multiplication, one addition,
 * relu as (y < 0 ? 0 : y)), so every level gives the same bits.  The scalar copy is never
 * inlined (baseline target: no FMA contraction); the vector ones keep the product apart from the
 * addition with an empty asm, so that GCC cannot contract them into an FMA either. */
TN_NOINLINE static void tn_u7_epi_row(int nr, const int32_t *acc, const tn_u7_epi *e, tn_idx j0, float *y) {
    const int32_t *zrs = e->zrs + j0;
    const float *scale = e->scale + j0;
    for (int j = 0; j < nr; j++) y[j] = (float)(int32_t)((uint32_t)acc[j] - (uint32_t)zrs[j]) * scale[j];
    if (e->bias)
        for (int j = 0; j < nr; j++) y[j] = y[j] + e->bias[j0 + j];
    if (e->act == TN_ACT_RELU)
        for (int j = 0; j < nr; j++) y[j] = y[j] < 0.0f ? 0.0f : y[j];
}

#if TN_HAVE_AVX2
#define TN_U7_APART(v) __asm__("" : "+v"(v))
TN_AVX512_FN static void tn_u7_epi_row_avx512(int nr, const int32_t *acc, const tn_u7_epi *e, tn_idx j0, float *y) {
    const __m512 zero = _mm512_setzero_ps();
    for (int j = 0; j < nr; j += 16) {
        __mmask16 k = nr - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (nr - j)) - 1);
        __m512i v = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(k, acc + j), _mm512_maskz_loadu_epi32(k, e->zrs + j0 + j));
        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_maskz_loadu_ps(k, e->scale + j0 + j));
        TN_U7_APART(f);
        if (e->bias) f = _mm512_add_ps(f, _mm512_maskz_loadu_ps(k, e->bias + j0 + j));
        if (e->act == TN_ACT_RELU) f = _mm512_max_ps(zero, f);   /* (0 > f ? 0 : f): NaN and -0 kept */
        _mm512_mask_storeu_ps(y + j, k, f);
    }
}

TN_AVX2_FN static void tn_u7_epi_row_avx2(int nr, const int32_t *acc, const tn_u7_epi *e, tn_idx j0, float *y) {
    const __m256 zero = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= nr; j += 8) {
        __m256i v = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(acc + j)),
                                     _mm256_loadu_si256((const __m256i *)(e->zrs + j0 + j)));
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_loadu_ps(e->scale + j0 + j));
        TN_U7_APART(f);
        if (e->bias) f = _mm256_add_ps(f, _mm256_loadu_ps(e->bias + j0 + j));
        if (e->act == TN_ACT_RELU) f = _mm256_max_ps(zero, f);
        _mm256_storeu_ps(y + j, f);
    }
    if (j < nr) tn_u7_epi_row(nr - j, acc + j, e, j0 + j, y + j);
}
#endif

/* One tile row into y (column stride csy), then the smooth activations. */
static void tn_u7_epilogue(int nr, const int32_t *acc, const tn_u7_epi *e, tn_idx j0, float *y, tn_idx csy) {
    float tmp[TN_U7_NR];
    float *out = csy == 1 ? y : tmp;
    TN_DISPATCH3(tn_u7_epi_row_avx512(nr, acc, e, j0, out), tn_u7_epi_row_avx2(nr, acc, e, j0, out),
                 tn_u7_epi_row(nr, acc, e, j0, out))
    if (e->act != TN_ACT_NONE && e->act != TN_ACT_RELU) tn_activate_f32(e->act, out, out, nr);
    if (csy != 1)
        for (int j = 0; j < nr; j++) y[j * csy] = tmp[j];
}

/* The output of tile row i: rows in groups of `per` (a convolution's positions of one image),
 * group g at y + g gs; in a group, row r at r rsy and column j at j csy. */
typedef struct { float *y; tn_idx per, gs, rsy, csy, off; } tn_u7_out;   /* off: the first row's index */

/* y[j csy + t] = ft[t NR + j] for j < nr, t < run: a transposition, in 4 x 4 blocks through SSE
 * registers where x86 has them (tn_transpose4_f32, gemm_avx2.h; one value at a time, it was a
 * tenth of the int8 ResNet's time). */
static void tn_u7_transpose_out(int nr, tn_idx run, const float *ft, float *y, tn_idx csy) {
    int j = 0;
#if TN_HAVE_AVX2
    for (; j + 4 <= nr; j += 4) {
        tn_idx t = 0;
        for (; t + 4 <= run; t += 4) {
            const float *f = ft + t * TN_U7_NR + j;
            tn_transpose4_f32(f, f + TN_U7_NR, f + 2 * TN_U7_NR, f + 3 * TN_U7_NR, y + j * csy + t, csy);
        }
        for (; t < run; t++)
            for (int q = 0; q < 4; q++) y[(j + q) * csy + t] = ft[t * TN_U7_NR + j + q];
    }
#endif
    for (; j < nr; j++)
        for (tn_idx t = 0; t < run; t++) y[j * csy + t] = ft[t * TN_U7_NR + j];
}

/* The epilogue of mc rows of tb (first row r0) into a column-strided out (a convolution's NCHW
 * output): each row into a contiguous float tile, then each column's run of one image's
 * consecutive positions moved at once. */
static void tn_u7_block_out(tn_idx mc, int nr, const int32_t *tb, const tn_u7_epi *e, tn_idx j0, const tn_u7_out *o,
                            tn_idx r0) {
    float ft[TN_U7_MC * TN_U7_NR];
    for (tn_idx i = 0; i < mc; i++) tn_u7_epilogue(nr, tb + i * TN_U7_NR, e, j0, ft + i * TN_U7_NR, 1);
    for (tn_idx i = 0; i < mc;) {
        tn_idx r = r0 + i, pos = r % o->per, run = tn_min(mc - i, o->per - pos);
        float *y = o->y + r / o->per * o->gs + pos * o->rsy + j0 * o->csy;
        if (o->rsy == 1)
            tn_u7_transpose_out(nr, run, ft + i * TN_U7_NR, y, o->csy);
        else
            for (int j = 0; j < nr; j++)
                for (tn_idx t = 0; t < run; t++) y[j * o->csy + t * o->rsy] = ft[(i + t) * TN_U7_NR + j];
        i += run;
    }
}

#endif /* TN_GEMM_INT8_U7_EPI_H */
