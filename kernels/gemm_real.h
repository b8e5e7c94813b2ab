/* gemm_real.h -- TEMPLATE for the float GEMM, included by gemm.h once per type.
 *
 * The includer defines T (element type), S (name suffix: f32 / f64), MR, NR (register
 * tile), MC, KC, NC (cache blocks), EXP, TANH (libm functions for T) and UKR_AVX2 (the
 * AVX2 micro-kernel for T, from gemm_avx2.h), plus the vector macros of the direct
 * small-GEMM path (VEC, VW, VLOADU, ...: see gemm_direct.h, included from here).  Every
 * function name gets the suffix S, e.g. tnn_gemm_f32.  All of these macros are #undef'd
 * at the end.
 *
 * Public entry points:
 *   int tnn_gemm_S(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act, nt)
 *     C = act(A B + bias)   (bias: NULL or n contiguous values, one per column of C)
 *     returns 0, or -1 if scratch memory could not be allocated.
 *   void tnn_colsum_S(m, n, x, rs, cs, out)   out_j = sum_i X_ij (rows in order)
 */
#define TNN_CAT_(a, b) a##_##b
#define TNN_CAT(a, b) TNN_CAT_(a, b)
#define FN(name) TNN_CAT(name, S)

/* Pack the mc x kc block A[0:mc, 0:kc] into MR-row slivers: sliver s holds, for each
 * p in 0..kc, the MR values A[s MR + i, p] (i = 0..MR-1) one after the other; rows past
 * mc are zero. */
static void FN(tnn_pack_a)(tnn_idx mc, tnn_idx kc, const T *a, tnn_idx rsa, tnn_idx csa, T *ap) {
    for (tnn_idx ir = 0; ir < mc; ir += MR) {
        int mr = (int)tnn_min(MR, mc - ir);
        const T *src = a + ir * rsa;
        if (mr == MR && rsa == 1) {               /* column-major A: MR contiguous values per p */
            for (tnn_idx p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++) ap[p * MR + i] = src[p * csa + i];
        } else if (csa == 1) {                    /* row-major A: walk each row contiguously */
            for (int i = 0; i < mr; i++) {
                const T *row = src + i * rsa;
                for (tnn_idx p = 0; p < kc; p++) ap[p * MR + i] = row[p];
            }
            for (int i = mr; i < MR; i++)
                for (tnn_idx p = 0; p < kc; p++) ap[p * MR + i] = 0;
        } else {                                  /* any strides */
            for (tnn_idx p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++) ap[p * MR + i] = i < mr ? src[i * rsa + p * csa] : 0;
        }
        ap += (tnn_idx)MR * kc;
    }
}

/* Pack the kc x nc panel B[0:kc, 0:nc] into NR-column slivers: sliver s holds, for each
 * p in 0..kc, the NR values B[p, s NR + j] (j = 0..NR-1); columns past nc are zero. */
static void FN(tnn_pack_b)(tnn_idx kc, tnn_idx nc, const T *b, tnn_idx rsb, tnn_idx csb, T *bp) {
    for (tnn_idx jr = 0; jr < nc; jr += NR) {
        int nr = (int)tnn_min(NR, nc - jr);
        const T *src = b + jr * csb;
        if (nr == NR && csb == 1) {               /* row-major B: one wide copy per p */
            for (tnn_idx p = 0; p < kc; p++) memcpy(bp + p * NR, src + p * rsb, NR * sizeof(T));
        } else if (rsb == 1) {                    /* column-major B (e.g. W^T): walk columns */
            for (int j = 0; j < nr; j++) {
                const T *col = src + j * csb;
                for (tnn_idx p = 0; p < kc; p++) bp[p * NR + j] = col[p];
            }
            for (int j = nr; j < NR; j++)
                for (tnn_idx p = 0; p < kc; p++) bp[p * NR + j] = 0;
        } else {                                  /* any strides */
            for (tnn_idx p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++) bp[p * NR + j] = j < nr ? src[p * rsb + j * csb] : 0;
        }
        bp += (tnn_idx)NR * kc;
    }
}

/* Portable micro-kernel: acc (MR x NR) = sum_p a[:, p] b[p, :], with a(i, p) = a[i rsa + p csa]
 * (packed: rsa = 1, csa = MR) and b a packed sliver,
 * then C[0:mr, 0:nr] = acc (accumulate == 0) or C += acc. */
