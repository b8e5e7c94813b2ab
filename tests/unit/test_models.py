"""tinynn.models: shapes and parameter counts from the papers' layouts, flat-row input, residual
identities, and model files of the convolutional networks."""
import numpy as np
import pytest

import tinynn as tn
from tinynn import nn
from tinynn.io.modelfile import build, conv_spec, load_model, read_spec, save_model
from tinynn.models import BUILDERS, MLP, Augmented, BasicBlock, LeNet5, ResNet


def test_mlp_is_the_sequential_of_linears_and_activations():
    m = MLP([4, 5, 3], activation="tanh")
    assert [type(x) for x in m] == [nn.Linear, nn.Tanh, nn.Linear]
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = tn.randn(2, 4)
    expected = np.tanh(x.numpy() @ m[0].weight.numpy().T + m[0].bias.numpy()) @ m[2].weight.numpy().T + m[2].bias.numpy()
    np.testing.assert_allclose(m(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="MLP: unknown activation"):
        MLP([2, 2], activation="gelu")


def test_lenet5_on_28x28_has_the_papers_layer_sizes():
    m = LeNet5()
    # conv1 6@5x5 (1*25*6 + 6), conv2 16@5x5 (6*25*16 + 16), fc 400-120-84-10
    expected = (25 * 6 + 6) + (6 * 25 * 16 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    assert sum(p.numel() for p in m.parameters()) == expected == 61706
    assert m(tn.randn(2, 1, 28, 28)).shape == (2, 10)
    assert m(tn.randn(2, 784)).shape == (2, 10)          # flat rows, as load_mnist gives them


def test_lenet5_on_the_8x8_digits_and_its_width():
    m = LeNet5(input_size=8)
    assert m.fc1.in_features == 16 * 2 * 2
    assert m(tn.randn(3, 64)).shape == (3, 10)
    wide = LeNet5(num_classes=5, in_channels=3, input_size=8, width=2)
    assert wide.conv1.weight.shape == (12, 3, 5, 5) and wide(tn.randn(2, 3, 8, 8)).shape == (2, 5)
    with pytest.raises(ValueError, match="LeNet5"):
        m(tn.randn(2, 63))


def test_basic_block_is_identity_plus_residual():
    tn.manual_seed(0)
    block = BasicBlock(4, 4).eval()
    nn.init.zeros_(block.bn2.weight)             # F(x) = bn2(...) = beta = 0: y = relu(x)
    x = tn.randn(2, 4, 5, 5)
    np.testing.assert_allclose(block(x).numpy(), np.maximum(x.numpy(), 0), atol=1e-6)
    down = BasicBlock(4, 8, stride=2)
    assert down(x).shape == (2, 8, 3, 3) and down.downsample is not None and block.downsample is None


def test_resnet_shapes_keys_and_training_step():
    tn.manual_seed(0)
    m = ResNet([4, 8], num_classes=3)
    keys = list(m.state_dict())
    assert "conv1.weight" in keys and "layer2.0.downsample.0.weight" in keys and "fc.weight" in keys
    assert "bn1.running_var" in keys and "layer1.0.bn2.num_batches_tracked" in keys
    x, y = tn.randn(6, 1, 8, 8), tn.tensor([0, 1, 2, 0, 1, 2])
    opt = tn.optim.SGD(m.parameters(), lr=0.1)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert m(tn.randn(2, 64)).shape == (2, 3)


def test_augmented_transforms_only_in_training():
    calls = []

    def double(x):
        calls.append(1)
        return x * 2

    lin = nn.Linear(2, 1, bias=False)
    nn.init.ones_(lin.weight)
    net = Augmented(lin, double)
    x = tn.tensor([[1.0, 2.0]])
    assert net(x).item() == 6 and calls == [1]
    assert net.eval()(x).item() == 3 and calls == [1]


@pytest.mark.parametrize("arch, arguments", [
    ("lenet", {"num_classes": 10, "in_channels": 1, "input_size": 8, "width": 1}),
    ("resnet", {"block_channels": [4, 8], "num_classes": 10, "in_channels": 1, "blocks": 1}),
])
def test_model_file_round_trip_of_image_models(tmp_path, arch, arguments):
    tn.manual_seed(1)
    model = BUILDERS[arch](**arguments)
    model.train()
    model(tn.randn(8, 64))           # BatchNorm running statistics move away from (0, 1)
    model.eval()
    spec = conv_spec(arch, (1, 8, 8), **arguments)
    save_model(model, tmp_path / "m.npz", spec)
    loaded, saved = load_model(tmp_path / "m.npz")
    x = tn.randn(5, 64)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert saved["arch"] == arch and saved["input_shape"] == [1, 8, 8]
    assert type(build(read_spec(tmp_path / "m.npz")[0])) is type(model)
