"""The graph's node: `Function`, an op's forward and backward side by side, and `Function.apply`,
the one path that runs an op and records it (docs/01-autograd.md follows it step by step).
"""
import itertools

from ..dtypes import get_default_dtype, result_type
from ..printing import backward_name
from ..tensor import Tensor, as_tensor
from .grad_mode import GRAD, current

creation_order = itertools.count(0, -1)  # negative stamps: the engine's heap pops the newest node first
ctx_style = None  # custom.py: turns a subclass with a static forward(ctx, ...) into a PyTorch-style Function


class Function:
    """One node of the graph: an op's forward and backward, side by side.

    (A subclass with PyTorch's static `forward(ctx, ...)`/`backward(ctx, ...)` on Tensors is a
    custom Function instead: custom.py.) Subclasses implement `forward(self, *arrays, **options)` and `backward(self, grad)`; they
    keep what backward needs on `self` (declared in `__slots__`, which keeps nodes small).
    `self.needs_grad[i]` tells whether input i needs a gradient, so backward can skip work; it
    returns one gradient per input (None where none is needed). The engine sums each gradient
    back to its input's shape and dtype; an op whose gradients always fit already sets
    `exact_gradients = True` (an op that knows only per call declares it a slot and sets it in
    forward). `inputs` is None once backward has run: the graph is freed. During a backward
    walk, `output_grad` sums the gradients the node's consumers have handed it so far.
    """

    # `previous`: set on the node an in-place op gave a tensor, the node that tensor had before,
    # so the ops recorded earlier still send it their gradients there (engine.py, ops/inplace.py)
    __slots__ = ("inputs", "needs_grad", "order", "output_grad", "previous")
    exact_gradients = False  # True: backward returns every gradient in its input's shape and dtype
    # PyTorch's type promotion of the inputs (dtypes.py): None (an op that takes inputs as they
    # are, such as a loss with integer targets), "common" (every input cast to their result type,
    # as + - * do) or "float" (the same, then integers to the default float dtype, as / and exp do)
    promotes = None
    # backward(create_graph=True) (higher.py): `differentiable` says backward computes only through
    # backend.active kernels and Tensor-compatible methods, so it also runs on Tensors; `outputs`
    # names the slots holding the output array, `constants` the float arrays backward uses only as
    # masks (never differentiated); any other saved float array is an input's, or `recompute` makes it
    differentiable = False
    outputs = ()
    constants = ()

    def recompute(self, name, inputs):
        """The Tensor (in the graph of `inputs`) that the derived array saved in slot `name` holds,
        for create_graph; None when this op cannot say."""
        return None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("forward"), staticmethod):  # PyTorch's ctx style (custom.py)
            ctx_style(cls)

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on Tensors (or array-likes) and record it when a gradient is needed."""
        if cls.promotes:
            inputs = promoted(inputs, cls.promotes == "float")
        inputs = tuple([as_tensor(t, like=inputs) for t in inputs])  # 2.0 -> a constant Tensor
        node = cls()
        node.needs_grad = tuple([t.requires_grad for t in inputs])
        output = node.forward(*[t._data for t in inputs], **options)  # arrays in, one array out
        return record(node, inputs, output)                         # a Tensor that remembers node

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):  # what t.grad_fn shows: PyTorch's name for this backward (printing.py)
        return f"<{backward_name(self)} object at {id(self):#x}>"


def promoted(inputs, to_float):
    """The inputs, each cast to their PyTorch result type (a float when `to_float`); a cast of a
    Tensor that requires grad is itself recorded, so the gradient flows back through it."""
    dtype = None
    for t in inputs:  # the common case first: Tensors of one dtype (floating, when to_float)
        if not isinstance(t, Tensor) or (dtype is not None and t._data.dtype is not dtype):
            break
        dtype = t._data.dtype
    else:
        if not to_float or dtype.kind == "f":
            return inputs
    dtype = result_type(*inputs)
    if to_float and dtype.kind != "f":
        dtype = get_default_dtype()
    return tuple([t.to(dtype) if isinstance(t, Tensor) else as_tensor(t, dtype)
                  for t in inputs])


def record(node, inputs, output):
    """Wrap the op's output array in a Tensor and, when grad mode is on and some input needs a
    gradient, make `node` its node (stamped with its creation order for the backward walk)."""
    mode = current()
    if mode & GRAD and True in node.needs_grad:
        node.inputs, node.order, node.output_grad = inputs, next(creation_order), None
        return Tensor._wrap(output, True, node)
    return Tensor._wrap(output, False)