static void FN(tnn_ukr_portable)(tnn_idx k, const T *a, tnn_idx rsa, tnn_idx csa, const T *b, T *c,
                                 tnn_idx rsc, tnn_idx csc, int accumulate, int mr, int nr) {
    T acc[MR * NR];
    for (int x = 0; x < MR * NR; x++) acc[x] = 0;
    for (tnn_idx p = 0; p < k; p++) {
        for (int i = 0; i < MR; i++) {
            T ai = a[i * rsa + p * csa];
            for (int j = 0; j < NR; j++) acc[i * NR + j] += ai * b[p * NR + j];
        }
    }
    for (int i = 0; i < mr; i++) {
        T *row = c + i * rsc;
        for (int j = 0; j < nr; j++) row[j * csc] = accumulate ? row[j * csc] + acc[i * NR + j] : acc[i * NR + j];
    }
}

/* Epilogue on an mr x nr tile of C: c = act(c + bias[j]) (bias may be NULL).  The common
 * cases (unit column stride, bias and/or relu) are straight loops the compiler vectorises. */
static void FN(tnn_epilogue)(T *c, tnn_idx rsc, tnn_idx csc, tnn_idx mr, tnn_idx nr, const T *bias, int act) {
    if (bias == NULL && act == TNN_ACT_NONE) return;
    for (tnn_idx i = 0; i < mr; i++) {
        T *row = c + i * rsc;
        if (csc == 1 && act == TNN_ACT_NONE) {
            for (tnn_idx j = 0; j < nr; j++) row[j] += bias[j];
        } else if (csc == 1 && act == TNN_ACT_RELU && bias) {
            for (tnn_idx j = 0; j < nr; j++) {
                T v = row[j] + bias[j];
                row[j] = v < 0 ? (T)0 : v;
            }
        } else if (csc == 1 && act == TNN_ACT_RELU) {
            for (tnn_idx j = 0; j < nr; j++) row[j] = row[j] < 0 ? (T)0 : row[j];
        } else {
            for (tnn_idx j = 0; j < nr; j++) {
                T v = row[j * csc];
                if (bias) v += bias[j];
                switch (act) {
                case TNN_ACT_RELU: v = v < 0 ? (T)0 : v; break;  /* NaN stays NaN, like np.maximum */
                case TNN_ACT_SIGMOID: v = TNN_SIGMOID(T, EXP, v); break;
                case TNN_ACT_TANH: v = TANH(v); break;
                default: break;
                }
                row[j * csc] = v;
            }
        }
    }
}

#include "gemm_direct.h"

typedef void (*FN(tnn_ukr_fn))(tnn_idx, const T *, tnn_idx, tnn_idx, const T *, T *, tnn_idx, tnn_idx, int, int, int);

/* The micro-kernel for T that this CPU runs. */
static FN(tnn_ukr_fn) FN(tnn_ukr_pick)(void) {
#if TINYNN_HAVE_AVX2
    if (tinynn_simd_level >= TINYNN_SIMD_AVX2) return UKR_AVX2;
#endif
    return FN(tnn_ukr_portable);
}

/* Get the mc x kc block of A at ablk ready for the micro-kernel, whose B is nc wide; returns
 * how many leading rows (whole MR-row slivers) are read in place: slivers of a row-major A
 * are, when B is narrow (packing them would not pay off).  The other rows are packed into ap. */
static tnn_idx FN(tnn_prepare_a)(tnn_idx mc, tnn_idx kc, tnn_idx nc, const T *ablk, tnn_idx rsa, tnn_idx csa, T *ap) {
    tnn_idx direct = (csa == 1 && nc <= DIRECT_A_MAX_N) ? mc / MR * MR : 0;
    if (direct < mc) FN(tnn_pack_a)(mc - direct, kc, ablk + direct * rsa, rsa, csa, ap);
    return direct;
}

/* The macro-kernel: C[0:mc, 0:nc] (+)= A block x B panel, one MR x NR tile at a time.  The
 * A block is at ablk (its first `direct` rows read in place) and ap (the rest, packed); the
 * B panel bp is kc x nc in NR-wide slivers.  first: C is written, not added to; last: the
 * epilogue (bias from column 0 of the block, activation) runs on each tile just written. */
