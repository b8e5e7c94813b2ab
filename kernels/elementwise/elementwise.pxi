# elementwise/elementwise.pxi -- included from kernels.pyx.  Python-facing wrappers of the
# activation kernels in elementwise.h: validate, pick the dtype, release the GIL.
#
# Layout rule for all of them: a C- or F-contiguous input is used in place (zero
# copy) and the output gets the same layout; any other strides are copied to C order
# first.  `out=` (optional) must have the input's shape, dtype and layout and be
# writeable; it may be the input itself (in-place).

cdef extern from "elementwise/elementwise.h" nogil:
    void tn_relu_array_f32(const float *x, float *y, long long n)
    void tn_relu_array_f64(const double *x, double *y, long long n)
    void tn_sigmoid_array_f32(const float *x, float *y, long long n)
    void tn_sigmoid_array_f64(const double *x, double *y, long long n)
    void tn_tanh_array_f32(const float *x, float *y, long long n)
    void tn_tanh_array_f64(const double *x, double *y, long long n)
    void tn_relu_bw_array_f32(const float *a, const float *b, float *y, long long n)
    void tn_relu_bw_array_f64(const double *a, const double *b, double *y, long long n)
    void tn_sigmoid_bw_array_f32(const float *a, const float *b, float *y, long long n)
    void tn_sigmoid_bw_array_f64(const double *a, const double *b, double *y, long long n)
    void tn_tanh_bw_array_f32(const float *a, const float *b, float *y, long long n)
    void tn_tanh_bw_array_f64(const double *a, const double *b, double *y, long long n)
    void tn_add_f32(const float *a, const float *b, float *y, long long n)
    void tn_add_f64(const double *a, const double *b, double *y, long long n)
    void tn_subtract_f32(const float *a, const float *b, float *y, long long n)
    void tn_subtract_f64(const double *a, const double *b, double *y, long long n)
    void tn_multiply_f32(const float *a, const float *b, float *y, long long n)
    void tn_multiply_f64(const double *a, const double *b, double *y, long long n)
    void tn_fp_clear()
    int tn_fp_flags()
    float tn_exp_f32(float x)
    double tn_exp_f64(double x)

ctypedef void (*unary_f32_t)(const float *, float *, long long) noexcept nogil
ctypedef void (*unary_f64_t)(const double *, double *, long long) noexcept nogil
ctypedef void (*binary_f32_t)(const float *, const float *, float *, long long) noexcept nogil
ctypedef void (*binary_f64_t)(const double *, const double *, double *, long long) noexcept nogil


cdef object _check_float(str name, str arg, object x):
    """x as a float32/float64 ndarray (a NumPy float scalar becomes a 0-d array), else TypeError."""
    if isinstance(x, (np.float32, np.float64)):
        return np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: {arg} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype not in _FLOAT_TYPES:
        raise TypeError(f"{name}: {arg} must be float32 or float64, got {x.dtype}")
    return x


cdef inline bint _dense(cnp.ndarray x):
    """C- or F-contiguous and aligned for its dtype (NumPy allows misaligned views, e.g. a
    float32 view at byte offset 1 of a buffer; C pointers to them are undefined behaviour)."""
    return (cnp.PyArray_IS_C_CONTIGUOUS(x) or cnp.PyArray_IS_F_CONTIGUOUS(x)) and cnp.PyArray_ISALIGNED(x)


cdef cnp.ndarray _output(str name, object like, object out):
    """A new array like `like` (same shape, dtype, layout), or `out` after checking it can be one."""
    if out is None:
        return np.empty_like(like)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name}: out must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != like.dtype:
        raise TypeError(f"{name}: out has dtype {out.dtype}, expected {like.dtype}")
    if out.shape != like.shape:
        raise ValueError(f"{name}: out has shape {out.shape}, expected {like.shape}")
    if not out.flags.writeable:
        raise ValueError(f"{name}: out is read-only")
    if not out.flags.aligned:
        raise ValueError(f"{name}: out is not aligned for {out.dtype}")
    if (<cnp.ndarray>like).flags.c_contiguous:
        if not out.flags.c_contiguous:
            raise ValueError(f"{name}: out must be C-contiguous like the input")
    elif not out.flags.f_contiguous:
        raise ValueError(f"{name}: out must be F-contiguous like the input")
    return out


cdef inline int _dense_type(object x):
    """Type number of x if it is a native float32/float64 ndarray, C- or F-contiguous and
    aligned (the fast path: the C loop reads it as it is), else -1.  (Subclasses take the
    checked path, whose np.empty_like keeps their type.)"""
    if not cnp.PyArray_CheckExact(x):
        return -1
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int t = cnp.PyArray_TYPE(a)
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or not cnp.PyArray_ISNOTSWAPPED(a) or not _dense(a):
        return -1
    return t


