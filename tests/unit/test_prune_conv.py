"""Channel pruning of convolutional networks: filters ranked by L2 norm, masks that persist, and
prune.shrink removing the channels from the conv, its BatchNorm and the next layer's inputs with the
outputs unchanged."""
import numpy as np
import pytest

import tinynn as tn
from tinynn import nn, prune
from tinynn.compress.prune_conv import conv_chains
from tinynn.models import LeNet5, ResNet


def trained_a_little(model, x, steps=3):
    """A few SGD steps so BatchNorm statistics and weights are not at their initial values."""
    opt = tn.optim.SGD(model.parameters(), lr=0.05)
    y = tn.tensor(np.arange(len(x)) % 10)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model


def test_structured_pruning_drops_the_smallest_l2_filters():
    tn.manual_seed(0)
    conv = nn.Conv2d(2, 4, 3)
    model = nn.Sequential(conv, nn.ReLU(), nn.Conv2d(4, 3, 3))
    with tn.no_grad():
        for o, scale in enumerate([3.0, 0.1, 2.0, 0.2]):
            conv.weight[o] = tn.ones(2, 3, 3) * scale
    prune.magnitude(model, 0.5, structured=True)
    w = conv.weight.numpy()
    assert np.all(w[[1, 3]] == 0) and np.all(w[[0, 2]] != 0)
    assert np.all(conv.bias.numpy()[[1, 3]] == 0)
    assert np.all(model[2].weight.numpy() != 0)          # the last conv feeds no known consumer: kept whole
    rows = {r["layer"]: r for r in prune.report(model)}
    assert rows["0"]["pruned_neurons"] == 2 and rows["0"]["shape"] == (4, 2, 3, 3)


def test_lenet_prune_half_the_channels_and_shrink_keeps_outputs():
    tn.manual_seed(1)
    x = tn.randn(12, 64)
    model = trained_a_little(LeNet5(input_size=8), x)
    prune.magnitude(model, 0.5, structured=True)
    # masks persist through training: pruned filters stay exactly zero
    trained_a_little(model, x, steps=2)
    model.eval()
    before = model(x).numpy()
    small = prune.shrink(model).eval()
    assert small.conv1.weight.shape == (3, 1, 5, 5) and small.conv2.weight.shape == (8, 3, 5, 5)
    assert small.fc1.weight.shape == (60, 8 * 2 * 2) and small.fc2.weight.shape == (42, 60)
    assert small.fc3.weight.shape == (10, 42)
    np.testing.assert_allclose(small(x).numpy(), before, rtol=1e-5, atol=1e-5)
    assert type(small) is LeNet5 and not prune.is_pruned(small.conv1)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_resnet_block_channels_shrink_with_their_batchnorm(mode):
    tn.manual_seed(2)
    x = tn.randn(8, 1, 8, 8)
    model = trained_a_little(ResNet([4, 8], num_classes=10), x)
    heads = [c.conv for c in conv_chains(model)]
    assert heads == [model.layer1[0].conv1, model.layer2[0].conv1]   # the convs before a residual add are not heads
    prune.magnitude(model, 0.5, structured=True)
    block = model.layer2[0]
    gone = ~np.any(block.conv1.weight.numpy().reshape(8, -1) != 0, axis=1)
    assert gone.sum() == 4 and np.all(block.bn1.weight.numpy()[gone] == 0) and np.all(block.bn1.bias.numpy()[gone] == 0)
    model.train(mode == "train")
    before = model(x).numpy()
    small = prune.shrink(model).train(mode == "train")
    assert small.layer2[0].conv1.out_channels == 4 and small.layer2[0].bn1.running_mean.shape == (4,)
    assert small.layer2[0].conv2.weight.shape == (8, 4, 3, 3) and small.layer1[0].conv2.weight.shape == (4, 2, 3, 3)
    np.testing.assert_allclose(small(x).numpy(), before, rtol=1e-4, atol=1e-5)


def test_unstructured_pruning_reaches_conv_weights():
    tn.manual_seed(3)
    model = LeNet5(input_size=8)
    prune.magnitude(model, 0.7, scope="layer")
    w = model.conv2.weight.numpy()
    assert (w == 0).sum() == round(0.7 * w.size)
    assert abs(prune.sparsity(model) - 0.7) < 1e-3
    prune.remove(model)
    assert "weight" in model.conv2._parameters and not prune.is_pruned(model.conv2)


def test_pruned_state_dict_loads_into_a_fresh_model():
    tn.manual_seed(4)
    a = ResNet([4, 8], num_classes=10)
    prune.magnitude(a, 0.5, structured=True)
    b = ResNet([4, 8], num_classes=10)
    prune.load_state_dict(b, a.state_dict())
    x = tn.randn(3, 64)
    np.testing.assert_array_equal(a.eval()(x).numpy(), b.eval()(x).numpy())