static void FN(tnn_macro)(FN(tnn_ukr_fn) ukr, tnn_idx mc, tnn_idx nc, tnn_idx kc,
                          const T *ablk, tnn_idx rsa, tnn_idx direct, const T *ap, const T *bp,
                          T *c, tnn_idx rsc, tnn_idx csc, int first, int last, const T *bias, int act) {
    for (tnn_idx jr = 0; jr < nc; jr += NR) {
        int nr = (int)tnn_min(NR, nc - jr);
        for (tnn_idx ir = 0; ir < mc; ir += MR) {
            int mr = (int)tnn_min(MR, mc - ir);
            T *ct = c + ir * rsc + jr * csc;
            if (ir < direct)
                ukr(kc, ablk + ir * rsa, rsa, 1, bp + jr * kc, ct, rsc, csc, !first, mr, nr);
            else
                ukr(kc, ap + (ir - direct) * kc, 1, MR, bp + jr * kc, ct, rsc, csc, !first, mr, nr);
            if (last) FN(tnn_epilogue)(ct, rsc, csc, mr, nr, bias ? bias + jr : NULL, act);
        }
    }
}

/* The serial algorithm (see gemm.h) on one thread. */
static int FN(tnn_gemm_serial)(tnn_idx m, tnn_idx n, tnn_idx k,
                               const T *a, tnn_idx rsa, tnn_idx csa,
                               const T *b, tnn_idx rsb, tnn_idx csb,
                               T *c, tnn_idx rsc, tnn_idx csc, const T *bias, int act) {
    FN(tnn_ukr_fn) ukr = FN(tnn_ukr_pick)();
    /* cache blocks of at most MC / KC / NC, split evenly (no thin last block) */
    tnn_idx mc_blk = tnn_balanced_block(m, MC, MR), kc_blk = tnn_balanced_block(k, KC, 8);
    tnn_idx nc_blk = tnn_balanced_block(n, NC, NR);
    T *ap = (T *)tnn_alloc(sizeof(T) * mc_blk * kc_blk);
    T *bp = (T *)tnn_alloc(sizeof(T) * nc_blk * kc_blk);
    if (ap == NULL || bp == NULL) { free(ap); free(bp); return -1; }

    for (tnn_idx jc = 0; jc < n; jc += nc_blk) {
        tnn_idx nc = tnn_min(nc_blk, n - jc);
        for (tnn_idx pc = 0; pc < k; pc += kc_blk) {
            tnn_idx kc = tnn_min(kc_blk, k - pc);
            FN(tnn_pack_b)(kc, nc, b + pc * rsb + jc * csb, rsb, csb, bp);
            for (tnn_idx ic = 0; ic < m; ic += mc_blk) {
                tnn_idx mc = tnn_min(mc_blk, m - ic);
                const T *ablk = a + ic * rsa + pc * csa;
                tnn_idx direct = FN(tnn_prepare_a)(mc, kc, nc, ablk, rsa, csa, ap);
                FN(tnn_macro)(ukr, mc, nc, kc, ablk, rsa, direct, ap, bp, c + ic * rsc + jc * csc, rsc, csc,
                              pc == 0, pc + kc >= k, bias ? bias + jc : NULL, act);
            }
        }
    }
    free(ap);
    free(bp);
    return 0;
}

/* The whole product, for the parallel path: C = act(A B + bias). */
typedef struct {
    tnn_idx m, n, k;
    const T *a; tnn_idx rsa, csa;
    const T *b; tnn_idx rsb, csb;
    T *c; tnn_idx rsc, csc;
    const T *bias; int act;
} FN(tnn_gemm_problem);

/* Pack part of the B panel of the jc block [jc, jc + nc) that the threads share: rows
 * [pc, pc + kc) (one KC block), columns [j0, j1) (j0 a multiple of NR).  The panel holds the
 * KC blocks one after another, each kc x ncp (nc padded to whole NR slivers), so block pc
 * starts at bp + pc ncp and its sliver jr at + jr kc. */
