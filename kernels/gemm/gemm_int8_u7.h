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
 * padded to kp (a multiple of 4, and of 64 where that adds at most 1/16 to the work, so that the
 * AMX tiles fit the Linear layers; a small convolution's k = 72 stays 72); in a panel, k
 * quad q holds 32 columns x 4 consecutive k: 128 bytes, the operand of two zmm / four ymm
 * vpdpbusd (or vpmaddubsw) per broadcast quad of a row of a, and, read with stride 128, the
 * 16 x 64-byte VNNI layout of an AMX B tile.  The activations are quantized into a scratch
 * buffer of row stride kp (zero padded: padding multiplies zero weights).
 *
 * The micro-kernels compute an MR x 32 int32 tile over a block of kp; each is one instance of
 * TN_U7_UKR (vector width, broadcast and dot product as arguments) except AMX's and the
 * portable one.  The epilogue (gemm_int8_u7_epi.h) runs the same IEEE operations in the same order
 * on every path and SIMD level, so every path gives the same bits.
 */
#ifndef TN_GEMM_INT8_U7_H
#define TN_GEMM_INT8_U7_H

#include <stdint.h>
#include <string.h>
#include "gemm.h"
#include "../common/cpu_int8.h"
#include "amx_emulated.h"
#include "../common/activations.h"
#include "../quant/quant.h"

#define TN_U7_NR 32
#define TN_U7_ROWPAD 24    /* scratch rows beyond m: the biggest MR may read them */
#define TN_U7_MC 192       /* cache blocks (tn_u7_gemm): rows of a, a multiple of every MR */
#define TN_U7_KQ 128       /* k quads (512 k) */

/* Padded K of the packed weights. */
static inline tn_idx tn_u7_kp(tn_idx k) {
    tn_idx k4 = (k + 3) / 4 * 4, k64 = (k + 63) / 64 * 64;
    return k >= 64 && k64 * 16 <= k4 * 17 ? k64 : k4;
}

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

/* Portable micro-kernel: t[i][j] (MR = 4 rows, 32 columns) over kq quads, added to t if add. */
#define TN_U7_MR_PORTABLE 4
static void tn_u7_ukr_portable(tn_idx kq, const uint8_t *a, tn_idx lda, const int8_t *b, int32_t *t, int add) {
    for (int i = 0; i < TN_U7_MR_PORTABLE; i++) {
        int32_t acc[TN_U7_NR] = {0};
        const uint8_t *ar = a + i * lda;
        if (add) memcpy(acc, t + i * TN_U7_NR, sizeof acc);
        for (tn_idx q = 0; q < kq; q++) {
            const int8_t *bq = b + q * 4 * TN_U7_NR;
            for (int j = 0; j < TN_U7_NR; j++)
                acc[j] += ar[4 * q] * bq[4 * j] + ar[4 * q + 1] * bq[4 * j + 1]
                        + ar[4 * q + 2] * bq[4 * j + 2] + ar[4 * q + 3] * bq[4 * j + 3];
        }
        memcpy(t + i * TN_U7_NR, acc, sizeof acc);
    }
}

/* One SIMD micro-kernel: MR rows x NV LANES columns (the panel's first ones: all 32, or 16 or 8
 * for a narrow layer) in MR * NV accumulators of type V (LANES int32 each), started at zero or
 * (add) at t; per k quad: NV loads of b, then per row one broadcast quad of a and NV DOT steps. */
#define TN_U7_UKR_N(NAME, ATTR, V, LANES, NV, MR, ZERO, LOAD, SET1, DOT, STORE, LOADU)     \
ATTR static void NAME(tn_idx kq, const uint8_t *a, tn_idx lda, const int8_t *b, int32_t *t, int add) { \
    V acc[MR][NV];                                                                          \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                  \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                                \
            acc[i][v] = add ? LOADU(t + i * TN_U7_NR + v * LANES) : ZERO;                   \
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
#define TN_U7_UKR(NAME, ATTR, V, LANES, MR, ZERO, LOAD, SET1, DOT, STORE, LOADU) \
    TN_U7_UKR_N(NAME, ATTR, V, LANES, TN_U7_NR / LANES, MR, ZERO, LOAD, SET1, DOT, STORE, LOADU)

#if TN_HAVE_AVX2
#define TN_U7_LOAD256(p) _mm256_load_si256((const __m256i *)(p))
#define TN_U7_STORE256(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define TN_U7_LOAD512(p) _mm512_load_si512((const void *)(p))
#define TN_U7_STORE512(p, v) _mm512_storeu_si512((void *)(p), v)
#define TN_U7_LOADU256(p) _mm256_loadu_si256((const __m256i *)(p))
#define TN_U7_LOADU512(p) _mm512_loadu_si512((const void *)(p))
/* AVX2: u7 x s8 pairs into int16 (exact, see above), pairs of int16 into int32 by madd with 1s. */
#define TN_U7_DOT_AVX2(c, a, b) \
    _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)))
