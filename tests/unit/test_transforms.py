"""Image augmentations (torchvision's RandomCrop, RandomRotation, RandomAffine; RandomShift)
against closed forms: identities, exact rotations, windows of the padded image, shifted copies."""
import numpy as np
import pytest

import tinynn as tn
from tinynn.data import transforms as T


def images(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def test_rotation_by_zero_is_identity_in_every_layout():
    x = images((4, 3, 7, 5))
    for interp in ("nearest", "bilinear"):
        rot = T.RandomRotation((0, 0), interpolation=interp)
        np.testing.assert_allclose(rot(x), x, atol=1e-6)
        np.testing.assert_allclose(rot(x[0]), x[0], atol=1e-6)
    flat = x[:, 0].reshape(4, 35)
    np.testing.assert_array_equal(T.RandomRotation(0, image_shape=(7, 5))(flat), flat)
    out = T.RandomRotation(0)(tn.tensor(x))
    assert isinstance(out, tn.Tensor) and out.shape == x.shape


@pytest.mark.parametrize("k", [1, 2, 3, -1])
@pytest.mark.parametrize("side", [5, 6])
def test_rotation_by_multiples_of_90_is_rot90(k, side):
    x = images((2, 3, side, side))
    for interp in ("nearest", "bilinear"):
        y = T.RandomRotation((90 * k, 90 * k), interpolation=interp)(x)
        np.testing.assert_allclose(y, np.rot90(x, k, axes=(2, 3)), atol=1e-5)


def test_rotation_leaves_fill_outside_and_keeps_centre():
    x = np.ones((1, 1, 9, 9), np.float32)
    y = T.RandomRotation((45, 45), fill=-1)(x)
    assert y[0, 0, 4, 4] == 1 and y[0, 0, 0, 0] == -1   # a corner of the frame is not reached by the rotated square


def test_affine_rotation_is_clockwise_as_torchvision_affine():
    x = images((1, 1, 6, 6))
    y = T.RandomAffine((90, 90))(x)
    np.testing.assert_allclose(y, np.rot90(x, -1, axes=(2, 3)), atol=1e-6)


def shifted(x, dy, dx):
    """x moved by (dy, dx) with zeros coming in: out[..., r, c] = x[..., r - dy, c - dx]."""
    h, w = x.shape[-2:]
    out = np.zeros_like(x)
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = x[..., max(-dy, 0):h - max(dy, 0),
                                                                        max(-dx, 0):w - max(dx, 0)]
    return out


def test_affine_translation_is_an_integer_shifted_copy():
    tn.manual_seed(1)
    x = images((40, 2, 8, 8))
    y = T.RandomAffine(0, translate=(0.25, 0.25))(x)
    seen = set()
    for xi, yi in zip(x, y):
        match = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if np.array_equal(yi, shifted(xi, dy, dx))]
        assert len(match) == 1
        seen.add(match[0])
    assert len(seen) > 5   # each image draws its own shift


def test_affine_scale_by_one_and_shear_zero_is_identity_and_scale_two_magnifies_the_centre():
    x = images((3, 1, 7, 7))
    np.testing.assert_allclose(T.RandomAffine(0, scale=(1, 1), shear=0)(x), x, atol=1e-6)
    y = T.RandomAffine(0, scale=(2, 2), interpolation="bilinear")(x)
    assert np.allclose(y[:, :, 3, 3], x[:, :, 3, 3])
    # output (r, c) reads input centre + ((r, c) - centre) / 2: (1, 3) -> (2, 3)
    assert np.allclose(y[:, :, 1, 3], x[:, :, 2, 3])
    # pure shear of x by sx: row 3 (the centre row) is fixed
    z = T.RandomAffine(0, shear=(30, 30))(x)
    np.testing.assert_allclose(z[:, :, 3], x[:, :, 3])


def test_random_crop_with_padding_is_a_window_of_the_padded_image():
    tn.manual_seed(0)
    x = images((30, 3, 6, 6))
    y = T.RandomCrop(6, padding=2)(x)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = set()
    for xp, yi in zip(padded, y):
        match = [(i, j) for i in range(5) for j in range(5) if np.array_equal(xp[:, i:i + 6, j:j + 6], yi)]
        assert len(match) == 1
        offsets.add(match[0])
    assert len(offsets) > 10


def test_random_crop_sizes_modes_and_layouts():
    x = images((3, 5, 7))                       # (C, H, W): one image
    y = T.RandomCrop((4, 6))(x)
    assert y.shape == (3, 4, 6)
    assert any(np.array_equal(y, x[:, i:i + 4, j:j + 6]) for i in range(2) for j in range(2))
    assert T.RandomCrop(8, padding=(1, 2))(x).shape == (3, 8, 8)     # H: 5 + 2 + 2, W: 7 + 1 + 1 -> crop 8x8 fits
    edge = T.RandomCrop((5, 9), padding=(1, 0, 1, 0), padding_mode="edge")(x)
    np.testing.assert_array_equal(edge, np.pad(x, ((0, 0), (0, 0), (1, 1)), mode="edge"))
    grown = T.RandomCrop((5, 10), pad_if_needed=True, fill=7)(x)
    assert grown.shape == (3, 5, 10) and np.sum(grown == 7) == 3 * 5 * 3
    flat = x[0].reshape(1, 35)
    assert T.RandomCrop(4, image_shape=(5, 7))(flat).shape == (1, 16)
    with pytest.raises(ValueError, match="larger"):
        T.RandomCrop(9)(x)
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(3, padding_mode="wrap")


def test_same_seed_same_output_different_seed_different():
    x = images((8, 1, 8, 8))
    aug = T.Compose([T.RandomCrop(8, padding=1), T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1),
                                                                 shear=5, interpolation="bilinear"),
                     T.RandomRotation(15), T.GaussianNoise(0.05)])
    tn.manual_seed(5)
    a = aug(x)
    tn.manual_seed(5)
    b = aug(x)
    tn.manual_seed(6)
    c = aug(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and a.dtype == np.float32


def test_random_shift_moves_channels_together():
    tn.manual_seed(2)
    x = images((10, 3, 5, 5))
    y = T.RandomShift(1)(x)
    for xi, yi in zip(x, y):
        assert sum(np.array_equal(yi, shifted(xi, dy, dx)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)) == 1


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="RandomRotation.*degrees"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="RandomAffine: translate"):
        T.RandomAffine(0, translate=(2, 0))
    with pytest.raises(ValueError, match="interpolation"):
        T.RandomAffine(0, interpolation="bicubic")
    with pytest.raises(ValueError, match="square"):
        T.RandomRotation(10)(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="RandomAffine: expected"):
        T.RandomAffine(0)(np.zeros((1, 1, 1, 2, 2)))
