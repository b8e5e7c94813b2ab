/* gemm/gemm.h -- blocked matrix multiply for tinynn.kernels (float32, float64, int8 -> int32).
 *
 * The classic BLIS decomposition ("Anatomy of High-Performance Matrix Multiplication",
 * Goto & van de Geijn), for C = A B with A (m x k), B (k x n), C (m x n), every matrix
 * given by a pointer and two element strides (row stride rs, column stride cs), so
 * transposed, sliced and negatively strided views need no copy:
 *
 *   for jc in 0..n step NC                       columns of B and C
 *     for pc in 0..k step KC                     the shared dimension
 *       pack B[pc:pc+KC, jc:jc+NC] -> Bp         KC x NC panel, NR-wide slivers (stays in L3/L2)
 *       for ic in 0..m step MC                   rows of A and C
 *         pack A[ic:ic+MC, pc:pc+KC] -> Ap       MC x KC block, MR-tall slivers (stays in L2)
 *         for jr in 0..NC step NR                macro-kernel
 *           for ir in 0..MC step MR
 *             micro-kernel: C[ir:ir+MR, jr:jr+NR] (+)= Ap sliver x Bp sliver
 *                 (KC rank-1 updates of an MR x NR accumulator held in registers)
 *             on the last KC block: epilogue (bias, activation) on that tile, still in L1
 *
 * Packing zero-pads the slivers to whole MR / NR, so the micro-kernel always runs full
 * tiles; at the matrix edges only the valid mr x nr part of the tile is written back,
 * so nothing outside A, B or C is ever read or written.
 *
 * Only the micro-kernels are machine specific: one vector template (gemm_ukr.h) compiled for
 * AVX-512 (12 x 2 zmm tiles) and AVX2+FMA (6 x 2 ymm), chosen at run time through TN_DISPATCH3
 * (common/simd.h), else the portable C ones in gemm_real.h / gemm_int8.h.  Each width gets
 * its own copy of the packing and loops (its own MR, NR and cache blocks); they are plain C.  The epilogue's activations are the standalone kernels'
 * own span functions (common/activations.h), on the same SIMD path, so a fused
 * Linear+activation gives the same bits as the Linear followed by the activation.
 *
 * Small products (fewer than TN_GEMM_MIN_PARALLEL multiply-adds, k <= KC) skip all of this:
 * gemm_direct.h builds each C tile from A and B in memory, with the same arithmetic in the
 * same order, so the bits are the same whichever path runs.
 *
 * Threads (float GEMM, tn_gemm_parallel in gemm_real.h): for each jc block the threads
 * first pack the whole k x NC panel of B together (once, not once per thread), then take
 * units -- a block of rows x a chunk of columns of C, about TN_GEMM_UNITS_PER_THREAD per
 * thread -- from a shared counter, each running the pc / ic / jr / ir loops on its unit
 * with its own packed A.  Taking units as they come (rather than one fixed half each)
 * matters on a shared machine: a thread whose core is taken by another process for a while
 * does fewer units and the other does more, instead of the whole call waiting for it.
 * The int8 GEMM cuts the output into a fixed tm x tn grid of independent serial GEMMs.
 * Small problems run on one thread (a parallel region costs microseconds).
 *
 * The float32 / float64 code is one template, gemm_real.h, included four times below (two
 * types x two vector widths).  Its parameters (T, S, MR, NR, ..., the vector macros) are the
 * one exception to the tn_/TN_ prefix: short names that exist only between the #defines and
 * the #undefs below.
 */
#ifndef TN_GEMM_H
#define TN_GEMM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "../common/simd.h"
#include "../common/activations.h"

/* Below this many multiply-adds (m n k) a GEMM runs on one thread. */
#define TN_GEMM_MIN_PARALLEL (1LL << 20)

/* Small products (see gemm_direct.h) skip packing: at most this many multiply-adds, i.e. all
 * that run on one thread anyway (measured faster than packing there, 1.1x-2.5x), ... (tests
 * lower it to 0 through kernels._set_gemm_direct_max to compare both paths bit for bit) */
#define TN_GEMM_DIRECT_MAX (TN_GEMM_MIN_PARALLEL - 1)
static long long tn_gemm_direct_max = TN_GEMM_DIRECT_MAX;
/* ... and on the portable path only this small (the packed micro-kernel is faster beyond). */
#define TN_GEMM_DIRECT_PORTABLE_MAX 4096

static inline tn_idx tn_min(tn_idx a, tn_idx b) { return a < b ? a : b; }
static inline tn_idx tn_ceil_div(tn_idx a, tn_idx b) { return (a + b - 1) / b; }

