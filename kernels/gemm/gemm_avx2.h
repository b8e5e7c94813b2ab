/* gemm/gemm_avx2.h -- AVX2 helpers of the direct (unpacked) small-GEMM tiles in
 * gemm_direct.h and of the packing, one per type where the intrinsics differ (masks, column
 * gathers, the in-register transpositions); included once by gemm.h.  Compiled for AVX2+FMA with a target
 * attribute; called only when the CPU has both.
 */
#if TN_HAVE_AVX2

#define TN_AVX2_INLINE TN_AVX2_FN static __attribute__((always_inline)) inline

/* Lanes j < cnt on (cnt may be <= 0: none, or >= the lane count: all). */
TN_AVX2_INLINE __m256i tn_mask_f32(int cnt) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
TN_AVX2_INLINE __m256i tn_mask_f64(int cnt) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(cnt), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* Lane j = w[j][p]: one element of each of 8 (4) columns. */
TN_AVX2_INLINE __m256 tn_set_cols_f32(const float *const *w, tn_idx p) {
    return _mm256_setr_ps(w[0][p], w[1][p], w[2][p], w[3][p], w[4][p], w[5][p], w[6][p], w[7][p]);
}
TN_AVX2_INLINE __m256d tn_set_cols_f64(const double *const *w, tn_idx p) {
    return _mm256_setr_pd(w[0][p], w[1][p], w[2][p], w[3][p]);
}

/* d[q ld + i] = s_i[q] for i, q < 4: four runs of 4 floats transposed through 128-bit registers.
 * Plain SSE, not an AVX2 function, so that baseline code (the int8 convolution's epilogue) calls it
 * too; it inlines into the AVX2 packings below. */
static inline __attribute__((always_inline)) void tn_transpose4_f32(const float *s0, const float *s1, const float *s2,
                                                                    const float *s3, float *d, tn_idx ld) {
    __m128 r0 = _mm_loadu_ps(s0), r1 = _mm_loadu_ps(s1), r2 = _mm_loadu_ps(s2), r3 = _mm_loadu_ps(s3);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(d, r0);
    _mm_storeu_ps(d + ld, r1);
    _mm_storeu_ps(d + 2 * ld, r2);
    _mm_storeu_ps(d + 3 * ld, r3);
}

/* The packings' in-register transposition: values p..p+3 of each of `rows` runs w[i] (an even
 * number of them), ap[q * ld + i] = w[i][p + q] (q < 4), as 4 x 4 transpositions of 128-bit
 * vectors (256-bit shuffles cost twice as much on CPUs that split them in two, and this is bound
 * by the stores anyway) and, for a last pair of runs, 2 x 4.  The runs are the rows of a row-major
 * A (its MR-row slivers) or the columns of a column-major B (its NR-column slivers). */
TN_AVX2_INLINE void tn_rows_pack_f32(const float *const *w, int rows, tn_idx p, float *ap, tn_idx ld) {
    int i = 0;
    for (; i + 4 <= rows; i += 4) tn_transpose4_f32(w[i] + p, w[i + 1] + p, w[i + 2] + p, w[i + 3] + p, ap + i, ld);
    if (i < rows) {
        __m128 r0 = _mm_loadu_ps(w[i] + p), r1 = _mm_loadu_ps(w[i + 1] + p);
        __m128 lo = _mm_unpacklo_ps(r0, r1), hi = _mm_unpackhi_ps(r0, r1);
        _mm_storel_pi((__m64 *)(ap + i), lo);
        _mm_storeh_pi((__m64 *)(ap + ld + i), lo);
        _mm_storel_pi((__m64 *)(ap + 2 * ld + i), hi);
        _mm_storeh_pi((__m64 *)(ap + 3 * ld + i), hi);
    }
}

/* The same for double: values p, p+1 of `rows` runs (an even number), ap[q * ld + i] = w[i][p + q]. */
TN_AVX2_INLINE void tn_rows_pack_f64(const double *const *w, int rows, tn_idx p, double *ap, tn_idx ld) {
    for (int i = 0; i < rows; i += 2) {
        __m128d r0 = _mm_loadu_pd(w[i] + p), r1 = _mm_loadu_pd(w[i + 1] + p);
        _mm_storeu_pd(ap + i, _mm_unpacklo_pd(r0, r1));
        _mm_storeu_pd(ap + ld + i, _mm_unpackhi_pd(r0, r1));
    }
}
#undef TN_AVX2_INLINE

#endif /* TN_HAVE_AVX2 */
