# conv/conv.pxi -- Python-facing convolution kernels (included by kernels.pyx): conv2d and its two
# backward convolutions, on im2col / col2im and the blocked GEMM (conv.h).  Each wrapper checks
# dtypes, shapes and the geometry, makes its arrays C-contiguous, then runs the C core without the GIL.

cdef extern from "conv/conv.h" nogil:
    ctypedef struct tn_conv_geom:
        tn_idx n, c, h, w, o
        int groups, kh, kw, sh, sw, pt, pl, dh, dw
        tn_idx ho, wo
    int tn_conv2d_f32(const float *x, const float *wt, const float *bias, int act, float *y,
                      const tn_conv_geom *g, int nt)
    int tn_conv2d_f64(const double *x, const double *wt, const double *bias, int act, double *y,
                      const tn_conv_geom *g, int nt)
    int tn_conv2d_backward_input_f32(const float *gy, const float *wt, float *dx, const tn_conv_geom *g, int nt)
    int tn_conv2d_backward_input_f64(const double *gy, const double *wt, double *dx, const tn_conv_geom *g, int nt)
    int tn_conv2d_backward_weight_f32(const float *gy, const float *x, float *dw, const tn_conv_geom *g, int nt)
    int tn_conv2d_backward_weight_f64(const double *gy, const double *x, double *dw, const tn_conv_geom *g, int nt)


def _conv_ints(op, what, values, count, minimum):
    values = tuple(values)
    if len(values) != count or any(not isinstance(v, (int, np.integer)) or v < minimum for v in values):
        raise ValueError(f"{op}: {what} must be {count} ints >= {minimum}, got {values!r}")
    return tuple(int(v) for v in values)


cdef tn_conv_geom _conv_geometry(op, tuple x_shape, tuple w_shape, stride, padding, dilation, groups) except *:
    """The geometry of a convolution of an input of x_shape with a weight of w_shape, checked."""
    cdef tn_conv_geom g
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError(f"{op}: expected input (N, C, H, W) and weight (O, C/groups, kh, kw), got {x_shape} and {w_shape}")
    sh, sw = _conv_ints(op, "stride", stride, 2, 1)
    pt, pb, pl, pr = _conv_ints(op, "padding", padding, 4, 0)
    dh, dw = _conv_ints(op, "dilation", dilation, 2, 1)
    (groups,) = _conv_ints(op, "groups", (groups,), 1, 1)
    n, c, h, w = x_shape
    o, cg, kh, kw = w_shape
    if c != cg * groups or o % groups:
        raise ValueError(f"{op}: input {x_shape} and weight {w_shape} do not fit groups={groups}")
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    if ho < 1 or wo < 1 or kh < 1 or kw < 1:
        raise ValueError(f"{op}: kernel {(kh, kw)} (dilation {(dh, dw)}) does not fit the padded input of {x_shape}")
    g.n, g.c, g.h, g.w, g.o, g.groups = n, c, h, w, o, groups
    g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw = kh, kw, sh, sw, pt, pl, dh, dw
    g.ho, g.wo = ho, wo
    return g


