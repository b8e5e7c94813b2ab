"""Transposed 2-D convolution (NCHW), the adjoint of conv2d in its input, made of conv2d's kernels.

With A_W x = conv2d(x, W) (stride s, padding p, dilation d, G groups), conv_transpose2d(y, W) = A_W^T y:
<conv2d(x, W), y> = <x, conv_transpose2d(y, W)>. Its forward is conv2d_backward_input, its input
gradient is conv2d forward and its weight gradient is conv2d_backward_weight (docs/12-convolution.md).
output_padding o keeps o more rows of the full transposed output F (length L = (H - 1) s + d (k - 1) + 1)
after the cropped top p: y = F[p : L - p + o], zero beyond L; so the convolution it is the adjoint of
pads its input by (p, p - o) (and o - p zero rows follow when o > p), which makes conv2d's output
exactly H long."""
from ..autograd.function import Function
from .. import backend


class ConvTranspose2d(Function):
    """y = A_W^T x + b, A_W the conv2d with weight W (C_in, C_out/G, kh, kw) (C_in is conv2d's output side):
    y[n, o, s_h i - p_h + d_h u, s_w j - p_w + d_w v] += x[n, c, i, j] W[c, o', u, v] (o in c's group).

    dL/dx = conv2d(g, W),  dL/dW = conv2d_backward_weight(x, g) (g correlated with x),  dL/db_o = sum g[:, o]."""

    __slots__ = ("x", "weight", "geometry", "zeros")
    exact_gradients = True
    differentiable = True  # create_graph: its kernels are ops (ops/differentiable_conv.py)

    def forward(self, x, weight, bias=None, geometry=None, shape=None, zeros=(0, 0)):
        # checked by F.conv_transpose2d: the adjoint conv2d's (stride, pads, dilation, groups), its input shape
        # and the zero rows and columns that follow
        self.geometry, self.zeros, self.x, self.weight = geometry, zeros, x, weight
        B = backend.active
        y = B.conv2d_backward_input(x, weight, shape, *geometry)
        if any(zeros):
            y = B.pad(y, ((0, 0), (0, 0), (0, zeros[0]), (0, zeros[1])), "constant", 0.0)
        return y if bias is None else B.add(y, bias.reshape(-1, 1, 1))

    def backward(self, g):
        B, needs = backend.active, self.needs_grad
        gb = B.sum(g, axis=(0, 2, 3)) if len(needs) > 2 and needs[2] else None
        if any(self.zeros):  # the zero rows and columns read nothing
            g = g[:, :, :g.shape[2] - self.zeros[0], :g.shape[3] - self.zeros[1]]
        gx = B.conv2d(g, self.weight, None, *self.geometry) if needs[0] else None
        gw = B.conv2d_backward_weight(self.x, g, self.weight.shape, *self.geometry) if needs[1] else None
        return gx, gw, gb
