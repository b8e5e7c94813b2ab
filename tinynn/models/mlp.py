"""The multilayer perceptron."""
from ..nn.layers import Linear, ReLU, Sequential, Sigmoid, Tanh

ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


class MLP(Sequential):
    """A multilayer perceptron n_0 -> n_1 -> ... -> n_L (Rumelhart, Hinton and Williams, 1986,
    "Learning representations by back-propagating errors"):

        h_0 = x,  h_l = act(W_l h_{l-1} + b_l) for l < L,  y = W_L h_{L-1} + b_L

    as a Sequential Linear, act, ..., Linear (keys "0.weight", "0.bias", "2.weight", ...: the
    layout of `nn.Sequential(nn.Linear(...), nn.ReLU(), ...)` in PyTorch). activation: "relu",
    "sigmoid" or "tanh"; `bias`: one bool per Linear (default all True)."""

    def __init__(self, sizes, activation="relu", bias=None):
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; choose one of {tuple(ACTIVATIONS)}")
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"MLP: need at least two positive layer sizes, got {sizes}")
        bias = [True] * (len(sizes) - 1) if bias is None else [bool(b) for b in bias]
        if len(bias) != len(sizes) - 1:
            raise ValueError(f"MLP: {len(sizes) - 1} layers but {len(bias)} bias flags")
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, bias=bias[i]))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
        super().__init__(*layers)
        self.sizes, self.activation = sizes, activation
