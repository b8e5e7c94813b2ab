"""The graph under construction and the table of per-layer converters.

`Graph` collects ONNX nodes and initializers through `onnx.helper` / `onnx.numpy_helper` (never
hand-written protobuf) and hands out unique tensor names. `CONVERTERS` maps a layer class to the
function that writes its nodes; a new layer is exported by one function:

    @converter(nn.SomeLayer)
    def some_layer(g, layer, x, value):   # x: name of the input tensor, value: its example array
        return g.node("OnnxOp", [x, g.initializer(layer.weight, "weight")], attr=...)

A converter returns the name of its output tensor (or a tuple of names, nested as the layer's
outputs, for a layer returning several: an LSTM's (output, (h_n, c_n))). Nodes are named
"/<layer path>/<OpType>" (PyTorch's exporter's convention), so the exported graph reads layer by layer.

A model whose forward is not a chain (a residual block, a classifier around an LSTM) gets a
converter of its own that writes its sub-layers through `g.child(layer.sub, "sub", x, value)` (the
sub-layer's nodes under its path, and its output's name and example value) and the nodes between
them (an Add of a residual, a Reshape); a Sequential is the converter that does this in order.

A layer whose forward takes several tensors (a Transformer decoder: tgt, memory) registers with
`@converter(cls, inputs=2)` and gets a tuple of names and a tuple of values; one that reads keyword
arguments of its forward (a causal tgt_mask) names them, `kwargs=("tgt_mask", ...)`, and finds the
call's values in `g.kwargs` (export(..., kwargs=...) at the top, g.child(..., kwargs=...) below);
any other keyword argument is refused by name.
"""
import numpy as np

try:
    import onnx
    from onnx import helper, numpy_helper
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("tinynn.onnx needs the onnx package, which is not installed: pip install "
                      f"'tinynn-scratch[onnx]' (the [onnx] extra: onnx and onnxruntime) ({exc})") from exc

__all__ = ["Graph", "CONVERTERS", "RUNNERS", "SIGNATURES", "KEEP_NONNEGATIVE", "converter", "run", "signature", "onnx",
           "helper", "numpy_helper"]

CONVERTERS = {}  # layer class -> converter(g, layer, x_name, x_value) -> output name
RUNNERS = {}  # layer class -> fn(layer, *xs, **kwargs): what the exported graph computes, when not layer(*xs, **kwargs)
SIGNATURES = {}  # layer class -> (number of input tensors, keyword arguments its converter reads), if not (1, ())
KEEP_NONNEGATIVE = set()  # layer classes whose output is >= 0 where their input is (pooling, Flatten)


def _nearest(table, module, default=None):
    return next((table[c] for c in type(module).__mro__ if c in table), default)


def run(module, x, kwargs=None):
    """module applied to the Tensor x (a tuple of them for several inputs) as the graph computes it
    (RUNNERS[class], else module(*x, **kwargs))."""
    args, fn = (x if isinstance(x, tuple) else (x,)), _nearest(RUNNERS, module)
    return module(*args, **(kwargs or {})) if fn is None else fn(module, *args, **(kwargs or {}))


def keeps_nonnegative(module):
    """Whether module's output is >= 0 where its input is: its class is in KEEP_NONNEGATIVE, bicubic
    resizing excepted (Keys' kernel has negative lobes)."""
    return type(module) in KEEP_NONNEGATIVE and getattr(module, "mode", None) != "bicubic"


def signature(module):
    """(number of input tensors, names of the forward's keyword arguments its converter reads)."""
    return _nearest(SIGNATURES, module, (1, ()))


