/* rnn/rnn_common.h -- what the recurrent step kernels (lstm.h, gru.h) share: the loop promise
 * that lets GCC vectorise loops reading several gate blocks, the instantiation of a span on
 * every SIMD path for both precisions, and the run-time pick of one of them. */
#ifndef TN_RNN_COMMON_H
#define TN_RNN_COMMON_H

#include "../common/activations.h"

/* The gate blocks never overlap each other or the outputs; without this GCC does not vectorise
 * the loops that read several of them. */
#if defined(__GNUC__) && !defined(__clang__)
#define TN_RNN_IVDEP _Pragma("GCC ivdep")
#else
#define TN_RNN_IVDEP
#endif

/* SPANS(T, SFX, PATH, ATTR) defines the span functions of one path: compile them on all six. */
#define TN_RNN_INSTANTIATE(SPANS)                                                        \
    SPANS(float, f32, portable, ) SPANS(float, f32, avx2, TN_AVX2_FN)                  \
    SPANS(float, f32, avx512, TN_AVX512_FN)                                              \
    SPANS(double, f64, portable, ) SPANS(double, f64, avx2, TN_AVX2_FN)                \
    SPANS(double, f64, avx512, TN_AVX512_FN)

/* Call NAME_SFX_<path> ARGS on the current SIMD path. */
#define TN_RNN_DISPATCH(NAME, SFX, ARGS)                                                 \
    TN_DISPATCH3(NAME##_##SFX##_avx512 ARGS, NAME##_##SFX##_avx2 ARGS, NAME##_##SFX##_portable ARGS)

#endif /* TN_RNN_COMMON_H */
