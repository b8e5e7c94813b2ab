/* gemm_int8.h -- int8 x int8 -> int32 GEMM and the quantization helpers around it
 * (included by gemm.h; uses its helpers).
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

#define I8_MR 6
#define I8_NR 16
#define I8_MC 96
#define I8_KC 512     /* even, so that KC blocks never split a k pair */
#define I8_NC 3072

/* Requantization epilogue: NULL pointers for scales mean 1, bias may be NULL. */
typedef struct {
    const float *row_scale;   /* m values */
    const float *col_scale;   /* n values */
    const float *bias;        /* n values or NULL */
    int relu;
} tnn_requant;

/* y = float(v) * (s_row * s_col) + b, then relu: in float32, exactly as numpy_ref.requantize. */
static inline float tnn_requant_one(int32_t v, float s_row, float s_col, const float *bias, int relu) {
    float scale = s_row * s_col;
    float y = (float)v * scale;
    if (bias) y = y + *bias;
    if (relu) y = y < 0.0f ? 0.0f : y;
    return y;
}

/* One contiguous row of the same epilogue.  The bias/relu choices are made once per row, not per
 * element, and the loops have no data-dependent branches: with random signs a per-element relu
 * branch mispredicted half the time and made this 5x slower than NumPy. */
static inline void tnn_requant_row(tnn_idx n, const int32_t *restrict acc, float s_row,
                                   const float *restrict s_col, const float *restrict bias, int relu,
                                   float *restrict y) {
    for (tnn_idx j = 0; j < n; j++) y[j] = (float)acc[j] * (s_row * s_col[j]);
    if (bias)
        for (tnn_idx j = 0; j < n; j++) y[j] = y[j] + bias[j];
    if (relu)
        for (tnn_idx j = 0; j < n; j++) y[j] = y[j] < 0.0f ? 0.0f : y[j];
}

/* Pack A[0:mc, 0:kc] into I8_MR-row slivers of int16 k pairs (zero padded). */
static void tnn_pack_a_i8(tnn_idx mc, tnn_idx kc, const int8_t *a, tnn_idx rsa, tnn_idx csa, int16_t *ap) {
    tnn_idx kp = (kc + 1) / 2;
    for (tnn_idx ir = 0; ir < mc; ir += I8_MR) {
        int mr = (int)tnn_min(I8_MR, mc - ir);
        for (int i = 0; i < I8_MR; i++) {
            const int8_t *row = a + (ir + (i < mr ? i : 0)) * rsa;
            if (i >= mr) {
                for (tnn_idx p = 0; p < 2 * kp; p++) ap[(p / 2 * I8_MR + i) * 2 + (p & 1)] = 0;
            } else if (csa == 1) {
                for (tnn_idx q = 0; q < kc / 2; q++) {
                    ap[(q * I8_MR + i) * 2] = row[2 * q];
                    ap[(q * I8_MR + i) * 2 + 1] = row[2 * q + 1];
                }
                if (kc & 1) { ap[((kp - 1) * I8_MR + i) * 2] = row[kc - 1]; ap[((kp - 1) * I8_MR + i) * 2 + 1] = 0; }
            } else {
                for (tnn_idx p = 0; p < 2 * kp; p++)
                    ap[(p / 2 * I8_MR + i) * 2 + (p & 1)] = p < kc ? row[p * csa] : 0;
            }
        }
        ap += (tnn_idx)I8_MR * 2 * kp;
    }
}

/* Pack B[0:kc, 0:nc] into I8_NR-column slivers of int16 k pairs (zero padded). */
static void tnn_pack_b_i8(tnn_idx kc, tnn_idx nc, const int8_t *b, tnn_idx rsb, tnn_idx csb, int16_t *bp) {
    tnn_idx kp = (kc + 1) / 2;
    for (tnn_idx jr = 0; jr < nc; jr += I8_NR) {
        int nr = (int)tnn_min(I8_NR, nc - jr);
        const int8_t *src = b + jr * csb;
        if (nr == I8_NR && csb == 1) {            /* row-major B: two rows of 16 bytes per pair */
            for (tnn_idx q = 0; q < kp; q++) {
                const int8_t *r0 = src + 2 * q * rsb;
                const int8_t *r1 = r0 + rsb;
                int has1 = 2 * q + 1 < kc;
                for (int j = 0; j < I8_NR; j++) {
                    bp[(q * I8_NR + j) * 2] = r0[j];
                    bp[(q * I8_NR + j) * 2 + 1] = has1 ? r1[j] : 0;
                }
            }
        } else {                                  /* any strides (column-major walks columns) */
            for (int j = 0; j < I8_NR; j++) {
                const int8_t *col = src + j * csb;
                for (tnn_idx p = 0; p < 2 * kp; p++)
                    bp[(p / 2 * I8_NR + j) * 2 + (p & 1)] = (j < nr && p < kc) ? col[p * rsb] : 0;
            }
        }
        bp += (tnn_idx)I8_NR * 2 * kp;
    }
}

