"""vol2col and col2vol as ops, each the other's adjoint (<vol2col(x), y> = <x, col2vol(y)>), so each
one's gradient is the other, to any order: ops/fold.py's Unfold and Fold on the backend's 3-D kernels.
The 3-D convolutions and pools of nn/conv3d.py and nn/pooling3d.py are these two and matmul. Geometry
((kD, kH, kW), dilation, ((before, after),) * 3, stride) checked there."""
from .fold import Fold, Unfold


class Vol2col(Unfold):
    """y[n, (c, t, u, v), (i, j, l)] = x_pad[n, c, s_D i + d_D t, s_H j + d_H u, s_W l + d_W v];  dL/dx = col2vol(g)."""

    __slots__ = ()
    gather, scatter = "vol2col", "col2vol"


class Col2vol(Fold):
    """y = zeros (N, C, D, H, W) with y_pad[n, c, s_D i + d_D t, s_H j + d_H u, s_W l + d_W v] += x[n, (c, t, u, v),
    (i, j, l)];  dL/dx = vol2col(g)."""

    __slots__ = ()
    gather, scatter = Vol2col.gather, Vol2col.scatter


Vol2col.adjoint, Col2vol.adjoint = Col2vol, Vol2col
