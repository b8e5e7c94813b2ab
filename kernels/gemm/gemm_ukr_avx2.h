/* gemm/gemm_ukr_avx2.h -- TEMPLATE: the AVX2+FMA micro-kernel of the float GEMM, included by
 * gemm_real.h once per type (T, MR = 6, NR = 2 VW and the vector macros VEC, VLOAD, VFMA, ...
 * of gemm.h), so float32 (6 x 16) and float64 (6 x 8) run one text.
 *
 * It computes, from a sliver of A (MR rows, element (i, p) at a[i rsa + p csa]: packed,
 * rsa = 1 and csa = MR; or read in place from a row-major A) and a packed sliver b (k x NR),
 *     acc (MR x NR) = sum_p a[p, :]^T b[p, :]          (k rank-1 updates)
 * with the accumulator in named ymm registers (an array of vectors would spill), then
 * writes acc to C (accumulate == 0) or adds it (accumulate == 1).  Full tiles with unit
 * column stride are written with vector loads/stores; edge tiles (mr < MR or nr < NR) and
 * strided C go through a small buffer, so only the valid mr x nr part of C is touched.
 * Per step: 2 loads of b, 6 broadcasts of a, 12 FMAs.
 */
#if TN_HAVE_AVX2
TN_AVX2_FN static void FN(tn_ukr_avx2)(tn_idx k, const T *a, tn_idx rsa, tn_idx csa, const T *b, T *c,
                                      tn_idx rsc, tn_idx csc, int accumulate, int mr, int nr) {
    VEC c00 = VZERO(), c01 = VZERO(), c10 = VZERO(), c11 = VZERO(), c20 = VZERO(), c21 = VZERO();
    VEC c30 = VZERO(), c31 = VZERO(), c40 = VZERO(), c41 = VZERO(), c50 = VZERO(), c51 = VZERO();
    for (int i = 0; i < mr; i++) {               /* the C tile is needed at the end: fetch it now */
        _mm_prefetch((const char *)(c + i * rsc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * rsc + (nr - 1) * csc), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (tn_idx p = 0; p < k; p++) {
        VEC b0 = VLOAD(b), b1 = VLOAD(b + VW), ai;
        _mm_prefetch((const char *)(b + 8 * NR), _MM_HINT_T0);   /* 8 steps (512 bytes) ahead */
        ai = VBCAST(a); c00 = VFMA(ai, b0, c00); c01 = VFMA(ai, b1, c01);
        ai = VBCAST(a + 1 * rsa); c10 = VFMA(ai, b0, c10); c11 = VFMA(ai, b1, c11);
        ai = VBCAST(a + 2 * rsa); c20 = VFMA(ai, b0, c20); c21 = VFMA(ai, b1, c21);
        ai = VBCAST(a + 3 * rsa); c30 = VFMA(ai, b0, c30); c31 = VFMA(ai, b1, c31);
        ai = VBCAST(a + 4 * rsa); c40 = VFMA(ai, b0, c40); c41 = VFMA(ai, b1, c41);
        ai = VBCAST(a + 5 * rsa); c50 = VFMA(ai, b0, c50); c51 = VFMA(ai, b1, c51);
        a += csa;
        b += NR;
    }
    if (mr == MR && nr == NR && csc == 1) {
#define TN_ROW(i, x0, x1)                                                               \
        {                                                                               \
            T *cr = c + (i) * rsc;                                                      \
            if (accumulate) {                                                           \
                x0 = VADD(x0, VLOADU(cr));                                              \
                x1 = VADD(x1, VLOADU(cr + VW));                                         \
            }                                                                           \
            VSTOREU(cr, x0);                                                            \
            VSTOREU(cr + VW, x1);                                                       \
        }
        TN_ROW(0, c00, c01) TN_ROW(1, c10, c11) TN_ROW(2, c20, c21)
        TN_ROW(3, c30, c31) TN_ROW(4, c40, c41) TN_ROW(5, c50, c51)
#undef TN_ROW
        return;
    }
    T t[MR * NR] __attribute__((aligned(32)));
    VSTORE(t + 0 * NR, c00); VSTORE(t + 0 * NR + VW, c01);
    VSTORE(t + 1 * NR, c10); VSTORE(t + 1 * NR + VW, c11);
    VSTORE(t + 2 * NR, c20); VSTORE(t + 2 * NR + VW, c21);
    VSTORE(t + 3 * NR, c30); VSTORE(t + 3 * NR + VW, c31);
    VSTORE(t + 4 * NR, c40); VSTORE(t + 4 * NR + VW, c41);
    VSTORE(t + 5 * NR, c50); VSTORE(t + 5 * NR + VW, c51);
    for (int i = 0; i < mr; i++) {
        T *row = c + i * rsc;
        for (int j = 0; j < nr; j++) row[j * csc] = accumulate ? row[j * csc] + t[i * NR + j] : t[i * NR + j];
    }
}
#endif
