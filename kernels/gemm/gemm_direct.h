/* gemm/gemm_direct.h -- TEMPLATE: small float GEMMs without packing or scratch memory.
 * Included by gemm_real.h (once per type, after its epilogue), with T, S, FN, MR, NR, KC
 * defined there and the vector macros of the AVX2 path defined in gemm.h:
 *   VEC (the ymm type), VW (lanes), VLOADU / VSTOREU / VSTORE / VZERO / VBCAST / VFMA,
 *   VMASK(cnt) (lanes < cnt on), VMASKLOAD(p, mask), VSET_COLS(w, p) (lanes j = w[j][p]),
 *   NT_P and ROWS_PACK(w, runs, p, bp, ld) (values p..p+NT_P-1 of each run w[j], transposed).
 *
 * Why: for a small product (the batch-4 layers of a small MLP) the blocked path costs far
 * more than the arithmetic: two malloc/free pairs, packing all of B (a transposition for
 * x W^T), and 6-row tiles when A has 4 rows.  Here each C tile's accumulators are built
 * straight from A and B in memory:
 *
 *   NN (B row-major, csb == 1): B's row p, NR wide, is loaded as is (masked at the edge);
 *   NT (B column-major, rsb == 1, i.e. B = W^T of a row-major W): VW columns of B are read
 *       as VW rows of W, NT_P values each, and transposed in registers.
 *
 * Same arithmetic, same order: element C_ij is acc = 0; acc = fma(a_ip, b_pj, acc) for
 * p = 0..k-1, then the same epilogue -- exactly what the blocked path computes when k fits
 * in one KC block (the only case sent here), so results are bit-for-bit identical whichever
 * path runs.  The portable direct loop (acc += a_ip b_pj) matches the portable micro-kernel
 * the same way.  Everything is read inside A and B and written inside C only.
 */

/* Portable: one element at a time (used for tiny products and when AVX2 does not apply). */
static void FN(tn_gemm_direct_portable)(tn_idx m, tn_idx n, tn_idx k,
                                         const T *a, tn_idx rsa, tn_idx csa,
                                         const T *b, tn_idx rsb, tn_idx csb,
                                         T *c, tn_idx rsc, tn_idx csc, const T *bias, int act) {
    for (tn_idx i = 0; i < m; i++)
        for (tn_idx j = 0; j < n; j++) {
            T acc = 0;
            for (tn_idx p = 0; p < k; p++) acc += a[i * rsa + p * csa] * b[p * rsb + j * csb];
            c[i * rsc + j * csc] = acc;
        }
    FN(tn_epilogue)(c, rsc, csc, m, n, bias, act);
}

#if TN_HAVE_AVX2
#define DNR (2 * VW)       /* tile width: two vectors */
#define DMR_NN 6           /* tile height, NN: 12 accumulators + 2 B vectors + 1 broadcast */
#define TN_AI __attribute__((always_inline)) inline

/* Every loop over the rows of a tile is written out (TN_ROWS: rows 0..5, each guarded by
 * `i < mr` with mr a constant), so the accumulator arrays are only ever indexed by constants
 * and live in registers (a loop would make GCC keep them in memory). */
#define TN_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

/* Write an mr x nr accumulator tile (row i in acc0[i], acc1[i]) to C, then the epilogue. */
#define TN_DSTORE(mr, nr)                                                                  \
    if (nr == DNR && csc == 1) {                                                            \
        TN_ROWS(TN_DSTORE_FULL)                                                           \
    } else {                                                                                \
        T t[DNR] __attribute__((aligned(32)));                                              \
        TN_ROWS(TN_DSTORE_EDGE)                                                           \
    }                                                                                       \
    FN(tn_epilogue)(c, rsc, csc, mr, nr, bias, act);
#define TN_DSTORE_FULL(i)                                                                  \
    if (i < mr) { VSTOREU(c + i * rsc, acc0[i]); VSTOREU(c + i * rsc + VW, acc1[i]); }
#define TN_DSTORE_EDGE(i)                                                                  \
    if (i < mr) {                                                                           \
        VSTORE(t, acc0[i]);                                                                 \
        VSTORE(t + VW, acc1[i]);                                                            \
        for (int j = 0; j < nr; j++) c[i * rsc + j * csc] = t[j];                           \
    }
#define TN_DZERO(i) if (i < mr) { acc0[i] = VZERO(); acc1[i] = VZERO(); }
/* rank-1 update of row i with B(p, 0:DNR) in b0, b1 */
#define TN_DFMA(i)                                                                         \
    if (i < mr) {                                                                           \
        VEC ai = VBCAST(ap + i * rsa);                                                      \
        acc0[i] = VFMA(ai, b0, acc0[i]);                                                    \
        acc1[i] = VFMA(ai, b1, acc1[i]);                                                    \
    }

