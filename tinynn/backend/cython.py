"""The compiled backend: the same functions as `numpy_ref`, running on `tinynn.kernels`.

Anything without a compiled kernel yet falls through to the reference implementation."""
from .numpy_ref import *  # noqa: F401,F403 - the reference is the default for every name
from .. import threads  # sets the OpenMP wait policy before the extension loads the runtime
from .. import kernels

threads.sync()

relu = kernels.relu
sigmoid = kernels.sigmoid
tanh = kernels.tanh
relu_backward = kernels.relu_backward
sigmoid_backward = kernels.sigmoid_backward
tanh_backward = kernels.tanh_backward
