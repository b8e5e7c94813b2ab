"""tn.Generator and `generator=` (torch.Generator's behaviour): the same seed gives the same draws,
a generator's draws neither depend on nor advance the global stream (tn.manual_seed), the state
round-trips exactly, and every API that takes generator= draws from it. Expected values come from
PyTorch's documented behaviour (a new generator's seed is 67280421310721, negative seeds are taken as
their 64-bit two's complement) and from the definitions of the distributions, never from torch."""
import copy
import pickle

import numpy as np
import pytest

import tinynn as tn
from tinynn import data

TORCH_DEFAULT_SEED = 67280421310721


def same(a, b):
    return np.array_equal(np.asarray(a.numpy() if isinstance(a, tn.Tensor) else a),
                          np.asarray(b.numpy() if isinstance(b, tn.Tensor) else b))


def global_untouched(action):
    """True when `action()` leaves tn.manual_seed's stream where it was."""
    tn.manual_seed(7)
    expected = tn.rand(4)
    tn.manual_seed(7)
    action()
    return same(tn.rand(4), expected)


# --- the Generator itself -------------------------------------------------------------------------

def test_manual_seed_returns_the_generator_and_sets_the_initial_seed():
    g = tn.Generator()
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    assert str(g.device) == "cpu" and tn.Generator(device="cpu").device == "cpu"


def test_a_new_generator_starts_from_pytorchs_fixed_default_seed():
    assert tn.Generator().initial_seed() == TORCH_DEFAULT_SEED
    assert same(tn.rand(5, generator=tn.Generator()), tn.rand(5, generator=tn.Generator()))


def test_same_seed_same_draws_different_seed_different_draws():
    a = tn.randn(20, generator=tn.Generator().manual_seed(3))
    assert same(a, tn.randn(20, generator=tn.Generator().manual_seed(3)))
    assert not same(a, tn.randn(20, generator=tn.Generator().manual_seed(4)))


def test_reseeding_restarts_the_stream():
    g = tn.Generator().manual_seed(11)
    first = tn.rand(6, generator=g)
    assert not same(tn.rand(6, generator=g), first)  # the stream moves on
    g.manual_seed(11)
    assert same(tn.rand(6, generator=g), first)


def test_negative_seeds_are_their_64_bit_twos_complement():
    assert tn.Generator().manual_seed(-1).initial_seed() == 2 ** 64 - 1
    assert tn.Generator().manual_seed(-2 ** 63).initial_seed() == 2 ** 63
    assert same(tn.rand(3, generator=tn.Generator().manual_seed(-1)),
                tn.rand(3, generator=tn.Generator().manual_seed(2 ** 64 - 1)))


def test_seed_draws_a_fresh_seed_and_returns_it():
    g = tn.Generator()
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64 and g.initial_seed() == s
    assert same(tn.rand(3, generator=g), tn.rand(3, generator=tn.Generator().manual_seed(s)))


def test_draws_are_independent_of_the_global_seed_and_leave_it_alone():
    def draws(global_seed):
        tn.manual_seed(global_seed)
        return tn.rand(8, generator=tn.Generator().manual_seed(1))

    assert same(draws(0), draws(99))
    g = tn.Generator().manual_seed(2)
    assert global_untouched(lambda: (tn.rand(5, generator=g), tn.randn(5, generator=g),
                                     tn.randint(0, 9, (5,), generator=g), tn.randperm(9, generator=g)))


def test_state_is_a_uint8_tensor_that_round_trips_exactly():
    g = tn.Generator().manual_seed(258)
    tn.rand(3, generator=g)
    state = g.get_state()
    assert isinstance(state, tn.Tensor) and state.dtype == tn.uint8 and state.shape == (56,)
    assert state[:8].tolist() == [2, 1, 0, 0, 0, 0, 0, 0]  # the seed 258 = 0x0102, little-endian, first
    later = tn.randn(10, generator=g)
    assert g.set_state(state) is g
    assert same(tn.randn(10, generator=g), later)


def test_set_state_moves_one_generator_into_anothers_state():
    g = tn.Generator().manual_seed(1)
    tn.rand(5, generator=g)
    h = tn.Generator().manual_seed(2).set_state(g.get_state())
    assert h.initial_seed() == 1  # the seed is part of the state, as in PyTorch
    assert same(tn.rand(4, generator=h), tn.rand(4, generator=g))


