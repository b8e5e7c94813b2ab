# rnn/rnn.pxi -- included from kernels.pyx.  Python-facing wrappers of the LSTM and GRU step
# kernels in lstm.h and gru.h: validate dtypes and shapes, read row-strided slices in place,
# release the GIL.

cdef extern from "rnn/lstm.h" nogil:
    void tn_lstm_cell_f32(const float *gi, long long ldgi, const float *gh, long long ldgh, const float *c,
                          long long ldc, float *h, float *cn, float *gates, long long n, long long H)
    void tn_lstm_cell_f64(const double *gi, long long ldgi, const double *gh, long long ldgh, const double *c,
                          long long ldc, double *h, double *cn, double *gates, long long n, long long H)
    void tn_lstm_cell_bw_f32(const float *gates, const float *c, long long ldc, const float *cn, long long ldcn,
                             const float *gh, long long ldgh, const float *gc, long long ldgc, float *da,
                             float *dc, long long n, long long H)
    void tn_lstm_cell_bw_f64(const double *gates, const double *c, long long ldc, const double *cn,
                             long long ldcn, const double *gh, long long ldgh, const double *gc, long long ldgc,
                             double *da, double *dc, long long n, long long H)

cdef extern from "rnn/gru.h" nogil:
    void tn_gru_cell_f32(const float *gi, long long ldgi, const float *gh, long long ldgh, const float *h,
                         long long ldh, float *hn, float *saved, long long n, long long H)
    void tn_gru_cell_f64(const double *gi, long long ldgi, const double *gh, long long ldgh, const double *h,
                         long long ldh, double *hn, double *saved, long long n, long long H)
    void tn_gru_cell_bw_f32(const float *saved, const float *h, long long ldh, const float *gh, long long ldgh,
                            float *dgi, float *dgh, float *dh, long long n, long long H)
    void tn_gru_cell_bw_f64(const double *saved, const double *h, long long ldh, const double *gh,
                            long long ldgh, double *dgi, double *dgh, double *dh, long long n, long long H)


cdef object _rnn_state(str name, str arg, object x):
    """x if it is a 2-D float32/float64 ndarray (the state that fixes N, H and the dtype), else TypeError."""
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.dtype not in _FLOAT_TYPES:
        raise TypeError(f"{name}: {arg} must be a 2-D float32/float64 ndarray, got "
                        f"{type(x).__name__ if not isinstance(x, np.ndarray) else (x.dtype, x.shape)}")
    return x