cdef inline cnp.ndarray _empty_like_dense(cnp.ndarray a):
    """Uninitialised array of a's shape and dtype, in a's layout (C unless a is only F-contiguous)."""
    return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a),
                             0 if cnp.PyArray_IS_C_CONTIGUOUS(a) else 1)


cdef object _unary(str name, object x, object out, unary_f32_t f32, unary_f64_t f64):
    cdef cnp.ndarray xa, ya
    if out is None and _dense_type(x) >= 0:
        xa = <cnp.ndarray>x
        ya = _empty_like_dense(xa)
    else:
        xa = _check_float(name, "x", x)
        if not _dense(xa):
            xa = np.require(xa, requirements="CA")
        ya = _output(name, xa, out)
    cdef long long n = cnp.PyArray_SIZE(xa)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *py = cnp.PyArray_DATA(ya)
    cdef bint single = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    if n < _nogil_min:
        if single:
            f32(<const float *>px, <float *>py, n)
        else:
            f64(<const double *>px, <double *>py, n)
        return ya
    with nogil:
        if single:
            f32(<const float *>px, <float *>py, n)
        else:
            f64(<const double *>px, <double *>py, n)
    return ya


cdef object _binary(str name, str aname, object a, object b, object out, binary_f32_t f32, binary_f64_t f64):
    cdef cnp.ndarray aa, ba, ya
    cdef int t = _dense_type(a)
    if (out is None and t >= 0 and _dense_type(b) == t and cnp.PyArray_SAMESHAPE(<cnp.ndarray>a, <cnp.ndarray>b)
            and (cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>b)
                 or cnp.PyArray_IS_F_CONTIGUOUS(<cnp.ndarray>a) and cnp.PyArray_IS_F_CONTIGUOUS(<cnp.ndarray>b))):
        aa = <cnp.ndarray>a
        ba = <cnp.ndarray>b
        ya = _empty_like_dense(ba)
    else:
        aa, ba, ya = _binary_checked(name, aname, a, b, out)
    cdef long long n = cnp.PyArray_SIZE(aa)
    cdef void *pa = cnp.PyArray_DATA(aa)
    cdef void *pb = cnp.PyArray_DATA(ba)
    cdef void *py = cnp.PyArray_DATA(ya)
    cdef bint single = cnp.PyArray_TYPE(aa) == cnp.NPY_FLOAT32
    if n < _nogil_min:
        if single:
            f32(<const float *>pa, <const float *>pb, <float *>py, n)
        else:
            f64(<const double *>pa, <const double *>pb, <double *>py, n)
        return ya
    with nogil:
        if single:
            f32(<const float *>pa, <const float *>pb, <float *>py, n)
        else:
            f64(<const double *>pa, <const double *>pb, <double *>py, n)
    return ya


cdef tuple _binary_checked(str name, str aname, object a, object b, object out):
    """The checked path of _binary: (a, b, result) ready for the C loop, or the error."""
    a = _check_float(name, aname, a)
    b = _check_float(name, "grad", b)
    if a.dtype != b.dtype:
        raise TypeError(f"{name}: {aname} is {a.dtype} but grad is {b.dtype}; they must match")
    if a.shape != b.shape:
        raise ValueError(f"{name}: {aname} has shape {a.shape} but grad has shape {b.shape}; they must match")
    cdef cnp.ndarray aa = a, ba = b
    cdef bint both_c = cnp.PyArray_IS_C_CONTIGUOUS(aa) and cnp.PyArray_IS_C_CONTIGUOUS(ba)
    cdef bint both_f = cnp.PyArray_IS_F_CONTIGUOUS(aa) and cnp.PyArray_IS_F_CONTIGUOUS(ba)
    if not (both_c or both_f) or not (cnp.PyArray_ISALIGNED(aa) and cnp.PyArray_ISALIGNED(ba)):
        aa = np.require(aa, requirements="CA")
        ba = np.require(ba, requirements="CA")
    return aa, ba, _output(name, ba, out)


def relu(x, out=None):
    """relu(x) = max(x, 0), elementwise (float32/float64, any shape and strides)."""
    return _unary("relu", x, out, tn_relu_array_f32, tn_relu_array_f64)


def sigmoid(x, out=None):
    """sigmoid(x) = 1 / (1 + e^-x), computed as e^x / (1 + e^x) for x < 0: never overflows."""
    return _unary("sigmoid", x, out, tn_sigmoid_array_f32, tn_sigmoid_array_f64)


