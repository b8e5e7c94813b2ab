"""A Tensor's attributes and autograd hooks with PyTorch's meaning (issue 15, step 2); closed forms."""
import numpy as np
import pytest

import tinynn as tn


def test_size_dim_numel_len():
    x = tn.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and isinstance(x.size(), tuple) and isinstance(x.size(), tn.Size)
    assert x.size(0) == 2 and x.size(-1) == 4 and x.size().numel() == 24
    assert x.shape == (2, 3, 4) and x.dim() == 3 and x.ndim == 3 and x.numel() == 24 and len(x) == 2
    with pytest.raises(IndexError, match="size"):
        x.size(3)
    s = tn.tensor(5.0)
    assert s.size() == () and s.dim() == 0 and s.numel() == 1
    with pytest.raises(IndexError, match="0-d"):
        s.size(0)
    with pytest.raises(TypeError, match="len"):
        len(s)


def test_item_tolist_device():
    assert tn.tensor([[1.5]]).item() == 1.5 and isinstance(tn.tensor([2]).item(), int)
    assert tn.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert tn.ones(1).device == "cpu"
    with pytest.raises(ValueError, match="item"):
        tn.ones(2).item()


def test_is_leaf_grad_fn_detach():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn is not None and "Mul" in repr(y.grad_fn)
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    d.numpy()[0] = 10.0                      # detach shares memory with y
    assert y.tolist() == [10.0, 6.0]


def test_clone_is_a_differentiable_copy():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not c.is_leaf and c.grad_fn is not None
    c.numpy()[0] = 7.0
    assert x.tolist() == [1.0, 2.0]          # new memory
    (c * c).sum().backward()                 # d/dx sum(x^2) = 2x, through the clone
    np.testing.assert_array_equal(np.asarray(x.grad), [14.0, 4.0])  # c[0] was set to 7 => 2*7


def test_contiguous():
    x = tn.tensor(np.arange(6.0).reshape(2, 3))
    assert x.contiguous() is x
    t = tn.Tensor._wrap(np.arange(6.0).reshape(2, 3).T, False)
    c = t.contiguous()
    assert c.numpy().flags.c_contiguous and c.tolist() == t.tolist()


def test_requires_grad_():
    x = tn.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    with pytest.raises(TypeError, match="floating"):
        tn.tensor([1, 2]).requires_grad_()


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x * x                                 # dL/dy for L = sum(3 y) is 3
    y.retain_grad()
    (3.0 * y).sum().backward()
    np.testing.assert_array_equal(np.asarray(y.grad), [3.0, 3.0])
    np.testing.assert_array_equal(np.asarray(x.grad), [6.0, 12.0])     # 3 * 2x
    z = x * x
    (3.0 * z).sum().backward()
    assert z.grad is None                     # without retain_grad, a non-leaf keeps none


def test_register_hook_sees_and_replaces_the_gradient():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 2.0
    y.register_hook(lambda g: seen.append(g.tolist()))
    h = y.register_hook(lambda g: g * 10.0)   # replaces dL/dy
    (y * y).sum().backward()                  # dL/dy = 2y = 4x
    assert seen == [[4.0, 8.0]]
    np.testing.assert_array_equal(np.asarray(x.grad), [80.0, 160.0])   # 10 * 4x * 2
    h.remove()


def test_leaf_hook_sees_the_summed_gradient_once():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()) or g * 0.5)
    (x * 3.0 + x * 5.0).sum().backward()      # two paths: 3 + 5 = 8, halved by the hook
    assert seen == [[8.0, 8.0]]
    np.testing.assert_array_equal(np.asarray(x.grad), [4.0, 4.0])
    with pytest.raises(RuntimeError, match="register_hook"):
        tn.ones(2).register_hook(print)


def test_transposes():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = tn.tensor(a)
    np.testing.assert_array_equal(x.mT.numpy(), a.swapaxes(-1, -2))
    m = tn.tensor(a[0])
    np.testing.assert_array_equal(m.T.numpy(), a[0].T)
    np.testing.assert_array_equal(m.mT.numpy(), a[0].T)


