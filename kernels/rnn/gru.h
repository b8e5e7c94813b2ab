/* rnn/gru.h -- the pointwise part of one GRU step, forward and backward, one row (one sample)
 * at a time, with the gate blocks in PyTorch's order (r, z, n).
 *
 * Forward, from gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh (3H values each):
 *   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r gh_n),
 *   h' = (1 - z) n + z h;   saved = (r, z, n, gh_n) (4H values) for backward.
 * Backward, from dL/dh':
 *   dn = grad_h (1 - z)(1 - n^2),  dz = grad_h (h - n) z (1 - z),  dr = dn gh_n r (1 - r);
 *   dgi = (dr, dz, dn),  dgh = (dr, dz, dn r),  dh = grad_h z (the caller adds dgh W_hh).
 * The reference is tinynn/backend/reference_recurrent.py; layout, SIMD paths and `restrict`
 * as in rnn/lstm.h.
 */
#ifndef TN_GRU_H
#define TN_GRU_H

#include "rnn_common.h"

#define TN_GRU_SPANS(T, SFX, PATH, ATTR)                                                 \
ATTR TN_NOINLINE static void tn_gru_fw_##SFX##_##PATH(                                   \
        const T *gi, long long ldgi, const T *gh, long long ldgh, const T *h, long long ldh, \
        T *hn, T *saved, long long n, long long H) {                                     \
    for (long long r = 0; r < n; r++) {                                                  \
        const T *restrict x = gi + r * ldgi, *restrict y = gh + r * ldgh;                \
        const T *restrict hr = h + r * ldh, *restrict xn = x + 2 * H, *restrict yn = y + 2 * H; \
        T *restrict s = saved + r * 4 * H, *restrict out = hn + r * H;                   \
        T *restrict sn = s + 2 * H, *restrict sg = s + 3 * H;                            \
        for (long long j = 0; j < 2 * H; j++) s[j] = tn_sigmoid_##SFX(x[j] + y[j]);      \
        const T *restrict rr = s, *restrict zz = s + H;                                  \
        TN_RNN_IVDEP for (long long j = 0; j < H; j++) {                                 \
            T nj = tn_tanh_##SFX(xn[j] + rr[j] * yn[j]);                                 \
            sn[j] = nj;                                                                  \
            sg[j] = yn[j];                                                               \
            out[j] = ((T)1 - zz[j]) * nj + zz[j] * hr[j];                                \
        }                                                                                \
    }                                                                                    \
}                                                                                        \
ATTR TN_NOINLINE static void tn_gru_bw_##SFX##_##PATH(                                   \
        const T *saved, const T *h, long long ldh, const T *gh, long long ldgh,          \
        T *dgi, T *dgh, T *dh, long long n, long long H) {                               \
    for (long long r = 0; r < n; r++) {                                                  \
        const T *restrict s = saved + r * 4 * H, *restrict hr = h + r * ldh;             \
        const T *restrict g = gh + r * ldgh;                                             \
        const T *restrict rr = s, *restrict zz = s + H, *restrict nn = s + 2 * H, *restrict yn = s + 3 * H; \
        T *restrict ir = dgi + r * 3 * H, *restrict iz = ir + H, *restrict in_ = ir + 2 * H; \
        T *restrict hr_ = dgh + r * 3 * H, *restrict hz = hr_ + H, *restrict hn_ = hr_ + 2 * H; \
        T *restrict out = dh + r * H;                                                    \
        TN_RNN_IVDEP for (long long j = 0; j < H; j++) {                                 \
            T rj = rr[j], zj = zz[j], nj = nn[j];                                        \
            T dn = g[j] * ((T)1 - zj) * ((T)1 - nj * nj);                                \
            T dz = g[j] * (hr[j] - nj) * zj * ((T)1 - zj);                               \
            T dr = dn * yn[j] * rj * ((T)1 - rj);                                        \
            ir[j] = dr; iz[j] = dz; in_[j] = dn;                                         \
            hr_[j] = dr; hz[j] = dz; hn_[j] = dn * rj;                                   \
            out[j] = g[j] * zj;                                                          \
        }                                                                                \
    }                                                                                    \
}

TN_RNN_INSTANTIATE(TN_GRU_SPANS)
#undef TN_GRU_SPANS

/* tn_gru_cell_SFX / tn_gru_cell_bw_SFX: the spans above on the current SIMD path. */
#define TN_GRU_ENTRY(T, SFX)                                                             \
static void tn_gru_cell_##SFX(const T *gi, long long ldgi, const T *gh, long long ldgh,  \
        const T *h, long long ldh, T *hn, T *saved, long long n, long long H) {          \
    TN_RNN_DISPATCH(tn_gru_fw, SFX, (gi, ldgi, gh, ldgh, h, ldh, hn, saved, n, H)) \
}                                                                                        \
static void tn_gru_cell_bw_##SFX(const T *saved, const T *h, long long ldh, const T *gh,  \
        long long ldgh, T *dgi, T *dgh, T *dh, long long n, long long H) {               \
    TN_RNN_DISPATCH(tn_gru_bw, SFX, (saved, h, ldh, gh, ldgh, dgi, dgh, dh, n, H)) \
}
TN_GRU_ENTRY(float, f32)
TN_GRU_ENTRY(double, f64)
#undef TN_GRU_ENTRY

#endif /* TN_GRU_H */