static void FN(tnn_pack_b_part)(const FN(tnn_gemm_problem) *g, tnn_idx jc, tnn_idx ncp,
                                tnn_idx pc, tnn_idx kc, tnn_idx j0, tnn_idx j1, T *bp) {
    FN(tnn_pack_b)(kc, j1 - j0, g->b + pc * g->rsb + (jc + j0) * g->csb, g->rsb, g->csb, bp + pc * ncp + j0 * kc);
}

/* One unit of the parallel path: C[i0:i1, jc+j0 : jc+j1] over the whole shared dimension, one
 * KC block after another (in the same order as the serial path, so the same bits), with B
 * from the shared panel bp (see tnn_pack_b_part) and A packed into this thread's ap. */
static void FN(tnn_gemm_unit)(const FN(tnn_gemm_problem) *g, FN(tnn_ukr_fn) ukr, tnn_idx kc_blk,
                              tnn_idx jc, tnn_idx ncp, const T *bp, tnn_idx i0, tnn_idx i1,
                              tnn_idx j0, tnn_idx j1, T *ap) {
    tnn_idx mc = i1 - i0, nc = j1 - j0;
    T *c = g->c + i0 * g->rsc + (jc + j0) * g->csc;
    const T *bias = g->bias ? g->bias + jc + j0 : NULL;
    for (tnn_idx pc = 0; pc < g->k; pc += kc_blk) {
        tnn_idx kc = tnn_min(kc_blk, g->k - pc);
        const T *ablk = g->a + i0 * g->rsa + pc * g->csa;
        tnn_idx direct = FN(tnn_prepare_a)(mc, kc, nc, ablk, g->rsa, g->csa, ap);
        FN(tnn_macro)(ukr, mc, nc, kc, ablk, g->rsa, direct, ap, bp + pc * ncp + j0 * kc, c, g->rsc, g->csc,
                      pc == 0, pc + kc >= g->k, bias, g->act);
    }
}

/* The parallel algorithm (see gemm.h) on nt threads: per jc block, pack the k x nc panel of B
 * together, then take units of C from a shared counter (schedule(dynamic)).  Without OpenMP the
 * same loops run on the calling thread. */
static int FN(tnn_gemm_parallel)(const FN(tnn_gemm_problem) *g, int nt) {
    FN(tnn_ukr_fn) ukr = FN(tnn_ukr_pick)();
    tnn_idx kc_blk = tnn_balanced_block(g->k, KC, 8);   /* as in the serial path: same sums */
    tnn_idx nc_max = TNN_GEMM_SHARED_B_BYTES / ((tnn_idx)sizeof(T) * g->k) / NR * NR;
    tnn_idx nc_blk = tnn_balanced_block(g->n, nc_max < NR ? NR : tnn_min(NC, nc_max), NR);
    tnn_idx ncp_max = tnn_ceil_div(nc_blk, NR) * NR, kblocks = tnn_ceil_div(g->k, kc_blk);
    T *bp = (T *)tnn_alloc(sizeof(T) * g->k * ncp_max);
    T *ap = (T *)tnn_alloc(sizeof(T) * MC * kc_blk * nt);   /* one A block per thread */
    if (ap == NULL || bp == NULL) { free(ap); free(bp); return -1; }

#ifdef _OPENMP
    #pragma omp parallel num_threads(nt)
#endif
    {
        T *my_ap = ap + (tnn_idx)MC * kc_blk * tnn_thread_id();
        for (tnn_idx jc = 0; jc < g->n; jc += nc_blk) {
            tnn_idx nc = tnn_min(nc_blk, g->n - jc), ncp = tnn_ceil_div(nc, NR) * NR;
            int pack_chunks = (int)tnn_ceil_div(nc, 8 * NR), rb, cb;   /* 128-column pieces (float32) */
#ifdef _OPENMP
            #pragma omp for schedule(dynamic, 1)
#endif
            for (tnn_idx u = 0; u < kblocks * pack_chunks; u++) {
                tnn_idx pc = (u / pack_chunks) * kc_blk, j0, j1;
                tnn_gemm_range(nc, NR, pack_chunks, (int)(u % pack_chunks), &j0, &j1);
                FN(tnn_pack_b_part)(g, jc, ncp, pc, tnn_min(kc_blk, g->k - pc), j0, j1, bp);
            }   /* (implicit barrier: the panel is complete) */
            tnn_gemm_units(g->m, nc, g->k, MR, NR, MC, nt, &rb, &cb);
#ifdef _OPENMP
            #pragma omp for schedule(dynamic, 1)
#endif
            for (int u = 0; u < rb * cb; u++) {
                tnn_idx i0, i1, j0, j1;
                tnn_gemm_range(g->m, MR, rb, u / cb, &i0, &i1);
                tnn_gemm_range(nc, NR, cb, u % cb, &j0, &j1);
                if (i1 > i0 && j1 > j0) FN(tnn_gemm_unit)(g, ukr, kc_blk, jc, ncp, bp, i0, i1, j0, j1, my_ap);
            }   /* (implicit barrier: nobody still reads the panel when the next one is packed) */
        }
    }
    free(ap);
    free(bp);
    return 0;
}

