# quant/qconv.pxi -- included from kernels.pyx after conv/conv.pxi (it uses its geometry checks).
# The int8 convolution of quant/qconv_u7.h: quantize once, im2col straight into the micro-kernels'
# layout, the u7 x s8 GEMM per group, the epilogue written to NCHW.

from libc.stdlib cimport malloc, free

cdef extern from "quant/qconv_u7.h" nogil:
    tn_idx tn_u7_kp(tn_idx k)
    int tn_u7_conv(const tn_conv_geom *g, const float *x, float *sa, int32_t *za, const int8_t *const *bps,
                   tn_idx kp, const int32_t *rowsum, const float *sw, const float *bias, int act, float *y, int nt)


def quantized_conv2d(x, packed, kernel_size, stride, padding, dilation, x_scale, x_zero_point, w_scale,
                     bias=None, activation="none", num_threads=None):
    """y[n, o, i, j] = act(float32(acc - z_a rowsum_o) * (s_a s_w[o]) + b_o) as float32 (N, O, Ho, Wo):
    the quantized Linear's formula (quantized_linear) on the im2col rows of x, whose columns are in
    (u, v, c) order and whose padding quantizes to z_a; x float32 (N, C, H, W), `packed` one
    PackedInt8Weight (O/G, kh kw C/G) per group, padding (top, bottom, left, right).  x_scale =
    x_zero_point = None: dynamic quantization over all of x, as quantized_linear."""
    if not isinstance(x, np.ndarray) or x.dtype != _FLOAT32 or x.ndim != 4:
        raise ValueError(f"quantized_conv2d: x must be float32 (N, C, H, W), got {getattr(x, 'dtype', type(x))} "
                         f"of shape {getattr(x, 'shape', None)}")
    packed = list(packed)
    if not packed or not all(isinstance(p, PackedInt8Weight) for p in packed):
        raise TypeError("quantized_conv2d: packed must be a non-empty list of PackedInt8Weight, one per group")
    kh, kw = _conv_ints("quantized_conv2d", "kernel_size", kernel_size, 2, 1)
    groups, og, kin = len(packed), packed[0].out_features, packed[0].in_features
    if any(p.out_features != og or p.in_features != kin for p in packed) or kin % (kh * kw):
        raise ValueError(f"quantized_conv2d: the groups' packed weights differ or do not fit kernel {(kh, kw)}")
    cdef tn_conv_geom g = _conv_geometry("quantized_conv2d", x.shape, (og * groups, kin // (kh * kw), kh, kw),
                                         stride, padding, dilation, groups)
    cdef float sa = 0
    cdef int32_t za = 0
    if x_scale is None:
        if x.size == 0:
            raise ValueError(f"quantized_conv2d: dynamic quantization of an empty x {x.shape}: no range")
    else:
        if not isinstance(x_zero_point, (int, np.integer)) or not 0 <= x_zero_point <= 127:
            raise ValueError(f"quantized_conv2d: x_zero_point must be an int in [0, 127], got {x_zero_point!r}")
        if not x_scale > 0:
            raise ValueError(f"quantized_conv2d: x_scale must be > 0, got {x_scale!r}")
        sa, za = x_scale, x_zero_point
    cdef int act = _GEMM_ACTIVATIONS.get(activation, -1)
    if act < 0:
        raise ValueError(f"quantized_conv2d: unknown activation {activation!r}")
    cdef int nt = _gemm_threads("quantized_conv2d", num_threads), err = 0
    sw = _gemm_vector("quantized_conv2d", "w_scale", w_scale, g.o, np.float32)
    bs = None if bias is None else _gemm_vector("quantized_conv2d", "bias", bias, g.o, np.float32)
    rowsum = packed[0].rowsum if groups == 1 else np.concatenate([p.rowsum for p in packed])
    x = np.require(x, requirements="CA")
    y = np.empty((g.n, g.o, g.ho, g.wo), np.float32)
    cdef tn_idx kp = tn_u7_kp(kin)
    cdef const int8_t **bps = <const int8_t **>malloc(groups * sizeof(int8_t *))
    if bps == NULL:
        raise MemoryError("quantized_conv2d: out of memory")
    for i in range(groups):
        bps[i] = <const int8_t *>cnp.PyArray_DATA(<cnp.ndarray>packed[i].data)
    cdef const float *px = <const float *>cnp.PyArray_DATA(<cnp.ndarray>x)
    cdef const int32_t *pr = <const int32_t *>cnp.PyArray_DATA(<cnp.ndarray>rowsum)
    cdef const float *ps = <const float *>cnp.PyArray_DATA(<cnp.ndarray>sw)
    cdef const float *pbias = NULL if bs is None else <const float *>cnp.PyArray_DATA(<cnp.ndarray>bs)
    cdef float *py = <float *>cnp.PyArray_DATA(<cnp.ndarray>y)
    with nogil:
        err = tn_u7_conv(&g, px, &sa, &za, bps, kp, pr, ps, pbias, act, py, nt)
    free(bps)
    if err == -2:
        raise ValueError(f"quantized_conv2d: x's range [{x.min()}, {x.max()}] is not finite: no dynamic quantization parameters")
    if err:
        raise MemoryError("quantized_conv2d: could not allocate the quantized input and columns")
    return y
