/* gemm/gemm_int8_u7.h -- the quantized Linear's kernel: 7-bit activations times int8 weights
 * packed once, exact int32 accumulation, and the dequantize + bias + activation epilogue fused
 * into the write of y:
 *
 *   a[i, k] = clamp(nearbyint(fma(x[i, k], float32(1 / s_a), z_a)), 0, 127)       (quant/quant.h)
 *   acc[i, j] = sum_k a[i, k] w[j, k]                                            (exact, int32)
 *   y[i, j] = act(float32(acc[i, j] - z_a rowsum_j) * (s_a * s_w[j]) + b[j]),  rowsum_j = sum_k w[j, k]
 *
 * Why 7 bits (PyTorch's reduce_range on x86): vpmaddubsw multiplies unsigned by signed bytes and
 * adds adjacent pairs into a SATURATING int16.  With a in [0, 127] and w in [-128, 127] a pair sum
 * lies in [-32512, 32512], inside int16, so it never saturates and the AVX2 path is exact; with
 * 8-bit activations (255 * 128 * 2 = 65280) it would clip.  vpdpbusd (VNNI) and the AMX tiles
 * accumulate 4 products straight into int32, exact for any u8, and get the same bits.
 *
 * Weight layout, packed once (tn_u7_pack): N in panels of TN_U7_NR = 32 columns (zero padded), K
 * padded to kp (a multiple of 4, and of 64 from k >= 64 so that the AMX tiles fit); in a panel, k
 * quad q holds 32 columns x 4 consecutive k: 128 bytes, the operand of two zmm / four ymm
 * vpdpbusd (or vpmaddubsw) per broadcast quad of a row of a, and, read with stride 128, the
 * 16 x 64-byte VNNI layout of an AMX B tile.  The activations are quantized into a scratch
 * buffer of row stride kp (zero padded: padding multiplies zero weights).
 *
 * The micro-kernels compute an MR x 32 int32 tile over the whole kp; each is one instance of
 * TN_U7_UKR (vector width, broadcast and dot product as arguments) except AMX's and the
 * portable one.  The epilogue is the same C function for every path (never inlined, baseline
 * target: no FMA contraction), so every path gives the same bits.
 */
#ifndef TN_GEMM_INT8_U7_H
#define TN_GEMM_INT8_U7_H

#include <stdint.h>
#include <string.h>
#include "gemm.h"
#include "../common/cpu_int8.h"
#include "../common/activations.h"
#include "../quant/quant.h"

#define TN_U7_NR 32
#define TN_U7_ROWPAD 16    /* scratch rows beyond m: the biggest MR (AMX) may read them */

/* Padded K of the packed weights. */
static inline tn_idx tn_u7_kp(tn_idx k) { return k >= 64 ? (k + 63) / 64 * 64 : (k + 3) / 4 * 4; }

/* Bytes of the packed weights of an n x k matrix. */
static inline tn_idx tn_u7_packed_size(tn_idx n, tn_idx k) {
    return tn_ceil_div(n, TN_U7_NR) * TN_U7_NR * tn_u7_kp(k);
}

/* Pack w (n x k, row stride rsw) into bp (tn_u7_packed_size bytes, 64-byte aligned). */
static void tn_u7_pack(tn_idx n, tn_idx k, const int8_t *w, tn_idx rsw, int8_t *bp) {
    tn_idx kp = tn_u7_kp(k);
    for (tn_idx jp = 0; jp < n; jp += TN_U7_NR)
        for (tn_idx q = 0; q < kp / 4; q++)
            for (int j = 0; j < TN_U7_NR; j++)
                for (int r = 0; r < 4; r++) {
                    tn_idx col = jp + j, kk = 4 * q + r;
                    *bp++ = (col < n && kk < k) ? w[col * rsw + kk] : 0;
                }
}

/* Portable micro-kernel: t[i][j] (MR = 4 rows, 32 columns) over kq quads. */
#define TN_U7_MR_PORTABLE 4
static void tn_u7_ukr_portable(tn_idx kq, const uint8_t *a, tn_idx lda, const int8_t *b, int32_t *t) {
    for (int i = 0; i < TN_U7_MR_PORTABLE; i++) {
        int32_t acc[TN_U7_NR] = {0};
        const uint8_t *ar = a + i * lda;
        for (tn_idx q = 0; q < kq; q++) {
            const int8_t *bq = b + q * 4 * TN_U7_NR;
            for (int j = 0; j < TN_U7_NR; j++)
                acc[j] += ar[4 * q] * bq[4 * j] + ar[4 * q + 1] * bq[4 * j + 1]
                        + ar[4 * q + 2] * bq[4 * j + 2] + ar[4 * q + 3] * bq[4 * j + 3];
        }
        memcpy(t + i * TN_U7_NR, acc, sizeof acc);
    }
}

