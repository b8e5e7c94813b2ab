/* gemm/amx_emulated.h -- the four AMX-INT8 tile instructions the quantized Linear's AMX micro-kernel
 * uses (TILELOADD, TILESTORED, TILEZERO, TDPBUSD), in plain C after the pseudo-code of Intel's
 * instruction set reference, for the one tile configuration that kernel loads: every tile 16 rows
 * of 64 bytes.
 *
 * Why: the AMX micro-kernel (TN_U7_AMX_BODY in gemm_int8_u7.h) is one body instantiated twice, on
 * the real tiles and on these.  kernels._emulate_amx(True) selects the second, so the kernel's
 * addressing -- which bytes of the activations and of the packed weights each tile load reads, the
 * strides, the VNNI layout of the weight panel, the accumulation across K blocks -- is tested on
 * CPUs without tiles, and on CPUs with them the two instantiations can be compared.  Test only: on
 * the quantized Linear it ran about ten times slower than the AVX512-VNNI path.
 */
#ifndef TN_AMX_EMULATED_H
#define TN_AMX_EMULATED_H

#include <stdint.h>
#include <string.h>

#define TN_AMX_ROWS 16
#define TN_AMX_COLSB 64

typedef struct { uint8_t row[TN_AMX_ROWS][TN_AMX_COLSB]; } tn_amx_tile;

/* TILELOADD: row r of the tile = the 64 bytes at base + r * stride. */
static void tn_amx_loadd(tn_amx_tile *t, const void *base, tn_idx stride) {
    for (int r = 0; r < TN_AMX_ROWS; r++) memcpy(t->row[r], (const uint8_t *)base + r * stride, TN_AMX_COLSB);
}

/* TILESTORED: the 64 bytes at base + r * stride = row r of the tile. */
static void tn_amx_stored(const tn_amx_tile *t, void *base, tn_idx stride) {
    for (int r = 0; r < TN_AMX_ROWS; r++) memcpy((uint8_t *)base + r * stride, t->row[r], TN_AMX_COLSB);
}

static void tn_amx_zero(tn_amx_tile *t) { memset(t, 0, sizeof *t); }

/* TDPBUSD: c.dword[m][n] += sum over k < 16, i < 4 of zero-extended a.byte[m][4k + i] times
 * sign-extended b.byte[k][4n + i], in int32 arithmetic that wraps (unsigned here: C's signed
 * overflow would be undefined). */
static void tn_amx_dpbusd(tn_amx_tile *c, const tn_amx_tile *a, const tn_amx_tile *b) {
    for (int m = 0; m < TN_AMX_ROWS; m++)
        for (int n = 0; n < TN_AMX_COLSB / 4; n++) {
            uint32_t acc;
            memcpy(&acc, &c->row[m][4 * n], 4);
            for (int k = 0; k < TN_AMX_COLSB / 4; k++)
                for (int i = 0; i < 4; i++)
                    acc += (uint32_t)((int32_t)a->row[m][4 * k + i] * (int32_t)(int8_t)b->row[k][4 * n + i]);
            memcpy(&c->row[m][4 * n], &acc, 4);
        }
}

#endif /* TN_AMX_EMULATED_H */
