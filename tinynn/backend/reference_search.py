"""The reference's searching and counting kernels: sorted insertion points, unique values, bin counts,
running extrema and the running log-sum-exp (NumPy's, along one axis)."""
import numpy as np


def searchsorted(sorted_sequence, values, side="left"):
    """i with s[i-1] < v <= s[i] (side "left") or s[i-1] <= v < s[i] ("right") for each v, s 1-D ascending."""
    return np.searchsorted(sorted_sequence, values, side=side)


def unique(x, axis=None):
    """(the distinct values (slices along axis) in ascending order, where each element came from in them
    (inverse), how often each occurs); NaNs are each distinct."""
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=axis, equal_nan=False)
    return values, inverse.reshape(x.shape if axis is None else (x.shape[axis],)), counts


def bincount(x, weights=None, minlength=0):
    """c[b] = the number of (sum of the weights of) the elements x_i = b, for b < max(max x + 1, minlength)."""
    return np.bincount(x, weights, minlength)


def cummax_index(x, axis, largest=True):
    """The index of the running maximum (minimum when not largest) of x along axis: the last place it was
    reached (ties move it on); a NaN is the extremum from where it occurs, each later NaN taking over."""
    running = (np.maximum if largest else np.minimum).accumulate(x, axis=axis)
    hit = (x == running) | (np.isnan(x) if x.dtype.kind == "f" else False)
    place = np.arange(x.shape[axis]).reshape([-1 if d == axis else 1 for d in range(x.ndim)])
    return np.maximum.accumulate(np.where(hit, place, 0), axis=axis)


def logcumsumexp(x, axis):
    """y_i = log sum_{j <= i} exp(x_j) along axis (np.logaddexp accumulated: no overflow)."""
    return np.logaddexp.accumulate(x, axis=axis)