def test_retain_graph_lets_a_second_backward_accumulate():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x * x).sum()                       # dy/dx = 3x^2
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 24.0])          # twice 3x^2
    with pytest.raises(RuntimeError, match="freed"):
        y.backward()
    x.grad = None
    (x * x * x).sum().backward(create_graph=True)   # the gradient 3x^2 is in a graph: d/dx sum = 6x
    (gg,) = tn.autograd.grad(x.grad.sum(), x)
    np.testing.assert_array_equal(gg.numpy(), [6.0, 12.0])


def test_backward_gradient_argument():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).backward(gradient=tn.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 30.0])


def test_set_grad_enabled_and_inference_mode():
    x = tn.ones(2, requires_grad=True)
    with tn.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
        with tn.set_grad_enabled(True):
            assert (x * 2.0).requires_grad
        assert not tn.is_grad_enabled()
    assert tn.is_grad_enabled()
    tn.set_grad_enabled(False)                  # as a function: switches at once
    try:
        assert not tn.is_grad_enabled() and not (x * 2.0).requires_grad
    finally:
        tn.set_grad_enabled(True)
    assert tn.is_grad_enabled()
    with tn.inference_mode():
        assert not (x * 2.0).requires_grad
    with tn.inference_mode(False):
        assert (x * 2.0).requires_grad

    @tn.inference_mode()
    def f(t):
        return t * 2.0

    @tn.set_grad_enabled(False)
    def g(t):
        return t * 2.0

    assert tn.is_grad_enabled()                 # decorating switched nothing
    assert not f(x).requires_grad and not g(x).requires_grad and tn.is_grad_enabled()


def test_sum_over_dim_0_of_a_0d_tensor():
    x = tn.tensor(3.0, requires_grad=True)
    x.sum(0).backward()                         # PyTorch allows dim 0 and -1 on a 0-d tensor
    x.sum(-1).backward()
    assert x.grad.item() == 2.0
    with pytest.raises(IndexError, match="sum: dim 1"):
        x.sum(1)


def test_autograd_grad_returns_gradients_without_touching_dot_grad():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    w = tn.tensor([3.0, 4.0], requires_grad=True)
    h = x * w
    y = (h * h).sum()                           # dy/dx = 2 x w^2, dy/dh = 2 h
    gx, gh = tn.autograd.grad(y, [x, h], retain_graph=True)
    np.testing.assert_array_equal(gx.numpy(), [18.0, 64.0])
    np.testing.assert_array_equal(gh.numpy(), [6.0, 16.0])
    assert x.grad is None and w.grad is None
    (gw,) = tn.autograd.grad([y, w.sum()], w)   # summed over outputs: 2 w x^2 + 1
    np.testing.assert_array_equal(gw.numpy(), [7.0, 33.0])
    z = tn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        tn.autograd.grad((x * 2.0).sum(), [x, z])
    assert tn.autograd.grad((x * 2.0).sum(), [x, z], allow_unused=True)[1] is None
    (g,) = tn.autograd.grad((x * x).sum(), x, create_graph=True)   # 2x, differentiable again: 2
    np.testing.assert_array_equal(tn.autograd.grad(g.sum(), x)[0].numpy(), [2.0, 2.0])


# ---- chunk, split, narrow: PyTorch's argument rules, sizes and errors
def test_split_and_chunk_sizes_follow_pytorch():
    x = tn.arange(14.0).reshape(2, 7)
    assert [p.shape for p in x.split(3, dim=1)] == [(2, 3), (2, 3), (2, 1)]
    pieces = x.split([2, 0, 5], dim=-1)  # a list of sizes; an empty piece is kept
    assert [p.shape for p in pieces] == [(2, 2), (2, 0), (2, 5)]
    np.testing.assert_array_equal(pieces[2].numpy(), np.arange(14.0).reshape(2, 7)[:, 2:])
    assert [p.shape for p in x.chunk(3, dim=-1)] == [(2, 3), (2, 3), (2, 1)]
    assert [p.shape for p in x.chunk(4, dim=1)] == [(2, 2)] * 3 + [(2, 1)]
    empty = tn.zeros(0, 2)  # torch.split gives one empty piece, torch.chunk `chunks` of them
    assert [p.shape for p in empty.split(2)] == [(0, 2)]
    assert [p.shape for p in empty.chunk(3)] == [(0, 2)] * 3