/* One SIMD micro-kernel: MR rows x 32 columns in MR * NV accumulators of type V (LANES int32 each),
 * per k quad: NV loads of b, then per row one broadcast quad of a and NV DOT steps. */
#define TN_U7_UKR(NAME, ATTR, V, LANES, MR, ZERO, LOAD, SET1, DOT, STORE)                  \
ATTR static void NAME(tn_idx kq, const uint8_t *a, tn_idx lda, const int8_t *b, int32_t *t) { \
    enum { NV = TN_U7_NR / LANES };                                                         \
    V acc[MR][NV];                                                                          \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                  \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[i][v] = ZERO;                                      \
    for (tn_idx q = 0; q < kq; q++) {                                                       \
        V bv[NV];                                                                           \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) bv[v] = LOAD(b + q * 4 * TN_U7_NR + v * 4 * LANES);    \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                                      \
            int32_t quad;                                                                   \
            memcpy(&quad, a + i * lda + 4 * q, 4);                                          \
            V ai = SET1(quad);                                                              \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[i][v] = DOT(acc[i][v], ai, bv[v]);             \
        }                                                                                   \
    }                                                                                       \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                  \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) STORE(t + i * TN_U7_NR + v * LANES, acc[i][v]);        \
}

#if TN_HAVE_AVX2
#define TN_U7_LOAD256(p) _mm256_load_si256((const __m256i *)(p))
#define TN_U7_STORE256(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define TN_U7_LOAD512(p) _mm512_load_si512((const void *)(p))
#define TN_U7_STORE512(p, v) _mm512_storeu_si512((void *)(p), v)
/* AVX2: u7 x s8 pairs into int16 (exact, see above), pairs of int16 into int32 by madd with 1s. */
#define TN_U7_DOT_AVX2(c, a, b) \
    _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)))
#define TN_U7_MR_AVX2 2
TN_U7_UKR(tn_u7_ukr_avx2, TN_AVX2_FN, __m256i, 8, TN_U7_MR_AVX2, _mm256_setzero_si256(),
          TN_U7_LOAD256, _mm256_set1_epi32, TN_U7_DOT_AVX2, TN_U7_STORE256)
#define TN_U7_MR_AVX_VNNI 3
TN_U7_UKR(tn_u7_ukr_avx_vnni, __attribute__((target("avx2,fma,avxvnni"))), __m256i, 8, TN_U7_MR_AVX_VNNI,
          _mm256_setzero_si256(), TN_U7_LOAD256, _mm256_set1_epi32, _mm256_dpbusd_avx_epi32, TN_U7_STORE256)
#define TN_U7_MR_AVX512_VNNI 12
TN_U7_UKR(tn_u7_ukr_avx512_vnni, __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))), __m512i, 16,
          TN_U7_MR_AVX512_VNNI, _mm512_setzero_si512(), TN_U7_LOAD512, _mm512_set1_epi32, _mm512_dpbusd_epi32,
          TN_U7_STORE512)

/* AMX: 16 rows x 32 columns as two 16 x 16 int32 C tiles (3, 4); per 64 k, one A tile (0: 16 rows
 * of 64 bytes, stride lda) and two B tiles (1, 2: 16 quads x 64 bytes, stride 128: the left and
 * right 16 columns of the panel).  Needs kq % 16 == 0.  Compiled on every build; runs only where
 * CPUID, XCR0 and arch_prctl allow it (not measured on the machine this was written on). */
