/* gemm/gemm_int8.h -- int8 x int8 -> int32 GEMM (included by gemm.h; uses its helpers).
 * The requantization epilogue and the quantization helpers are in quant/quant.h.
 *
 * Same skeleton as the float GEMM (gemm.h), with one twist: k is consumed in PAIRS.
 * Packing widens int8 to int16 and interleaves two consecutive k:
 *     Ap sliver: for each pair q, for each row i:    A[i, 2q], A[i, 2q+1]
 *     Bp sliver: for each pair q, for each column j: B[2q, j], B[2q+1, j]
 * so one _mm256_madd_epi16(broadcast(A[i, 2q..2q+1]), Bp[q, 8 columns]) gives 8 int32
 *     A[i,2q] B[2q,j] + A[i,2q+1] B[2q+1,j]
 * exactly (|each product| <= 128 * 128, the pair sum <= 32768 fits int32; _mm256_maddubs_epi16
 * is avoided because it saturates at int16).
 *
 * Speed: one madd does 16 multiply-adds, twice an fp32 FMA's 8, but where the vector integer
 * multiplier has a single pipe (measured here, AMD Zen 1: 0.5 ymm madd per cycle against 1 ymm
 * FMA) that only matches the float32 rate.  Splitting a tile between madd columns and float32
 * FMA columns (exact for KC <= 1024) was tried and was slower: the FMAs do not overlap the
 * madds on that core (6 madd+add: 12.1 cycles; + 3 FMA: 14.8; + 6 FMA: 19.1).  The sums are added into int32 accumulators,
 * which wrap on overflow like NumPy's int32 matmul (only possible for k > 131072).
 *
 * The write of C optionally runs the requantization epilogue
 *     y[i, j] = float(acc[i, j]) * (row_scale[i] * col_scale[j]) + bias[j]   (then relu)
 * into a float32 C that occupies the same memory as the int32 accumulator (both are 4
 * bytes): partial sums over KC blocks are kept as int32 in C, and the last block turns
 * each element into its float32 result in place.
 */

#define TN_I8_MR 6
#define TN_I8_NR 16
#define TN_I8_MC 96
#define TN_I8_KC 512     /* even, so that KC blocks never split a k pair */
#define TN_I8_NC 3072

#include "../quant/quant.h"

/* Pack A[0:mc, 0:kc] into TN_I8_MR-row slivers of int16 k pairs (zero padded). */
static void tn_pack_a_i8(tn_idx mc, tn_idx kc, const int8_t *a, tn_idx rsa, tn_idx csa, int16_t *ap) {
    tn_idx kp = (kc + 1) / 2;
    for (tn_idx ir = 0; ir < mc; ir += TN_I8_MR) {
        int mr = (int)tn_min(TN_I8_MR, mc - ir);
        for (int i = 0; i < TN_I8_MR; i++) {
            const int8_t *row = a + (ir + (i < mr ? i : 0)) * rsa;
            if (i >= mr) {
                for (tn_idx p = 0; p < 2 * kp; p++) ap[(p / 2 * TN_I8_MR + i) * 2 + (p & 1)] = 0;
            } else if (csa == 1) {
                for (tn_idx q = 0; q < kc / 2; q++) {
                    ap[(q * TN_I8_MR + i) * 2] = row[2 * q];
                    ap[(q * TN_I8_MR + i) * 2 + 1] = row[2 * q + 1];
                }
                if (kc & 1) { ap[((kp - 1) * TN_I8_MR + i) * 2] = row[kc - 1]; ap[((kp - 1) * TN_I8_MR + i) * 2 + 1] = 0; }
            } else {
                for (tn_idx p = 0; p < 2 * kp; p++)
                    ap[(p / 2 * TN_I8_MR + i) * 2 + (p & 1)] = p < kc ? row[p * csa] : 0;
            }
        }
        ap += (tn_idx)TN_I8_MR * 2 * kp;
    }
}

/* Pack B[0:kc, 0:nc] into TN_I8_NR-column slivers of int16 k pairs (zero padded). */
static void tn_pack_b_i8(tn_idx kc, tn_idx nc, const int8_t *b, tn_idx rsb, tn_idx csb, int16_t *bp) {
    tn_idx kp = (kc + 1) / 2;
    for (tn_idx jr = 0; jr < nc; jr += TN_I8_NR) {
        int nr = (int)tn_min(TN_I8_NR, nc - jr);
        const int8_t *src = b + jr * csb;
        if (nr == TN_I8_NR && csb == 1) {            /* row-major B: two rows of 16 bytes per pair */
            for (tn_idx q = 0; q < kp; q++) {
                const int8_t *r0 = src + 2 * q * rsb;
                const int8_t *r1 = r0 + rsb;
                int has1 = 2 * q + 1 < kc;
                for (int j = 0; j < TN_I8_NR; j++) {
                    bp[(q * TN_I8_NR + j) * 2] = r0[j];
                    bp[(q * TN_I8_NR + j) * 2 + 1] = has1 ? r1[j] : 0;
                }
            }
        } else {                                  /* any strides (column-major walks columns) */
            for (int j = 0; j < TN_I8_NR; j++) {
                const int8_t *col = src + j * csb;
                for (tn_idx p = 0; p < 2 * kp; p++)
                    bp[(p / 2 * TN_I8_NR + j) * 2 + (p & 1)] = (j < nr && p < kc) ? col[p * rsb] : 0;
            }
        }
        bp += (tn_idx)TN_I8_NR * 2 * kp;
    }
}