def test_narrow_takes_a_length_of_zero_and_a_negative_start():
    x = tn.arange(6.0).reshape(2, 3)
    assert x.narrow(1, 1, 0).shape == (2, 0) and x.narrow(1, 3, 0).shape == (2, 0)
    np.testing.assert_array_equal(x.narrow(-1, -2, 2).numpy(), [[1.0, 2.0], [4.0, 5.0]])
    with pytest.raises(IndexError, match=r"^narrow: start 2 and length 2"):
        x.narrow(1, 2, 2)


@pytest.mark.parametrize("op, call", [("chunk", lambda x: x.chunk(2, dim=2)), ("chunk", lambda x: x.chunk(2, dim=-3)),
                                      ("split", lambda x: x.split(1, dim=2)), ("narrow", lambda x: x.narrow(-3, 0, 1))])
def test_views_name_themselves_for_a_dim_out_of_range(op, call):
    with pytest.raises(IndexError, match=rf"^{op}: dim -?\d is out of range"):
        call(tn.zeros(2, 3))


@pytest.mark.parametrize("call, message", [(lambda x: x.chunk(0), "^chunk: chunks must be positive, got 0"),
                                           (lambda x: x.chunk(-1), "^chunk: chunks must be positive, got -1"),
                                           (lambda x: x.split(0), "^split: split_size must be positive, got 0"),
                                           (lambda x: x.split(-2), "^split: split_size must be positive, got -2"),
                                           (lambda x: x.split([1, 1]), r"^split: sections \[1, 1\] do not add up")])
def test_chunk_and_split_refuse_sizes_that_are_not_positive(call, message):
    with pytest.raises(ValueError, match=message):
        call(tn.zeros(3))


def test_reshape_refuses_negative_sizes_other_than_minus_one():
    # PyTorch: "invalid shape dimension -2"; NumPy would read -2 as the size to infer
    x = tn.zeros(2, 3)
    assert x.reshape(-1, 3).shape == (2, 3) and x.view(3, -1).shape == (3, 2)
    for shape in ((-2, 3), (3, -3), (-2,)):
        with pytest.raises(ValueError, match=r"^reshape: invalid shape dimension -[23] in .*: sizes are >= 0, or -1 "
                                             r"for the one to infer$"):
            x.reshape(*shape)
    with pytest.raises(ValueError, match="reshape: invalid shape dimension -2"):
        x.view(-2, 3)


def test_to_copy_gives_a_new_tensor_and_a_device_error_names_to():
    x = tn.tensor([1.0, 2.0])
    same = x.to(tn.float32 if x.dtype == np.float32 else tn.float64, copy=True)
    assert same is not x and same.dtype == x.dtype
    same.add_(1.0)
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])     # a copy, not a view
    assert x.to(x.dtype) is x                                 # without copy=True: the tensor itself
    with pytest.raises(RuntimeError, match=r"^to: device 'cuda' is not available"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match=r"^to: device 'cuda' is not available"):
        x.to(device="cuda")


def test_an_integer_cast_requires_no_gradient():
    x = tn.tensor([1.5, 2.5], requires_grad=True)
    assert x.to(tn.int64).requires_grad is False and x.long().requires_grad is False


def test_chunk_of_an_empty_dim_other_than_the_first():
    pieces = tn.zeros(2, 0, 3).chunk(3, dim=1)   # as PyTorch: `chunks` empty pieces along that dim
    assert [tuple(p.shape) for p in pieces] == [(2, 0, 3)] * 3