/* One NN tile: C[0:mr, 0:nr] = A[0:mr, :] B[:, 0:nr], B rows contiguous (mr a constant). */
TN_AVX2_FN static TN_AI void FN(tn_dnn_tile)(const int mr, int nr, tn_idx k,
                                                   const T *a, tn_idx rsa, tn_idx csa, const T *b, tn_idx rsb,
                                                   T *c, tn_idx rsc, tn_idx csc, const T *bias, int act) {
    VEC acc0[6], acc1[6];
    TN_ROWS(TN_DZERO)
    if (nr == DNR) {
        for (tn_idx p = 0; p < k; p++) {
            const T *ap = a + p * csa, *bp = b + p * rsb;
            VEC b0 = VLOADU(bp), b1 = VLOADU(bp + VW);
            TN_ROWS(TN_DFMA)
        }
    } else {                                   /* edge: lanes past nr are neither read nor kept */
        __m256i m0 = VMASK(nr), m1 = VMASK(nr - VW);
        for (tn_idx p = 0; p < k; p++) {
            const T *ap = a + p * csa, *bp = b + p * rsb;
            VEC b0 = VMASKLOAD(bp, m0), b1 = VMASKLOAD(bp + VW, m1);
            TN_ROWS(TN_DFMA)
        }
    }
    TN_DSTORE(mr, nr)
}

/* A tile of any 1..6 rows: each case hands the tile a constant mr, so every row count gets
 * its own fully unrolled copy of the inlined tile. */
TN_AVX2_FN static TN_AI void FN(tn_dnn_tile_rows)(int mr, int nr, tn_idx k,
                                                        const T *a, tn_idx rsa, tn_idx csa, const T *b, tn_idx rsb,
                                                        T *c, tn_idx rsc, tn_idx csc, const T *bias, int act) {
    switch (mr) {
    case 6: FN(tn_dnn_tile)(6, nr, k, a, rsa, csa, b, rsb, c, rsc, csc, bias, act); break;
    case 5: FN(tn_dnn_tile)(5, nr, k, a, rsa, csa, b, rsb, c, rsc, csc, bias, act); break;
    case 4: FN(tn_dnn_tile)(4, nr, k, a, rsa, csa, b, rsb, c, rsc, csc, bias, act); break;
    case 3: FN(tn_dnn_tile)(3, nr, k, a, rsa, csa, b, rsb, c, rsc, csc, bias, act); break;
    case 2: FN(tn_dnn_tile)(2, nr, k, a, rsa, csa, b, rsb, c, rsc, csc, bias, act); break;
    default: FN(tn_dnn_tile)(1, nr, k, a, rsa, csa, b, rsb, c, rsc, csc, bias, act); break;
    }
}

/* B(0:k, 0:nr) of a column-major B (B(p, j) = b[j csb + p]) copied row-major into bp
 * (k x DNR, row stride DNR), VW columns x NT_P rows at a time through an in-register
 * transposition.  w[j] points at column j; columns past nr repeat the last valid one
 * (read, computed, never stored). */
TN_AVX2_FN static void FN(tn_dpack_nt)(int nr, tn_idx k, const T *b, tn_idx csb, T *bp) {
    const T *w[DNR];
    for (int j = 0; j < DNR; j++) w[j] = b + (j < nr ? j : nr - 1) * csb;
    tn_idx p = 0;
    for (; p + NT_P <= k; p += NT_P) ROWS_PACK(w, DNR, p, bp + p * DNR, DNR);
    for (; p < k; p++)
        for (int h = 0; h < DNR; h += VW) VSTORE(bp + p * DNR + h, VSET_COLS(w + h, p));
}

#undef TN_ROWS
#undef TN_DSTORE
#undef TN_DSTORE_FULL
#undef TN_DSTORE_EDGE
#undef TN_DZERO
#undef TN_DFMA

/* Rows split into equal-as-possible tiles of at most tile_max (7 rows: 4 + 3, not 6 + 1). */
static inline tn_idx FN(tn_dtile_rows)(tn_idx m, int tile_max) {
    tn_idx tiles = tn_ceil_div(m, tile_max);
    return tn_ceil_div(m, tiles);
}

