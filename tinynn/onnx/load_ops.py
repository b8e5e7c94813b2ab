"""The ONNX operators without weights, on tinynn Tensors: one converter per op type in the table OPS.

A converter takes the node (and the loader's context: opset, constants) and returns the function
that computes the node's outputs from its inputs, all Tensors (None for an omitted optional input):

    OPS["Add"] = lambda node, ctx: lambda a, b: a + b

Float data goes through tinynn's differentiable ops, so a loaded graph can be trained or attributed;
shapes, indices and masks (int64 and bool tensors) are plain values and computed on their arrays.
Each function follows the operator's definition in the ONNX specification (opset >= 13 forms).
"""
import numpy as np

import tinynn as tn

from ..nn import functional as F
from ..tensor import Tensor
from .graph import helper

__all__ = ["OPS", "attrs", "ints", "refuse"]


def attrs(node):
    """{attribute name: value} of a node (strings as str)."""
    values = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in values.items()}


def refuse(node, why):
    raise ValueError(f"onnx.load: {node.op_type} node {node.name!r}: {why}")


def ints(t):
    """A tensor of sizes, axes or indices as a list of Python ints."""
    return [int(v) for v in np.asarray(t._data).reshape(-1)]


def _value(array):
    return Tensor(np.asarray(array))


def _axes(node, inputs, opset, since):
    """The axes of a Reduce/Squeeze/Unsqueeze node: an attribute before opset `since`, an input from it."""
    if opset >= since:
        return None if len(inputs) < 2 or inputs[1] is None else ints(inputs[1])
    a = attrs(node).get("axes")
    return None if a is None else [int(v) for v in a]


def _unary(fn):
    return lambda node, ctx: fn


def _binary(fn):
    return lambda node, ctx: lambda a, b: fn(a, b)


def _compare(fn):
    return lambda node, ctx: lambda a, b: _value(fn(a._data, b._data))


def _softmax(fn):
    def make(node, ctx):
        axis = attrs(node).get("axis", -1 if ctx.opset >= 13 else 1)
        if ctx.opset < 13 and axis != -1:
            refuse(node, f"opset {ctx.opset} < 13 flattens to 2-D before normalizing; tinynn reads opset >= 13 "
                         "(or axis=-1)")
        return lambda x: fn(x, dim=axis)
    return make


def _reshape(node, ctx):
    def reshape(x, shape):
        sizes = ints(shape)
        if not attrs(node).get("allowzero", 0):  # 0 copies the input's size on that axis
            sizes = [x.shape[i] if s == 0 else s for i, s in enumerate(sizes)]
        return x.reshape(*sizes)
    return reshape


def _flatten(node, ctx):
    axis = attrs(node).get("axis", 1)
    return lambda x: x.reshape(int(np.prod(x.shape[:axis + x.ndim if axis < 0 else axis])), -1)


def _transpose(node, ctx):
    perm = attrs(node).get("perm")
    return lambda x: x.permute(*(perm if perm is not None else range(x.ndim - 1, -1, -1)))


def _slice(node, ctx):
    def take(x, starts, ends, axes=None, steps=None):
        index = [slice(None)] * x.ndim
        axes = range(len(ints(starts))) if axes is None else ints(axes)
        steps = [1] * len(axes) if steps is None else ints(steps)
        for axis, start, end, step in zip(axes, ints(starts), ints(ends), steps):
            if step < 1:
                refuse(node, f"step {step}: tinynn slices forward only")
            index[axis] = slice(start, min(end, x.shape[axis]))
        return x[tuple(index)]
    return take


def _split(node, ctx):
    a = attrs(node)
    axis, parts = a.get("axis", 0), len(node.output)

    def split(x, sizes=None):
        size = x.shape[axis]
        sizes = ints(sizes) if sizes is not None else a.get("split") or \
            [-(-size // parts)] * (parts - 1) + [size - -(-size // parts) * (parts - 1)]
        return tuple(x.split(list(sizes), axis))
    return split


def _gather(node, ctx):
    axis = attrs(node).get("axis", 0)

    def gather(x, indices):
        index = indices._data
        return x[(slice(None),) * (axis % x.ndim) + (index if index.ndim else int(index),)]
    return gather


def _squeeze(node, ctx):
    def squeeze(x, axes=None):
        axes = _axes(node, (x, axes), ctx.opset, 13)
        axes = [i for i, s in enumerate(x.shape) if s == 1] if axes is None else [a % x.ndim for a in axes]
        return x.reshape(*[s for i, s in enumerate(x.shape) if i not in axes])
    return squeeze


def _unsqueeze(node, ctx):
    def unsqueeze(x, axes=None):
        shape, rank = list(x.shape), x.ndim + len(_axes(node, (x, axes), ctx.opset, 13))
        for a in sorted(a % rank for a in _axes(node, (x, axes), ctx.opset, 13)):
            shape.insert(a, 1)
        return x.reshape(*shape)
    return unsqueeze


def _reduce(method):
    def make(node, ctx):
        keep = bool(attrs(node).get("keepdims", 1))

        def reduce(x, axes=None):
            dims = _axes(node, (x, axes), ctx.opset, 18 if method in ("amax", "amin", "mean") else 13)
            return getattr(x, method)(dim=tuple(range(x.ndim)) if dims is None else tuple(dims), keepdim=keep)
        return reduce
    return make


def _variadic(fn):
    def make(node, ctx):
        def apply(*xs):
            y = xs[0]
            for x in xs[1:]:
                y = fn(y, x)
            return y
        return apply
    return make


def _cast(node, ctx):
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(attrs(node)["to"]))

    def cast(x):
        if dtype.kind == "f" and x.dtype.kind == "f":
            return x.double() if dtype == np.float64 else x.float()
        if dtype.kind in "iu" and x.dtype.kind == "f":  # saturate-free C cast: truncate toward 0
            return _value(np.trunc(x._data).astype(dtype))
        return _value(x._data.astype(dtype))
    return cast


def _clip(node, ctx):
    def clip(x, lo=None, hi=None):
        if x.dtype.kind != "f":
            return _value(np.clip(x._data, None if lo is None else lo._data, None if hi is None else hi._data))
        return tn.clamp(x, None if lo is None else float(lo._data), None if hi is None else float(hi._data))
    return clip


def _trilu(node, ctx):
    upper = attrs(node).get("upper", 1)

    def trilu(x, k=None):
        k = 0 if k is None else ints(k)[0]
        rows, cols = x.shape[-2:]
        keep = (np.triu if upper else np.tril)(np.ones((rows, cols), bool), k)
        return tn.where(_value(keep), x, _value(np.zeros((), x.dtype)))
    return trilu


def _pad(node, ctx):
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}[
        attrs(node).get("mode", "constant")]

    def pad(x, pads, value=None, axes=None):
        pads = ints(pads)
        axes = list(range(x.ndim)) if axes is None else [a % x.ndim for a in ints(axes)]
        begin, end = pads[:len(axes)], pads[len(axes):]
        width = {a: (b, e) for a, b, e in zip(axes, begin, end)}
        flat = [p for a in range(x.ndim - 1, -1, -1) for p in width.get(a, (0, 0))]  # PyTorch: last axis first
        fill = 0.0 if value is None else float(value._data)
        return F.pad(x, tuple(flat), mode=mode, value=fill) if mode == "constant" else F.pad(x, tuple(flat), mode=mode)
    return pad


