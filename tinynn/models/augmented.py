"""Training-time augmentation as part of the model being trained."""
from ..nn.module import Module


class Augmented(Module):
    """y = model(transform(x)) in training mode, model(x) in eval mode: a model and the augmentation
    of its inputs (tinynn.data.transforms), so a training loop that knows nothing of augmentation
    (tinynn.train.fit) trains on augmented batches and evaluates on the plain ones. Its state dict is
    the model's, under "model."; save `.model` itself."""

    def __init__(self, model, transform):
        super().__init__()
        self.model, self.transform = model, transform

    def forward(self, x):
        return self.model(self.transform(x) if self.training else x)
