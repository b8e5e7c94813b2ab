"""Small reference models built only from `tinynn.nn`, each citing where its design comes from.

    from tinynn.models import MLP, LeNet5, ResNet
    net = LeNet5(num_classes=10, in_channels=1, input_size=8)   # the embedded 8x8 digits

`BUILDERS` maps the command line's `--model` names to the classes (one line each, so more models
merge in by adding lines)."""
from .mlp import MLP
from .lenet import LeNet5
from .resnet import BasicBlock, ResNet
from .augmented import Augmented
from .lstm_classifier import LSTMClassifier
from .gpt import GPT
from .transformer_classifier import TransformerClassifier

__all__ = ["MLP", "LeNet5", "ResNet", "BasicBlock", "Augmented", "LSTMClassifier", "GPT", "TransformerClassifier",
           "BUILDERS"]

BUILDERS = {
    "mlp": MLP,
    "lenet": LeNet5,
    "resnet": ResNet,
    "lstm": LSTMClassifier,
    "transformer": TransformerClassifier,
}