def tanh(x, out=None):
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x), elementwise."""
    return _unary("tanh", x, out, tn_tanh_array_f32, tn_tanh_array_f64)


def relu_backward(x, grad, out=None):
    """dL/dx = grad where x > 0, else 0 (relu'(0) = 0)."""
    return _binary("relu_backward", "x", x, grad, out, tn_relu_bw_array_f32, tn_relu_bw_array_f64)


def sigmoid_backward(y, grad, out=None):
    """dL/dx = grad * y * (1 - y), with y = sigmoid(x)."""
    return _binary("sigmoid_backward", "y", y, grad, out, tn_sigmoid_bw_array_f32, tn_sigmoid_bw_array_f64)


def tanh_backward(y, grad, out=None):
    """dL/dx = grad * (1 - y^2), with y = tanh(x)."""
    return _binary("tanh_backward", "y", y, grad, out, tn_tanh_bw_array_f32, tn_tanh_bw_array_f64)


def _exp_scalar(double x, bint single=False):
    """The kernels' own exp (range reduction + polynomial), one value; for accuracy tests."""
    return tn_exp_f32(<float>x) if single else tn_exp_f64(x)


def _exp_array(x):
    """The kernels' exp over a contiguous float array (scalar loop, portable build); for accuracy tests."""
    cdef cnp.ndarray xa = np.require(_check_float("_exp_array", "x", x), requirements="CA")
    cdef cnp.ndarray ya = np.empty_like(xa)
    cdef Py_ssize_t i, n = cnp.PyArray_SIZE(xa)
    cdef float *xf
    cdef float *yf
    cdef double *xd
    cdef double *yd
    if cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32:
        xf = <float *>cnp.PyArray_DATA(xa); yf = <float *>cnp.PyArray_DATA(ya)
        for i in range(n):
            yf[i] = tn_exp_f32(xf[i])
    else:
        xd = <double *>cnp.PyArray_DATA(xa); yd = <double *>cnp.PyArray_DATA(ya)
        for i in range(n):
            yd[i] = tn_exp_f64(xd[i])
    return ya


# ---------------------------------------------------------------- small arithmetic (np.add & co.)
# NumPy's ufunc machinery costs ~1 us a call whatever the size; for the small same-shape arrays of
# a scalar-heavy graph that is the whole cost.  These take that case to a plain C loop and hand
# everything else to NumPy unchanged, so they are np.add / np.subtract / np.multiply in behaviour.
cdef enum:
    _ARITH_MAX = 4096     # elements; beyond, NumPy's own loops cost about the same


cdef inline bint _arith_ready(object a, object b):
    """a, b: exact ndarrays of one native float type and one shape (>= 1-D, <= _ARITH_MAX
    elements), C-contiguous and aligned."""
    if not (cnp.PyArray_CheckExact(a) and cnp.PyArray_CheckExact(b)):
        return False
    cdef cnp.ndarray x = <cnp.ndarray>a, y = <cnp.ndarray>b
    cdef int t = cnp.PyArray_TYPE(x)
    return ((t == cnp.NPY_FLOAT32 or t == cnp.NPY_FLOAT64) and cnp.PyArray_TYPE(y) == t
            and cnp.PyArray_NDIM(x) >= 1 and cnp.PyArray_SIZE(x) <= _ARITH_MAX
            and cnp.PyArray_ISCARRAY_RO(x) and cnp.PyArray_ISCARRAY_RO(y) and cnp.PyArray_SAMESHAPE(x, y))


cdef object _arith(object a, object b, binary_f32_t f32, binary_f64_t f64):
    """The C loop on a, b (already _arith_ready); None if it raised a floating-point flag."""
    cdef cnp.ndarray x = <cnp.ndarray>a
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(x), cnp.PyArray_DIMS(x), cnp.PyArray_TYPE(x), 0)
    tn_fp_clear()
    if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
        f32(<const float *>cnp.PyArray_DATA(x), <const float *>cnp.PyArray_DATA(<cnp.ndarray>b),
            <float *>cnp.PyArray_DATA(out), cnp.PyArray_SIZE(x))
    else:
        f64(<const double *>cnp.PyArray_DATA(x), <const double *>cnp.PyArray_DATA(<cnp.ndarray>b),
            <double *>cnp.PyArray_DATA(out), cnp.PyArray_SIZE(x))
    return None if tn_fp_flags() else out


def add(a, b):
    """a + b elementwise, exactly np.add(a, b, *args, **kwargs): a C loop for small same-shape,
    same-dtype, C-contiguous float32/float64 arrays (no extra arguments), NumPy for the rest and
    for any call whose loop raised a floating-point flag (so np.errstate applies)."""
    cdef object y
    if _arith_ready(a, b):
        y = _arith(a, b, tn_add_f32, tn_add_f64)
        if y is not None:
            return y
    return np.add(a, b)


def subtract(a, b):
    """a - b elementwise, exactly np.subtract(a, b, ...): the small-array C loop of `add`, else NumPy."""
    cdef object y
    if _arith_ready(a, b):
        y = _arith(a, b, tn_subtract_f32, tn_subtract_f64)
        if y is not None:
            return y
    return np.subtract(a, b)


def multiply(a, b):
    """a * b elementwise, exactly np.multiply(a, b, ...): the small-array C loop of `add`, else NumPy."""
    cdef object y
    if _arith_ready(a, b):
        y = _arith(a, b, tn_multiply_f32, tn_multiply_f64)
        if y is not None:
            return y
    return np.multiply(a, b)
