/* gemm/gemm_real.h -- TEMPLATE for the float GEMM, included by gemm.h once per type and
 * vector width (VBITS = 256: AVX2 or portable micro-kernel; 512: AVX-512).
 *
 * The includer defines T (element type), S (name suffix: f32_256, f64_512, ...), MR, NR
 * (register tile), MC, KC, NC (cache blocks), plus the vector macros of the micro-kernel and
 * the direct small-GEMM path (VEC, VW, VLOADU, ...: see gemm_ukr.h and gemm_direct.h,
 * included from here).  Every function name gets the suffix S, e.g. tn_gemm_tiled_f32_512.
 * VBITS is #undef'd at the end (the rest by gemm.h).
 *
 * Entry point (gemm.h's tn_gemm_f32 / _f64 pick the instance of the current SIMD level):
 *   int tn_gemm_tiled_S(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act, nt)
 *     C = act(A B + bias)   (bias: NULL or n contiguous values, one per column of C)
 *     returns 0, or -1 if scratch memory could not be allocated.
 */
#define TN_CAT_(a, b) a##_##b
#define TN_CAT(a, b) TN_CAT_(a, b)
#define FN(name) TN_CAT(name, S)

#if TN_HAVE_AVX2
/* One whole MR-row sliver of a row-major A (A(i, p) = a[i rsa + p]), NT_P columns at a time
 * through the in-register transpositions of gemm_avx2.h. */
TN_AVX2_FN static void FN(tn_pack_a_rows)(tn_idx kc, const T *a, tn_idx rsa, T *ap) {
    const T *w[MR];
    for (int i = 0; i < MR; i++) w[i] = a + i * rsa;
    tn_idx p = 0;
    for (; p + NT_P <= kc; p += NT_P) ROWS_PACK(w, MR, p, ap + p * MR, MR);
    for (; p < kc; p++)
        for (int i = 0; i < MR; i++) ap[p * MR + i] = w[i][p];
}
#endif

/* Pack the mc x kc block A[0:mc, 0:kc] into MR-row slivers: sliver s holds, for each
 * p in 0..kc, the MR values A[s MR + i, p] (i = 0..MR-1) one after the other; rows past
 * mc are zero. */
static void FN(tn_pack_a)(tn_idx mc, tn_idx kc, const T *a, tn_idx rsa, tn_idx csa, T *ap) {
    for (tn_idx ir = 0; ir < mc; ir += MR) {
        int mr = (int)tn_min(MR, mc - ir);
        const T *src = a + ir * rsa;
#if TN_HAVE_AVX2
        if (mr == MR && csa == 1 && tn_simd_level >= TN_SIMD_AVX2) {
            FN(tn_pack_a_rows)(kc, src, rsa, ap);
            ap += (tn_idx)MR * kc;
            continue;
        }
#endif
        if (mr == MR && rsa == 1) {               /* column-major A: MR contiguous values per p */
            for (tn_idx p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++) ap[p * MR + i] = src[p * csa + i];
        } else if (csa == 1) {                    /* row-major A: walk each row contiguously */
            for (int i = 0; i < mr; i++) {
                const T *row = src + i * rsa;
                for (tn_idx p = 0; p < kc; p++) ap[p * MR + i] = row[p];
            }
            for (int i = mr; i < MR; i++)
                for (tn_idx p = 0; p < kc; p++) ap[p * MR + i] = 0;
        } else {                                  /* any strides */
            for (tn_idx p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++) ap[p * MR + i] = i < mr ? src[i * rsa + p * csa] : 0;
        }
        ap += (tn_idx)MR * kc;
    }
}

#if TN_HAVE_AVX2
/* The whole NR-column slivers (nc a multiple of NR) of a column-major B (B(p, j) = b[j csb + p],
 * e.g. W^T), NT_P rows at a time through the in-register transpositions of gemm_avx2.h: the column walk below writes one value per cache line at a time (it made the
 * forward x W^T of a 1024 -> 1024 layer ~10% slower than x W). */
