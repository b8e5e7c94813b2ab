/* gemm/gemm_ukr.h -- TEMPLATE: the vector micro-kernel of the float GEMM, one text for every
 * width, included by gemm_real.h once per (type, width): float32 6 x 16 and float64 6 x 8 on
 * AVX2 (ymm), float32 12 x 32 and float64 12 x 16 on AVX-512 (zmm).  The includer (gemm.h)
 * defines T, MR, NR = 2 VW, UKR_ATTR (TN_AVX2_FN or TN_AVX512_FN), UKR_ROWS(X) (X(0) ... X(MR-1))
 * and the vector macros VEC, VLOAD, VBCAST, VFMA, ...
 *
 * It computes, from a sliver of A (MR rows, element (i, p) at a[i rsa + p csa]: packed,
 * rsa = 1 and csa = MR; or read in place from a row-major A) and a sliver of B (k x NR, row p
 * at b + p rsb: packed, rsb = NR; or read in place from a row-major B),
 *     acc (MR x NR) = sum_p a[p, :]^T b[p, :]          (k rank-1 updates)
 * with the accumulator in registers (two vectors per row; the arrays are only ever indexed
 * by constants, every row loop written out by UKR_ROWS, so GCC keeps them in registers), then
 * writes acc to C (accumulate == 0) or adds it (accumulate == 1).  Full tiles with unit
 * column stride are written with vector loads/stores; edge tiles (mr < MR or nr < NR) and
 * strided C go through a small buffer, so only the valid mr x nr part of C is touched.
 * Per step: 2 loads of b, MR broadcasts of a, 2 MR FMAs.  Every element is the FMA chain
 * acc = fma(a_ip, b_pj, acc), p = 0..k-1, whatever the width: the same bits on AVX2 and AVX-512.
 *
 * The body is inlined six times with constants: rows = MR, 2 MR / 3 or MR / 2 for a sliver of
 * at most that many rows (the last one of an m that is not a multiple of MR: 64 rows are 5 x 12
 * + 4, and a 4-row sliver on the 6-row body wastes a third of the work instead of two thirds; the
 * 8 rows of a convolution with 8 output channels fill the 8-row body, not two thirds of the 12),
 * and rsa = 1 (packed A: every broadcast at a constant offset, no address registers) or any.
 */
UKR_ATTR static __attribute__((always_inline)) inline void FN(tn_ukr_body)(
        const int rows, tn_idx k, const T *a, const tn_idx rsa, tn_idx csa, const T *b, tn_idx rsb, T *c,
        tn_idx rsc, tn_idx csc, int accumulate, int mr, int nr) {
    VEC c0[MR], c1[MR], ai;
#define TN_U_ZERO(i) if ((i) < rows) { c0[i] = VZERO(); c1[i] = VZERO(); }
#define TN_U_FMA(i)                                                                     \
    if ((i) < rows) { ai = VBCAST(a + (i) * rsa); c0[i] = VFMA(ai, b0, c0[i]); c1[i] = VFMA(ai, b1, c1[i]); }
#define TN_U_ROW(i)                                                                     \
    if ((i) < rows) {                                                                   \
        T *cr = c + (i) * rsc;                                                          \
        if (accumulate) {                                                               \
            c0[i] = VADD(c0[i], VLOADU(cr));                                            \
            c1[i] = VADD(c1[i], VLOADU(cr + VW));                                       \
        }                                                                               \
        VSTOREU(cr, c0[i]);                                                             \
        VSTOREU(cr + VW, c1[i]);                                                        \
    }
#define TN_U_SAVE(i) if ((i) < rows) { VSTORE(t + (i) * NR, c0[i]); VSTORE(t + (i) * NR + VW, c1[i]); }
    UKR_ROWS(TN_U_ZERO)
    for (int i = 0; i < mr; i++) {               /* the C tile is needed at the end: fetch it now */
        _mm_prefetch((const char *)(c + i * rsc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * rsc + (nr - 1) * csc), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (tn_idx p = 0; p < k; p++) {
        VEC b0 = VLOADU(b), b1 = VLOADU(b + VW);
        for (int l = 0; l < (int)(NR * sizeof(T)); l += 64)      /* 8 steps ahead, every cache line */
            _mm_prefetch((const char *)(b + 8 * rsb) + l, _MM_HINT_T0);
        UKR_ROWS(TN_U_FMA)
        a += csa;
        b += rsb;
    }
    if (mr == rows && nr == NR && csc == 1) {
        UKR_ROWS(TN_U_ROW)
        return;
    }
    T t[MR * NR] __attribute__((aligned(64)));
    UKR_ROWS(TN_U_SAVE)
    for (int i = 0; i < mr; i++) {
        T *row = c + i * rsc;
        for (int j = 0; j < nr; j++) row[j * csc] = accumulate ? row[j * csc] + t[i * NR + j] : t[i * NR + j];
    }
#undef TN_U_ZERO
#undef TN_U_FMA
#undef TN_U_ROW
#undef TN_U_SAVE
}

UKR_ATTR static void FN(tn_ukr_vec)(tn_idx k, const T *a, tn_idx rsa, tn_idx csa, const T *b, tn_idx rsb, T *c,
                                    tn_idx rsc, tn_idx csc, int accumulate, int mr, int nr) {
    if (mr > 2 * MR / 3) {
        if (rsa == 1) FN(tn_ukr_body)(MR, k, a, 1, csa, b, rsb, c, rsc, csc, accumulate, mr, nr);
        else FN(tn_ukr_body)(MR, k, a, rsa, csa, b, rsb, c, rsc, csc, accumulate, mr, nr);
    } else if (mr > MR / 2) {
        if (rsa == 1) FN(tn_ukr_body)(2 * MR / 3, k, a, 1, csa, b, rsb, c, rsc, csc, accumulate, mr, nr);
        else FN(tn_ukr_body)(2 * MR / 3, k, a, rsa, csa, b, rsb, c, rsc, csc, accumulate, mr, nr);
    } else {
        if (rsa == 1) FN(tn_ukr_body)(MR / 2, k, a, 1, csa, b, rsb, c, rsc, csc, accumulate, mr, nr);
        else FN(tn_ukr_body)(MR / 2, k, a, rsa, csa, b, rsb, c, rsc, csc, accumulate, mr, nr);
    }
}