def test_get_state_is_a_copy():
    g = tn.Generator().manual_seed(0)
    state = g.get_state()
    state.zero_()
    assert same(tn.rand(3, generator=g), tn.rand(3, generator=tn.Generator().manual_seed(0)))


def test_clone_state_pickle_and_deepcopy_keep_the_state():
    g = tn.Generator().manual_seed(9)
    tn.rand(2, generator=g)
    copies = [g.clone_state(), pickle.loads(pickle.dumps(g)), copy.deepcopy(g)]
    expected = tn.rand(4, generator=g)
    for c in copies:
        assert c is not g and c.initial_seed() == 9 and same(tn.rand(4, generator=c), expected)


def test_generator_errors():
    g = tn.Generator()
    with pytest.raises(RuntimeError, match="Generator"):
        tn.Generator(device="cuda")
    for bad in (1.5, True, "3", None):
        with pytest.raises(TypeError, match="manual_seed"):
            g.manual_seed(bad)
    for bad in (2 ** 64, -2 ** 63 - 1):
        with pytest.raises(ValueError, match="manual_seed"):
            g.manual_seed(bad)
    with pytest.raises(TypeError, match="set_state"):
        g.set_state([0] * 56)
    with pytest.raises(TypeError, match="set_state"):
        g.set_state(tn.zeros(56))
    with pytest.raises(RuntimeError, match="set_state"):
        g.set_state(tn.zeros(10, dtype=tn.uint8))
    with pytest.raises(RuntimeError, match="set_state"):  # an even PCG increment: never a real state
        g.set_state(tn.zeros(56, dtype=tn.uint8))


# --- the default generator and the module functions ------------------------------------------------

def test_manual_seed_returns_the_default_generator():
    assert tn.manual_seed(4) is tn.default_generator
    assert tn.initial_seed() == 4 == tn.default_generator.initial_seed()
    assert tn.manual_seed(-1).initial_seed() == 2 ** 64 - 1
    assert tn.manual_seed(3.0).initial_seed() == 3  # torch.manual_seed takes int(seed)
    with pytest.raises(TypeError, match="manual_seed"):
        tn.manual_seed(None)


def test_reseeding_keeps_the_one_numpy_generator_every_module_draws_from():
    rng = tn.random.generator()
    tn.manual_seed(0)
    assert tn.random.generator() is rng


def test_module_seed_and_rng_state():
    s = tn.seed()
    assert tn.initial_seed() == s
    tn.manual_seed(12)
    state = tn.get_rng_state()
    a = tn.rand(5)
    tn.set_rng_state(state)
    assert same(tn.rand(5), a)


def test_fork_rng_restores_the_default_generator():
    tn.manual_seed(21)
    expected = tn.rand(3)
    tn.manual_seed(21)
    with tn.random.fork_rng():
        tn.rand(100)
    assert same(tn.rand(3), expected)


# --- creation functions ------------------------------------------------------------------------------

def test_creation_draws_follow_their_distributions():
    g, n = tn.Generator().manual_seed(0), 20000
    u = tn.rand(n, generator=g, dtype=tn.float64).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    z = tn.randn(n, generator=g, dtype=tn.float64).numpy()
    assert abs(z.mean()) < 5 / np.sqrt(n) and abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    k = tn.randint(3, 7, (n,), generator=g)
    assert k.dtype == tn.int64 and set(k.tolist()) == {3, 4, 5, 6}
    assert sorted(tn.randperm(10, generator=g).tolist()) == list(range(10))


def test_like_forms_take_a_generator():
    x = tn.zeros(2, 3, dtype=tn.float64)
    for fn in (tn.rand_like, tn.randn_like):
        a = fn(x, generator=tn.Generator().manual_seed(5))
        assert a.shape == (2, 3) and a.dtype == tn.float64
        assert same(a, fn(x, generator=tn.Generator().manual_seed(5)))
    r = tn.randint_like(x, 2, 5, generator=tn.Generator().manual_seed(5))
    assert same(r, tn.randint_like(x, low=2, high=5, generator=tn.Generator().manual_seed(5)))
    assert set(r.tolist()[0] + r.tolist()[1]) <= {2.0, 3.0, 4.0}
    assert set(tn.randint_like(x, 2).flatten().tolist()) <= {0.0, 1.0}