cdef object _rnn_rows(str name, str arg, object x, object dtype, Py_ssize_t rows, Py_ssize_t cols):
    """x as a (rows, cols) array of `dtype` with contiguous, aligned rows and a non-negative row
    stride (a C-ordered copy when it has not), else TypeError/ValueError naming the argument."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: {arg} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype != dtype:
        raise TypeError(f"{name}: {arg} has dtype {x.dtype}, expected {dtype}")
    if x.ndim != 2 or x.shape[0] != rows or x.shape[1] != cols:
        raise ValueError(f"{name}: {arg} has shape {x.shape}, expected {(rows, cols)}")
    if ((cols > 1 and x.strides[1] != x.itemsize) or x.strides[0] < 0 or x.strides[0] % x.itemsize
            or not x.flags.aligned):
        x = np.ascontiguousarray(x)
    return x


cdef inline long long _ld(cnp.ndarray x):
    """The row stride of a 2-D array, in elements."""
    return cnp.PyArray_STRIDES(x)[0] // cnp.PyArray_ITEMSIZE(x)


def lstm_cell(gi, gh, c):
    """(h', c', gates) of one LSTM step (rnn/lstm.h): a = gi + gh (N, 4H) in blocks (i, f, g, o),
    gates = (sigmoid a_i, sigmoid a_f, tanh a_g, sigmoid a_o), c' = f c + i g, h' = o tanh(c')."""
    _rnn_state("lstm_cell", "c", c)
    cdef Py_ssize_t n = c.shape[0], H = c.shape[1]
    cdef cnp.ndarray ga = _rnn_rows("lstm_cell", "gi", gi, c.dtype, n, 4 * H)
    cdef cnp.ndarray ha = _rnn_rows("lstm_cell", "gh", gh, c.dtype, n, 4 * H)
    cdef cnp.ndarray ca = _rnn_rows("lstm_cell", "c", c, c.dtype, n, H)
    cdef cnp.ndarray h_out = np.empty((n, H), c.dtype), c_out = np.empty((n, H), c.dtype)
    cdef cnp.ndarray gates = np.empty((n, 4 * H), c.dtype)
    cdef long long lg = _ld(ga), lh = _ld(ha), lc = _ld(ca)
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *ph = cnp.PyArray_DATA(ha)
    cdef void *pc = cnp.PyArray_DATA(ca)
    cdef void *po = cnp.PyArray_DATA(h_out)
    cdef void *pn = cnp.PyArray_DATA(c_out)
    cdef void *pa = cnp.PyArray_DATA(gates)
    cdef bint single = c.dtype == np.float32
    with nogil:
        if single:
            tn_lstm_cell_f32(<const float *>pg, lg, <const float *>ph, lh, <const float *>pc, lc,
                             <float *>po, <float *>pn, <float *>pa, n, H)
        else:
            tn_lstm_cell_f64(<const double *>pg, lg, <const double *>ph, lh, <const double *>pc, lc,
                             <double *>po, <double *>pn, <double *>pa, n, H)
    return h_out, c_out, gates


def lstm_cell_backward(gates, c, c_new, grad_h, grad_c):
    """(da (N, 4H), dc (N, H)): the gradients of lstm_cell from dL/dh' and dL/dc' (rnn/lstm.h)."""
    _rnn_state("lstm_cell_backward", "c", c)
    cdef Py_ssize_t n = c.shape[0], H = c.shape[1]
    cdef cnp.ndarray aa = np.ascontiguousarray(_rnn_rows("lstm_cell_backward", "gates", gates, c.dtype, n, 4 * H))
    cdef cnp.ndarray ca = _rnn_rows("lstm_cell_backward", "c", c, c.dtype, n, H)
    cdef cnp.ndarray na = _rnn_rows("lstm_cell_backward", "c_new", c_new, c.dtype, n, H)
    cdef cnp.ndarray ha = _rnn_rows("lstm_cell_backward", "grad_h", grad_h, c.dtype, n, H)
    cdef cnp.ndarray ka = _rnn_rows("lstm_cell_backward", "grad_c", grad_c, c.dtype, n, H)
    cdef cnp.ndarray da = np.empty((n, 4 * H), c.dtype), dc = np.empty((n, H), c.dtype)
    cdef long long lc = _ld(ca), ln = _ld(na), lh = _ld(ha), lk = _ld(ka)
    cdef void *pa = cnp.PyArray_DATA(aa)
    cdef void *pc = cnp.PyArray_DATA(ca)
    cdef void *pn = cnp.PyArray_DATA(na)
    cdef void *ph = cnp.PyArray_DATA(ha)
    cdef void *pk = cnp.PyArray_DATA(ka)
    cdef void *pd = cnp.PyArray_DATA(da)
    cdef void *pe = cnp.PyArray_DATA(dc)
    cdef bint single = c.dtype == np.float32
    with nogil:
        if single:
            tn_lstm_cell_bw_f32(<const float *>pa, <const float *>pc, lc, <const float *>pn, ln, <const float *>ph,
                                lh, <const float *>pk, lk, <float *>pd, <float *>pe, n, H)
        else:
            tn_lstm_cell_bw_f64(<const double *>pa, <const double *>pc, lc, <const double *>pn, ln,
                                <const double *>ph, lh, <const double *>pk, lk, <double *>pd, <double *>pe, n, H)
    return da, dc


def gru_cell(gi, gh, h):
    """(h', saved) of one GRU step (rnn/gru.h): r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z),
    n = tanh(gi_n + r gh_n), h' = (1 - z) n + z h;  saved = (r, z, n, gh_n) (N, 4H)."""
    _rnn_state("gru_cell", "h", h)
    cdef Py_ssize_t n = h.shape[0], H = h.shape[1]
    cdef cnp.ndarray ga = _rnn_rows("gru_cell", "gi", gi, h.dtype, n, 3 * H)
    cdef cnp.ndarray ha = _rnn_rows("gru_cell", "gh", gh, h.dtype, n, 3 * H)
    cdef cnp.ndarray sa = _rnn_rows("gru_cell", "h", h, h.dtype, n, H)
    cdef cnp.ndarray h_out = np.empty((n, H), h.dtype), saved = np.empty((n, 4 * H), h.dtype)
    cdef long long lg = _ld(ga), lh = _ld(ha), ls = _ld(sa)
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *ph = cnp.PyArray_DATA(ha)
    cdef void *ps = cnp.PyArray_DATA(sa)
    cdef void *po = cnp.PyArray_DATA(h_out)
    cdef void *pv = cnp.PyArray_DATA(saved)
    cdef bint single = h.dtype == np.float32
    with nogil:
        if single:
            tn_gru_cell_f32(<const float *>pg, lg, <const float *>ph, lh, <const float *>ps, ls, <float *>po,
                            <float *>pv, n, H)
        else:
            tn_gru_cell_f64(<const double *>pg, lg, <const double *>ph, lh, <const double *>ps, ls, <double *>po,
                            <double *>pv, n, H)
    return h_out, saved


def gru_cell_backward(saved, h, grad_h):
    """(dgi (N, 3H), dgh (N, 3H), dh (N, H)): the gradients of gru_cell from dL/dh' (rnn/gru.h);
    dh is the direct path grad_h z only."""
    _rnn_state("gru_cell_backward", "h", h)
    cdef Py_ssize_t n = h.shape[0], H = h.shape[1]
    cdef cnp.ndarray va = np.ascontiguousarray(_rnn_rows("gru_cell_backward", "saved", saved, h.dtype, n, 4 * H))
    cdef cnp.ndarray sa = _rnn_rows("gru_cell_backward", "h", h, h.dtype, n, H)
    cdef cnp.ndarray ka = _rnn_rows("gru_cell_backward", "grad_h", grad_h, h.dtype, n, H)
    cdef cnp.ndarray dgi = np.empty((n, 3 * H), h.dtype), dgh = np.empty((n, 3 * H), h.dtype)
    cdef cnp.ndarray dh = np.empty((n, H), h.dtype)
    cdef long long ls = _ld(sa), lk = _ld(ka)
    cdef void *pv = cnp.PyArray_DATA(va)
    cdef void *ps = cnp.PyArray_DATA(sa)
    cdef void *pk = cnp.PyArray_DATA(ka)
    cdef void *pi = cnp.PyArray_DATA(dgi)
    cdef void *pj = cnp.PyArray_DATA(dgh)
    cdef void *pd = cnp.PyArray_DATA(dh)
    cdef bint single = h.dtype == np.float32
    with nogil:
        if single:
            tn_gru_cell_bw_f32(<const float *>pv, <const float *>ps, ls, <const float *>pk, lk, <float *>pi,
                               <float *>pj, <float *>pd, n, H)
        else:
            tn_gru_cell_bw_f64(<const double *>pv, <const double *>ps, ls, <const double *>pk, lk, <double *>pi,
                               <double *>pj, <double *>pd, n, H)
    return dgi, dgh, dh
