# rnn/rnn.pxi -- included from kernels.pyx.  Python-facing wrappers of the LSTM step kernels
# in lstm.h: validate dtypes and shapes, read row-strided slices in place, release the GIL.

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


cdef object _rows(str name, str arg, object x, object dtype, Py_ssize_t rows, Py_ssize_t cols):
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
    if not isinstance(c, np.ndarray) or c.ndim != 2 or c.dtype not in _FLOAT_TYPES:
        raise TypeError(f"lstm_cell: c must be a 2-D float32/float64 ndarray, got "
                        f"{type(c).__name__ if not isinstance(c, np.ndarray) else (c.dtype, c.shape)}")
    cdef Py_ssize_t n = c.shape[0], H = c.shape[1]
    cdef cnp.ndarray ga = _rows("lstm_cell", "gi", gi, c.dtype, n, 4 * H)
    cdef cnp.ndarray ha = _rows("lstm_cell", "gh", gh, c.dtype, n, 4 * H)
    cdef cnp.ndarray ca = _rows("lstm_cell", "c", c, c.dtype, n, H)
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
    if not isinstance(c, np.ndarray) or c.ndim != 2 or c.dtype not in _FLOAT_TYPES:
        raise TypeError(f"lstm_cell_backward: c must be a 2-D float32/float64 ndarray, got "
                        f"{type(c).__name__ if not isinstance(c, np.ndarray) else (c.dtype, c.shape)}")
    cdef Py_ssize_t n = c.shape[0], H = c.shape[1]
    cdef cnp.ndarray aa = np.ascontiguousarray(_rows("lstm_cell_backward", "gates", gates, c.dtype, n, 4 * H))
    cdef cnp.ndarray ca = _rows("lstm_cell_backward", "c", c, c.dtype, n, H)
    cdef cnp.ndarray na = _rows("lstm_cell_backward", "c_new", c_new, c.dtype, n, H)
    cdef cnp.ndarray ha = _rows("lstm_cell_backward", "grad_h", grad_h, c.dtype, n, H)
    cdef cnp.ndarray ka = _rows("lstm_cell_backward", "grad_c", grad_c, c.dtype, n, H)
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