#define TN_U7_MR_AVX2 2
TN_U7_UKR(tn_u7_ukr_avx2, TN_AVX2_FN, __m256i, 8, TN_U7_MR_AVX2, _mm256_setzero_si256(),
          TN_U7_LOAD256, _mm256_set1_epi32, TN_U7_DOT_AVX2, TN_U7_STORE256, TN_U7_LOADU256)
#define TN_U7_MR_AVX_VNNI 3
/* The ymm VNNI path in two encodings of one instruction (common/cpu_int8.h): VEX, and EVEX for
 * CPUs that have AVX512-VNNI but not AVX-VNNI. */
#define TN_U7_AVX_VNNI(NAME, ATTR, DOT) \
    TN_U7_UKR(NAME, ATTR, __m256i, 8, TN_U7_MR_AVX_VNNI, _mm256_setzero_si256(), TN_U7_LOAD256, \
              _mm256_set1_epi32, DOT, TN_U7_STORE256, TN_U7_LOADU256)
TN_U7_AVX_VNNI(tn_u7_ukr_avx_vnni, __attribute__((target("avx2,fma,avxvnni"))), _mm256_dpbusd_avx_epi32)
TN_U7_AVX_VNNI(tn_u7_ukr_avx_vnni_evex, __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))),
               _mm256_dpbusd_epi32)
#define TN_U7_MR_AVX512_VNNI 12
TN_U7_UKR(tn_u7_ukr_avx512_vnni, __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))), __m512i, 16,
          TN_U7_MR_AVX512_VNNI, _mm512_setzero_si512(), TN_U7_LOAD512, _mm512_set1_epi32, _mm512_dpbusd_epi32,
          TN_U7_STORE512, TN_U7_LOADU512)
TN_U7_UKR(tn_u7_ukr_avx512_vnni8, __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))), __m512i, 16,
          8, _mm512_setzero_si512(), TN_U7_LOAD512, _mm512_set1_epi32, _mm512_dpbusd_epi32, TN_U7_STORE512, TN_U7_LOADU512)
TN_U7_UKR(tn_u7_ukr_avx512_vnni4, __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))), __m512i, 16,
          4, _mm512_setzero_si512(), TN_U7_LOAD512, _mm512_set1_epi32, _mm512_dpbusd_epi32, TN_U7_STORE512, TN_U7_LOADU512)
/* Narrow layers (a convolution's 8 or 16 output channels): one zmm or one ymm (EVEX vpdpbusd,
 * AVX512-VL) per row instead of two zmm, 24 rows per tile: 2x / 4x fewer instructions per row. */
#define TN_U7_VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define TN_U7_NARROW(MR)                                                                             \
TN_U7_UKR_N(tn_u7_ukr_avx512_vnni_n16_##MR, TN_U7_VNNI512, __m512i, 16, 1, MR, _mm512_setzero_si512(),   \
            TN_U7_LOAD512, _mm512_set1_epi32, _mm512_dpbusd_epi32, TN_U7_STORE512, TN_U7_LOADU512)   \
TN_U7_UKR_N(tn_u7_ukr_avx512_vnni_n8_##MR, TN_U7_VNNI512, __m256i, 8, 1, MR, _mm256_setzero_si256(),     \
            TN_U7_LOAD256, _mm256_set1_epi32, _mm256_dpbusd_epi32, TN_U7_STORE256, TN_U7_LOADU256)
