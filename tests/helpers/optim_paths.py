"""A parameter's path under an optimizer, for tests that work out the first steps by hand."""
import numpy as np

import tinynn as tn
import tinynn.nn as nn

P0 = [1.0, 2.0]


def trajectory(make_opt, grads=None, steps=2, p0=P0):
    """Values of a 2-parameter p after each step. Loss 0.5 |p|^2 (gradient p), or, with `grads`,
    the linear loss c . p whose gradient is the given c at each step."""
    p = nn.Parameter(tn.tensor(np.array(p0, dtype=np.float64)))
    opt = make_opt([p])
    out = []
    for t in range(steps):
        opt.zero_grad()
        loss = (0.5 * p * p).sum() if grads is None else (tn.tensor(np.array(grads[t], dtype=np.float64)) * p).sum()
        loss.backward()
        opt.step()
        out.append(np.array(p.numpy(), copy=True))
    return np.array(out)
