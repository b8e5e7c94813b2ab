/* common/cpu_int8.h -- which int8 dot-product path the CPU and the OS allow, and which one the
 * quantized Linear takes now (gemm/gemm_int8_u7.h).
 *
 * Paths, by rate on the CPUs they exist on:
 *   TN_I8_AMX          AMX-INT8 tiles (_tile_dpbusd), 16 x 64 bytes per tile load;
 *   TN_I8_AVX512_VNNI  vpdpbusd on zmm (16 int32 lanes, 4 u8 x s8 products each);
 *   TN_I8_AVX_VNNI     vpdpbusd on ymm: the VEX encoding (AVX-VNNI: Alder Lake, Sapphire Rapids and
 *                      later), else the same instruction's EVEX encoding (AVX512-VNNI + VL: Ice Lake,
 *                      Zen 4), which computes the same bits -- so this path's code also runs, and is
 *                      tested, on CPUs that have only the EVEX form;
 *   TN_I8_AVX2         vpmaddubsw (u8 x s8 pairs -> saturating int16) + vpmaddwd with ones;
 *   TN_I8_PORTABLE     plain C.
 * A path is usable when CPUID says the CPU has the instructions AND XCR0 says the OS saves the
 * registers they use (ymm: bits 1-2; zmm and mask registers: bits 5-7; tiles: bits 17-18), and
 * for AMX when Linux granted this process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM).
 * Every path is compiled on every build; a CPU that lacks one never selects it.
 *
 * kernels._emulate_amx(True) makes AMX usable on tiles emulated in C (gemm/amx_emulated.h), for
 * the tests.  The choice: kernels.set_int8_path(name) forces one (tests, benchmarks), "auto" takes the best
 * usable one; and a lower SIMD level forced with kernels.set_simd (tn_simd_level below what the
 * CPU supports) caps it: "portable" -> the portable int8 path, "avx2+fma" -> at most AVX2.
 */
#ifndef TN_CPU_INT8_H
#define TN_CPU_INT8_H

#include <stdint.h>
#include "simd.h"

#define TN_I8_PORTABLE 0
#define TN_I8_AVX2 1
#define TN_I8_AVX_VNNI 2
#define TN_I8_AVX512_VNNI 3
#define TN_I8_AMX 4
#define TN_I8_NPATHS 5

static const char *const tn_int8_names[TN_I8_NPATHS] = {"portable", "avx2", "avx-vnni", "avx512-vnni", "amx"};

static int tn_int8_usable = 1 << TN_I8_PORTABLE;   /* bit p: path p usable here */
static int tn_int8_forced = -1;                      /* -1: auto */
static int tn_int8_ymm_vex = 0;
static int tn_int8_amx_emulated = 0;                 /* AMX on tiles emulated in C (tests) */                      /* TN_I8_AVX_VNNI has its VEX encoding here */

#if TN_HAVE_AVX2
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

static uint64_t tn_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Ask Linux for the AMX tile data state (off by default for a process): 1 if granted. */
static int tn_amx_permission(void) {
#if defined(__linux__) && defined(SYS_arch_prctl)
    const long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    return 0;
#endif
}

static int tn_int8_detect(void) {
    unsigned a, b, c, d;
    int usable = 1 << TN_I8_PORTABLE;
    if (tn_simd_best < TN_SIMD_AVX2) return usable;
    usable |= 1 << TN_I8_AVX2;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return usable;   /* OSXSAVE */
    uint64_t xcr0 = tn_xgetbv0();
    if ((xcr0 & 0x6) != 0x6 || __get_cpuid_max(0, NULL) < 7) return usable;
    __cpuid_count(7, 0, a, b, c, d);
    unsigned b7 = b, c7 = c, d7 = d;
    __cpuid_count(7, 1, a, b, c, d);
    tn_int8_ymm_vex = (a >> 4) & 1;
    int zmm = (xcr0 & 0xE0) == 0xE0 && (b7 & (1u << 16)) && (b7 & (1u << 30)) && (b7 & (1u << 31));
    if (zmm && (c7 & (1u << 11))) usable |= 1 << TN_I8_AVX512_VNNI;
    if (tn_int8_ymm_vex || (usable & (1 << TN_I8_AVX512_VNNI))) usable |= 1 << TN_I8_AVX_VNNI;
    if ((usable & (1 << TN_I8_AVX512_VNNI)) && (d7 & (1u << 24)) && (d7 & (1u << 25))
            && (xcr0 & 0x60000) == 0x60000 && tn_amx_permission())
        usable |= 1 << TN_I8_AMX;
    return usable;
}
#else
static int tn_int8_detect(void) { return 1 << TN_I8_PORTABLE; }
#endif

static void tn_int8_init(void) {
    tn_int8_usable = tn_int8_detect() | (tn_int8_amx_emulated ? 1 << TN_I8_AMX : 0);
}

/* The path the quantized Linear takes now. */
static int tn_int8_path(void) {
    int allowed = tn_int8_usable;
    if (tn_simd_level < tn_simd_best)   /* set_simd forced a lower level: cap the int8 path too */
        allowed &= tn_simd_level <= TN_SIMD_PORTABLE ? 1 << TN_I8_PORTABLE
                                                     : (1 << TN_I8_PORTABLE) | (1 << TN_I8_AVX2);
    if (tn_int8_forced >= 0 && (allowed >> tn_int8_forced & 1)) return tn_int8_forced;
    for (int p = TN_I8_NPATHS - 1; p > 0; p--)
        if (allowed >> p & 1) return p;
    return TN_I8_PORTABLE;
}

static const char *tn_int8_path_name(void) { return tn_int8_names[tn_int8_path()]; }

#endif /* TN_CPU_INT8_H */