def _conv_array(op, name, a, dtype=None):
    """a as an aligned C-contiguous float32/float64 ndarray (of `dtype` when given)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a numpy.ndarray, got {type(a).__name__}")
    if a.dtype not in _FLOAT_TYPES or (dtype is not None and a.dtype != dtype):
        raise TypeError(f"{op}: {name} has dtype {a.dtype}; expected {dtype or 'float32 or float64'}")
    return np.require(a, requirements="CA")


def _conv_check(int err):
    if err:
        raise MemoryError("conv2d: could not allocate the im2col buffers")


def conv2d(x, weight, bias, stride, padding, dilation, groups, activation="none", num_threads=None):
    """y = act(conv2d(x, W) + b): x (N, C, H, W), W (O, C/groups, kh, kw), b (O,) or None, one float
    dtype; stride (sh, sw), padding (top, bottom, left, right), dilation (dh, dw); act none or relu."""
    x = _conv_array("conv2d", "x", x)
    weight = _conv_array("conv2d", "weight", weight, x.dtype)
    if activation not in ("none", "relu"):
        raise ValueError(f"conv2d: activation must be 'none' or 'relu', got {activation!r}")
    cdef tn_conv_geom g = _conv_geometry("conv2d", x.shape, weight.shape, stride, padding, dilation, groups)
    if bias is not None:
        bias = _conv_array("conv2d", "bias", bias, x.dtype)
        if bias.shape != (g.o,):
            raise ValueError(f"conv2d: bias of shape {bias.shape} does not match weight of shape {weight.shape}")
    cdef int nt = _gemm_threads("conv2d", num_threads), err, act = activation == "relu"
    y = np.empty((g.n, g.o, g.ho, g.wo), dtype=x.dtype)
    cdef cnp.ndarray X = x, W = weight, Y = y
    cdef void *B = NULL if bias is None else cnp.PyArray_DATA(<cnp.ndarray>bias)
    if x.dtype == _FLOAT32:
        with nogil:
            err = tn_conv2d_f32(<const float *>cnp.PyArray_DATA(X), <const float *>cnp.PyArray_DATA(W),
                                <const float *>B, act, <float *>cnp.PyArray_DATA(Y), &g, nt)
    else:
        with nogil:
            err = tn_conv2d_f64(<const double *>cnp.PyArray_DATA(X), <const double *>cnp.PyArray_DATA(W),
                                <const double *>B, act, <double *>cnp.PyArray_DATA(Y), &g, nt)
    _conv_check(err)
    return y


cdef object _conv_grad(op, grad, tn_conv_geom *g, dtype):
    grad = _conv_array(op, "grad", grad, dtype)
    if grad.shape != (g.n, g.o, g.ho, g.wo):
        raise ValueError(f"{op}: grad has shape {grad.shape}, the output has shape {(g.n, g.o, g.ho, g.wo)}")
    return grad


def conv2d_backward_input(grad, weight, input_shape, stride, padding, dilation, groups, num_threads=None):
    """dL/dx (N, C, H, W) of y = conv2d(x, W) for dL/dy = grad: the transposed convolution (col2im of W^T grad)."""
    weight = _conv_array("conv2d_backward_input", "weight", weight)
    cdef tn_conv_geom g = _conv_geometry("conv2d_backward_input", tuple(input_shape), weight.shape, stride, padding,
                                         dilation, groups)
    grad = _conv_grad("conv2d_backward_input", grad, &g, weight.dtype)
    cdef int nt = _gemm_threads("conv2d_backward_input", num_threads), err
    dx = np.empty((g.n, g.c, g.h, g.w), dtype=weight.dtype)
    cdef cnp.ndarray G = grad, W = weight, D = dx
    if weight.dtype == _FLOAT32:
        with nogil:
            err = tn_conv2d_backward_input_f32(<const float *>cnp.PyArray_DATA(G), <const float *>cnp.PyArray_DATA(W),
                                               <float *>cnp.PyArray_DATA(D), &g, nt)
    else:
        with nogil:
            err = tn_conv2d_backward_input_f64(<const double *>cnp.PyArray_DATA(G), <const double *>cnp.PyArray_DATA(W),
                                               <double *>cnp.PyArray_DATA(D), &g, nt)
    _conv_check(err)
    return dx


def conv2d_backward_weight(grad, x, weight_shape, stride, padding, dilation, groups, num_threads=None):
    """dL/dW (O, C/groups, kh, kw) of y = conv2d(x, W) for dL/dy = grad: sum_n grad[n] im2col(x[n])^T."""
    x = _conv_array("conv2d_backward_weight", "x", x)
    cdef tn_conv_geom g = _conv_geometry("conv2d_backward_weight", x.shape, tuple(weight_shape), stride, padding,
                                         dilation, groups)
    grad = _conv_grad("conv2d_backward_weight", grad, &g, x.dtype)
    cdef int nt = _gemm_threads("conv2d_backward_weight", num_threads), err
    dw = np.empty(tuple(weight_shape), dtype=x.dtype)
    cdef cnp.ndarray G = grad, X = x, D = dw
    if x.dtype == _FLOAT32:
        with nogil:
            err = tn_conv2d_backward_weight_f32(<const float *>cnp.PyArray_DATA(G), <const float *>cnp.PyArray_DATA(X),
                                                <float *>cnp.PyArray_DATA(D), &g, nt)
    else:
        with nogil:
            err = tn_conv2d_backward_weight_f64(<const double *>cnp.PyArray_DATA(G), <const double *>cnp.PyArray_DATA(X),
                                                <double *>cnp.PyArray_DATA(D), &g, nt)
    _conv_check(err)
    return dw
