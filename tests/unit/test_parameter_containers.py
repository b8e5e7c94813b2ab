"""nn.ParameterList and nn.ParameterDict with PyTorch's container behaviour: state-dict keys, Tensors
turned into Parameters that share their memory, other objects and Modules kept, list and dict methods,
PyTorch's sorted order for a plain dict, errors, reprs, and use inside a model (optimizer, load_state_dict,
deepcopy, pickle, .double())."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn


def test_parameter_list_registers_tensors_as_parameters():
    t = tn.ones(2)
    plist = nn.ParameterList([t, nn.Parameter(tn.zeros(3), requires_grad=False)])
    assert isinstance(plist[0], nn.Parameter) and plist[0].requires_grad and not plist[1].requires_grad
    plist[0]._data[0] = 5.0
    assert t.numpy()[0] == 5.0                      # shares the Tensor's memory, as Parameter(t) does
    plist.append(tn.ones(2, 2)).extend([tn.ones(1)])
    plist += [tn.ones(4)]
    assert len(plist) == 5 and list(plist.state_dict()) == ["0", "1", "2", "3", "4"]
    assert [p.shape for p in plist] == [(2,), (3,), (2, 2), (1,), (4,)]
    assert plist[-1] is plist[4] and getattr(plist, "4") is plist[4]
    part = plist[1:4:2]
    assert isinstance(part, nn.ParameterList) and part[0] is plist[1] and part[1] is plist[3]
    assert list(part.state_dict()) == ["0", "1"]


def test_parameter_list_assignment_keeps_positions_and_holds_other_objects():
    plist = nn.ParameterList([tn.ones(1), tn.ones(2)])
    plist[0] = tn.zeros(5)
    plist[-1] = tn.zeros(7)
    assert list(plist.state_dict()) == ["0", "1"] and plist[0].shape == (5,) and plist[1].shape == (7,)
    plist.append(3).append(None).append(nn.Linear(1, 1))
    assert plist[2] == 3 and plist[3] is None and len(plist) == 5
    assert list(plist.state_dict()) == ["0", "1", "4.weight", "4.bias"]
    shared = nn.Parameter(tn.ones(1))
    assert len(list(nn.ParameterList([shared, shared]).parameters())) == 1


def test_parameter_list_errors():
    plist = nn.ParameterList([tn.ones(1)])
    with pytest.raises(IndexError, match="index 3 is out of range for 1 entries"):
        plist[3]
    with pytest.raises(IndexError, match="out of range"):
        plist[-2] = tn.ones(1)
    with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
        plist[0.5]
    with pytest.raises(TypeError, match="extend should be called with an iterable, but got int"):
        nn.ParameterList(5)
    with pytest.raises(TypeError, match="cannot assign 'str' as parameter '0'"):
        plist[0] = "x"
    with pytest.raises(TypeError, match="floating-point"):
        plist.append(tn.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        plist()
    assert not hasattr(plist, "insert")            # PyTorch's ParameterList has no insert and no del


def test_parameter_list_repr():
    assert repr(nn.ParameterList()) == "ParameterList()"
    assert repr(nn.ParameterList([tn.ones(2, 3)])) == \
        "ParameterList(  (0): Parameter containing: [tinynn.float32 of size 2x3])"
    two = nn.ParameterList([tn.ones(2), 1.5])
    assert repr(two) == ("ParameterList(\n    (0): Parameter containing: [tinynn.float32 of size 2]\n"
                         "    (1): Object of type: float\n)")


def test_parameter_dict_order_and_conversion():
    # a plain dict's items are taken in sorted key order (PyTorch's rule), an OrderedDict's and pairs' as given
    assert list(nn.ParameterDict({"b": tn.ones(2), "a": tn.ones(3)})) == ["a", "b"]
    assert list(nn.ParameterDict(OrderedDict([("b", tn.ones(2)), ("a", tn.ones(3))]))) == ["b", "a"]
    pdict = nn.ParameterDict([("b", tn.ones(2)), ("a", nn.Parameter(tn.ones(3)))])
    assert list(pdict) == ["b", "a"] and list(pdict.state_dict()) == ["b", "a"]
    assert isinstance(pdict["b"], nn.Parameter) and pdict.a is pdict["a"]
    pdict["c"] = tn.zeros(1)
    pdict.update({"e": tn.ones(1), "d": 1.5})
    assert list(pdict.keys()) == ["b", "a", "c", "d", "e"] and pdict["d"] == 1.5
    assert list(pdict.state_dict()) == ["b", "a", "c", "e"]
    pdict["keys"] = tn.ones(1)                      # a key named like a method does not hide it
    assert "keys" in pdict.keys() and "keys" in pdict.state_dict()


def test_parameter_dict_methods():
    pdict = nn.ParameterDict(OrderedDict([("a", tn.ones(1)), ("b", tn.ones(2)), ("c", tn.ones(3))]))
    assert "a" in pdict and "z" not in pdict and len(pdict) == 3
    assert pdict.get("z", 5) == 5 and pdict.get("a") is pdict["a"]
    assert [k for k, _ in pdict.items()] == ["a", "b", "c"] and [v.shape for v in pdict.values()] == [(1,), (2,), (3,)]
    assert list(reversed(pdict)) == ["c", "b", "a"]
    c = pdict["c"]
    assert pdict.pop("c") is c and list(pdict.state_dict()) == ["a", "b"]
    key, value = pdict.popitem()
    assert key == "b" and value.shape == (2,) and list(pdict) == ["a"]
    assert pdict.setdefault("g", tn.ones(4)).shape == (4,) and pdict.setdefault("g", None).shape == (4,)
    copied = pdict.copy()
    assert isinstance(copied, nn.ParameterDict) and copied["a"] is pdict["a"] and list(copied) == ["a", "g"]
    assert list(pdict.fromkeys(["x", "y"], tn.ones(1))) == ["x", "y"]
    merged = pdict | {"h": tn.ones(1)}
    assert isinstance(merged, nn.ParameterDict) and list(merged) == ["a", "g", "h"] and "h" not in pdict
    assert list({"h": tn.ones(1)} | pdict) == ["h", "a", "g"]
    pdict |= {"z": tn.ones(1)}
    assert list(pdict) == ["a", "g", "z"]
    del pdict["g"]
    assert list(pdict.state_dict()) == ["a", "z"]
    pdict.clear()
    assert len(pdict) == 0 and list(pdict.state_dict()) == [] and repr(pdict) == "ParameterDict()"


def test_parameter_dict_errors_and_repr():
    pdict = nn.ParameterDict({"w": tn.ones(2, 3, dtype=tn.float64)})
    assert repr(pdict) == "ParameterDict(  (w): Parameter containing: [tinynn.DoubleTensor of size 2x3])"
    with pytest.raises(KeyError, match="no key 'zz'"):
        pdict["zz"]
    with pytest.raises(AttributeError):            # PyTorch raises AttributeError here: both are caught
        pdict["zz"]
    with pytest.raises(AttributeError, match="no attribute 'zz'"):
        pdict.zz
    with pytest.raises(TypeError, match="keys must be strings"):
        pdict[1] = tn.ones(1)
    with pytest.raises(KeyError, match="contain"):
        pdict["a.b"] = tn.ones(1)
    with pytest.raises(TypeError, match="iterable of key/value pairs, but got int"):
        pdict.update(5)
    with pytest.raises(ValueError, match="element #0 has length 1; 2 is required"):
        pdict.update([("a",)])
    with pytest.raises(TypeError, match="element #0 should be Iterable"):
        pdict.update([1])
    with pytest.raises(KeyError, match="dictionary is empty"):
        nn.ParameterDict().popitem()
    with pytest.raises(TypeError, match="cannot assign 'str' as parameter 'w'"):
        pdict["w"] = "text"
    with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
        pdict()


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.scales = nn.ParameterList([tn.ones(2), tn.ones(2)])
        self.biases = nn.ParameterDict({"b": tn.zeros(2)})

    def forward(self, x):
        return x * self.scales[0] * self.scales[1] + self.biases["b"]


def test_containers_inside_a_model():
    model = Model()
    assert list(model.state_dict()) == ["scales.0", "scales.1", "biases.b"]
    optimizer = tn.optim.SGD(model.parameters(), lr=0.5)
    model(tn.ones(2)).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(model.scales[0].numpy(), [0.5, 0.5])
    np.testing.assert_allclose(model.biases["b"].numpy(), [-0.5, -0.5])
    other = Model()
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other.scales[1].numpy(), model.scales[1].numpy())
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert list(clone.state_dict()) == list(model.state_dict()) and clone.scales[0] is not model.scales[0]
        np.testing.assert_array_equal(clone.biases["b"].numpy(), model.biases["b"].numpy())
    model.double()
    assert model.scales[0].dtype == np.float64 and model.biases.b.dtype == np.float64
