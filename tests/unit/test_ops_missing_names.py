"""Where tinynn lacks a torch name, using it fails loudly and names it (issue 15, acceptance 3)."""
import copy

import numpy as np
import pytest

import tinynn as tn


def test_an_unknown_tensor_attribute_names_itself():
    # Python's own message: a Tensor.__getattr__ would slow every attribute access (ops/methods.py)
    x = tn.ones(2)
    with pytest.raises(AttributeError, match=r"'Tensor' object has no attribute 'stft'"):
        x.stft(4)
    assert "__getattr__" not in vars(tn.Tensor)
    assert not hasattr(x, "stft") and getattr(x, "stft", None) is None  # still an AttributeError


def test_an_unknown_module_attribute_names_itself_and_says_tinynn_lacks_it():
    with pytest.raises(AttributeError, match=r"module 'tinynn' has no attribute 'stft': tinynn does not have torch\.stft"):
        tn.stft(tn.ones(8), 4)
    with pytest.raises(ImportError, match="stft"):
        exec("from tinynn import stft", {})


def test_copying_and_numpy_interop_still_work_with_the_loud_getattr():
    x = tn.tensor([1.0, 2.0])
    assert copy.deepcopy(x).tolist() == [1.0, 2.0] and copy.copy(x).tolist() == [1.0, 2.0]
    np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])


def test_the_new_functions_are_real_attributes_of_the_module():
    for name in ("sin", "maximum", "gather", "logsumexp", "unsqueeze", "var"):
        assert name in dir(tn) and callable(getattr(tn, name))
