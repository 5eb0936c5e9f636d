"""Conventional neuroevolution (chapter 15): population evaluator, GA operators, the generation loop."""

import numpy as np
import pytest

from coursepkg.data.toy import moons
from coursepkg.errors import NonFiniteError, ShapeError
from coursepkg.models.neuroevolution import (
    PopulationMLP,
    accuracy_fitness,
    cosyne_permute,
    evolve,
    gaussian_mutation,
    neg_cross_entropy_fitness,
    one_point_crossover,
    tournament_selection,
    truncation_selection,
    uniform_crossover,
)
from coursepkg.nn.losses import CrossEntropyLoss


@pytest.fixture
def net():
    return PopulationMLP((3, 5, 4, 2), hidden="tanh", output="sigmoid", dtype=np.float64)


def test_population_forward_equals_a_loop_of_sequential_models(net):
    rng = np.random.default_rng(0)
    genomes = rng.normal(size=(6, net.n_genes))
    x = rng.normal(size=(7, 3))
    out = net.forward(genomes, x)
    assert out.shape == (6, 7, 2)
    for i, genome in enumerate(genomes):
        model = net.to_model(genome)
        np.testing.assert_allclose(out[i], model(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(net.genome_of(model), genome)
    assert net.n_genes == 3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2


def test_init_population_scale_and_zero_biases():
    net = PopulationMLP((50, 20, 1))
    genomes = net.init_population(40, rng=0)
    assert genomes.shape == (40, net.n_genes) and genomes.dtype == np.float32
    (W1, b1), _ = net.unpack(genomes)
    assert abs(W1.std() - 1 / np.sqrt(50)) < 0.01
    assert np.all(b1 == 0)
    np.testing.assert_array_equal(genomes, net.init_population(40, rng=0))


def test_fitness_functions_match_accuracy_and_cross_entropy():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 10, 3))
    y = rng.integers(0, 3, size=10)
    np.testing.assert_allclose(accuracy_fitness(logits, y), (logits.argmax(2) == y).mean(1))
    for i in range(4):
        assert neg_cross_entropy_fitness(logits, y)[i] == pytest.approx(-CrossEntropyLoss()(logits[i], y), rel=1e-6)
    single = np.array([[[0.2], [0.9]]])
    np.testing.assert_array_equal(accuracy_fitness(single, np.array([0, 0])), [0.5])


def test_tournament_selection_prefers_the_fit_as_predicted():
    fitness = np.arange(10.0)
    picks = tournament_selection(fitness, 20000, k=3, rng=0)
    freq = np.bincount(picks, minlength=10) / 20000
    ranks = np.arange(1, 11) / 10
    expected = ranks**3 - (ranks - 0.1) ** 3  # rank r wins with (r/P)^k − ((r−1)/P)^k
    np.testing.assert_allclose(freq, expected, atol=0.012)
    np.testing.assert_array_equal(picks, tournament_selection(fitness, 20000, k=3, rng=0))
    assert np.all(tournament_selection(fitness, 50, k=1, rng=1) < 10)


def test_truncation_selection_only_picks_the_best_fraction():
    fitness = np.random.default_rng(2).normal(size=50)
    picks = truncation_selection(fitness, 1000, fraction=0.2, rng=0)
    assert set(picks) == set(np.argsort(-fitness)[:10])


def test_uniform_and_one_point_crossover():
    a, b = np.zeros((2000, 8)), np.ones((2000, 8))
    child = uniform_crossover(a, b, rng=0, p=0.3)
    assert abs((child == 0).mean() - 0.3) < 0.01
    child = one_point_crossover(a, b, rng=0)
    cuts = (child == 0).sum(axis=1)
    assert np.all(np.diff(child, axis=1) >= 0)  # a prefix of a's genes, then b's
    assert cuts.min() == 1 and cuts.max() == 7
    np.testing.assert_array_equal(child, one_point_crossover(a, b, rng=0))


def test_gaussian_mutation_statistics():
    genomes = np.zeros((500, 200))
    mutated = gaussian_mutation(genomes, rate=0.1, sigma=0.5, rng=0)
    changed = mutated != 0
    assert abs(changed.mean() - 0.1) < 0.005
    assert abs(mutated[changed].std() - 0.5) < 0.02
    assert np.all(genomes == 0)  # a copy, the input is untouched