/* C = act(A B + bias) with B row-major (csb == 1). */
TN_AVX2_FN static void FN(tn_gemm_direct_nn)(tn_idx m, tn_idx n, tn_idx k,
                                                  const T *a, tn_idx rsa, tn_idx csa, const T *b, tn_idx rsb,
                                                  T *c, tn_idx rsc, tn_idx csc, const T *bias, int act) {
    tn_idx rows = FN(tn_dtile_rows)(m, DMR_NN);
    for (tn_idx i = 0; i < m; i += rows) {
        int mr = (int)tn_min(rows, m - i);
        for (tn_idx j = 0; j < n; j += DNR) {
            int nr = (int)tn_min(DNR, n - j);
            const T *ai = a + i * rsa, *bj = b + j, *bb = bias ? bias + j : NULL;
            T *cij = c + i * rsc + j * csc;
            FN(tn_dnn_tile_rows)(mr, nr, k, ai, rsa, csa, bj, rsb, cij, rsc, csc, bb, act);
        }
    }
}

/* C = act(A B + bias) with B column-major (rsb == 1), e.g. x W^T: each DNR-column sliver of
 * B is transposed once into a buffer on the stack (KC x DNR values), then the NN tiles run
 * on it. */
TN_AVX2_FN static void FN(tn_gemm_direct_nt)(tn_idx m, tn_idx n, tn_idx k,
                                                  const T *a, tn_idx rsa, tn_idx csa, const T *b, tn_idx csb,
                                                  T *c, tn_idx rsc, tn_idx csc, const T *bias, int act) {
    T bp[KC * DNR] __attribute__((aligned(32)));
    tn_idx rows = FN(tn_dtile_rows)(m, DMR_NN);
    for (tn_idx j = 0; j < n; j += DNR) {
        int nr = (int)tn_min(DNR, n - j);
        const T *bb = bias ? bias + j : NULL;
        FN(tn_dpack_nt)(nr, k, b + j * csb, csb, bp);
        for (tn_idx i = 0; i < m; i += rows) {
            int mr = (int)tn_min(rows, m - i);
            const T *ai = a + i * rsa;
            T *cij = c + i * rsc + j * csc;
            FN(tn_dnn_tile_rows)(mr, nr, k, ai, rsa, csa, bp, DNR, cij, rsc, csc, bb, act);
        }
    }
}

#undef DNR
#undef DMR_NN
#undef TN_AI
#endif /* TN_HAVE_AVX2 */

#if TN_HAVE_AVX2
/* The AVX2 direct path for B row-major or column-major; 0 (not run) for other strides, since
 * the portable loop rounds a b and + apart: not what the FMA path gives. */
TN_AVX2_FN static int FN(tn_gemm_direct_avx2)(tn_idx m, tn_idx n, tn_idx k,
                                              const T *a, tn_idx rsa, tn_idx csa,
                                              const T *b, tn_idx rsb, tn_idx csb,
                                              T *c, tn_idx rsc, tn_idx csc, const T *bias, int act) {
    if (csb == 1) FN(tn_gemm_direct_nn)(m, n, k, a, rsa, csa, b, rsb, c, rsc, csc, bias, act);
    else if (rsb == 1) FN(tn_gemm_direct_nt)(m, n, k, a, rsa, csa, b, csb, c, rsc, csc, bias, act);
    else return 0;
    return 1;
}
#endif

/* The portable direct path, for tiny products only (the packed micro-kernel is faster beyond). */
static int FN(tn_gemm_direct_portable_try)(tn_idx m, tn_idx n, tn_idx k,
                                           const T *a, tn_idx rsa, tn_idx csa,
                                           const T *b, tn_idx rsb, tn_idx csb,
                                           T *c, tn_idx rsc, tn_idx csc, const T *bias, int act) {
    if ((long long)m * n * k > TN_GEMM_DIRECT_PORTABLE_MAX) return 0;
    FN(tn_gemm_direct_portable)(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act);
    return 1;
}

/* Run C = act(A B + bias) here if the product is small enough (k in one KC block and few
 * multiply-adds); returns 1 if it did, 0 if the blocked path must run. */
static int FN(tn_gemm_direct)(tn_idx m, tn_idx n, tn_idx k,
                              const T *a, tn_idx rsa, tn_idx csa,
                              const T *b, tn_idx rsb, tn_idx csb,
                              T *c, tn_idx rsc, tn_idx csc, const T *bias, int act) {
    if (k > KC || (long long)m * n * k > tn_gemm_direct_max) return 0;
    TN_DISPATCH(return FN(tn_gemm_direct_avx2)(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act),
                return FN(tn_gemm_direct_portable_try)(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act))
}
