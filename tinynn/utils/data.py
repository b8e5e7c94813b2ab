"""`tinynn.utils.data` is `tinynn.data` itself (as torch.utils.data), so PyTorch's imports work unchanged:

    from tinynn.utils.data import DataLoader, TensorDataset
"""
import sys

from .. import data

sys.modules[__name__] = data  # the import system hands out the module found here: the same object
