/* gemm/gemm_avx2.h -- the AVX2+FMA micro-kernels of the GEMM (included by gemm.h).
 *
 * Each computes, from a sliver of A (MR rows, element (i, p) at a[i rsa + p csa]: packed,
 * rsa = 1 and csa = MR; or read in place from a row-major A) and a packed sliver b (k x NR),
 *     acc (MR x NR) = sum_p a[p, :]^T b[p, :]          (k rank-1 updates)
 * with the accumulator in named ymm registers (an array of __m256 would spill), then
 * writes acc to C (accumulate == 0) or adds it (accumulate == 1).  Full tiles with unit
 * column stride are written with vector loads/stores; edge tiles (mr < MR or nr < NR) and
 * strided C go through a small buffer, so only the valid mr x nr part of C is touched.
 * Compiled for AVX2+FMA with a target attribute; called only when the CPU has both.
 */
#if TN_HAVE_AVX2

/* float32, 6 x 16: per step 2 loads of b, 6 broadcasts of a, 12 FMAs. */
TN_AVX2_FN static void tn_ukr_f32_avx2(tn_idx k, const float *a, tn_idx rsa, tn_idx csa, const float *b, float *c,
                                            tn_idx rsc, tn_idx csc, int accumulate, int mr, int nr) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int i = 0; i < mr; i++) {               /* the C tile is needed at the end: fetch it now */
        _mm_prefetch((const char *)(c + i * rsc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * rsc + (nr - 1) * csc), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (tn_idx p = 0; p < k; p++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8), ai;
        _mm_prefetch((const char *)(b + 128), _MM_HINT_T0);
        ai = _mm256_broadcast_ss(a); c00 = _mm256_fmadd_ps(ai, b0, c00); c01 = _mm256_fmadd_ps(ai, b1, c01);
        ai = _mm256_broadcast_ss(a + 1 * rsa); c10 = _mm256_fmadd_ps(ai, b0, c10); c11 = _mm256_fmadd_ps(ai, b1, c11);
        ai = _mm256_broadcast_ss(a + 2 * rsa); c20 = _mm256_fmadd_ps(ai, b0, c20); c21 = _mm256_fmadd_ps(ai, b1, c21);
        ai = _mm256_broadcast_ss(a + 3 * rsa); c30 = _mm256_fmadd_ps(ai, b0, c30); c31 = _mm256_fmadd_ps(ai, b1, c31);
        ai = _mm256_broadcast_ss(a + 4 * rsa); c40 = _mm256_fmadd_ps(ai, b0, c40); c41 = _mm256_fmadd_ps(ai, b1, c41);
        ai = _mm256_broadcast_ss(a + 5 * rsa); c50 = _mm256_fmadd_ps(ai, b0, c50); c51 = _mm256_fmadd_ps(ai, b1, c51);
        a += csa;
        b += 16;
    }
    if (mr == 6 && nr == 16 && csc == 1) {
#define TN_ROW(i, x0, x1)                                                              \
        {                                                                               \
            float *cr = c + (i) * rsc;                                                  \
            if (accumulate) {                                                           \
                x0 = _mm256_add_ps(x0, _mm256_loadu_ps(cr));                            \
                x1 = _mm256_add_ps(x1, _mm256_loadu_ps(cr + 8));                        \
            }                                                                           \
            _mm256_storeu_ps(cr, x0);                                                   \
            _mm256_storeu_ps(cr + 8, x1);                                               \
        }
        TN_ROW(0, c00, c01) TN_ROW(1, c10, c11) TN_ROW(2, c20, c21)
        TN_ROW(3, c30, c31) TN_ROW(4, c40, c41) TN_ROW(5, c50, c51)
#undef TN_ROW
        return;
    }
    float t[6 * 16] __attribute__((aligned(32)));
    _mm256_store_ps(t + 0, c00);  _mm256_store_ps(t + 8, c01);
    _mm256_store_ps(t + 16, c10); _mm256_store_ps(t + 24, c11);
    _mm256_store_ps(t + 32, c20); _mm256_store_ps(t + 40, c21);
    _mm256_store_ps(t + 48, c30); _mm256_store_ps(t + 56, c31);
    _mm256_store_ps(t + 64, c40); _mm256_store_ps(t + 72, c41);
    _mm256_store_ps(t + 80, c50); _mm256_store_ps(t + 88, c51);
    for (int i = 0; i < mr; i++) {
        float *row = c + i * rsc;
        for (int j = 0; j < nr; j++) row[j * csc] = accumulate ? row[j * csc] + t[i * 16 + j] : t[i * 16 + j];
    }
}

