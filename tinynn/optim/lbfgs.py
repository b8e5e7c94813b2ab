"""L-BFGS (Liu and Nocedal 1989, "On the Limited Memory BFGS Method for Large Scale Optimization"), with
PyTorch's iteration, stopping rules, optional strong-Wolfe line search and state names."""
import numpy as np

from ..tensor import Tensor
from ..utils.grads import grad_array
from .helpers import check_lr
from .line_search import strong_wolfe
from .optimizer import Optimizer


class LBFGS(Optimizer):
    """Quasi-Newton minimization of the loss the closure returns, all parameters flattened into one x.
    One step() runs up to max_iter iterations k = 1, 2, ...:

        y = g_k - g_{k-1},  s = t d_{k-1};  if y.s > 1e-10 remember (s, y, rho = 1 / y.s), at most history_size
                                            pairs, and set gamma = y.s / y.y  ("old_stps", "old_dirs", "ro", "H_diag")
        d_k = -H g_k  by the two-loop recursion (Nocedal and Wright, algorithm 7.4), H_0 = gamma I;
              d_1 = -g_1, with step t = min(1, 1 / |g_1|_1) lr, later t = lr
        x <- x + t d_k   (line_search_fn=None: fixed t; "strong_wolfe": t from a strong-Wolfe line search)

    It stops when max_iter iterations or max_eval closure calls (default max_iter * 5 / 4) are used, when
    max|g| <= tolerance_grad, when the slope g.d > -tolerance_change, or when max|t d| or the change of
    the loss falls below tolerance_change. The memory persists across step() calls, in the state of the
    first parameter ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss",
    "al", "func_evals", "n_iter"), and returns the loss of the first closure call.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _check_group(self, g):
        check_lr("LBFGS", g["lr"])
        if g["line_search_fn"] not in (None, "strong_wolfe"):
            raise RuntimeError("LBFGS: only 'strong_wolfe' is supported as line_search_fn, "
                               f"got {g['line_search_fn']!r}")

    # ------------------------------------------------------------ x as one flat vector
    def _flat_grad(self):
        return np.concatenate([np.zeros(p.numel(), p.dtype) if p.grad is None else grad_array(p).ravel()
                               for p in self._params])

    def _add(self, t, d):
        """x <- x + t d, in place on the parameters."""
        offset = 0
        for p in self._params:
            n = p.numel()
            a = self._writable(p)
            a += t * d[offset:offset + n].reshape(a.shape)
            offset += n

    def _evaluate(self, closure, x, t, d):
        """(loss, gradient) at x + t d; the parameters are left at x."""
        self._add(t, d)
        loss = float(self._closure(closure))
        flat_grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            np.copyto(self._writable(p), saved)
        return loss, flat_grad

    def step(self, closure=None):
        """Up to max_iter L-BFGS iterations; `closure` (required) re-evaluates the model, calls backward()
        and returns the loss. Returns the loss of its first call."""
        if closure is None:
            raise ValueError("LBFGS: step() needs a closure that clears the gradients, computes the loss, calls "
                             "backward() and returns the loss")
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._closure(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps = state.get("old_dirs"), state.get("old_stps")
        ro, h_diag = state.get("ro"), state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_dirs, old_stps, ro, h_diag = -flat_grad, [], [], [], 1
            else:
                y, s = flat_grad - prev_flat_grad, d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == group["history_size"]:
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                if "al" not in state:
                    state["al"] = [None] * group["history_size"]
                d = _two_loop(flat_grad, old_dirs, old_stps, ro, h_diag, state["al"])
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:  # not a descent direction (any more)
                break
            ls_func_evals, opt_cond = 0, False
            if group["line_search_fn"] is not None:
                x_init = [self._writable(p).copy() for p in self._params]
                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    lambda step: self._evaluate(closure, x_init, step, d), d, t, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add(t, d)
                if n_iter != max_iter:  # (no evaluation after the last iteration: the next step() makes it)
                    loss = float(self._closure(closure))
                    flat_grad = self._flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # ------------------------------------------------------------ state
    def state_dict(self):
        """As Optimizer.state_dict(), with the history lists' vectors and the 0-d values ("ro", "al",
        "H_diag") as Tensors too, as PyTorch's."""
        sd = super().state_dict()
        sd["state"] = {i: {k: _exported(v) for k, v in s.items()} for i, s in sd["state"].items()}
        return sd

    def load_state_dict(self, state_dict):
        """Restore options and the L-BFGS memory saved by state_dict(); vectors are copied and cast to the
        parameters' dtype."""
        try:
            saved = state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError("LBFGS.load_state_dict: expected a dict with 'state' and 'param_groups'") from None
        super().load_state_dict({**state_dict, "state": {}})
        dtype = np.result_type(*[p.dtype for p in self._params])
        for index, s in saved.items():
            if int(index) != 0:
                raise ValueError(f"LBFGS.load_state_dict: state for parameter index {index}; LBFGS keeps its "
                                 "state with the first parameter (index 0) only")
            self.state[self._params[0]] = {k: _imported(v, dtype) for k, v in s.items()}


def _two_loop(grad, dirs, stps, ro, h_diag, al):
    """d = -H grad for the L-BFGS inverse-Hessian approximation H of the pairs (s_i = stps[i], y_i = dirs[i]):

        q = -grad;  for i = k-1 .. 0:  a_i = rho_i s_i.q,  q <- q - a_i y_i
        r = gamma q;  for i = 0 .. k-1:  b_i = rho_i y_i.r,  r <- r + (a_i - b_i) s_i
    """
    q = -grad
    for i in range(len(dirs) - 1, -1, -1):
        al[i] = stps[i].dot(q) * ro[i]
        q -= al[i] * dirs[i]
    r = q * h_diag
    for i in range(len(dirs)):
        be = dirs[i].dot(r) * ro[i]
        r += (al[i] - be) * stps[i]
    return r


def _exported(value):
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value, False)
    if isinstance(value, np.generic) and not isinstance(value, np.bool_):
        return Tensor._wrap(np.asarray(value), False)
    if isinstance(value, list):
        return [_exported(v) for v in value]
    return value


def _imported(value, dtype):
    if isinstance(value, (list, tuple)):
        return [_imported(v, dtype) for v in value]
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        value = value.astype(dtype, copy=True)
        return value[()] if value.ndim == 0 else value
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item()
    return value