/* 64-byte aligned scratch memory (packing buffers); NULL on failure. */
static void *tn_alloc(size_t bytes) {
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    return p;
}

/* How many threads a GEMM of size m x n x k should use, given at most nt. */
static int tn_gemm_threads(tn_idx m, tn_idx n, tn_idx k, int nt) {
    long long work = (long long)m * n * k;
    if (nt <= 1 || work < TN_GEMM_MIN_PARALLEL) return 1;
    long long t = work / (TN_GEMM_MIN_PARALLEL / 2);
    return t < nt ? (int)t : nt;
}

/* Cut an m x n output (in mr x nr tiles) into a tm x tn grid for nt threads: the grid
 * with the least work per thread (tiles in its biggest block), then the squarest block
 * (least packing).  Threads beyond the number of tiles are not used (tm * tn may be < nt). */
static void tn_gemm_grid(tn_idx m, tn_idx n, int mr, int nr, int nt, int *tm, int *tn) {
    tn_idx mt = tn_ceil_div(m, mr), nt_ = tn_ceil_div(n, nr);
    long long best_work = -1, best_perim = 0;
    *tm = 1; *tn = 1;
    for (int a = 1; a <= nt; a++) {
        if (nt % a) continue;
        int b = nt / a;
        if (a > mt || b > nt_) continue;
        long long bm = tn_ceil_div(mt, a) * (long long)mr, bn = tn_ceil_div(nt_, b) * (long long)nr;
        long long work = bm * bn, perim = bm + bn;
        if (best_work < 0 || work < best_work || (work == best_work && perim < best_perim)) {
            best_work = work; best_perim = perim; *tm = a; *tn = b;
        }
    }
}

/* The end of a GEMM's body that cuts C into a fixed tm x tn grid of independent serial
 * GEMMs, one block of whole mr x nr tiles per thread, no barrier (m, n: C's size in scope):
 * the expression after nt runs block C[i0:i1, j0:j1] and gives 0, or -1 if memory ran out. */
#define TN_GEMM_GRID(mr, nr, nt, ...)                                                   \
    int tm, tn, err = 0;                                                                \
    tn_gemm_grid(m, n, mr, nr, nt, &tm, &tn);                                           \
    _Pragma("omp parallel for num_threads(tm * tn) schedule(static, 1) reduction(|: err)") \
    for (int t = 0; t < tm * tn; t++) {                                                 \
        tn_idx i0, i1, j0, j1;                                                          \
        tn_gemm_range(m, mr, tm, t / tn, &i0, &i1);                                     \
        tn_gemm_range(n, nr, tn, t % tn, &j0, &j1);                                     \
        if (i1 > i0 && j1 > j0) err |= (__VA_ARGS__);                                   \
    }                                                                                   \
    return err ? -1 : 0;

/* The block size for splitting len into ceil(len / max) equal-as-possible blocks, a multiple
 * of `unit` (so a k of 784 runs as 4 blocks of 196, not 3 of 256 and a thin one of 16). */
static tn_idx tn_balanced_block(tn_idx len, tn_idx max, tn_idx unit) {
    tn_idx blocks = tn_ceil_div(len, max);
    tn_idx b = tn_ceil_div(tn_ceil_div(len, blocks), unit) * unit;
    return b < unit ? unit : b;
}

/* Block t of `parts` equal-as-possible runs of whole tiles over [0, len). */
static void tn_gemm_range(tn_idx len, int tile, int parts, int t, tn_idx *lo, tn_idx *hi) {
    tn_idx tiles = tn_ceil_div(len, tile);
    *lo = tn_min(len, (tiles * t / parts) * tile);
    *hi = tn_min(len, (tiles * (t + 1) / parts) * tile);
}

/* Work units per thread in a parallel float GEMM: enough that a thread which loses its core
 * for a while hands the rest of its share to the others, few enough that each unit still
 * amortises packing its A block. */
#define TN_GEMM_UNITS_PER_THREAD 4
/* ... but no unit smaller than this many multiply-adds (about 0.2 ms here): handing out
 * units and cutting B into narrow chunks costs more than it saves on a small product
 * (measured: 64x784x128 on 2 threads 5% slower with 8 units than with 2). */
#define TN_GEMM_UNIT_MIN_WORK (1LL << 22)

/* Parallel float GEMMs of fewer multiply-adds than this run as a fixed grid of independent
 * serial GEMMs instead (one block per thread, no barrier): sharing the packed B and handing
 * out units costs a barrier that a ~0.2 ms product notices (measured: 64x784x128 on 2
 * threads 0.193 ms as a grid, 0.20-0.21 ms shared). */