#define TN_U7_MR_AMX 16
typedef struct {
    uint8_t palette_id, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tn_tilecfg;

__attribute__((target("amx-tile,amx-int8")))
static void tn_u7_ukr_amx(tn_idx kq, const uint8_t *a, tn_idx lda, const int8_t *b, int32_t *t) {
    tn_tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette_id = 1;
    for (int r = 0; r < 5; r++) { cfg.rows[r] = 16; cfg.colsb[r] = 64; }
    /* _tile_loadconfig does not tell the compiler it reads cfg: without this barrier GCC 12 at
     * -O3 dropped the stores above and the tile instructions faulted (SIGILL). */
    __asm__ volatile("" ::: "memory");
    _tile_loadconfig(&cfg);
    _tile_zero(3);
    _tile_zero(4);
    for (tn_idx q = 0; q < kq; q += 16) {
        _tile_loadd(0, a + 4 * q, lda);
        _tile_loadd(1, b + q * 4 * TN_U7_NR, 4 * TN_U7_NR);
        _tile_loadd(2, b + q * 4 * TN_U7_NR + 64, 4 * TN_U7_NR);
        _tile_dpbusd(3, 0, 1);
        _tile_dpbusd(4, 0, 2);
    }
    _tile_stored(3, t, 4 * TN_U7_NR);
    _tile_stored(4, t + 16, 4 * TN_U7_NR);
    _tile_release();
}
#endif

typedef void (*tn_u7_ukr_fn)(tn_idx, const uint8_t *, tn_idx, const int8_t *, int32_t *);

/* The micro-kernel of the path chosen now (AMX only where kp fits its tiles), and its MR. */
static tn_u7_ukr_fn tn_u7_select(tn_idx kp, int *mr) {
    int path = tn_int8_path();
#if TN_HAVE_AVX2
    if (path == TN_I8_AMX && kp % 64 != 0) path = TN_I8_AVX512_VNNI;
    switch (path) {
    case TN_I8_AMX: *mr = TN_U7_MR_AMX; return tn_u7_ukr_amx;
    case TN_I8_AVX512_VNNI: *mr = TN_U7_MR_AVX512_VNNI; return tn_u7_ukr_avx512_vnni;
    case TN_I8_AVX_VNNI: *mr = TN_U7_MR_AVX_VNNI; return tn_u7_ukr_avx_vnni;
    case TN_I8_AVX2: *mr = TN_U7_MR_AVX2; return tn_u7_ukr_avx2;
    default: break;
    }
#endif
    (void)path;
    *mr = TN_U7_MR_PORTABLE;
    return tn_u7_ukr_portable;
}

/* The epilogue of one tile row: y[j] = act(float32(acc[j] - z_a rowsum[j]) * (s_a * s_w[j]) + b[j]).
 * One compiled copy for every path (the int32 subtraction wraps like the SIMD adds). */
TN_NOINLINE static void tn_u7_epilogue(int nr, const int32_t *acc, int32_t za, const int32_t *rowsum,
                                        float sa, const float *sw, const float *bias, int act, float *y) {
    for (int j = 0; j < nr; j++) {
        int32_t v = (int32_t)((uint32_t)acc[j] - (uint32_t)za * (uint32_t)rowsum[j]);
        y[j] = (float)v * (sa * sw[j]);
    }
    if (bias)
        for (int j = 0; j < nr; j++) y[j] = y[j] + bias[j];
    if (act == TN_ACT_RELU)
        for (int j = 0; j < nr; j++) y[j] = y[j] < 0.0f ? 0.0f : y[j];
    else if (act != TN_ACT_NONE)
        tn_activate_f32(act, y, y, nr);
}

/* y (m x n, row stride n) = the quantized Linear of float32 x (m x k, row stride rsx) with packed
 * weights bp (tn_u7_pack), per-channel scales sw, row sums of w, bias (or NULL) and activation act;
 * activations at (s_a, z_a) with 0 <= z_a <= 127.  Returns 0, or -1 if memory ran out. */
static int tn_u7_linear(tn_idx m, tn_idx n, tn_idx k, const float *x, tn_idx rsx, float sa, int32_t za,
                        const int8_t *bp, const int32_t *rowsum, const float *sw, const float *bias,
                        int act, float *y, int nt) {
    if (m <= 0 || n <= 0) return 0;
    tn_idx kp = tn_u7_kp(k);
    uint8_t *a = (uint8_t *)tn_alloc((size_t)(m + TN_U7_ROWPAD) * (size_t)kp);
    if (a == NULL) return -1;
    float inv = 1.0f / sa;
    for (tn_idx i = 0; i < m; i++) {
        tn_quantize_row(x + i * rsx, k, 1, inv, (float)za, 0.0f, 127.0f, (int8_t *)(a + i * kp));
        memset(a + i * kp + k, 0, (size_t)(kp - k));
    }
    memset(a + m * kp, 0, (size_t)(TN_U7_ROWPAD * kp));
    int mr;
    tn_u7_ukr_fn ukr = tn_u7_select(kp, &mr);
    tn_idx panels = tn_ceil_div(n, TN_U7_NR);
    if (nt > panels) nt = (int)panels;
    if ((long long)m * n * k < TN_GEMM_MIN_PARALLEL) nt = 1;
    #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (tn_idx p = 0; p < panels; p++) {
        int32_t t[TN_U7_MR_AMX * TN_U7_NR] __attribute__((aligned(64)));
        tn_idx j0 = p * TN_U7_NR;
        int nr = (int)tn_min(TN_U7_NR, n - j0);
        for (tn_idx i0 = 0; i0 < m; i0 += mr) {
            ukr(kp / 4, a + i0 * kp, kp, bp + j0 * kp, t);
            for (tn_idx i = i0; i < tn_min(i0 + mr, m); i++)
                tn_u7_epilogue(nr, t + (i - i0) * TN_U7_NR, za, rowsum + j0, sa, sw + j0,
                                bias ? bias + j0 : NULL, act, y + i * n + j0);
        }
    }
    free(a);
    return 0;
}

#endif /* TN_GEMM_INT8_U7_H */