TN_AVX2_FN static void FN(tn_pack_b_nt)(tn_idx kc, tn_idx nc, const T *b, tn_idx csb, T *bp) {
    for (tn_idx jr = 0; jr < nc; jr += NR, bp += (tn_idx)NR * kc) {
        const T *w[NR];
        for (int j = 0; j < NR; j++) w[j] = b + (jr + j) * csb;
        tn_idx p = 0;
        for (; p + NT_P <= kc; p += NT_P) ROWS_PACK(w, NR, p, bp + p * NR, NR);
        for (; p < kc; p++)
            for (int j = 0; j < NR; j++) bp[p * NR + j] = w[j][p];
    }
}
#endif

/* Pack the kc x nc panel B[0:kc, 0:nc] into NR-column slivers: sliver s holds, for each
 * p in 0..kc, the NR values B[p, s NR + j] (j = 0..NR-1); columns past nc are zero.
 * A row-major B is copied a few rows at a time across all the slivers, each row's piece of
 * every sliver in turn: a whole sliver at a time read each piece from another page, which
 * the prefetcher does not follow (3x slower at 1024 columns, docs/04-gemm.md). */
static void FN(tn_pack_b)(tn_idx kc, tn_idx nc, const T *b, tn_idx rsb, tn_idx csb, T *bp) {
    if (csb == 1) {                               /* row-major B: the whole slivers, across */
        tn_idx whole = nc / NR * NR;              /* PACK_B_ROWS rows of B at a time */
        for (tn_idx p0 = 0; p0 < kc; p0 += PACK_B_ROWS) {
            tn_idx p1 = tn_min(kc, p0 + PACK_B_ROWS);
            for (tn_idx jr = 0; jr < whole; jr += NR)
                for (tn_idx p = p0; p < p1; p++) memcpy(bp + jr * kc + p * NR, b + p * rsb + jr, NR * sizeof(T));
        }
        b += whole;
        bp += whole * kc;
        nc -= whole;
    }
#if TN_HAVE_AVX2
    if (rsb == 1 && csb != 1 && tn_simd_level >= TN_SIMD_AVX2) {
        tn_idx whole = nc / NR * NR;
        FN(tn_pack_b_nt)(kc, whole, b, csb, bp);
        b += whole * csb;
        bp += whole * kc;
        nc -= whole;
    }
#endif
    for (tn_idx jr = 0; jr < nc; jr += NR) {
        int nr = (int)tn_min(NR, nc - jr);
        const T *src = b + jr * csb;
        if (rsb == 1) {                    /* column-major B (e.g. W^T): walk columns ... */
            for (tn_idx p0 = 0; p0 < kc; p0 += 16) {  /* ... over 16 rows of the sliver at a time, */
                tn_idx p1 = tn_min(kc, p0 + 16);      /* which stay in L1 (a whole one may not) */
                for (int j = 0; j < nr; j++) {
                    const T *col = src + j * csb;
                    for (tn_idx p = p0; p < p1; p++) bp[p * NR + j] = col[p];
                }
                for (int j = nr; j < NR; j++)
                    for (tn_idx p = p0; p < p1; p++) bp[p * NR + j] = 0;
            }
        } else {                                  /* any strides */
            for (tn_idx p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++) bp[p * NR + j] = j < nr ? src[p * rsb + j * csb] : 0;
        }
        bp += (tn_idx)NR * kc;
    }
}

/* Portable micro-kernel: acc (MR x NR) = sum_p a[:, p] b[p, :], with a(i, p) = a[i rsa + p csa]
 * (packed: rsa = 1, csa = MR) and b(p, j) = b[p rsb + j] (packed: rsb = NR),
 * then C[0:mr, 0:nr] = acc (accumulate == 0) or C += acc. */
