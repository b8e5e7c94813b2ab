/* common/exp.h -- exp(x) for float and double, branch-free so that loops calling it
 * vectorise; used by the activations (common/activations.h) and the softmax family.
 * No -ffast-math: NaN and inf keep their IEEE meaning.
 *
 * tn_exp_f32 / tn_exp_f64:
 *   n = rint(x / ln 2),  r = x - n ln2  (Cody-Waite: ln 2 = hi + lo, n*hi exact),
 *   so |r| <= ln(2)/2 = 0.3466, and exp(x) = 2^n exp(r), with exp(r) from its
 *   Taylor polynomial (degree 7 for float: truncation error < 5.3e-9 relative,
 *   degree 13 for double: < 4.4e-18), evaluated by Horner.  2^n is built from
 *   the exponent bits in two factors 2^(n/2) 2^(n - n/2), so results that underflow
 *   into subnormals are still right and overflow gives +inf, as in libm.
 *   Measured max error against float64 np.exp over [-103, 88]: <= 1 ulp (float),
 *   <= 2 ulp (double)  -- see tests/kernels/test_kernels_elementwise.py.
 *
 * The bits depend on the SIMD path: inside a TN_AVX2_FN or TN_AVX512_FN function GCC contracts
 * p * r + c into one FMA.  So every caller that must agree bit for bit with another
 * (the GEMM epilogue and the standalone activations) calls the same compiled body,
 * never a second copy of this code (see common/activations.h).
 */
#ifndef TN_EXP_H
#define TN_EXP_H

#include <stdint.h>
#include <string.h>

static inline float tn_bits_to_f32(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static inline double tn_bits_to_f64(uint64_t b) { double f; memcpy(&f, &b, 8); return f; }

/* The Horner steps from the 1/720 term down, shared by both precisions: degree 7 for float
 * (from p = 1/7!), degree 13 for double (six more terms first).  Each constant is computed in
 * T, (T)1 / (T)720 and so on, so both precisions get their correctly rounded value. */
#define TN_EXP_TAIL(T, p, r)                                                            \
    p = p * r + (T)1 / (T)720;                                                          \
    p = p * r + (T)1 / (T)120;                                                          \
    p = p * r + (T)1 / (T)24;                                                           \
    p = p * r + (T)1 / (T)6;                                                            \
    p = p * r + (T)0.5;                                                                 \
    p = p * r + (T)1;                                                                   \
    p = p * r + (T)1;

/* The range reduction x = n ln2 + r, |r| <= ln(2)/2: returns n (as a float) and sets *r
 * (Cody-Waite: ln 2 = hi + lo, n*hi exact; adding 1.5 * 2^23 rounds to an integer).  Shared by
 * tn_exp_f32 and the float tanh (common/activations.h). */
static inline float tn_exp_reduce_f32(float x, float *r) {
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    const float shifter = 12582912.0f;
    float nf = (x * log2e + shifter) - shifter;
    *r = (x - nf * ln2_hi) - nf * ln2_lo;
    return nf;
}

static inline float tn_exp_f32(float x) {
    x = x > 89.0f ? 89.0f : x;          /* e^89 > FLT_MAX: still +inf after scaling */
    x = x < -104.0f ? -104.0f : x;      /* e^-104 < half the smallest subnormal: 0 */
    float r;
    float nf = tn_exp_reduce_f32(x, &r);
    float p = 1.0f / 5040.0f;
    TN_EXP_TAIL(float, p, r)
    int32_t n = (int32_t)nf;
    int32_t n1 = n >> 1, n2 = n - n1;  /* each in [-75, 64]: 2^n1, 2^n2 are normal floats */
    float s1 = tn_bits_to_f32((uint32_t)(n1 + 127) << 23);
    float s2 = tn_bits_to_f32((uint32_t)(n2 + 127) << 23);
    return p * s1 * s2;
}

static inline double tn_exp_f64(double x) {
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 0.69314670562744141, ln2_lo = 4.7493250390316726e-07;
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52 */
    x = x > 710.0 ? 710.0 : x;
    x = x < -746.0 ? -746.0 : x;
    double nf = (x * log2e + shifter) - shifter;
    double r = (x - nf * ln2_hi) - nf * ln2_lo;
    double p = 1.0 / 6227020800.0;           /* 1/13! */
    p = p * r + 1.0 / 479001600.0;           /* 1/12! */
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    TN_EXP_TAIL(double, p, r)
    int64_t n = (int64_t)nf;
    int64_t n1 = n >> 1, n2 = n - n1;  /* each in [-538, 512] */
    double s1 = tn_bits_to_f64((uint64_t)(n1 + 1023) << 52);
    double s2 = tn_bits_to_f64((uint64_t)(n2 + 1023) << 52);
    return p * s1 * s2;
}

#undef TN_EXP_TAIL

#endif /* TN_EXP_H */