/* Portable micro-kernel: t (TN_I8_MR x TN_I8_NR, int32) = the packed slivers' product over kp pairs. */
static void tn_ukr_i8_portable(tn_idx kp, const int16_t *a, const int16_t *b, int32_t *t) {
    uint32_t acc[TN_I8_MR * TN_I8_NR];                  /* unsigned: wraps like int32 SIMD adds */
    for (int x = 0; x < TN_I8_MR * TN_I8_NR; x++) acc[x] = 0;
    for (tn_idx q = 0; q < kp; q++) {
        for (int i = 0; i < TN_I8_MR; i++) {
            int32_t a0 = a[(q * TN_I8_MR + i) * 2], a1 = a[(q * TN_I8_MR + i) * 2 + 1];
            for (int j = 0; j < TN_I8_NR; j++)
                acc[i * TN_I8_NR + j] += (uint32_t)(a0 * b[(q * TN_I8_NR + j) * 2] + a1 * b[(q * TN_I8_NR + j) * 2 + 1]);
        }
    }
    for (int x = 0; x < TN_I8_MR * TN_I8_NR; x++) t[x] = (int32_t)acc[x];
}

#if TN_HAVE_AVX2
/* AVX2 micro-kernel, 6 x 16 int32: per k pair 2 loads of b, 6 broadcasts, 12 madd + 12 add. */
TN_AVX2_FN static void tn_ukr_i8_avx2(tn_idx kp, const int16_t *a, const int16_t *b, int32_t *t) {
    __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
    __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
    __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
    __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
    __m256i c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256();
    __m256i c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (tn_idx q = 0; q < kp; q++) {
        __m256i b0 = _mm256_load_si256((const __m256i *)b);
        __m256i b1 = _mm256_load_si256((const __m256i *)(b + 16));
        __m256i ai;
        int32_t pair;
#define TN_I8_ROW(i, x0, x1)                                                           \
        memcpy(&pair, a + 2 * (i), 4);                                                  \
        ai = _mm256_set1_epi32(pair);                                                   \
        x0 = _mm256_add_epi32(x0, _mm256_madd_epi16(ai, b0));                           \
        x1 = _mm256_add_epi32(x1, _mm256_madd_epi16(ai, b1));
        TN_I8_ROW(0, c00, c01) TN_I8_ROW(1, c10, c11) TN_I8_ROW(2, c20, c21)
        TN_I8_ROW(3, c30, c31) TN_I8_ROW(4, c40, c41) TN_I8_ROW(5, c50, c51)
#undef TN_I8_ROW
        a += 2 * TN_I8_MR;
        b += 2 * TN_I8_NR;
    }
    __m256i *o = (__m256i *)t;
    _mm256_storeu_si256(o + 0, c00);  _mm256_storeu_si256(o + 1, c01);
    _mm256_storeu_si256(o + 2, c10);  _mm256_storeu_si256(o + 3, c11);
    _mm256_storeu_si256(o + 4, c20);  _mm256_storeu_si256(o + 5, c21);
    _mm256_storeu_si256(o + 6, c30);  _mm256_storeu_si256(o + 7, c31);
    _mm256_storeu_si256(o + 8, c40);  _mm256_storeu_si256(o + 9, c41);
    _mm256_storeu_si256(o + 10, c50); _mm256_storeu_si256(o + 11, c51);
}
#endif

/* Write the valid mr x nr part of tile t into C (int32; += if accumulate), or, when rq is
 * given (last KC block), the requantized float32 result into the same memory.
 * i0, j0: the tile's row and column in the whole problem (for the scales and bias). */
static void tn_write_i8(const int32_t *t, int mr, int nr, int32_t *c, tn_idx rsc, tn_idx csc,
                         int accumulate, const tn_requant *rq, tn_idx i0, tn_idx j0) {
    int32_t sum[TN_I8_NR];
    float y[TN_I8_NR];
    for (int i = 0; i < mr; i++) {
        int32_t *row = c + i * rsc;
        const int32_t *ti = t + i * TN_I8_NR;
        if (accumulate) {
            for (int j = 0; j < nr; j++) sum[j] = (int32_t)((uint32_t)ti[j] + (uint32_t)row[j * csc]);
            ti = sum;
        }
        if (rq) {
            tn_requant_row(nr, ti, rq->row_scale[i0 + i], rq->col_scale + j0,
                            rq->bias ? rq->bias + j0 : NULL, rq->relu, y);
            if (csc == 1) memcpy(row, y, sizeof(float) * (size_t)nr);
            else for (int j = 0; j < nr; j++) memcpy(row + j * csc, y + j, 4);
        } else {
            for (int j = 0; j < nr; j++) row[j * csc] = ti[j];
        }
    }
}