def test_cosyne_keeps_each_gene_column_a_permutation_and_the_best_individual():
    rng = np.random.default_rng(3)
    genomes = rng.normal(size=(30, 12))
    fitness = rng.normal(size=30)
    permuted = cosyne_permute(genomes, fitness, rng=0)
    np.testing.assert_array_equal(np.sort(permuted, axis=0), np.sort(genomes, axis=0))
    np.testing.assert_array_equal(permuted[fitness.argmax()], genomes[fitness.argmax()])
    worst = fitness.argmin()  # marked with probability 1: its genes go to other individuals
    assert (permuted[worst] != genomes[worst]).mean() > 0.5


def test_cne_learns_moons():
    X, y = moons(200, noise=0.1, rng=0)
    net = PopulationMLP((2, 8, 2))
    start = net.init_population(60, rng=0)
    fitness = lambda g: neg_cross_entropy_fitness(net.forward(g, X), y)  # noqa: E731
    result = evolve(fitness, start, 60, rng=0, progress=False)
    history = result.history
    assert history["best_fitness"][-1] > fitness(start).max() + 0.15
    assert np.all(np.diff(history["best_fitness"]) >= 0)  # elitism: the best never gets worse
    assert history["evaluations"][-1] == 60 * 61
    assert accuracy_fitness(net.forward(result.best_genome[None], X), y)[0] > 0.85
    again = evolve(fitness, start, 60, rng=0, progress=False)
    np.testing.assert_array_equal(again.best_genome, result.best_genome)


def test_every_initializer_sees_one_matrix_per_individual():
    net = PopulationMLP((20, 4))
    W = net.unpack(net.init_population(30, rng=0, init="sparse"))[0][0]  # (30, 20, 4)
    # sparse initialization: every unit of every individual keeps the same number of non-zero inputs
    counts = (W != 0).sum(axis=1)
    assert counts.min() == counts.max() > 0
    W = net.unpack(net.init_population(2000, rng=0))[0][0]
    assert abs(W.std() - 1 / np.sqrt(20)) < 0.01  # N(0, 1/n_in) with n_in = 20, not the population size


def test_fitness_functions_reject_labels_that_are_not_class_indices(net):
    outputs = np.zeros((2, 3, 2))
    for bad in (np.array([1.0, 0.0, 1.0]), np.array([0, 2, 1]), np.array([-1, 1, 1])):
        for fn in (accuracy_fitness, neg_cross_entropy_fitness):
            with pytest.raises(ValueError, match="integer class indices"):
                fn(outputs, bad)


def test_errors_name_the_function_and_the_problem(net):
    with pytest.raises(ValueError, match="PopulationMLP"):
        PopulationMLP((3,))
    with pytest.raises(ValueError, match="unknown activation"):
        PopulationMLP((3, 2), hidden="softsign")
    with pytest.raises(ShapeError, match="population axis"):
        net.forward(np.zeros(net.n_genes), np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"\(batch, 3\)"):
        net.forward(np.zeros((2, net.n_genes)), np.zeros((2, 4)))
    with pytest.raises(NonFiniteError):
        net.forward(np.full((2, net.n_genes), np.nan), np.zeros((2, 3)))
    with pytest.raises(ShapeError, match="genome_of"):
        PopulationMLP((3, 2)).genome_of(net.to_model(np.zeros(net.n_genes)))
    with pytest.raises(ValueError, match="gaussian_mutation: the mutation rate"):
        gaussian_mutation(np.zeros((2, 3)), rate=1.5, sigma=0.1)
    with pytest.raises(ValueError, match="evolve: sigma"):
        evolve(lambda g: np.zeros(len(g)), np.zeros((4, 3)), 2, sigma=-1, progress=False)
    with pytest.raises(ShapeError, match="to_model: expected one genome"):
        net.to_model(np.zeros((1, net.n_genes)))
    with pytest.raises(ValueError, match="fraction"):
        truncation_selection(np.ones(4), 2, fraction=0.0)
    with pytest.raises(ShapeError, match="same shape"):
        uniform_crossover(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="elite"):
        evolve(lambda g: np.zeros(len(g)), np.zeros((4, 3)), 2, elite=4, progress=False)
    with pytest.raises(ValueError, match="selection"):
        evolve(lambda g: np.zeros(len(g)), np.zeros((4, 3)), 2, selection="roulette", progress=False)
    with pytest.raises(ShapeError, match="one fitness per genome"):
        evolve(lambda g: np.zeros(2), np.zeros((4, 3)), 2, progress=False)