static void FN(tn_ukr_portable)(tn_idx k, const T *a, tn_idx rsa, tn_idx csa, const T *b, tn_idx rsb, T *c,
                                 tn_idx rsc, tn_idx csc, int accumulate, int mr, int nr) {
    T acc[MR * NR];
    for (int x = 0; x < MR * NR; x++) acc[x] = 0;
    for (tn_idx p = 0; p < k; p++) {
        for (int i = 0; i < MR; i++) {
            T ai = a[i * rsa + p * csa];
            for (int j = 0; j < NR; j++) acc[i * NR + j] += ai * b[p * rsb + j];
        }
    }
    for (int i = 0; i < mr; i++) {
        T *row = c + i * rsc;
        for (int j = 0; j < nr; j++) row[j * csc] = accumulate ? row[j * csc] + acc[i * NR + j] : acc[i * NR + j];
    }
}

/* Epilogue on an mr x nr tile of C: c = act(c + bias[j]) (bias may be NULL).  The
 * activation is tn_activate (common/activations.h): the standalone kernels' own code on
 * the same SIMD path, so fused and unfused give the same bits.  A strided row goes
 * through a small buffer in chunks. */
static void FN(tn_epilogue)(T *c, tn_idx rsc, tn_idx csc, tn_idx mr, tn_idx nr, const T *bias, int act) {
    T buf[64];
    if (bias == NULL && act == TN_ACT_NONE) return;
    for (tn_idx i = 0; i < mr; i++) {
        T *row = c + i * rsc;
        if (csc == 1) {
            if (bias)
                for (tn_idx j = 0; j < nr; j++) row[j] += bias[j];
            TN_CAT(tn_activate, TS)(act, row, row, nr);
            continue;
        }
        for (tn_idx j0 = 0; j0 < nr; j0 += 64) {
            tn_idx len = tn_min(64, nr - j0);
            for (tn_idx j = 0; j < len; j++) buf[j] = row[(j0 + j) * csc] + (bias ? bias[j0 + j] : (T)0);
            TN_CAT(tn_activate, TS)(act, buf, buf, len);
            for (tn_idx j = 0; j < len; j++) row[(j0 + j) * csc] = buf[j];
        }
    }
}

#if TN_HAVE_AVX2
#include "gemm_ukr.h"
#endif
#if VBITS == 256
#include "gemm_direct.h"
#else
/* Small products on the AVX-512 level run the AVX2 direct path: the same FMA chain per element
 * as this instance's micro-kernel when k fits in one of its KC blocks, so the same bits. */
static int FN(tn_gemm_direct)(tn_idx m, tn_idx n, tn_idx k, const T *a, tn_idx rsa, tn_idx csa,
                              const T *b, tn_idx rsb, tn_idx csb, T *c, tn_idx rsc, tn_idx csc,
                              const T *bias, int act) {
    return k <= KC && TN_CAT(tn_gemm_direct, TN_CAT(TS, 256))(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act);
}
#endif

typedef void (*FN(tn_ukr_fn))(tn_idx, const T *, tn_idx, tn_idx, const T *, tn_idx, T *, tn_idx, tn_idx, int, int, int);

/* The micro-kernel for T that this CPU runs. */
static FN(tn_ukr_fn) FN(tn_ukr_pick)(void) {
    TN_DISPATCH(return FN(tn_ukr_vec), return FN(tn_ukr_portable))
}

/* Get the mc x kc block of A at ablk ready for the micro-kernel, whose B is nc wide; returns
 * how many leading rows (whole MR-row slivers) are read in place: slivers of a row-major A
 * are, when B is narrow (packing them would not pay off) and its rows do not alias in L1
 * (tn_rows_alias).  The other rows are packed into ap. */
static tn_idx FN(tn_prepare_a)(tn_idx mc, tn_idx kc, tn_idx nc, const T *ablk, tn_idx rsa, tn_idx csa, T *ap) {
    int in_place = csa == 1 && nc <= DIRECT_A_MAX_N && !tn_rows_alias(rsa * (tn_idx)sizeof(T));
    tn_idx direct = in_place ? mc / MR * MR : 0;
    if (direct < mc) FN(tn_pack_a)(mc - direct, kc, ablk + direct * rsa, rsa, csa, ap);
    return direct;
}

