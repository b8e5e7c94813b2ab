"""LeNet-5's training step written by hand in NumPy (im2col by sliding_window_view, one BLAS product
per convolution, col2im by shifted adds): the baseline of benchmarks/bench_conv.py for speed and
peak memory.  The same network and step as tinynn.models.LeNet5 (28x28) with SGD and momentum:

    conv1 6@5x5 pad 2 -> relu -> maxpool 2 -> conv2 16@5x5 -> relu -> maxpool 2 -> fc 400-120-84-10,
    cross-entropy (mean over the batch), then v = mu v + g, p = p - lr v for every parameter."""
import numpy as np

sliding = np.lib.stride_tricks.sliding_window_view


def conv_forward(x, w, b, pad):
    """y = conv2d(x, w) + b at stride 1, and the im2col columns (N Ho Wo, C kh kw) backward needs."""
    n, c = x.shape[:2]
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    win = sliding(xp, (kh, kw), axis=(2, 3))                     # (N, C, Ho, Wo, kh, kw), a view
    ho, wo = win.shape[2:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)
    y = cols @ w.reshape(o, -1).T + b
    return y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2), cols


def conv_backward(gy, cols, w, x_shape, pad, need_dx):
    """(dx or None, dw, db) of conv_forward: dw = g^T cols, dx = col2im(g W)."""
    n, o, ho, wo = gy.shape
    _, c, kh, kw = w.shape
    g2 = gy.transpose(0, 2, 3, 1).reshape(-1, o)
    dw, db = (g2.T @ cols).reshape(w.shape), g2.sum(axis=0)
    if not need_dx:
        return None, dw, db
    dcols = (g2 @ w.reshape(o, -1)).reshape(n, ho, wo, c, kh, kw)
    h, wd = x_shape[2:]
    dxp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad), dtype=gy.dtype)
    for u in range(kh):
        for v in range(kw):
            dxp[:, :, u:u + ho, v:v + wo] += dcols[:, :, :, :, u, v].transpose(0, 3, 1, 2)
    return dxp[:, :, pad:pad + h, pad:pad + wd], dw, db


def relu_pool_forward(y):
    """max_pool2d(relu(y), 2) and the index of each window's (first) maximum."""
    n, c, h, w = y.shape
    win = np.maximum(y, 0).reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2,
                                                                                                     w // 2, 4)
    idx = win.argmax(axis=-1)[..., None]
    return np.take_along_axis(win, idx, axis=-1)[..., 0], idx


def relu_pool_backward(g, idx, y):
    """dL/dy of relu_pool_forward: g to each window's maximum, then relu's mask."""
    n, c, h, w = y.shape
    win = np.zeros((n, c, h // 2, w // 2, 4), dtype=g.dtype)
    np.put_along_axis(win, idx, g[..., None], axis=-1)
    dy = win.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(y.shape)
    return dy * (y > 0)


class NumpyLeNet:
    """The parameters (in tinynn.models.LeNet5's order), their momentum buffers, and step()."""

    def __init__(self, params, lr=0.01, momentum=0.9):
        self.params = [np.array(p) for p in params]
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.lr, self.momentum = lr, momentum

    def step(self, x, labels):
        """One SGD step on (x, labels); returns the loss before it."""
        w1, b1, w2, b2, f1, c1, f2, c2, f3, c3 = self.params
        y1, cols1 = conv_forward(x, w1, b1, 2)
        p1, i1 = relu_pool_forward(y1)
        y2, cols2 = conv_forward(p1, w2, b2, 0)
        p2, i2 = relu_pool_forward(y2)
        h0 = p2.reshape(len(x), -1)
        h1 = np.maximum(h0 @ f1.T + c1, 0)
        h2 = np.maximum(h1 @ f2.T + c2, 0)
        z = h2 @ f3.T + c3
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        rows = np.arange(len(x))
        loss = -logp[rows, labels].mean()
        gz = np.exp(logp)
        gz[rows, labels] -= 1
        gz /= len(x)
        g2 = (gz @ f3) * (h2 > 0)
        g1 = (g2 @ f2) * (h1 > 0)
        g0 = (g1 @ f1).reshape(p2.shape)
        gp1, dw2, db2 = conv_backward(relu_pool_backward(g0, i2, y2), cols2, w2, p1.shape, 0, True)
        _, dw1, db1 = conv_backward(relu_pool_backward(gp1, i1, y1), cols1, w1, x.shape, 2, False)
        grads = [dw1, db1, dw2, db2, g1.T @ h0, g1.sum(0), g2.T @ h1, g2.sum(0), gz.T @ h2, gz.sum(0)]
        for p, v, g in zip(self.params, self.velocity, grads):
            v *= self.momentum
            v += g
            p -= self.lr * v
        return loss