/* Portable micro-kernel: t (I8_MR x I8_NR, int32) = the packed slivers' product over kp pairs. */
static void tnn_ukr_i8_portable(tnn_idx kp, const int16_t *a, const int16_t *b, int32_t *t) {
    uint32_t acc[I8_MR * I8_NR];                  /* unsigned: wraps like int32 SIMD adds */
    for (int x = 0; x < I8_MR * I8_NR; x++) acc[x] = 0;
    for (tnn_idx q = 0; q < kp; q++) {
        for (int i = 0; i < I8_MR; i++) {
            int32_t a0 = a[(q * I8_MR + i) * 2], a1 = a[(q * I8_MR + i) * 2 + 1];
            for (int j = 0; j < I8_NR; j++)
                acc[i * I8_NR + j] += (uint32_t)(a0 * b[(q * I8_NR + j) * 2] + a1 * b[(q * I8_NR + j) * 2 + 1]);
        }
    }
    for (int x = 0; x < I8_MR * I8_NR; x++) t[x] = (int32_t)acc[x];
}

#if TINYNN_HAVE_AVX2
/* AVX2 micro-kernel, 6 x 16 int32: per k pair 2 loads of b, 6 broadcasts, 12 madd + 12 add. */
TINYNN_AVX2_FN static void tnn_ukr_i8_avx2(tnn_idx kp, const int16_t *a, const int16_t *b, int32_t *t) {
    __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
    __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
    __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
    __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
    __m256i c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256();
    __m256i c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (tnn_idx q = 0; q < kp; q++) {
        __m256i b0 = _mm256_load_si256((const __m256i *)b);
        __m256i b1 = _mm256_load_si256((const __m256i *)(b + 16));
        __m256i ai;
        int32_t pair;
#define TNN_I8_ROW(i, x0, x1)                                                           \
        memcpy(&pair, a + 2 * (i), 4);                                                  \
        ai = _mm256_set1_epi32(pair);                                                   \
        x0 = _mm256_add_epi32(x0, _mm256_madd_epi16(ai, b0));                           \
        x1 = _mm256_add_epi32(x1, _mm256_madd_epi16(ai, b1));
        TNN_I8_ROW(0, c00, c01) TNN_I8_ROW(1, c10, c11) TNN_I8_ROW(2, c20, c21)
        TNN_I8_ROW(3, c30, c31) TNN_I8_ROW(4, c40, c41) TNN_I8_ROW(5, c50, c51)
#undef TNN_I8_ROW
        a += 2 * I8_MR;
        b += 2 * I8_NR;
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
static void tnn_write_i8(const int32_t *t, int mr, int nr, int32_t *c, tnn_idx rsc, tnn_idx csc,
                         int accumulate, const tnn_requant *rq, tnn_idx i0, tnn_idx j0) {
    int32_t sum[I8_NR];
    float y[I8_NR];
    for (int i = 0; i < mr; i++) {
        int32_t *row = c + i * rsc;
        const int32_t *ti = t + i * I8_NR;
        if (accumulate) {
            for (int j = 0; j < nr; j++) sum[j] = (int32_t)((uint32_t)ti[j] + (uint32_t)row[j * csc]);
            ti = sum;
        }
        if (rq) {
            tnn_requant_row(nr, ti, rq->row_scale[i0 + i], rq->col_scale + j0,
                            rq->bias ? rq->bias + j0 : NULL, rq->relu, y);
            if (csc == 1) memcpy(row, y, sizeof(float) * (size_t)nr);
            else for (int j = 0; j < nr; j++) memcpy(row + j * csc, y + j, 4);
        } else {
            for (int j = 0; j < nr; j++) row[j * csc] = ti[j];
        }
    }
}

/* Serial int8 GEMM on one block; i0, j0: the block's origin in the whole problem. */
static int tnn_gemm_i8_serial(tnn_idx m, tnn_idx n, tnn_idx k,
                              const int8_t *a, tnn_idx rsa, tnn_idx csa,
                              const int8_t *b, tnn_idx rsb, tnn_idx csb,
                              int32_t *c, tnn_idx rsc, tnn_idx csc,
                              const tnn_requant *rq, tnn_idx i0, tnn_idx j0) {
    void (*ukr)(tnn_idx, const int16_t *, const int16_t *, int32_t *) = tnn_ukr_i8_portable;
#if TINYNN_HAVE_AVX2
    if (tinynn_simd_level >= TINYNN_SIMD_AVX2) ukr = tnn_ukr_i8_avx2;
#endif
    tnn_idx kc_max = tnn_min(I8_KC, k) + 1;
    tnn_idx mc_max = tnn_ceil_div(tnn_min(I8_MC, m), I8_MR) * I8_MR;
    tnn_idx nc_max = tnn_ceil_div(tnn_min(I8_NC, n), I8_NR) * I8_NR;
    int16_t *ap = (int16_t *)tnn_alloc(sizeof(int16_t) * mc_max * kc_max);
    int16_t *bp = (int16_t *)tnn_alloc(sizeof(int16_t) * nc_max * kc_max);
    if (ap == NULL || bp == NULL) { free(ap); free(bp); return -1; }
    int32_t t[I8_MR * I8_NR] __attribute__((aligned(32)));

    for (tnn_idx jc = 0; jc < n; jc += I8_NC) {
        tnn_idx nc = tnn_min(I8_NC, n - jc);
        for (tnn_idx pc = 0; pc < k; pc += I8_KC) {
            tnn_idx kc = tnn_min(I8_KC, k - pc), kp = (kc + 1) / 2;
            int first = pc == 0, last = pc + kc >= k;
            tnn_pack_b_i8(kc, nc, b + pc * rsb + jc * csb, rsb, csb, bp);
            for (tnn_idx ic = 0; ic < m; ic += I8_MC) {
                tnn_idx mc = tnn_min(I8_MC, m - ic);
                tnn_pack_a_i8(mc, kc, a + ic * rsa + pc * csa, rsa, csa, ap);
                for (tnn_idx jr = 0; jr < nc; jr += I8_NR) {
                    int nr = (int)tnn_min(I8_NR, nc - jr);
                    for (tnn_idx ir = 0; ir < mc; ir += I8_MR) {
                        int mr = (int)tnn_min(I8_MR, mc - ir);
                        ukr(kp, ap + ir * 2 * kp, bp + jr * 2 * kp, t);
                        tnn_write_i8(t, mr, nr, c + (ic + ir) * rsc + (jc + jr) * csc, rsc, csc, !first,
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
static int tnn_gemm_i8(tnn_idx m, tnn_idx n, tnn_idx k,
                       const int8_t *a, tnn_idx rsa, tnn_idx csa,
                       const int8_t *b, tnn_idx rsb, tnn_idx csb,
                       int32_t *c, tnn_idx rsc, tnn_idx csc, const tnn_requant *rq, int nt) {
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {
        int32_t zero[I8_MR * I8_NR] = {0};
        for (tnn_idx i = 0; i < m; i += I8_MR)
            for (tnn_idx j = 0; j < n; j += I8_NR)
                tnn_write_i8(zero, (int)tnn_min(I8_MR, m - i), (int)tnn_min(I8_NR, n - j),
                             c + i * rsc + j * csc, rsc, csc, 0, rq, i, j);
        return 0;
    }
    nt = tnn_gemm_threads(m, n, k, nt);
    if (nt <= 1) return tnn_gemm_i8_serial(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, rq, 0, 0);
    int tm, tn, err = 0;
    tnn_gemm_grid(m, n, I8_MR, I8_NR, nt, &tm, &tn);
#ifdef _OPENMP
    #pragma omp parallel for num_threads(tm * tn) schedule(static, 1) reduction(|: err)
#endif
    for (int th = 0; th < tm * tn; th++) {
        tnn_idx r0, r1, c0, c1;
        tnn_gemm_range(m, I8_MR, tm, th / tn, &r0, &r1);
        tnn_gemm_range(n, I8_NR, tn, th % tn, &c0, &c1);
        if (r1 > r0 && c1 > c0)
            err |= tnn_gemm_i8_serial(r1 - r0, c1 - c0, k, a + r0 * rsa, rsa, csa, b + c0 * csb, rsb, csb,
                                      c + r0 * rsc + c0 * csc, rsc, csc, rq, r0, c0);
    }
    return err ? -1 : 0;
}

/* y[i, j] = requant(acc[i, j]) for an int32 acc (any strides) into a contiguous float32 y. */
static void tnn_requantize(tnn_idx m, tnn_idx n, const int32_t *acc, tnn_idx rs, tnn_idx cs,
                           const tnn_requant *rq, float *y) {
    for (tnn_idx i = 0; i < m; i++) {
        if (cs == 1) {
            tnn_requant_row(n, acc + i * rs, rq->row_scale[i], rq->col_scale, rq->bias, rq->relu, y + i * n);
        } else {
            for (tnn_idx j = 0; j < n; j++)
                y[i * n + j] = tnn_requant_one(acc[i * rs + j * cs], rq->row_scale[i], rq->col_scale[j],
                                               rq->bias ? rq->bias + j : NULL, rq->relu);
        }
    }
}

/* q[i, j] = clamp(round_half_even(x[i, j] / s[i]) + zp, -128, 127) as int8 (NaN -> 0),
 * with the division in the precision of x (as NumPy does for float32 / float32).
 * Rounding adds and subtracts 1.5 * 2^(mantissa bits): exact round-half-to-even for |v| below
 * 2^(mantissa bits - 1), and v is clamped into that range first (anything beyond it clamps to
 * -128 or 127 anyway).  No libm call and no branch, so the loop vectorises. */
#if defined(__SSE2__)
#include <emmintrin.h>
/* The same operations as tnn_quantize_one_f32, 16 values at a time with SSE2 (base x86-64):
 * exact division, clamp to +-LIMIT, round by +-MAGIC, + zp, clamp to [-128, 127], truncate
 * (exact: integral), NaN lanes -> 0.  Returns how many leading values it wrote. */
static inline tnn_idx tnn_qrow_sse2_f32(const float *x, tnn_idx n, float s, float zp, int8_t *q) {
    const __m128 vs = _mm_set1_ps(s), vz = _mm_set1_ps(zp), lim = _mm_set1_ps(4194304.0f);
    const __m128 nlim = _mm_set1_ps(-4194304.0f), magic = _mm_set1_ps(12582912.0f);
    const __m128 lo = _mm_set1_ps(-128.0f), hi = _mm_set1_ps(127.0f);
    tnn_idx j = 0;
    for (; j + 16 <= n; j += 16) {
        __m128i r[4];
        for (int k = 0; k < 4; k++) {
            __m128 v = _mm_div_ps(_mm_loadu_ps(x + j + 4 * k), vs);
            __m128 nan = _mm_cmpunord_ps(v, v);
            v = _mm_max_ps(_mm_min_ps(v, lim), nlim);
            v = _mm_add_ps(_mm_sub_ps(_mm_add_ps(v, magic), magic), vz);
            v = _mm_max_ps(_mm_min_ps(v, hi), lo);
            r[k] = _mm_andnot_si128(_mm_castps_si128(nan), _mm_cvttps_epi32(v));
        }
        __m128i w = _mm_packs_epi16(_mm_packs_epi32(r[0], r[1]), _mm_packs_epi32(r[2], r[3]));
        _mm_storeu_si128((__m128i *)(q + j), w);
    }
    return j;
}
#define TNN_QROW_SIMD_f32(x, n, s, zp, q) tnn_qrow_sse2_f32(x, n, s, zp, q)
#else
#define TNN_QROW_SIMD_f32(x, n, s, zp, q) 0
#endif
#define TNN_QROW_SIMD_f64(x, n, s, zp, q) 0

#define TNN_QUANTIZE_ROWS(S, T, MAGIC, LIMIT)                                               \
static inline int8_t tnn_quantize_one_##S(T x, T s, T zp) {                                 \
    T v = x / s;                                                                            \
    int is_nan = v != v;                                                                    \
    v = is_nan ? (T)0 : v;                                                                  \
    v = v < -(T)LIMIT ? -(T)LIMIT : v > (T)LIMIT ? (T)LIMIT : v;                            \
    v = ((v + (T)MAGIC) - (T)MAGIC) + zp;                                                   \
    v = v < (T)-128 ? (T)-128 : v > (T)127 ? (T)127 : v;                                    \
    return is_nan ? 0 : (int8_t)v;                                                          \
}                                                                                           \
static void tnn_quantize_rows_##S(tnn_idx m, tnn_idx n, const T *x, tnn_idx rs, tnn_idx cs,  \
                                  const float *scale, T zp, int8_t *q) {                    \
    for (tnn_idx i = 0; i < m; i++) {                                                       \
        T s = (T)scale[i];                                                                  \
        const T *xr = x + i * rs;                                                           \
        int8_t *qr = q + i * n;                                                             \
        if (cs == 1) {                  /* rows contiguous: a unit-stride loop, vectorised */ \
            tnn_idx j = TNN_QROW_SIMD_##S(xr, n, s, zp, qr);                                  \
            for (; j < n; j++) qr[j] = tnn_quantize_one_##S(xr[j], s, zp);                  \
        } else {                                                                            \
            for (tnn_idx j = 0; j < n; j++) qr[j] = tnn_quantize_one_##S(xr[j * cs], s, zp); \
        }                                                                                   \
    }                                                                                       \
}
/* lo = min_i x_i, hi = max_i x_i over n >= 1 contiguous values; both NaN if any x_i is NaN.
 * min and max are exact, so the order of the reduction does not change the result.  On x86-64
 * (SSE2 is part of the base ISA) two vector accumulators per bound with minps/maxps and an
 * unordered-compare NaN mask (GCC does not turn the NaN-aware selects into minps itself);
 * elsewhere, and for the tail, plain C. */
#define TNN_MINMAX_TAIL(T)                                                                  \
    for (; i < n; i++) {                                                                    \
        T v = x[i];                                                                         \
        any |= v != v;                                                                      \
        mn = v < mn ? v : mn;                                                               \
        mx = v > mx ? v : mx;                                                               \
    }                                                                                       \
    *lo = any ? (T)NAN : mn;                                                                \
    *hi = any ? (T)NAN : mx;
#if defined(__SSE2__)
#include <emmintrin.h>
/* V vector type, W lanes, P = ps | pd */
#define TNN_MINMAX(S, T, V, W, P)                                                           \
static void tnn_minmax_##S(const T *x, tnn_idx n, T *lo, T *hi) {                          \
    V mn0 = _mm_set1_##P(x[0]), mn1 = mn0, mx0 = mn0, mx1 = mn0, bad = _mm_setzero_##P();   \
    tnn_idx i = 0;                                                                          \
    for (; i + 2 * W <= n; i += 2 * W) {                                                    \
        V a = _mm_loadu_##P(x + i), b = _mm_loadu_##P(x + i + W);                           \
        bad = _mm_or_##P(bad, _mm_or_##P(_mm_cmpunord_##P(a, a), _mm_cmpunord_##P(b, b))); \
        mn0 = _mm_min_##P(mn0, a); mn1 = _mm_min_##P(mn1, b);                               \
        mx0 = _mm_max_##P(mx0, a); mx1 = _mm_max_##P(mx1, b);                               \
    }                                                                                       \
    T m[W], M[W], mn, mx;                                                                   \
    int any = _mm_movemask_##P(bad) != 0;                                                   \
    _mm_storeu_##P(m, _mm_min_##P(mn0, mn1));                                               \
    _mm_storeu_##P(M, _mm_max_##P(mx0, mx1));                                               \
    mn = m[0]; mx = M[0];                                                                   \
    for (int j = 1; j < W; j++) { mn = m[j] < mn ? m[j] : mn; mx = M[j] > mx ? M[j] : mx; } \
    TNN_MINMAX_TAIL(T)                                                                      \
}
TNN_MINMAX(f32, float, __m128, 4, ps)
TNN_MINMAX(f64, double, __m128d, 2, pd)
#else
#define TNN_MINMAX(S, T)                                                                    \
static void tnn_minmax_##S(const T *x, tnn_idx n, T *lo, T *hi) {                          \
    T mn = x[0], mx = x[0];                                                                 \
    int any = 0;                                                                            \
    tnn_idx i = 0;                                                                          \
    TNN_MINMAX_TAIL(T)                                                                      \
}
TNN_MINMAX(f32, float)
TNN_MINMAX(f64, double)
#endif
#undef TNN_MINMAX
#undef TNN_MINMAX_TAIL

TNN_QUANTIZE_ROWS(f32, float, 12582912.0f, 4194304.0f)
TNN_QUANTIZE_ROWS(f64, double, 6755399441055744.0, 2251799813685248.0)
#undef TNN_QUANTIZE_ROWS
