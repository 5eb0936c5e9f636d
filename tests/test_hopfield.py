"""Hopfield networks: the energy argument, Hebbian storage, recall and its capacity, bad input."""

import numpy as np
import pytest

from coursepkg.models import HopfieldNetwork, flip, overlap, random_patterns


def random_symmetric_net(n, rng):
    net = HopfieldNetwork(n)
    A = rng.normal(size=(n, n))
    net.W = (A + A.T) / 2
    np.fill_diagonal(net.W, 0)
    net.b = rng.normal(size=n)
    return net


def test_energy_matches_its_formula_and_never_rises_under_asynchronous_updates():
    rng = np.random.default_rng(0)
    net = random_symmetric_net(12, rng)
    s = random_patterns(20, 12, rng=1)
    want = np.array([-0.5 * x @ net.W @ x - net.b @ x for x in s])
    np.testing.assert_allclose(net.energy(s), want)
    energies = [net.energy(s)]
    for _ in range(5):
        s = net.update(s, rng=rng)
        energies.append(net.energy(s))
    assert np.all(np.diff(energies, axis=0) <= 1e-12)
    settled, sweeps = net.recall(s, rng=rng)
    assert sweeps < 100
    # a minimum: no single flip lowers the energy (the net input agrees in sign with every unit)
    assert np.all(settled * net.net_input(settled) >= 0)


def test_hebbian_storage_and_recall_below_capacity():
    rng = np.random.default_rng(2)
    n = 200
    patterns = random_patterns(10, n, rng=rng)  # P = 0.05 N, well below 0.138 N
    net = HopfieldNetwork(n).store(patterns)
    assert net.n_patterns == 10 and np.allclose(net.W, net.W.T) and np.all(np.diag(net.W) == 0)
    np.testing.assert_allclose(net.W, (patterns.T @ patterns / n) * (1 - np.eye(n)))
    cue = flip(patterns, 0.2, rng=rng)
    assert np.allclose(np.diag(overlap(cue, patterns)), 0.6)  # 20 % of the units flipped
    recalled, _ = net.recall(cue, rng=rng)
    np.testing.assert_array_equal(recalled, patterns)
    assert np.all(net.energy(recalled) < net.energy(cue))


def test_far_above_capacity_the_patterns_are_lost():
    rng = np.random.default_rng(3)
    n = 100
    patterns = random_patterns(40, n, rng=rng)  # P = 0.4 N
    net = HopfieldNetwork(n).store(patterns)
    recalled, _ = net.recall(patterns, rng=rng)  # started *at* the patterns
    assert np.mean(np.diag(overlap(recalled, patterns))) < 0.8


def test_synchronous_updates_can_oscillate():
    net = HopfieldNetwork(2)
    net.W = np.array([[0.0, -1.0], [-1.0, 0.0]])  # two units that want opposite states
    s = np.array([[1.0, 1.0]])
    s1 = net.update(s, synchronous=True)
    s2 = net.update(s1, synchronous=True)
    np.testing.assert_array_equal(s1, [[-1, -1]])
    np.testing.assert_array_equal(s2, s)  # a 2-cycle: the energy argument needs one unit at a time
    settled, _ = net.recall(s, rng=0)
    assert settled[0, 0] == -settled[0, 1]


def test_bad_input_names_the_problem():
    net = HopfieldNetwork(4)
    with pytest.raises(ValueError, match="s = 2 \\* x - 1"):
        net.store(np.array([[0, 1, 1, 0]]))
    with pytest.raises(ValueError, match="−1 and \\+1"):
        net.energy(np.array([[0.5, 1, 1, -1]]))
    with pytest.raises(Exception, match=r"shape \(n, 4\)"):
        net.update(np.ones((2, 5)))
    with pytest.raises(ValueError, match="n_units"):
        HopfieldNetwork(0)
    with pytest.raises(ValueError, match="fraction"):
        flip(np.ones((1, 4)), 1.5)


def test_a_net_input_of_zero_up_to_rounding_is_a_tie():
    net = HopfieldNetwork(2)
    net.W = np.array([[0.0, 1e-17], [1e-17, 0.0]])  # h = ±1e-17: zero but for rounding
    s = np.array([[1.0, -1.0]])
    np.testing.assert_array_equal(net.update(s, rng=0), s)
    np.testing.assert_array_equal(net.update(s, synchronous=True), s)