/* The macro-kernel: C[0:mc, 0:nc] (+)= A block x B panel, one MR x NR tile at a time.  The
 * A block is at ablk (its first `direct` rows read in place) and ap (the rest, packed); the
 * B panel is kc x nc in NR-wide slivers, sliver jr / NR at bp + jr bsl, row p of it at + p brs
 * (packed: bsl = kc, brs = NR; read in place from a row-major B: bsl = 1, brs = rsb, whole
 * slivers only).  first: C is written, not added to; last: the epilogue (bias from column 0
 * of the block, activation) runs on each tile just written. */
static void FN(tn_macro)(FN(tn_ukr_fn) ukr, tn_idx mc, tn_idx nc, tn_idx kc,
                          const T *ablk, tn_idx rsa, tn_idx direct, const T *ap, const T *bp, tn_idx bsl,
                          tn_idx brs, T *c, tn_idx rsc, tn_idx csc, int first, int last, const T *bias, int act) {
    for (tn_idx jr = 0; jr < nc; jr += NR) {
        int nr = (int)tn_min(NR, nc - jr);
        for (tn_idx ir = 0; ir < mc; ir += MR) {
            int mr = (int)tn_min(MR, mc - ir);
            T *ct = c + ir * rsc + jr * csc;
            if (ir < direct)
                ukr(kc, ablk + ir * rsa, rsa, 1, bp + jr * bsl, brs, ct, rsc, csc, !first, mr, nr);
            else
                ukr(kc, ap + (ir - direct) * kc, 1, MR, bp + jr * bsl, brs, ct, rsc, csc, !first, mr, nr);
            if (last) FN(tn_epilogue)(ct, rsc, csc, mr, nr, bias ? bias + jr : NULL, act);
        }
    }
}

/* The serial algorithm (see gemm.h) on one thread. */
static int FN(tn_gemm_serial)(tn_idx m, tn_idx n, tn_idx k,
                               const T *a, tn_idx rsa, tn_idx csa,
                               const T *b, tn_idx rsb, tn_idx csb,
                               T *c, tn_idx rsc, tn_idx csc, const T *bias, int act) {
    FN(tn_ukr_fn) ukr = FN(tn_ukr_pick)();
    /* cache blocks of at most MC / KC / NC, split evenly (no thin last block) */
    tn_idx mc_blk = tn_balanced_block(m, MC, MR), kc_blk = tn_balanced_block(k, KC, 8);
    tn_idx nc_blk = tn_balanced_block(n, NC, NR);
    T *ap = (T *)tn_alloc(sizeof(T) * mc_blk * kc_blk);
    T *bp = (T *)tn_alloc(sizeof(T) * nc_blk * kc_blk);
    if (ap == NULL || bp == NULL) { free(ap); free(bp); return -1; }

    /* With one block of rows, B is used once: whole slivers of a row-major B are read in place
     * (packing them would cost more than it saves: 64x784x128 0.86x -> 0.95x OpenBLAS), only the
     * last partial one is packed; not when its rows alias in L1 (measured 0.44x when a 4 KB-stride
     * B is read twice). */
    int b_direct = csb == 1 && m <= mc_blk && !tn_rows_alias(rsb * (tn_idx)sizeof(T));
    for (tn_idx jc = 0; jc < n; jc += nc_blk) {
        tn_idx nc = tn_min(nc_blk, n - jc), nd = b_direct ? nc / NR * NR : 0;
        for (tn_idx pc = 0; pc < k; pc += kc_blk) {
            tn_idx kc = tn_min(kc_blk, k - pc);
            const T *bblk = b + pc * rsb + jc * csb;
            FN(tn_pack_b)(kc, nc - nd, bblk + nd * csb, rsb, csb, bp);
            for (tn_idx ic = 0; ic < m; ic += mc_blk) {
                tn_idx mc = tn_min(mc_blk, m - ic);
                const T *ablk = a + ic * rsa + pc * csa;
                T *cblk = c + ic * rsc + jc * csc;
                const T *bias_blk = bias ? bias + jc : NULL;
                tn_idx direct = FN(tn_prepare_a)(mc, kc, nc, ablk, rsa, csa, ap);
                FN(tn_macro)(ukr, mc, nd, kc, ablk, rsa, direct, ap, bblk, 1, rsb, cblk, rsc, csc,
                             pc == 0, pc + kc >= k, bias_blk, act);
                FN(tn_macro)(ukr, mc, nc - nd, kc, ablk, rsa, direct, ap, bp, kc, NR, cblk + nd * csc, rsc, csc,
                             pc == 0, pc + kc >= k, bias_blk ? bias_blk + nd : NULL, act);
            }
        }
    }
    free(ap);
    free(bp);
    return 0;
}

