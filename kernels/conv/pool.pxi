# conv/pool.pxi -- Python-facing pooling kernels (included by kernels.pyx): max and average pooling,
# forward and backward (pool.h).  Each wrapper checks dtypes, shapes and the window geometry, then
# runs the C core without the GIL, threads across the (image, channel) planes.

from libc.stdint cimport int64_t

cdef extern from "conv/conv.h" nogil:  # (conv.h instantiates pool.h's float bodies)
    ctypedef struct tn_pool_geom:
        tn_idx planes, h, w, ho, wo
        int kh, kw, sh, sw, ph, pw, dh, dw, count_include_pad
    void tn_max_pool2d_f32(const float *x, float *y, int64_t *idx, const tn_pool_geom *g, int nt)
    void tn_max_pool2d_f64(const double *x, double *y, int64_t *idx, const tn_pool_geom *g, int nt)
    void tn_max_pool2d_backward_f32(const float *gy, const int64_t *idx, float *dx, const tn_pool_geom *g, int nt)
    void tn_max_pool2d_backward_f64(const double *gy, const int64_t *idx, double *dx, const tn_pool_geom *g, int nt)
    void tn_avg_pool2d_f32(const float *x, float *y, const tn_pool_geom *g, int nt)
    void tn_avg_pool2d_f64(const double *x, double *y, const tn_pool_geom *g, int nt)
    void tn_avg_pool2d_backward_f32(const float *gy, float *dx, const tn_pool_geom *g, int nt)
    void tn_avg_pool2d_backward_f64(const double *gy, double *dx, const tn_pool_geom *g, int nt)


def _pool_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output length (see tinynn.backend.reference_conv.pool_output_size)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


cdef tn_pool_geom _pool_geometry(op, tuple shape, kernel_size, stride, padding, dilation, ceil_mode,
                                 count_include_pad=True) except *:
    cdef tn_pool_geom g
    if len(shape) != 4:
        raise ValueError(f"{op}: expected an input (N, C, H, W), got shape {shape}")
    kh, kw = _conv_ints(op, "kernel_size", kernel_size, 2, 1)
    sh, sw = _conv_ints(op, "stride", stride, 2, 1)
    ph, pw = _conv_ints(op, "padding", padding, 2, 0)
    dh, dw = _conv_ints(op, "dilation", dilation, 2, 1)
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"{op}: padding {(ph, pw)} must be at most half of the kernel size {(kh, kw)}")
    n, c, h, w = shape
    ho, wo = _pool_size(h, kh, sh, ph, dh, ceil_mode), _pool_size(w, kw, sw, pw, dw, ceil_mode)
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: the window {(kh, kw)} does not fit the padded input of shape {shape}")
    g.planes, g.h, g.w, g.ho, g.wo = n * c, h, w, ho, wo
    g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw = kh, kw, sh, sw, ph, pw, dh, dw
    g.count_include_pad = bool(count_include_pad)
    return g


cdef object _pool_grad(op, grad, tuple input_shape, tn_pool_geom *g):
    grad = _conv_array(op, "grad", grad)
    expected = (*input_shape[:2], g.ho, g.wo)
    if grad.shape != expected:
        raise ValueError(f"{op}: grad has shape {grad.shape}, the output has shape {expected}")
    return grad