/* out_j = sum_i X_ij for an m x n matrix X (element strides rs, cs), the rows added in order
 * starting from 0: what NumPy's x.sum(axis=0) does for a C-contiguous x, bit for bit.
 * (The bias gradient of a linear layer.) */
static void FN(tnn_colsum)(tnn_idx m, tnn_idx n, const T *x, tnn_idx rs, tnn_idx cs, T *out) {
    for (tnn_idx j = 0; j < n; j++) out[j] = 0;
    for (tnn_idx i = 0; i < m; i++) {
        const T *row = x + i * rs;
        if (cs == 1)
            for (tnn_idx j = 0; j < n; j++) out[j] += row[j];
        else
            for (tnn_idx j = 0; j < n; j++) out[j] += row[j * cs];
    }
}

/* C = act(A B + bias) on up to nt threads (see the header comment of gemm.h). */
static int FN(tnn_gemm)(tnn_idx m, tnn_idx n, tnn_idx k,
                        const T *a, tnn_idx rsa, tnn_idx csa,
                        const T *b, tnn_idx rsb, tnn_idx csb,
                        T *c, tnn_idx rsc, tnn_idx csc, const T *bias, int act, int nt) {
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {                                 /* empty sum: C = act(0 + bias) */
        for (tnn_idx i = 0; i < m; i++)
            for (tnn_idx j = 0; j < n; j++) c[i * rsc + j * csc] = 0;
        FN(tnn_epilogue)(c, rsc, csc, m, n, bias, act);
        return 0;
    }
    if (FN(tnn_gemm_direct)(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act)) return 0;
    nt = tnn_gemm_threads(m, n, k, nt);
    if (nt <= 1) return FN(tnn_gemm_serial)(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act);
    if ((long long)m * n * k >= TNN_GEMM_SHARED_MIN) {
        FN(tnn_gemm_problem) g = {m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act};
        return FN(tnn_gemm_parallel)(&g, nt);
    }
    /* mid-size: a fixed grid of independent serial GEMMs, no barrier (see TNN_GEMM_SHARED_MIN) */
    int tm, tn, err = 0;
    tnn_gemm_grid(m, n, MR, NR, nt, &tm, &tn);
#ifdef _OPENMP
    #pragma omp parallel for num_threads(tm * tn) schedule(static, 1) reduction(|: err)
#endif
    for (int t = 0; t < tm * tn; t++) {
        tnn_idx i0, i1, j0, j1;
        tnn_gemm_range(m, MR, tm, t / tn, &i0, &i1);
        tnn_gemm_range(n, NR, tn, t % tn, &j0, &j1);
        if (i1 > i0 && j1 > j0)
            err |= FN(tnn_gemm_serial)(i1 - i0, j1 - j0, k, a + i0 * rsa, rsa, csa, b + j0 * csb, rsb, csb,
                                       c + i0 * rsc + j0 * csc, rsc, csc, bias ? bias + j0 : NULL, act);
    }
    return err ? -1 : 0;
}

#undef FN
#undef TNN_CAT
#undef TNN_CAT_
#undef T
#undef S
#undef MR
#undef NR
#undef MC
#undef KC
#undef NC
#undef EXP
#undef TANH
#undef UKR_AVX2
#undef DIRECT_A_MAX_N
#undef VEC
#undef VW
#undef VLOADU
#undef VSTOREU
#undef VSTORE
#undef VZERO
#undef VBCAST
#undef VFMA
#undef VMASK
#undef VMASKLOAD
#undef VSET_COLS
#undef NT_P
#undef NT_PACK