def converter(*classes, inputs=1, kwargs=()):
    """Register the decorated function as the converter of each of `classes`, whose forward takes
    `inputs` tensors (an int, or a tuple of the counts it accepts: a cell's (x) or (x, h)) and whose
    converter reads the keyword arguments `kwargs` (from g.kwargs)."""
    counts = tuple(int(i) for i in inputs) if isinstance(inputs, tuple) else int(inputs)

    def register(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
            if counts != 1 or kwargs:
                SIGNATURES[cls] = (counts, tuple(kwargs))
        return fn
    return register


def check_kwargs(module, kwargs, where):
    """ValueError naming each keyword argument of `module`'s call (not None) its converter does not read."""
    accepted = signature(module)[1]
    extra = sorted(k for k, v in (kwargs or {}).items() if v is not None and k not in accepted)
    if extra:
        raise ValueError(f"onnx.export: {where} ({type(module).__name__}) is called with {', '.join(extra)}, which "
                         f"tinynn does not export; its converter reads {', '.join(accepted) or 'no keyword argument'}")


def tensors(value):
    """An example value (an array, or a tuple of them) as Tensor(s)."""
    from ..tensor import Tensor

    return tuple(Tensor(v) for v in value) if isinstance(value, tuple) else Tensor(value)


def _array(value):
    from ..tensor import Tensor

    return np.asarray(value._data if isinstance(value, Tensor) else value)


def values(result):
    """A layer's output as arrays, nested as it is (a Tensor, or tuples of them)."""
    if isinstance(result, (tuple, list)):
        return tuple(values(r) for r in result)
    return _array(result)


def find_converter(module, path):
    """The converter of `module`'s class (the nearest in its MRO); ValueError naming the layer if none."""
    convert = next((CONVERTERS[c] for c in type(module).__mro__ if c in CONVERTERS), None)
    if convert is None:
        known = ", ".join(sorted(c.__name__ for c in CONVERTERS))
        raise ValueError(f"onnx.export: no ONNX converter for layer {path or '<model>'!r} of type "
                         f"{type(module).__name__}; tinynn.onnx converts {known} (add one with "
                         f"@tinynn.onnx.converter({type(module).__name__}))")
    return convert


class Graph:
    """Nodes, initializers and name bookkeeping of one export; `scope` is the path of the layer
    being converted (node names and initializer names start with it)."""

    def __init__(self, opset_version):
        self.opset_version = opset_version
        self.nodes, self.initializers = [], []
        self.scope = ""
        self._names = set()
        self._constants = {}
        self.nonnegative = set()  # tensors known to be >= 0 (after ReLU, Sigmoid): converters may use it
        self.input_axes = {}  # tensor name -> {axis: label}: a graph input's free axes, if not {0: "batch"}
        self.kwargs = {}  # the keyword arguments of the call of the layer being converted

    def convert(self, module, x, value, path, kwargs=None):
        """Write `module` applied to tensor `x` (example value `value`; tuples of them for several inputs),
        called with the keyword arguments `kwargs`, under `path`; returns (output name(s), output value(s)):
        the value is the module run on the example, in eval mode."""
        from ..autograd import no_grad

        convert = find_converter(module, path)
        check_kwargs(module, kwargs, f"layer {path or '<model>'!r}")
        scope, self.scope = self.scope, path
        call, self.kwargs = self.kwargs, dict(kwargs or {})
        try:
            out = convert(self, module, x, value)
            if x in self.nonnegative and isinstance(out, str) and keeps_nonnegative(module):
                self.nonnegative.add(out)
        finally:
            self.scope, self.kwargs = scope, call
        with no_grad():
            result = run(module, tensors(value), kwargs)
        return out, values(result)

    @property
    def layer(self):
        """The path of the layer being converted, for error messages ("<model>" at the top)."""
        return self.scope or "<model>"

    def child(self, module, name, x, value, kwargs=None):
        """Write sub-layer `module` (attribute or key `name` of the layer being converted) applied to
        `x` (with the keyword arguments `kwargs`): (output name(s), output value(s)), its nodes named
        under "<scope>.<name>"."""
        return self.convert(module, x, value, f"{self.scope}.{name}" if self.scope else str(name), kwargs)

    def name(self, base):
        """A tensor name not used yet, derived from `base`."""
        name, k = base, 1
        while name in self._names:
            name, k = f"{base}_{k}", k + 1
        self._names.add(name)
        return name

    def initializer(self, value, what, dtype=None):
        """Add a constant tensor (a Tensor, array or number) named "<scope>.<what>"; returns its name.
        Floats are stored as float32 (the graph computes in float32, whatever the model's dtype)."""
        array = _array(value)
        if dtype is not None or array.dtype.kind == "f":
            array = array.astype(dtype or np.float32)
        name = self.name(f"{self.scope}.{what}" if self.scope else what)
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C"), name))  # 0-d stays 0-d
        return name

    def constant(self, value, dtype, what):
        """A scalar constant shared by the whole graph, named `what` (one initializer per value and dtype)."""
        array = np.asarray(value, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._constants:
            scope, self.scope = self.scope, ""
            self._constants[key] = self.initializer(array, what)
            self.scope = scope
        return self._constants[key]

    def node(self, op_type, inputs, outputs=1, **attributes):
        """Add one node "/<scope>/<op_type>"; returns the name(s) of its output(s). Intermediate tensors
        are numbered ("12"), as PyTorch's exporter long numbered them: every name is stored at least
        twice (written and read), and in a small int8 graph long names would cost more than its biases."""
        node_name = self.name(f"/{self.scope.replace('.', '/')}/{op_type}" if self.scope else f"/{op_type}")
        names = [self.name(str(len(self.nodes) + i)) for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=node_name, **attributes))
        return names[0] if outputs == 1 else names

    def rename_output(self, old, new):
        """Make the node that writes tensor `old` write `new` instead (the graph's declared output), and
        the nodes that read `old` read `new`."""
        found = False
        for n in self.nodes:
            for i, name in enumerate(n.input):
                if name == old:
                    n.input[i] = new
            for i, out in enumerate(n.output):
                if out == old:
                    n.output[i] = new
                    self._names.add(new)
                    found = True
        return found
