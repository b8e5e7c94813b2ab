"""LeNet-5."""
from ..nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from .images import as_images


class LeNet5(Sequential):
    """LeNet-5 (LeCun, Bottou, Bengio and Haffner, 1998, "Gradient-based learning applied to document
    recognition"), with today's usual ReLU and max pooling in place of the paper's scaled tanh and
    trainable subsampling:

        conv1 6@5x5 (padding 2) -> ReLU -> maxpool 2 -> conv2 16@5x5 -> ReLU -> maxpool 2
        -> flatten -> fc1 120 -> ReLU -> fc2 84 -> ReLU -> fc3 num_classes

    On 28x28 MNIST the padding of 2 stands in for the paper's 32x32 framing: 28 -> 14 -> 10 -> 5, so
    fc1 sees 16*5*5 = 400 features, as in the paper. input_size adapts it to smaller images: when
    input_size < 24 the 14x14 maps of the paper would be under 12x12 and an unpadded conv2 would
    leave almost nothing, so conv2 is padded by 2 too (keeping its input size); for the embedded
    8x8 digits: 8 -> 4 -> 4 -> 2 and fc1 sees 16*2*2 = 64 features. `width` multiplies the channel
    counts (6, 16) for a wider network. Takes (N, C, H, W) images or flat rows (N, C*H*W)."""

    def __init__(self, num_classes=10, in_channels=1, input_size=28, width=1):
        pad2 = 0 if input_size >= 24 else 2
        c1, c2 = 6 * width, 16 * width
        side = (input_size + 4 - 4) // 2             # conv1 keeps the size, the pool halves it
        side = (side + 2 * pad2 - 4) // 2
        if side < 1:
            raise ValueError(f"LeNet5: input_size {input_size} is too small (need at least 4)")
        super().__init__({
            "conv1": Conv2d(in_channels, c1, 5, padding=2), "relu1": ReLU(), "pool1": MaxPool2d(2),
            "conv2": Conv2d(c1, c2, 5, padding=pad2), "relu2": ReLU(), "pool2": MaxPool2d(2),
            "flatten": Flatten(),
            "fc1": Linear(c2 * side * side, 120), "relu3": ReLU(),
            "fc2": Linear(120, 84), "relu4": ReLU(),
            "fc3": Linear(84, num_classes),
        })
        self.in_channels = in_channels

    def forward(self, x):
        return super().forward(as_images(x, self.in_channels, "LeNet5"))