TN_U7_NARROW(24)
TN_U7_NARROW(12)
TN_U7_NARROW(4)

#endif

/* AMX: 16 rows x 32 columns as two 16 x 16 int32 C tiles (3, 4); per 64 k, one A tile (0: 16 rows
 * of 64 bytes, stride lda) and two B tiles (1, 2: 16 quads x 64 bytes, stride 128: the left and
 * right 16 columns of the panel).  Needs kq % 16 == 0.  One body, instantiated on the real tiles
 * (compiled on every build, run only where CPUID, XCR0 and arch_prctl allow it) and on the tiles
 * emulated in C (amx_emulated.h, for the tests). */
#define TN_U7_MR_AMX 16
#define TN_U7_AMX_BODY(LOADD, ZERO, DPBUSD, STORED)                        \
    if (add) {                                                              \
        LOADD(3, t, 4 * TN_U7_NR);                                          \
        LOADD(4, t + 16, 4 * TN_U7_NR);                                     \
    } else {                                                                \
        ZERO(3);                                                            \
        ZERO(4);                                                            \
    }                                                                       \
    for (tn_idx q = 0; q < kq; q += 16) {                                   \
        LOADD(0, a + 4 * q, lda);                                           \
        LOADD(1, b + q * 4 * TN_U7_NR, 4 * TN_U7_NR);                       \
        LOADD(2, b + q * 4 * TN_U7_NR + 64, 4 * TN_U7_NR);                  \
        DPBUSD(3, 0, 1);                                                    \
        DPBUSD(4, 0, 2);                                                    \
    }                                                                       \
    STORED(3, t, 4 * TN_U7_NR);                                             \
    STORED(4, t + 16, 4 * TN_U7_NR);

#define TN_AMX_EMU_LOADD(i, p, stride) tn_amx_loadd(&tile[i], p, stride)
#define TN_AMX_EMU_ZERO(i) tn_amx_zero(&tile[i])
#define TN_AMX_EMU_DPBUSD(c, x, y) tn_amx_dpbusd(&tile[c], &tile[x], &tile[y])
#define TN_AMX_EMU_STORED(i, p, stride) tn_amx_stored(&tile[i], p, stride)
static void tn_u7_ukr_amx_emulated(tn_idx kq, const uint8_t *a, tn_idx lda, const int8_t *b, int32_t *t, int add) {
    tn_amx_tile tile[5];
    TN_U7_AMX_BODY(TN_AMX_EMU_LOADD, TN_AMX_EMU_ZERO, TN_AMX_EMU_DPBUSD, TN_AMX_EMU_STORED)
}