#define TN_GEMM_SHARED_MIN (1LL << 24)

/* At most this many bytes of packed B are shared per jc block in a parallel float GEMM
 * (k x NC panel): half the L3 here, so B is still in L3 when every unit reads it. */
#define TN_GEMM_SHARED_B_BYTES (4 << 20)

/* Which OpenMP thread this is (0 when built without OpenMP). */
static inline int tn_thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Split an m x nc block of C (in mr x nr tiles, row blocks at most mc tall so a packed A
 * block stays in L2; k: the shared dimension) into *rb row blocks x *cb column chunks for nt
 * threads: TN_GEMM_UNITS_PER_THREAD units per thread where the tiles and the work allow
 * (columns are cut only when there are too few row blocks), and a multiple of nt units, so
 * that on an idle machine every thread gets the same number of equal units. */
static void tn_gemm_units(tn_idx m, tn_idx nc, tn_idx k, int mr, int nr, tn_idx mc, int nt, int *rb, int *cb) {
    tn_idx mtiles = tn_ceil_div(m, mr), ntiles = tn_ceil_div(nc, nr);
    long long work = (long long)m * nc * k, want = (long long)TN_GEMM_UNITS_PER_THREAD * nt;
    if (want > work / TN_GEMM_UNIT_MIN_WORK) want = work / TN_GEMM_UNIT_MIN_WORK;
    if (want < nt) want = nt;
    tn_idx r = tn_ceil_div(m, mc), c = 1;
    if (r < want) c = tn_min(ntiles, tn_ceil_div(want, r));
    for (int step = 0; step < nt && (r * c) % nt != 0; step++) {   /* round up to a multiple of nt */
        if (c > 1 && c < ntiles) c++;
        else if (r < mtiles) r++;
        else break;
    }
    *rb = (int)r;
    *cb = (int)c;
}

/* 1 if rows this many bytes apart, read in place by the micro-kernel, would evict each other:
 * at a multiple of 2 KB the rows of a sliver fall in one or two L1 sets (an L1 way is 4 KB), more
 * rows than the set has ways.  Measured: a 128 x 1024 A read in place at its own 4 KB stride, 1.11x
 * the time of the same A at a 4.06 KB stride (docs/04-gemm.md). */
static inline int tn_rows_alias(tn_idx stride_bytes) {
    return stride_bytes % 2048 == 0;
}

#include "gemm_avx2.h"

/* ---------------------------------------------------------------- float instances
 * gemm_real.h is included once per type T (TS: f32 / f64; VS, VD: the intrinsics' ps / pd and
 * the vector type's "" / d) and vector width VBITS: 256 (AVX2, ymm; its blocking also serves
 * the portable path) and 512 (AVX-512, zmm).  Everything else follows from those four: */
#define TN_PASTE_(a, b, c) a##b##c
#define TN_PASTE(a, b, c) TN_PASTE_(a, b, c)
#define S TN_PASTE(TS, _, VBITS)                 /* name suffix: f32_256, f64_512, ... */
#define VEC TN_PASTE(__m, VBITS, VD)             /* __m256, __m512d, ... */
#define VW (VBITS / 8 / (int)sizeof(T))          /* lanes */
#define MR TN_PASTE(TN_MR_, VBITS, )
#define NR (2 * VW)
#define MC TN_PASTE(TN_MC_, S, )
#define KC TN_PASTE(TN_KC_, S, )
#define NC 3072
#define PACK_B_ROWS 4                           /* see tn_pack_b */
#define DIRECT_A_MAX_N (1024 / (int)sizeof(T))   /* read A in place when B is at most this wide */
#define UKR_ATTR TN_PASTE(TN_ATTR_, VBITS, )
#define UKR_ROWS TN_PASTE(TN_ROWS_, VBITS, )
#define TN_V(op) TN_PASTE(TN_PASTE(_mm, VBITS, _), op, TN_PASTE(_, VS, ))   /* _mm512_fmadd_ps, ... */
#define VLOAD TN_V(load)
#define VLOADU TN_V(loadu)
#define VSTORE TN_V(store)
#define VSTOREU TN_V(storeu)
#define VADD TN_V(add)
#define VZERO TN_V(setzero)
#define VFMA TN_V(fmadd)
#define VBCAST(p) TN_V(set1)(*(p))
/* ... and the AVX2 direct path's helpers (gemm_avx2.h; 256-bit instances only) */
#define VMASK TN_PASTE(tn_mask_, TS, )
#define VMASKLOAD TN_V(maskload)
#define VSET_COLS TN_PASTE(tn_set_cols_, TS, )
#define NT_P (16 / (int)sizeof(T))
#define ROWS_PACK TN_PASTE(tn_rows_pack_, TS, )

