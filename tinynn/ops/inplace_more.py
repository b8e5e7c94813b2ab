"""Tensor.X_ for PyTorch's in-place math methods, from one table: x.X_(*args) makes x.X(*args) x's new value in
x's own memory through inplace.inplace, so PyTorch's rules hold (the version counter goes up, a leaf that
requires grad refuses, the gradient reaches x's previous node, a result that cannot be cast to x's dtype is
a RuntimeError). A result without a gradient (a comparison, say) keeps x's dtype (eq_ writes 1.0 and 0.0)
and sends none to x's old value. torch.X_(x, ...) is x.X_(...) for the names in FUNCTION_NAMES."""
from ..dtypes import checked_dtype
from .inplace import InplaceMethods, _constant, inplace

NAMES = (  # the out-of-place method X of each Tensor.X_ here
    "sin", "cos", "tan", "sinh", "cosh", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "asinh", "acosh",
    "atanh", "arcsinh", "arccosh", "arctanh", "exp2", "expm1", "log1p", "log2", "log10", "erf", "rsqrt",
    "reciprocal", "sign", "frac", "fix", "square", "absolute", "negative", "atan2", "arctan2", "fmod", "remainder",
    "floor_divide", "true_divide", "multiply", "divide", "subtract", "lerp", "clamp_min", "clamp_max", "tril",
    "triu", "cumsum", "cumprod", "addmm", "addmv", "baddbmm", "addbmm", "addr", "addcmul", "addcdiv", "renorm",
    "masked_fill", "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm",
)
# torch.<name>(input, ...) = input.<name>(...): the in-place functions PyTorch also has at the top level
FUNCTION_NAMES = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
    "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_",
    "erf_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "gcd_", "lcm_", "log10_", "log1p_", "log2_",
    "log_", "neg_", "negative_", "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinh_", "sqrt_", "square_",
    "tan_", "tanh_", "trunc_", "fill_", "zero_",
)


def _inplace_method(name):
    def method(self, *args, **kwargs):
        dtype = kwargs.get("dtype")  # cumsum_/cumprod_: PyTorch refuses a dtype other than self's
        if dtype is not None and checked_dtype(dtype, name + "_") != self.dtype:
            raise RuntimeError(f"{name}_: bad in-place call: input tensor dtype {self.dtype} and output tensor "
                               f"dtype {checked_dtype(dtype)} should match")

        def compute(s):
            result = getattr(s, name)(*args, **kwargs)
            return _constant(s, result) if s.requires_grad and not result.requires_grad else result
        return inplace(self, name + "_", compute)
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"self <- self.{name}(...), in place."
    return method


METHODS = {name + "_": _inplace_method(name) for name in NAMES if not hasattr(InplaceMethods, name + "_")}
METHODS.update(__iand__=METHODS["bitwise_and_"], __ior__=METHODS["bitwise_or_"], __ixor__=METHODS["bitwise_xor_"],
               __ilshift__=METHODS["bitwise_left_shift_"], __irshift__=METHODS["bitwise_right_shift_"])
