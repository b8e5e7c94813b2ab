/* rnn/lstm.h -- the pointwise part of one LSTM step, forward and backward, one row (one
 * sample) at a time, with the gate blocks in PyTorch's order (i, f, g, o).
 *
 * Forward, for a row with pre-activations a = gi + gh (4H values):
 *   i, f, o = sigmoid(a_i, a_f, a_o), g = tanh(a_g);  c' = f c + i g;  h' = o tanh(c').
 * Backward, from dL/dh' and dL/dc' (t = tanh(c'), recomputed rather than stored):
 *   dc' = grad_c + grad_h o (1 - t^2);
 *   da = (dc' g i (1-i), dc' c f (1-f), dc' i (1-g^2), grad_h t o (1-o));  dc = dc' f.
 * The reference is tinynn/backend/reference_recurrent.py.  sigmoid and tanh are the scalar
 * functions of common/activations.h; each span is compiled once per SIMD path (portable,
 * AVX2, AVX-512) like the activation spans there, and GCC vectorises its inner loops.
 * Every 2-D argument is a row pointer plus a row stride in elements (its columns contiguous),
 * so slices of a larger array are read in place; the row pointers are `restrict` (outputs
 * never alias inputs: the wrappers allocate them), which lets GCC vectorise without
 * run-time overlap checks.  Single-threaded: a step of a recurrent layer
 * is N x 4H values, too little to split.
 */
#ifndef TN_LSTM_H
#define TN_LSTM_H

#include "rnn_common.h"

#define TN_LSTM_SPANS(T, SFX, PATH, ATTR)                                                \
ATTR TN_NOINLINE static void tn_lstm_fw_##SFX##_##PATH(                                  \
        const T *gi, long long ldgi, const T *gh, long long ldgh, const T *c, long long ldc, \
        T *h, T *cn, T *gates, long long n, long long H) {                               \
    for (long long r = 0; r < n; r++) {                                                  \
        const T *restrict x = gi + r * ldgi, *restrict y = gh + r * ldgh;                \
        const T *restrict cr = c + r * ldc;                                              \
        T *restrict a = gates + r * 4 * H, *restrict hr = h + r * H;                     \
        T *restrict cnr = cn + r * H;                                                    \
        for (long long j = 0; j < 2 * H; j++) a[j] = tn_sigmoid_##SFX(x[j] + y[j]);      \
        for (long long j = 2 * H; j < 3 * H; j++) a[j] = tn_tanh_##SFX(x[j] + y[j]);     \
        for (long long j = 3 * H; j < 4 * H; j++) a[j] = tn_sigmoid_##SFX(x[j] + y[j]);  \
        const T *restrict ai = a, *restrict af = a + H, *restrict ag = a + 2 * H;       \
        const T *restrict ao = a + 3 * H;                                                \
        TN_RNN_IVDEP for (long long j = 0; j < H; j++) {                                     \
            T cj = af[j] * cr[j] + ai[j] * ag[j];                                        \
            cnr[j] = cj;                                                                 \
            hr[j] = ao[j] * tn_tanh_##SFX(cj);                                           \
        }                                                                                \
    }                                                                                    \
}                                                                                        \
ATTR TN_NOINLINE static void tn_lstm_bw_##SFX##_##PATH(                                  \
        const T *gates, const T *c, long long ldc, const T *cn, long long ldcn,          \
        const T *gh, long long ldgh, const T *gc, long long ldgc, T *da, T *dc,          \
        long long n, long long H) {                                                      \
    for (long long r = 0; r < n; r++) {                                                  \
        const T *restrict a = gates + r * 4 * H, *restrict cr = c + r * ldc;             \
        const T *restrict cnr = cn + r * ldcn, *restrict dh = gh + r * ldgh;             \
        const T *restrict dcn = gc + r * ldgc;                                           \
        T *restrict di = da + r * 4 * H, *restrict df = di + H, *restrict dg = di + 2 * H; \
        T *restrict dO = di + 3 * H, *restrict dcr = dc + r * H;                         \
        const T *restrict ai = a, *restrict af = a + H, *restrict ag = a + 2 * H;       \
        const T *restrict ao = a + 3 * H;                                                \
        TN_RNN_IVDEP for (long long j = 0; j < H; j++) {                                     \
            T i = ai[j], f = af[j], g = ag[j], o = ao[j];                                \
            T t = tn_tanh_##SFX(cnr[j]);                                                 \
            T dcj = dcn[j] + dh[j] * o * ((T)1 - t * t);                                 \
            di[j] = dcj * g * i * ((T)1 - i);                                            \
            df[j] = dcj * cr[j] * f * ((T)1 - f);                                        \
            dg[j] = dcj * i * ((T)1 - g * g);                                            \
            dO[j] = dh[j] * t * o * ((T)1 - o);                                          \
            dcr[j] = dcj * f;                                                            \
        }                                                                                \
    }                                                                                    \
}

TN_RNN_INSTANTIATE(TN_LSTM_SPANS)
#undef TN_LSTM_SPANS

/* tn_lstm_cell_SFX / tn_lstm_cell_bw_SFX: the spans above on the current SIMD path. */
#define TN_LSTM_ENTRY(T, SFX)                                                            \
static void tn_lstm_cell_##SFX(const T *gi, long long ldgi, const T *gh, long long ldgh, \
        const T *c, long long ldc, T *h, T *cn, T *gates, long long n, long long H) {    \
    TN_RNN_DISPATCH(tn_lstm_fw, SFX, (gi, ldgi, gh, ldgh, c, ldc, h, cn, gates, n, H)) \
}                                                                                        \
static void tn_lstm_cell_bw_##SFX(const T *gates, const T *c, long long ldc, const T *cn, \
        long long ldcn, const T *gh, long long ldgh, const T *gc, long long ldgc, T *da,  \
        T *dc, long long n, long long H) {                                               \
    TN_RNN_DISPATCH(tn_lstm_bw, SFX, (gates, c, ldc, cn, ldcn, gh, ldgh, gc, ldgc, da, dc, n, H)) \
}
TN_LSTM_ENTRY(float, f32)
TN_LSTM_ENTRY(double, f64)
#undef TN_LSTM_ENTRY

#endif /* TN_LSTM_H */