def test_like_forms_reject_what_they_do_not_take():  # they used to drop unknown arguments silently
    x = tn.zeros(2)
    with pytest.raises(TypeError):
        tn.rand_like(x, foo=1)
    with pytest.raises(TypeError, match="zeros_like"):
        tn.zeros_like(x, 3)
    with pytest.raises(TypeError, match="randint_like"):
        tn.randint_like(x)
    with pytest.raises(TypeError, match="full_like"):
        tn.full_like(x, 1.0, 2.0)
    with pytest.raises(TypeError):
        tn.full_like(x, 1.0, generator=tn.Generator())  # torch.full_like takes no generator


@pytest.mark.parametrize("name, call", [
    ("rand", lambda g: tn.rand(2, generator=g)), ("randn", lambda g: tn.randn(2, generator=g)),
    ("randint", lambda g: tn.randint(0, 3, (2,), generator=g)), ("randperm", lambda g: tn.randperm(3, generator=g)),
    ("rand", lambda g: tn.rand_like(tn.zeros(2), generator=g)),
    ("random_split", lambda g: data.random_split(range(4), [2, 2], generator=g)),
    ("RandomSampler", lambda g: data.RandomSampler(range(4), generator=g)),
    ("SubsetRandomSampler", lambda g: data.SubsetRandomSampler([0, 1], generator=g)),
    ("WeightedRandomSampler", lambda g: data.WeightedRandomSampler([1.0, 1.0], 2, generator=g)),
    ("DataLoader", lambda g: data.DataLoader(range(4), shuffle=True, generator=g)),
])
def test_a_generator_of_the_wrong_type_is_a_type_error_naming_the_function(name, call):
    for bad in (0, "seed", object()):
        with pytest.raises(TypeError, match=name):
            call(bad)


# --- data ------------------------------------------------------------------------------------------

def split(seed, lengths=(0.8, 0.2), n=20):
    return [list(map(int, s.indices)) for s in data.random_split(range(n), list(lengths),
                                                                  generator=tn.Generator().manual_seed(seed))]


def test_random_split_follows_its_generator_and_leaves_the_global_stream():
    a = split(0)
    assert [len(p) for p in a] == [16, 4] and sorted(a[0] + a[1]) == list(range(20))
    assert split(0) == a and split(1) != a
    assert global_untouched(lambda: split(0))


def test_random_split_without_a_generator_uses_the_global_stream():
    def parts(seed):
        tn.manual_seed(seed)
        return [list(map(int, s.indices)) for s in data.random_split(range(20), [10, 10])]

    assert parts(3) == parts(3)
    assert not global_untouched(lambda: data.random_split(range(20), [10, 10]))


def test_a_numpy_generator_is_still_accepted():
    def parts(rng):
        return [list(map(int, s.indices)) for s in data.random_split(range(12), [6, 6], generator=rng)]

    assert parts(np.random.default_rng(2)) == parts(np.random.default_rng(2))
    assert same(tn.rand(3, generator=np.random.default_rng(2)), tn.rand(3, generator=np.random.default_rng(2)))


def test_dataloader_shuffles_from_its_generator():
    def epochs(seed, n_epochs=2):
        loader = data.DataLoader(list(range(12)), batch_size=4, shuffle=True,
                                 generator=tn.Generator().manual_seed(seed))
        return [sum((b.tolist() for b in loader), []) for _ in range(n_epochs)]

    first, second = epochs(4)
    assert sorted(first) == list(range(12)) and first != second  # a new permutation each pass
    assert epochs(4) == [first, second] and epochs(5)[0] != first
    assert global_untouched(lambda: epochs(4))
    g = tn.Generator()
    assert data.DataLoader(range(3), shuffle=True, generator=g).generator is g


def test_random_samplers_draw_from_their_generator():
    def draws(sampler_of):
        return list(sampler_of(tn.Generator().manual_seed(6)))

    samplers = [lambda g: data.RandomSampler(range(15), generator=g),
                lambda g: data.RandomSampler(range(15), replacement=True, num_samples=30, generator=g),
                lambda g: data.SubsetRandomSampler([3, 5, 7, 9, 11], generator=g),
                lambda g: data.WeightedRandomSampler([1.0, 2.0, 3.0], 30, generator=g)]
    for sampler_of in samplers:
        assert draws(sampler_of) == draws(sampler_of)
        assert global_untouched(lambda: draws(sampler_of))
    assert sorted(draws(samplers[2])) == [3, 5, 7, 9, 11]