/* Register tiles.  AVX2: 6 x 2 ymm (12 accumulators + 2 B vectors + 1 broadcast of the 16
 * registers).  AVX-512: 12 x 2 zmm (24 accumulators + 2 + 1 of 32): twice the rows, so each
 * B vector loaded feeds 12 FMAs, and 12 x 32 float32 = 1.5 KB of C per tile. */
#define TN_MR_256 6
#define TN_MR_512 12
#define TN_ROWS_256(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define TN_ROWS_512(X) TN_ROWS_256(X) X(6) X(7) X(8) X(9) X(10) X(11)
#define TN_ATTR_256 TN_AVX2_FN
#define TN_ATTR_512 TN_AVX512_FN
/* Cache blocks: a KC x NR sliver of B stays in L1 while the MC x KC block of A streams from L2
 * (see docs/04-gemm.md for the measurements behind the AVX-512 ones). */
#define TN_MC_f32_256 144
#define TN_KC_f32_256 256
#define TN_MC_f64_256 72
#define TN_KC_f64_256 256
#define TN_MC_f32_512 240
#define TN_KC_f32_512 384
#define TN_MC_f64_512 120
#define TN_KC_f64_512 256

#define T float
#define TS f32
#define VS ps
#define VD
#define VBITS 256
#include "gemm_real.h"
#if TN_HAVE_AVX512
#define VBITS 512
#include "gemm_real.h"
#endif
#undef T
#undef TS
#undef VS
#undef VD

#define T double
#define TS f64
#define VS pd
#define VD d
#define VBITS 256
#include "gemm_real.h"
#if TN_HAVE_AVX512
#define VBITS 512
#include "gemm_real.h"
#endif

/* The public entry points: the AVX-512 instance on that level, else the 256-bit one (whose
 * micro-kernel is AVX2 or portable C), and the column sums (no SIMD of their own). */
#define TN_GEMM_ENTRY(T, TS)                                                            \
static int tn_gemm_##TS(tn_idx m, tn_idx n, tn_idx k, const T *a, tn_idx rsa, tn_idx csa, \
                        const T *b, tn_idx rsb, tn_idx csb, T *c, tn_idx rsc, tn_idx csc, \
                        const T *bias, int act, int nt) {                               \
    TN_DISPATCH3(return tn_gemm_tiled_##TS##_512(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act, nt), \
                 return tn_gemm_tiled_##TS##_256(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act, nt), \
                 return tn_gemm_tiled_##TS##_256(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, act, nt)) \
}                                                                                       \
/* out_j = sum_i X_ij for an m x n matrix X (element strides rs, cs), the rows added in order \
 * starting from 0: what NumPy's x.sum(axis=0) does for a C-contiguous x, bit for bit.  \
 * (The bias gradient of a linear layer.) */                                            \
static void tn_colsum_##TS(tn_idx m, tn_idx n, const T *x, tn_idx rs, tn_idx cs, T *out) { \
    for (tn_idx j = 0; j < n; j++) out[j] = 0;                                          \
    for (tn_idx i = 0; i < m; i++) {                                                    \
        const T *row = x + i * rs;                                                      \
        if (cs == 1)                                                                    \
            for (tn_idx j = 0; j < n; j++) out[j] += row[j];                            \
        else                                                                            \
            for (tn_idx j = 0; j < n; j++) out[j] += row[j * cs];                       \
    }                                                                                   \
}
TN_GEMM_ENTRY(float, f32)
TN_GEMM_ENTRY(double, f64)
#undef TN_GEMM_ENTRY
#undef T
#undef TS
#undef VS
#undef VD
#undef S
#undef VEC
#undef VW
#undef MR
#undef NR
#undef MC
#undef KC
#undef NC
#undef PACK_B_ROWS
#undef DIRECT_A_MAX_N
#undef UKR_ATTR
#undef UKR_ROWS
#undef TN_V
#undef VLOAD
#undef VLOADU
#undef VSTORE
#undef VSTOREU
#undef VADD
#undef VZERO
#undef VFMA
#undef VBCAST
#undef VMASK
#undef VMASKLOAD
#undef VSET_COLS
#undef NT_P
#undef ROWS_PACK

#include "gemm_int8.h"

#endif /* TN_GEMM_H */