/* Serial int8 GEMM on one block; i0, j0: the block's origin in the whole problem. */
static int tn_gemm_i8_serial(tn_idx m, tn_idx n, tn_idx k,
                              const int8_t *a, tn_idx rsa, tn_idx csa,
                              const int8_t *b, tn_idx rsb, tn_idx csb,
                              int32_t *c, tn_idx rsc, tn_idx csc,
                              const tn_requant *rq, tn_idx i0, tn_idx j0) {
    void (*ukr)(tn_idx, const int16_t *, const int16_t *, int32_t *);
    TN_DISPATCH(ukr = tn_ukr_i8_avx2, ukr = tn_ukr_i8_portable)
    tn_idx kc_max = tn_min(TN_I8_KC, k) + 1;
    tn_idx mc_max = tn_ceil_div(tn_min(TN_I8_MC, m), TN_I8_MR) * TN_I8_MR;
    tn_idx nc_max = tn_ceil_div(tn_min(TN_I8_NC, n), TN_I8_NR) * TN_I8_NR;
    int16_t *ap = (int16_t *)tn_alloc(sizeof(int16_t) * mc_max * kc_max);
    int16_t *bp = (int16_t *)tn_alloc(sizeof(int16_t) * nc_max * kc_max);
    if (ap == NULL || bp == NULL) { free(ap); free(bp); return -1; }
    int32_t t[TN_I8_MR * TN_I8_NR] __attribute__((aligned(32)));

    for (tn_idx jc = 0; jc < n; jc += TN_I8_NC) {
        tn_idx nc = tn_min(TN_I8_NC, n - jc);
        for (tn_idx pc = 0; pc < k; pc += TN_I8_KC) {
            tn_idx kc = tn_min(TN_I8_KC, k - pc), kp = (kc + 1) / 2;
            int first = pc == 0, last = pc + kc >= k;
            tn_pack_b_i8(kc, nc, b + pc * rsb + jc * csb, rsb, csb, bp);
            for (tn_idx ic = 0; ic < m; ic += TN_I8_MC) {
                tn_idx mc = tn_min(TN_I8_MC, m - ic);
                tn_pack_a_i8(mc, kc, a + ic * rsa + pc * csa, rsa, csa, ap);
                for (tn_idx jr = 0; jr < nc; jr += TN_I8_NR) {
                    int nr = (int)tn_min(TN_I8_NR, nc - jr);
                    for (tn_idx ir = 0; ir < mc; ir += TN_I8_MR) {
                        int mr = (int)tn_min(TN_I8_MR, mc - ir);
                        ukr(kp, ap + ir * 2 * kp, bp + jr * 2 * kp, t);
                        tn_write_i8(t, mr, nr, c + (ic + ir) * rsc + (jc + jr) * csc, rsc, csc, !first,
                                     last ? rq : NULL, i0 + ic + ir, j0 + jc + jr);
                    }
                }
            }
        }
    }
    free(ap);
    free(bp);
    return 0;
}

/* C = A B with int8 A (m x k), B (k x n) and int32 C; with rq, C is float32 and receives
 * the requantized result instead.  Returns 0, or -1 if memory ran out. */
static int tn_gemm_i8(tn_idx m, tn_idx n, tn_idx k,
                       const int8_t *a, tn_idx rsa, tn_idx csa,
                       const int8_t *b, tn_idx rsb, tn_idx csb,
                       int32_t *c, tn_idx rsc, tn_idx csc, const tn_requant *rq, int nt) {
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {
        int32_t zero[TN_I8_MR * TN_I8_NR] = {0};
        for (tn_idx i = 0; i < m; i += TN_I8_MR)
            for (tn_idx j = 0; j < n; j += TN_I8_NR)
                tn_write_i8(zero, (int)tn_min(TN_I8_MR, m - i), (int)tn_min(TN_I8_NR, n - j),
                             c + i * rsc + j * csc, rsc, csc, 0, rq, i, j);
        return 0;
    }
    nt = tn_gemm_threads(m, n, k, nt);
    if (nt <= 1) return tn_gemm_i8_serial(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, rq, 0, 0);
    TN_GEMM_GRID(TN_I8_MR, TN_I8_NR, nt,
                 tn_gemm_i8_serial(i1 - i0, j1 - j0, k, a + i0 * rsa, rsa, csa, b + j0 * csb, rsb, csb,
                                   c + i0 * rsc + j0 * csc, rsc, csc, rq, i0, j0))
}
