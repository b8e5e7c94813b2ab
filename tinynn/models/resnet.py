"""A small residual network."""
from ..nn import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, Module, ReLU, Sequential
from .images import as_images


class BasicBlock(Module):
    """The basic residual block of He, Zhang, Ren and Sun (2015, "Deep Residual Learning for Image
    Recognition"): y = relu(F(x) + S(x)) with the residual F = bn2(conv2(relu(bn1(conv1(x))))),
    two 3x3 convolutions (the first with `stride`), and the shortcut S the identity, or, when the
    stride or the channel count changes, a 1x1 convolution with BatchNorm (the paper's option B) in
    `downsample`. Names as torchvision's (conv1, bn1, conv2, bn2, downsample.0/.1); the two ReLUs
    are separate modules (relu1, relu2) so that quantize.fuse_modules can fold the first."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(out_channels)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2d(out_channels)
        self.relu2 = ReLU()
        if stride != 1 or in_channels != out_channels:
            self.downsample = Sequential(Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                         BatchNorm2d(out_channels))
        else:
            self.downsample = None

    # the residual branch runs these children one into the next (compress.chains): BatchNorms fold
    # into the convs and conv1's output channels can be pruned away
    chains = (("conv1", "bn1", "relu1", "conv2", "bn2"),)

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(Sequential):
    """A small ResNet (He et al., 2015) for small images:

        conv1 3x3 in_channels -> c_0, bn1, ReLU
        -> layer1 .. layerK: `blocks` BasicBlocks each; stage k has c_k = block_channels[k]
           channels and (for k > 0) halves the size with stride 2 in its first block
        -> global average pooling -> fc c_K -> num_classes

    As the paper's CIFAR networks (no 7x7 stem and no max pooling: the images are small). Takes
    (N, C, H, W) images or flat rows (N, C*H*W)."""

    def __init__(self, block_channels=(16, 32, 64), num_classes=10, in_channels=1, blocks=1):
        block_channels = [int(c) for c in block_channels]
        if not block_channels or min(block_channels) < 1 or blocks < 1:
            raise ValueError(f"ResNet: need positive block_channels and blocks >= 1, got {block_channels}, {blocks}")
        layers = {"conv1": Conv2d(in_channels, block_channels[0], 3, padding=1, bias=False),
                  "bn1": BatchNorm2d(block_channels[0]), "relu": ReLU()}
        c_in = block_channels[0]
        for k, c in enumerate(block_channels):
            stage = [BasicBlock(c_in if b == 0 else c, c, 2 if (k > 0 and b == 0) else 1) for b in range(blocks)]
            layers[f"layer{k + 1}"] = Sequential(*stage)
            c_in = c
        layers.update({"avgpool": AdaptiveAvgPool2d(1), "flatten": Flatten(), "fc": Linear(c_in, num_classes)})
        super().__init__(layers)
        self.in_channels = in_channels

    def forward(self, x):
        return super().forward(as_images(x, self.in_channels, "ResNet"))