def max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, num_threads=None):
    """(y, indices): y[n, c, i, j] the maximum over window (i, j) of x (N, C, H, W) (padding is -inf), and
    the flat index r W + q of the element chosen (PyTorch's rule: the first maximum, or the last NaN)."""
    x = _conv_array("max_pool2d", "x", x)
    cdef tn_pool_geom g = _pool_geometry("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    cdef int nt = _gemm_threads("max_pool2d", num_threads)
    y = np.empty((*x.shape[:2], g.ho, g.wo), dtype=x.dtype)
    idx = np.empty(y.shape, dtype=np.int64)
    cdef cnp.ndarray X = x, Y = y, I = idx
    if x.dtype == _FLOAT32:
        with nogil:
            tn_max_pool2d_f32(<const float *>cnp.PyArray_DATA(X), <float *>cnp.PyArray_DATA(Y),
                              <int64_t *>cnp.PyArray_DATA(I), &g, nt)
    else:
        with nogil:
            tn_max_pool2d_f64(<const double *>cnp.PyArray_DATA(X), <double *>cnp.PyArray_DATA(Y),
                              <int64_t *>cnp.PyArray_DATA(I), &g, nt)
    return y, idx


def max_pool2d_backward(grad, indices, input_shape, num_threads=None):
    """dx (input_shape) = the sum of grad over the windows whose maximum each element was."""
    grad = _conv_array("max_pool2d_backward", "grad", grad)
    if not isinstance(indices, np.ndarray) or indices.dtype != np.int64 or indices.shape != grad.shape:
        raise ValueError(f"max_pool2d_backward: indices must be int64 of the grad's shape {grad.shape}")
    input_shape = tuple(input_shape)
    if len(input_shape) != 4 or grad.ndim != 4 or input_shape[:2] != grad.shape[:2]:
        raise ValueError(f"max_pool2d_backward: grad {grad.shape} does not fit the input shape {input_shape}")
    indices = np.require(indices, requirements="CA")
    cdef tn_pool_geom g
    g.planes, g.h, g.w, g.ho, g.wo = input_shape[0] * input_shape[1], input_shape[2], input_shape[3], grad.shape[2], grad.shape[3]
    g.kh = g.kw = g.sh = g.sw = g.dh = g.dw = 1
    g.ph = g.pw = 0
    cdef int nt = _gemm_threads("max_pool2d_backward", num_threads)
    dx = np.empty(input_shape, dtype=grad.dtype)
    cdef cnp.ndarray G = grad, I = indices, D = dx
    if grad.dtype == _FLOAT32:
        with nogil:
            tn_max_pool2d_backward_f32(<const float *>cnp.PyArray_DATA(G), <const int64_t *>cnp.PyArray_DATA(I),
                                       <float *>cnp.PyArray_DATA(D), &g, nt)
    else:
        with nogil:
            tn_max_pool2d_backward_f64(<const double *>cnp.PyArray_DATA(G), <const int64_t *>cnp.PyArray_DATA(I),
                                       <double *>cnp.PyArray_DATA(D), &g, nt)
    return dx


def avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, num_threads=None):
    """y[n, c, i, j] = the sum over window (i, j) of x (N, C, H, W) over its divisor (PyTorch's)."""
    x = _conv_array("avg_pool2d", "x", x)
    cdef tn_pool_geom g = _pool_geometry("avg_pool2d", x.shape, kernel_size, stride, padding, (1, 1), ceil_mode,
                                         count_include_pad)
    cdef int nt = _gemm_threads("avg_pool2d", num_threads)
    y = np.empty((*x.shape[:2], g.ho, g.wo), dtype=x.dtype)
    cdef cnp.ndarray X = x, Y = y
    if x.dtype == _FLOAT32:
        with nogil:
            tn_avg_pool2d_f32(<const float *>cnp.PyArray_DATA(X), <float *>cnp.PyArray_DATA(Y), &g, nt)
    else:
        with nogil:
            tn_avg_pool2d_f64(<const double *>cnp.PyArray_DATA(X), <double *>cnp.PyArray_DATA(Y), &g, nt)
    return y


def avg_pool2d_backward(grad, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        num_threads=None):
    """dx (input_shape) = the sum over the windows holding each element of grad / divisor."""
    input_shape = tuple(input_shape)
    cdef tn_pool_geom g = _pool_geometry("avg_pool2d_backward", input_shape, kernel_size, stride, padding, (1, 1),
                                         ceil_mode, count_include_pad)
    grad = _pool_grad("avg_pool2d_backward", grad, input_shape, &g)
    cdef int nt = _gemm_threads("avg_pool2d_backward", num_threads)
    dx = np.empty(input_shape, dtype=grad.dtype)
    cdef cnp.ndarray G = grad, D = dx
    if grad.dtype == _FLOAT32:
        with nogil:
            tn_avg_pool2d_backward_f32(<const float *>cnp.PyArray_DATA(G), <float *>cnp.PyArray_DATA(D), &g, nt)
    else:
        with nogil:
            tn_avg_pool2d_backward_f64(<const double *>cnp.PyArray_DATA(G), <double *>cnp.PyArray_DATA(D), &g, nt)
    return dx
