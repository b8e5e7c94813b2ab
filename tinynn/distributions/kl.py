"""KL(p || q) = E_p[log p(X) - log q(X)] in closed form: `kl_divergence(p, q)` looks up the formula
registered for the pair of types (`register_kl`), the most specific one when subclasses match several;
a pair without one is a NotImplementedError, as in PyTorch. The formulas are in kl_formulas.py.

    @register_kl(MyDist, Normal)
    def kl_mydist_normal(p, q):
        ...
"""
import math
import warnings

from ..creation import full_like
from ..ops import where
from .distribution import Distribution

_KL_REGISTRY = {}  # (type_p, type_q) -> function(p, q)
_KL_MEMO = {}      # (type(p), type(q)) -> the function dispatch chose


def register_kl(type_p, type_q):
    """Decorator: register fn(p, q) as KL(p || q) for p of type_p and q of type_q (Distribution subclasses)."""
    for name, t in (("type_p", type_p), ("type_q", type_q)):
        if not (isinstance(t, type) and issubclass(t, Distribution)):
            raise TypeError(f"register_kl: expected {name} to be a Distribution subclass but got {t!r}")

    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMO.clear()
        return fn

    return decorator


def _dispatch(type_p, type_q):
    """The registered function for the most specific matching pair: ordered by how specific the match
    for p is, then for q (and, if ordering q first picks another function, a RuntimeWarning)."""
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return NotImplemented
    mro_p, mro_q = type_p.__mro__, type_q.__mro__
    left = min(matches, key=lambda m: (mro_p.index(m[0]), mro_q.index(m[1])))
    right = min(matches, key=lambda m: (mro_q.index(m[1]), mro_p.index(m[0])))
    if _KL_REGISTRY[left] is not _KL_REGISTRY[right]:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). Please register_kl("
                      f"{left[0].__name__}, {right[1].__name__})", RuntimeWarning, stacklevel=3)
    return _KL_REGISTRY[left]


def kl_divergence(p, q):
    """KL(p || q) = integral p(x) log(p(x) / q(x)) dx, batched over the broadcast batch shapes of p and q."""
    key = (type(p), type(q))
    if key not in _KL_MEMO:
        _KL_MEMO[key] = _dispatch(*key)
    fn = _KL_MEMO[key]
    if fn is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
                                  f"{type(q).__name__}")
    return fn(p, q)


def infinite_like(t):
    """+inf in t's shape and dtype (a KL where q gives zero mass to part of p's support)."""
    return full_like(t, math.inf)


def where_infinite(condition, t):
    """t with +inf where condition holds."""
    return where(condition, math.inf, t)