#if TN_HAVE_AVX2
typedef struct {
    uint8_t palette_id, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tn_tilecfg;

__attribute__((target("amx-tile,amx-int8")))
static void tn_u7_ukr_amx(tn_idx kq, const uint8_t *a, tn_idx lda, const int8_t *b, int32_t *t, int add) {
    tn_tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette_id = 1;
    for (int r = 0; r < 5; r++) { cfg.rows[r] = TN_AMX_ROWS; cfg.colsb[r] = TN_AMX_COLSB; }
    /* _tile_loadconfig does not tell the compiler it reads cfg: without this barrier GCC 12 at
     * -O3 dropped the stores above and the tile instructions faulted (SIGILL). */
    __asm__ volatile("" ::: "memory");
    _tile_loadconfig(&cfg);
    TN_U7_AMX_BODY(_tile_loadd, _tile_zero, _tile_dpbusd, _tile_stored)
    _tile_release();
}
#endif

typedef void (*tn_u7_ukr_fn)(tn_idx, const uint8_t *, tn_idx, const int8_t *, int32_t *, int);

/* The micro-kernels of the path chosen now for n output columns, biggest MR first: a tile of r < mr[0] leftover rows
 * takes the smallest one with mr >= r (the rows it reads beyond m are the scratch's zero rows). */
typedef struct { tn_u7_ukr_fn f[3]; int mr[3]; int count; } tn_u7_kernels;

static tn_u7_kernels tn_u7_select(tn_idx kp, tn_idx n) {
    tn_u7_kernels s = {{tn_u7_ukr_portable}, {TN_U7_MR_PORTABLE}, 1};
    int path = tn_int8_path();
#if TN_HAVE_AVX2
    if (path == TN_I8_AMX && kp % 64 != 0)   /* the tiles read whole 64-byte rows: the best path below */
        do path--; while (!(tn_int8_usable >> path & 1));
    switch (path) {
    case TN_I8_AMX:
        s.f[0] = tn_int8_amx_emulated ? tn_u7_ukr_amx_emulated : tn_u7_ukr_amx;
        s.mr[0] = TN_U7_MR_AMX;
        break;
    case TN_I8_AVX512_VNNI:
        if (n <= 8)
            s = (tn_u7_kernels){{tn_u7_ukr_avx512_vnni_n8_24, tn_u7_ukr_avx512_vnni_n8_12, tn_u7_ukr_avx512_vnni_n8_4},
                                {24, 12, 4}, 3};
        else if (n <= 16)
            s = (tn_u7_kernels){{tn_u7_ukr_avx512_vnni_n16_24, tn_u7_ukr_avx512_vnni_n16_12,
                                 tn_u7_ukr_avx512_vnni_n16_4}, {24, 12, 4}, 3};
        else
            s = (tn_u7_kernels){{tn_u7_ukr_avx512_vnni, tn_u7_ukr_avx512_vnni8, tn_u7_ukr_avx512_vnni4},
                                {TN_U7_MR_AVX512_VNNI, 8, 4}, 3};
        break;
    case TN_I8_AVX_VNNI:
        s.f[0] = tn_int8_ymm_vex ? tn_u7_ukr_avx_vnni : tn_u7_ukr_avx_vnni_evex;
        s.mr[0] = TN_U7_MR_AVX_VNNI;
        break;
    case TN_I8_AVX2: s.f[0] = tn_u7_ukr_avx2; s.mr[0] = TN_U7_MR_AVX2; break;
    default: break;
    }
#endif
    (void)path;
    (void)kp;
    return s;
}

#include "gemm_int8_u7_epi.h"   /* the epilogue (tn_u7_epi, tn_u7_out) */

/* The epilogue of a Bp^T into out, a: m quantized rows of stride kp (rows up to the next tile
 * readable), for the panels [p0, p1) of 32 columns.  Cache blocks: TN_U7_MC rows of a against
 * TN_U7_KQ quads (512 k) of one panel, whose 16 KB of weights stay in L1 while the rows stream
 * past (fbgemm blocks K at 512 on VNNI too); the block's int32 sums wait in tb between K blocks. */
static void tn_u7_gemm(tn_idx m, const uint8_t *a, const tn_u7_epi *e, const tn_u7_kernels *ks,
                       const tn_u7_out *o, tn_idx p0, tn_idx p1) {
    int32_t tb[(TN_U7_MC + TN_U7_ROWPAD) * TN_U7_NR] __attribute__((aligned(64)));
    tn_idx kp = e->kp, kq = kp / 4;
    for (tn_idx ic = 0; ic < m; ic += TN_U7_MC) {
        tn_idx mc = tn_min(TN_U7_MC, m - ic);
        for (tn_idx p = p0; p < p1; p++) {
            tn_idx j0 = p * TN_U7_NR;
            int nr = (int)tn_min(TN_U7_NR, e->n - j0);
            for (tn_idx q0 = 0; q0 == 0 || q0 < kq; q0 += TN_U7_KQ) {   /* (k = 0: one pass of zeros) */
                tn_idx nq = tn_min(TN_U7_KQ, kq - q0);
                for (tn_idx i0 = 0; i0 < mc;) {
                    int w = 0;
                    while (w + 1 < ks->count && ks->mr[w + 1] >= mc - i0) w++;
                    ks->f[w](nq, a + (ic + i0) * kp + 4 * q0, kp, e->bp + j0 * kp + q0 * 4 * TN_U7_NR,
                             tb + i0 * TN_U7_NR, q0 > 0);
                    i0 += ks->mr[w];
                }
            }
            if (o->csy == 1) {
                for (tn_idx i = 0; i < mc; i++) {
                    tn_idx r = o->off + ic + i;
                    tn_u7_epilogue(nr, tb + i * TN_U7_NR, e, j0, o->y + r / o->per * o->gs + r % o->per * o->rsy + j0, 1);
                }
            } else {
                tn_u7_block_out(mc, nr, tb, e, j0, o, o->off + ic);
            }
        }
    }
}

/* Per-thread scratch, kept between calls (a fresh allocation of this size cost page faults on every
 * call of a small layer); grown when a call needs more; two slots (the convolution's quantized
 * image and each thread's columns).  64-byte aligned. */
static __thread uint8_t *tn_u7_scratch_buf[2] = {NULL, NULL};
static __thread size_t tn_u7_scratch_size[2] = {0, 0};
static uint8_t *tn_u7_scratch(int slot, size_t bytes) {
    if (bytes > tn_u7_scratch_size[slot]) {
        free(tn_u7_scratch_buf[slot]);
        tn_u7_scratch_size[slot] = 0;
        tn_u7_scratch_buf[slot] = (uint8_t *)tn_alloc(bytes);
        if (tn_u7_scratch_buf[slot] != NULL) tn_u7_scratch_size[slot] = bytes;
    }
    return tn_u7_scratch_buf[slot];
}


/* y (m x n, row stride n) = the quantized Linear of float32 x (m x k, row stride rsx) with packed
 * weights bp (tn_u7_pack), per-channel scales sw, row sums of w, bias (or NULL) and activation act;
 * activations at (*sa, *za) with 0 <= z_a <= 127, or, if *sa <= 0, at the tn_u7_qparams of x's
 * range (dynamic quantization; written back to *sa, *za).  Returns 0, -1 if memory ran out, -2 if
 * a dynamic range is not finite. */
static int tn_u7_linear(tn_idx m, tn_idx n, tn_idx k, const float *x, tn_idx rsx, float *sa_io, int32_t *za_io,
                        const int8_t *bp, const int32_t *rowsum, const float *sw, const float *bias,
                        int act, float *y, int nt) {
    if (m <= 0 || n <= 0) return 0;
    if (*sa_io <= 0.0f) {
        float lo, hi;
        tn_minmax_rows_f32(m, k, x, rsx, &lo, &hi);
        if (tn_u7_qparams(lo, hi, sa_io, za_io) != 0) return -2;
    }
    float sa = *sa_io;
    int32_t za = *za_io;
    tn_idx kp = tn_u7_kp(k);
    size_t abytes = (size_t)(m + TN_U7_ROWPAD) * (size_t)kp, nb = (size_t)n * 4;
    uint8_t *a = tn_u7_scratch(0, abytes + 2 * nb + 64);
    if (a == NULL) return -1;
    int32_t *zrs = (int32_t *)(a + (abytes + 63) / 64 * 64);
    float *scale = (float *)(zrs + n);
    tn_u7_epi_columns(n, sa, za, rowsum, sw, zrs, scale);
    float inv = 1.0f / sa;
    for (tn_idx i = 0; i < m; i++) {
        tn_quantize_row(x + i * rsx, k, 1, inv, (float)za, 0.0f, 127.0f, (int8_t *)(a + i * kp));
        memset(a + i * kp + k, 0, (size_t)(kp - k));
    }
    memset(a + m * kp, 0, (size_t)(TN_U7_ROWPAD * kp));
    tn_u7_kernels ks = tn_u7_select(kp, n);
    tn_u7_epi e = {n, kp, bp, zrs, scale, bias, act};
    tn_idx panels = tn_ceil_div(n, TN_U7_NR);
    if (nt > panels) nt = (int)panels;
    if ((long long)m * n * k < TN_GEMM_MIN_PARALLEL) nt = 1;
    tn_u7_out o = {y, m, 0, n, 1, 0};
    if (nt <= 1) {
        tn_u7_gemm(m, a, &e, &ks, &o, 0, panels);
        return 0;
    }
    #pragma omp parallel num_threads(nt)
    {
#ifdef _OPENMP
        int t = omp_get_thread_num(), nth = omp_get_num_threads();
#else
        int t = 0, nth = 1;
#endif
        tn_u7_gemm(m, a, &e, &ks, &o, panels * t / nth, panels * (t + 1) / nth);
    }
    return 0;
}

#endif /* TN_GEMM_INT8_U7_H */