/* float64, 6 x 8: per step 2 loads of b, 6 broadcasts of a, 12 FMAs. */
TN_AVX2_FN static void tn_ukr_f64_avx2(tn_idx k, const double *a, tn_idx rsa, tn_idx csa, const double *b, double *c,
                                            tn_idx rsc, tn_idx csc, int accumulate, int mr, int nr) {
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
    __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
    __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
    for (int i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c + i * rsc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * rsc + (nr - 1) * csc), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (tn_idx p = 0; p < k; p++) {
        __m256d b0 = _mm256_load_pd(b), b1 = _mm256_load_pd(b + 4), ai;
        _mm_prefetch((const char *)(b + 64), _MM_HINT_T0);
        ai = _mm256_broadcast_sd(a); c00 = _mm256_fmadd_pd(ai, b0, c00); c01 = _mm256_fmadd_pd(ai, b1, c01);
        ai = _mm256_broadcast_sd(a + 1 * rsa); c10 = _mm256_fmadd_pd(ai, b0, c10); c11 = _mm256_fmadd_pd(ai, b1, c11);
        ai = _mm256_broadcast_sd(a + 2 * rsa); c20 = _mm256_fmadd_pd(ai, b0, c20); c21 = _mm256_fmadd_pd(ai, b1, c21);
        ai = _mm256_broadcast_sd(a + 3 * rsa); c30 = _mm256_fmadd_pd(ai, b0, c30); c31 = _mm256_fmadd_pd(ai, b1, c31);
        ai = _mm256_broadcast_sd(a + 4 * rsa); c40 = _mm256_fmadd_pd(ai, b0, c40); c41 = _mm256_fmadd_pd(ai, b1, c41);
        ai = _mm256_broadcast_sd(a + 5 * rsa); c50 = _mm256_fmadd_pd(ai, b0, c50); c51 = _mm256_fmadd_pd(ai, b1, c51);
        a += csa;
        b += 8;
    }
    if (mr == 6 && nr == 8 && csc == 1) {
#define TN_ROW(i, x0, x1)                                                              \
        {                                                                               \
            double *cr = c + (i) * rsc;                                                 \
            if (accumulate) {                                                           \
                x0 = _mm256_add_pd(x0, _mm256_loadu_pd(cr));                            \
                x1 = _mm256_add_pd(x1, _mm256_loadu_pd(cr + 4));                        \
            }                                                                           \
            _mm256_storeu_pd(cr, x0);                                                   \
            _mm256_storeu_pd(cr + 4, x1);                                               \
        }
        TN_ROW(0, c00, c01) TN_ROW(1, c10, c11) TN_ROW(2, c20, c21)
        TN_ROW(3, c30, c31) TN_ROW(4, c40, c41) TN_ROW(5, c50, c51)
#undef TN_ROW
        return;
    }
    double t[6 * 8] __attribute__((aligned(32)));
    _mm256_store_pd(t + 0, c00);  _mm256_store_pd(t + 4, c01);
    _mm256_store_pd(t + 8, c10);  _mm256_store_pd(t + 12, c11);
    _mm256_store_pd(t + 16, c20); _mm256_store_pd(t + 20, c21);
    _mm256_store_pd(t + 24, c30); _mm256_store_pd(t + 28, c31);
    _mm256_store_pd(t + 32, c40); _mm256_store_pd(t + 36, c41);
    _mm256_store_pd(t + 40, c50); _mm256_store_pd(t + 44, c51);
    for (int i = 0; i < mr; i++) {
        double *row = c + i * rsc;
        for (int j = 0; j < nr; j++) row[j * csc] = accumulate ? row[j * csc] + t[i * 8 + j] : t[i * 8 + j];
    }
}

/* Helpers of the direct (unpacked) small-GEMM tiles in gemm_direct.h. */
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

/* Rows p..p+3 of a 16-column sliver: bp[q * 16 + j] = w[j][p + q] (q < 4, j < 16), as four
 * 4 x 4 transpositions of 128-bit vectors (256-bit shuffles cost twice as much on CPUs that
 * split them in two, and this is bound by the stores anyway). */
TN_AVX2_INLINE void tn_nt_pack_f32(const float *const *w, tn_idx p, float *bp) {
    for (int j = 0; j < 16; j += 4) {
        __m128 r0 = _mm_loadu_ps(w[j] + p), r1 = _mm_loadu_ps(w[j + 1] + p);
        __m128 r2 = _mm_loadu_ps(w[j + 2] + p), r3 = _mm_loadu_ps(w[j + 3] + p);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_store_ps(bp + j, r0);
        _mm_store_ps(bp + 16 + j, r1);
        _mm_store_ps(bp + 32 + j, r2);
        _mm_store_ps(bp + 48 + j, r3);
    }
}

/* Rows p, p+1 of an 8-column sliver: bp[q * 8 + j] = w[j][p + q] (q < 2, j < 8). */
TN_AVX2_INLINE void tn_nt_pack_f64(const double *const *w, tn_idx p, double *bp) {
    for (int j = 0; j < 8; j += 2) {
        __m128d r0 = _mm_loadu_pd(w[j] + p), r1 = _mm_loadu_pd(w[j + 1] + p);
        _mm_store_pd(bp + j, _mm_unpacklo_pd(r0, r1));
        _mm_store_pd(bp + 8 + j, _mm_unpackhi_pd(r0, r1));
    }
}
#undef TN_AVX2_INLINE

#endif /* TN_HAVE_AVX2 */
