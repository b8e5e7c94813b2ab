"""Reverse-mode automatic differentiation.

- `grad_mode.py`: `no_grad`, `enable_grad`, `set_grad_enabled`, `inference_mode`, `detect_anomaly` (per thread);
- `hooks.py`: `register_hook`, `retain_grad`; `versions.py`: the version counters of in-place writes;
- `function.py`: `Function`, one node of the graph, and `Function.apply`, the one recording path;
- `engine.py`: `backward`, the walk from a root back to the leaves;
- `fast_path.py`: Tensor's operators recorded in fewer Python calls (the same graph as `apply`);
- `higher.py`: what `create_graph=True` changes (each backward re-run on Tensors);
- `custom.py`: PyTorch's ctx-style custom Function (`forward(ctx, ...)`, `ctx.save_for_backward`);
- `functional.py`: `jacobian`, `hessian`, `vjp`, `hvp`.
"""
from .grad_mode import no_grad, enable_grad, detect_anomaly, is_grad_enabled, inference_mode, set_grad_enabled
from .engine import backward, grad, unbroadcast, register_post_backward_hook, remove_post_backward_hook
from .function import Function
from .custom import FunctionCtx
from . import functional
