"""Testing tools for tinynn's own suite and for other people's property tests.

    from tinynn.testing import (assert_gradients_match, assert_backends_match, arrays, tensors,
                                broadcastable_shapes, graphs, layouts, as_layout)

Assertions (no hypothesis needed):
- `assert_gradients_match(fn, *inputs)`: analytic gradients vs central differences in float64,
  tight enough to catch a backward 1e-5 relatively wrong; a failure names the input, the index
  and both values.
- `assert_backends_match(fn, *inputs)`: values and gradients on the reference ("numpy") and the
  compiled ("cython") backend agree (float32 within each kernel's bound in ULPS; NaN matches
  NaN); refuses a function that runs none of the compiled backend's own kernels.
  `own_kernels()`, `kernels_called(fn, *inputs)`: which kernels differ, which a function runs.
- `as_layout(a, layout)`: the same values as `a` in another memory layout (see LAYOUTS).

Hypothesis strategies (hypothesis is imported only when one is called):
- `arrays(dtype, shape, ...)`: ndarrays of chosen dtypes (floats, ints, bool, complex), optionally
  with special values (NaN, +-inf, denormals, huge); `tensors(...)` wraps them in Tensors.
- `broadcastable_shapes(n)`: n shapes that broadcast together.
- `layouts()`: names from LAYOUTS ("C", "F", "sliced", "negative", "misaligned", "readonly", ...).
- `graphs(...)`: a small random computation graph over the differentiable ops: `(fn, inputs)`
  where `fn(*inputs)` replays the drawn program (its repr prints it) on a few leaf Tensors.
  See docs/07-testing.md for examples.
"""
from ..gradcheck import GradcheckError
from .asserts import ULPS, assert_backends_match, assert_gradients_match, kernels_called, own_kernels
from .arrays import LAYOUTS, SPECIAL_FLOATS, arrays, as_layout, broadcastable_shapes, layouts, tensors
from .graphs import GRAPH_OPS, KINKED_OPS, Graph, graphs