def _where(node, ctx):
    return lambda cond, a, b: tn.where(cond, a, b)


def _concat(node, ctx):
    axis = attrs(node)["axis"]
    return lambda *xs: tn.cat(list(xs), axis)


def _expand(node, ctx):
    return lambda x, shape: x.expand(*np.broadcast_shapes(tuple(x.shape), tuple(ints(shape))))


def _constant_of_shape(node, ctx):
    from .graph import numpy_helper

    fill = attrs(node).get("value")
    fill = np.zeros(1, np.float32) if fill is None else numpy_helper.to_array(fill)
    return lambda shape: _value(np.full(ints(shape), fill.reshape(-1)[0], fill.dtype))


def _shape(node, ctx):
    a = attrs(node)
    return lambda x: _value(np.array(x.shape[a.get("start", 0):a.get("end", None)], np.int64))


def _range(node, ctx):
    return lambda start, limit, delta: _value(np.arange(start._data, limit._data, delta._data).astype(start.dtype))


def _identity(node, ctx):
    return lambda x, *rest: x if len(node.output) == 1 else (x, _value(np.ones(x.shape, bool)))


def _activation(fn, **defaults):
    def make(node, ctx):
        a = {k: attrs(node).get(k, v) for k, v in defaults.items()}
        return lambda x: fn(x, *a.values())
    return make


def _gemm(node, ctx):
    a = attrs(node)

    def gemm(x, b, c=None):
        x = x.transpose(0, 1) if a.get("transA", 0) else x
        y = tn.matmul(x, b.transpose(0, 1) if a.get("transB", 0) else b) * a.get("alpha", 1.0)
        return y if c is None else y + c * a.get("beta", 1.0)
    return gemm


OPS = {
    "Add": _binary(lambda a, b: a + b), "Sub": _binary(lambda a, b: a - b), "Mul": _binary(lambda a, b: a * b),
    "Div": _binary(lambda a, b: a / b), "Pow": _binary(lambda a, b: a ** b), "MatMul": _binary(tn.matmul),
    "Gemm": _gemm, "Max": _variadic(tn.maximum), "Min": _variadic(tn.minimum),
    "Neg": _unary(lambda x: -x), "Abs": _unary(tn.abs), "Sqrt": _unary(tn.sqrt), "Exp": _unary(tn.exp),
    "Log": _unary(tn.log), "Erf": _unary(tn.erf), "Relu": _unary(tn.relu), "Sigmoid": _unary(tn.sigmoid),
    "Tanh": _unary(tn.tanh), "Softplus": _unary(F.softplus), "Reciprocal": _unary(lambda x: 1.0 / x),
    "LeakyRelu": _activation(F.leaky_relu, alpha=0.01), "Elu": _activation(F.elu, alpha=1.0),
    "Gelu": _activation(F.gelu, approximate="none"),
    "Softmax": _softmax(F.softmax), "LogSoftmax": _softmax(F.log_softmax), "Clip": _clip,
    "Equal": _compare(np.equal), "Greater": _compare(np.greater), "Less": _compare(np.less),
    "Not": _unary(lambda x: _value(~x._data)), "Where": _where, "Trilu": _trilu,
    "Reshape": _reshape, "Flatten": _flatten, "Transpose": _transpose, "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze, "Slice": _slice, "Split": _split, "Concat": _concat, "Gather": _gather,
    "Expand": _expand, "Pad": _pad, "Shape": _shape, "ConstantOfShape": _constant_of_shape, "Range": _range,
    "Cast": _cast, "Identity": _identity, "Dropout": _identity,
    "ReduceMax": _reduce("amax"), "ReduceMin": _reduce("amin"), "ReduceMean": _reduce("mean"),
    "ReduceSum": _reduce("sum"),
}