def test_weighted_random_sampler_frequencies():
    n = 40000
    picks = np.array(list(data.WeightedRandomSampler([0.0, 1.0, 3.0], n, generator=tn.Generator().manual_seed(1))))
    assert (picks == 0).sum() == 0  # a zero weight is never drawn with replacement
    p = 0.75  # P(2) = 3 / (0 + 1 + 3)
    assert abs((picks == 2).mean() - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_weighted_random_sampler_without_replacement():
    g = tn.Generator().manual_seed(0)
    order = list(data.WeightedRandomSampler([0.0, 0.0, 1.0], 3, replacement=False, generator=g))
    assert order[0] == 2 and sorted(order) == [0, 1, 2]  # zero weights only once the others are used up
    # P(first = 1) = 3/4 with weights (1, 3): sequential draws from what is left, as torch.multinomial
    firsts = [list(data.WeightedRandomSampler([1.0, 3.0], 2, replacement=False, generator=g)) for _ in range(4000)]
    assert all(sorted(f) == [0, 1] for f in firsts)
    assert abs(np.mean([f[0] == 1 for f in firsts]) - 0.75) < 5 * np.sqrt(0.75 * 0.25 / 4000)
    sampler = data.WeightedRandomSampler([1, 2], 5)
    assert len(sampler) == 5 and sampler.weights.dtype == tn.float64


@pytest.mark.parametrize("args, error", [
    (([1.0, 2.0], 0), ValueError), (([1.0, 2.0], 2.0), ValueError), (([1.0, 2.0], 2, 1), ValueError),
    (([[1.0, 2.0]], 2), ValueError), (([-1.0, 2.0], 2), RuntimeError), (([0.0, 0.0], 2), RuntimeError),
    (([float("nan"), 1.0], 2), RuntimeError), (([], 1), RuntimeError), (([1.0, 1.0], 3, False), RuntimeError),
])
def test_weighted_random_sampler_errors(args, error):
    with pytest.raises(error, match="WeightedRandomSampler"):
        data.WeightedRandomSampler(*args)


def test_uniform_and_normal_in_place_draw_from_the_given_generator():
    g = tn.Generator().manual_seed(3)
    tn.manual_seed(0)
    a = tn.empty(5).uniform_(-1, 1, generator=g)
    b = tn.empty(5).normal_(2.0, 0.5, generator=g)
    after_global = tn.rand(3)
    g.manual_seed(3)
    tn.manual_seed(0)
    np.testing.assert_array_equal(tn.empty(5).uniform_(-1, 1, generator=g).numpy(), a.numpy())
    np.testing.assert_array_equal(tn.empty(5).normal_(2.0, 0.5, generator=g).numpy(), b.numpy())
    np.testing.assert_array_equal(tn.rand(3).numpy(), after_global.numpy())   # the global stream did not move
    assert a.numpy().min() >= -1 and a.numpy().max() < 1
    with pytest.raises(TypeError, match="normal_: generator must be"):
        tn.empty(2).normal_(generator=3)


@pytest.mark.parametrize("name", ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                                  "kaiming_normal_", "trunc_normal_", "orthogonal_"])
def test_nn_init_draws_from_the_given_generator(name):
    from tinynn.nn import init
    fill = getattr(init, name)
    draws = []
    for _ in range(2):
        tn.manual_seed(1)
        w = tn.empty(4, 6)
        fill(w, generator=tn.Generator().manual_seed(5))
        draws.append((w.numpy().copy(), tn.rand(2).numpy()))
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    np.testing.assert_array_equal(draws[0][1], draws[1][1])
    tn.manual_seed(1)
    np.testing.assert_array_equal(tn.rand(2).numpy(), draws[0][1])   # the global stream did not move
    other = tn.empty(4, 6)
    fill(other, generator=tn.Generator().manual_seed(6))
    assert not np.array_equal(other.numpy(), draws[0][0])