/* The whole product, for the parallel path: C = act(A B + bias). */
typedef struct {
    tn_idx m, n, k;
    const T *a; tn_idx rsa, csa;
    const T *b; tn_idx rsb, csb;
    T *c; tn_idx rsc, csc;
    const T *bias; int act;
} FN(tn_gemm_problem);

/* Pack part of the B panel of the jc block [jc, jc + nc) that the threads share: rows
 * [pc, pc + kc) (one KC block), columns [j0, j1) (j0 a multiple of NR).  The panel holds the
 * KC blocks one after another, each kc x ncp (nc padded to whole NR slivers), so block pc
 * starts at bp + pc ncp and its sliver jr at + jr kc. */
static void FN(tn_pack_b_part)(const FN(tn_gemm_problem) *g, tn_idx jc, tn_idx ncp,
                                tn_idx pc, tn_idx kc, tn_idx j0, tn_idx j1, T *bp) {
    FN(tn_pack_b)(kc, j1 - j0, g->b + pc * g->rsb + (jc + j0) * g->csb, g->rsb, g->csb, bp + pc * ncp + j0 * kc);
}

/* One unit of the parallel path: C[i0:i1, jc+j0 : jc+j1] over the whole shared dimension, one
 * KC block after another (in the same order as the serial path, so the same bits), with B
 * from the shared panel bp (see tn_pack_b_part) and A packed into this thread's ap. */
static void FN(tn_gemm_unit)(const FN(tn_gemm_problem) *g, FN(tn_ukr_fn) ukr, tn_idx kc_blk,
                              tn_idx jc, tn_idx ncp, const T *bp, tn_idx i0, tn_idx i1,
                              tn_idx j0, tn_idx j1, T *ap) {
    tn_idx mc = i1 - i0, nc = j1 - j0;
    T *c = g->c + i0 * g->rsc + (jc + j0) * g->csc;
    const T *bias = g->bias ? g->bias + jc + j0 : NULL;
    for (tn_idx pc = 0; pc < g->k; pc += kc_blk) {
        tn_idx kc = tn_min(kc_blk, g->k - pc);
        const T *ablk = g->a + i0 * g->rsa + pc * g->csa;
        tn_idx direct = FN(tn_prepare_a)(mc, kc, nc, ablk, g->rsa, g->csa, ap);
        FN(tn_macro)(ukr, mc, nc, kc, ablk, g->rsa, direct, ap, bp + pc * ncp + j0 * kc, kc, NR, c, g->rsc, g->csc,
                      pc == 0, pc + kc >= g->k, bias, g->act);
    }
}

/* The parallel algorithm (see gemm.h) on nt threads: per jc block, pack the k x nc panel of B
 * together, then take units of C from a shared counter (schedule(dynamic)).  Without OpenMP the
 * same loops run on the calling thread. */
static int FN(tn_gemm_parallel)(const FN(tn_gemm_problem) *g, int nt) {
    FN(tn_ukr_fn) ukr = FN(tn_ukr_pick)();
    tn_idx kc_blk = tn_balanced_block(g->k, KC, 8);   /* as in the serial path: same sums */
    tn_idx nc_max = TN_GEMM_SHARED_B_BYTES / ((tn_idx)sizeof(T) * g->k) / NR * NR;
    tn_idx nc_blk = tn_balanced_block(g->n, nc_max < NR ? NR : tn_min(NC, nc_max), NR);
    tn_idx ncp_max = tn_ceil_div(nc_blk, NR) * NR, kblocks = tn_ceil_div(g->k, kc_blk);
    T *bp = (T *)tn_alloc(sizeof(T) * g->k * ncp_max);
    T *ap = (T *)tn_alloc(sizeof(T) * MC * kc_blk * nt);   /* one A block per thread */
    if (ap == NULL || bp == NULL) { free(ap); free(bp); return -1; }

#ifdef _OPENMP
    #pragma omp parallel num_threads(nt)
#endif
    {
        T *my_ap = ap + (tn_idx)MC * kc_blk * tn_thread_id();
        for (tn_idx jc = 0; jc < g->n; jc += nc_blk) {
            tn_idx nc = tn_min(nc_blk, g->n - jc), ncp = tn_ceil_div(nc, NR) * NR;
            int pack_chunks = (int)tn_ceil_div(nc, 8 * NR), rb, cb;   /* 128-column pieces (float32) */
#ifdef _OPENMP
            #pragma omp for schedule(dynamic, 1)
#endif
            for (tn_idx u = 0; u < kblocks * pack_chunks; u++) {
                tn_idx pc = (u / pack_chunks) * kc_blk, j0, j1;
                tn_gemm_range(nc, NR, pack_chunks, (int)(u % pack_chunks), &j0, &j1);
                FN(tn_pack_b_part)(g, jc, ncp, pc, tn_min(kc_blk, g->k - pc), j0, j1, bp);
            }   /* (implicit barrier: the panel is complete) */
            tn_gemm_units(g->m, nc, g->k, MR, NR, MC, nt, &rb, &cb);
#ifdef _OPENMP
            #pragma omp for schedule(dynamic, 1)
#endif
            for (int u = 0; u < rb * cb; u++) {
                tn_idx i0, i1, j0, j1;
                tn_gemm_range(g->m, MR, rb, u / cb, &i0, &i1);
                tn_gemm_range(nc, NR, cb, u % cb, &j0, &j1);
                if (i1 > i0 && j1 > j0) FN(tn_gemm_unit)(g, ukr, kc_blk, jc, ncp, bp, i0, i1, j0, j1, my_ap);
            }   /* (implicit barrier: nobody still reads the panel when the next one is packed) */
        }
    }
    free(ap);
    free(bp);
    return 0;
}

/* C = act(A B + bias) on up to nt threads (see the header comment of gemm.h). */
static int FN(tn_gemm_tiled)(tn_idx m, tn_idx n, tn_idx k,
                        const T *a, tn_idx rsa, tn_idx csa,
                        const T *b, tn_idx rsb, tn_idx csb,
                        T *c, tn_idx rsc, tn_idx csc, const T *bias, int act, int nt) {
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {                                 /* empty sum: C = act(0 + bias) */
        for (tn_idx i = 0; i < m; i++)
            for (tn_idx j = 0; j < n; j++) c[i * rsc + j * csc] = 0;
        FN(tn_epilogue)(c, rsc, csc, m, n, bias, act);
        return 0;
    }
    if (FN(tn_gemm_direct)(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act)) return 0;
    nt = tn_gemm_threads(m, n, k, nt);
    if (nt <= 1) return FN(tn_gemm_serial)(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act);
    if ((long long)m * n * k >= TN_GEMM_SHARED_MIN) {
        FN(tn_gemm_problem) g = {m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act};
        return FN(tn_gemm_parallel)(&g, nt);
    }
    /* mid-size: a fixed grid of independent serial GEMMs, no barrier (see TN_GEMM_SHARED_MIN) */
    TN_GEMM_GRID(MR, NR, nt,
                 FN(tn_gemm_serial)(i1 - i0, j1 - j0, k, a + i0 * rsa, rsa, csa, b + j0 * csb, rsb, csb,
                                    c + i0 * rsc + j0 * csc, rsc, csc, bias ? bias + j0 : NULL, act))
}

#undef FN
#undef TN_CAT
#undef TN_CAT_
#undef VBITS
