"""Conventional neuroevolution (CNE): a genetic algorithm on the weights of a fixed network.

The architecture is chosen by hand (layer sizes and activations); only the weights evolve. The
*genotype* of an individual is one flat vector θ ∈ ℝᴳ holding every ``W`` and ``b`` of the network,
layer after layer; its *phenotype* is the network those weights define. A population of ``P``
individuals is a ``(P, G)`` matrix, one genome per row.

One generation of the genetic algorithm:

    fitness     F_i = fitness(network(θ_i))                     (e.g. accuracy, or −C)
    elitism     the E best genomes are copied unchanged
    selection   parents are drawn with a preference for high F   (tournament or truncation)
    crossover   a child takes each gene from one of two parents  (uniform or one-point)
    mutation    θ_g ← θ_g + σ ε,  ε ~ N(0, 1), for each gene with probability p_m

No gradient is ever computed: the fitness may be anything that can be measured (an accuracy, a
game score), differentiable or not. :class:`PopulationMLP` evaluates all P networks at once,
stacking their weights into ``(P, n_in, n_out)`` arrays and multiplying with ``np.matmul`` over the
population axis; :func:`cosyne_permute` adds the cooperative-coevolution step of CoSyNE.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import init as initializers
from ..errors import ShapeError, as_float_array, check_finite, check_positive, check_positive_int, describe
from ..nn import functional as F
from ..nn.activations import Identity, ReLU, Sigmoid, Tanh
from ..nn.linear import Dense
from ..nn.module import DEFAULT_DTYPE, Sequential
from ..train import History, progress_bar

# name → (function of z, layer class) for the activations a CNE network may use
_ACTIVATIONS = {
    "identity": (lambda z: z, Identity),
    "tanh": (F.tanh, Tanh),
    "sigmoid": (F.sigmoid, Sigmoid),
    "relu": (F.relu, ReLU),
}


def _activation(name: str, who: str):
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"{who}: unknown activation {name!r}; choose one of {sorted(_ACTIVATIONS)}.") from None


def _population(genomes, who: str, n_genes: int | None = None) -> np.ndarray:
    """``genomes`` as a finite float ``(P, G)`` array (a single genome ``(G,)`` is refused)."""
    genomes = as_float_array(genomes, who)
    if genomes.ndim != 2 or (n_genes is not None and genomes.shape[1] != n_genes):
        want = f"(P, {n_genes})" if n_genes is not None else "(P, G)"
        raise ShapeError(f"{who}: expected a population of genomes of shape {want}, one genome per row, "
                         f"received shape {genomes.shape}. A single genome needs a population axis: "
                         "use genome[None, :].")
    check_finite(genomes, who, "the population")
    return genomes


class PopulationMLP:
    """A fixed-topology MLP whose weights are a flat genome; evaluates a whole population at once.

    ``layer_sizes = (n_in, h_1, …, n_out)``. For individual ``i`` and layer ``l``:

        z_i^(l) = a_i^(l−1) W_i^(l) + b_i^(l),      a_i^(l) = f(z_i^(l)),      a_i^(0) = x

    with ``f = hidden`` on hidden layers and ``output`` on the last one. The genome is
    ``θ = [vec W^(1), b^(1), vec W^(2), b^(2), …]`` (row-major ``W`` of shape ``(n_in, n_out)``, the
    layout of :class:`coursepkg.nn.Dense`), so :meth:`to_model` and :meth:`genome_of` convert
    between a genome and a ``Sequential`` of ``Dense`` layers exactly.

    Parameters
    ----------
    layer_sizes : at least two positive sizes.
    hidden, output : activation names: ``"identity"``, ``"tanh"``, ``"sigmoid"``, ``"relu"``.
    dtype : float32 by default.
    """

    def __init__(self, layer_sizes, hidden: str = "tanh", output: str = "identity", dtype=DEFAULT_DTYPE):
        sizes = tuple(int(s) for s in layer_sizes)
        if len(sizes) < 2 or min(sizes) <= 0:
            raise ValueError(f"PopulationMLP: layer_sizes must be at least two positive sizes (n_in, …, n_out), "
                             f"received {tuple(layer_sizes)!r}.")
        self.layer_sizes, self.dtype = sizes, np.dtype(dtype)
        self.hidden, self.output = hidden, output
        self._f_hidden = _activation(hidden, "PopulationMLP")
        self._f_output = _activation(output, "PopulationMLP")
        self._slices = []  # (W slice, b slice) of every layer in the genome
        start = 0
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            w_end = start + n_in * n_out
            self._slices.append((slice(start, w_end), slice(w_end, w_end + n_out)))
            start = w_end + n_out
        self.n_genes = start

    def __repr__(self) -> str:
        return f"PopulationMLP({self.layer_sizes}, hidden={self.hidden!r}, output={self.output!r}, " \
               f"n_genes={self.n_genes})"

    def init_population(self, size: int, rng=None, init="scaled_normal") -> np.ndarray:
        """``size`` random genomes ``(size, G)``: weights from the initializer ``init`` (N(0, 1/n_in) by
        default, as for backprop), biases 0."""
        if int(size) != size or size < 1:
            raise ValueError(f"PopulationMLP.init_population: size must be a positive integer, received {size!r}.")
        rng, size = initializers.make_rng(rng), int(size)
        genomes = np.zeros((size, self.n_genes), dtype=self.dtype)
        for (w, _), n_in, n_out in zip(self._slices, self.layer_sizes[:-1], self.layer_sizes[1:]):
            # one (n_in, n_out) matrix per individual, side by side, so each column is a unit for the
            # initializer (sparse initialization picks its k incoming weights per unit)
            W = initializers.get(init)((n_in, size * n_out), n_in, n_out, rng, self.dtype)
            genomes[:, w] = W.reshape(n_in, size, n_out).transpose(1, 0, 2).reshape(size, -1)
        return genomes

    def unpack(self, genomes) -> list[tuple[np.ndarray, np.ndarray]]:
        """Views ``[(W^(l) (P, n_in, n_out), b^(l) (P, 1, n_out)), …]`` into a ``(P, G)`` population."""
        genomes = _population(genomes, "PopulationMLP.unpack", self.n_genes)
        P = len(genomes)
        return [(genomes[:, w].reshape(P, n_in, n_out), genomes[:, b].reshape(P, 1, n_out))
                for (w, b), n_in, n_out in zip(self._slices, self.layer_sizes[:-1], self.layer_sizes[1:])]

    def forward(self, genomes, x) -> np.ndarray:
        """Outputs of every individual on the batch ``x`` ``(n, n_in)``: an array ``(P, n, n_out)``.

        One ``np.matmul`` per layer multiplies the batch by all P weight matrices at once.
        """
        genomes = _population(genomes, "PopulationMLP.forward", self.n_genes).astype(self.dtype, copy=False)
        x = as_float_array(x, "PopulationMLP.forward", self.dtype)
        if x.ndim != 2 or x.shape[1] != self.layer_sizes[0]:
            raise ShapeError(f"PopulationMLP.forward: expected inputs of shape (batch, {self.layer_sizes[0]}), "
                             f"received shape {x.shape}.")
        layers = self.unpack(genomes)
        a = x
        for i, (W, b) in enumerate(layers):
            f = (self._f_output if i == len(layers) - 1 else self._f_hidden)[0]
            a = f(np.matmul(a, W) + b)
        return a

    def to_model(self, genome) -> Sequential:
        """The phenotype of one genome ``(G,)`` as a ``coursepkg.nn`` model (``Dense`` + activations),
        ready for :func:`coursepkg.train.fit` or to compare with backprop."""
        if np.ndim(genome) != 1:
            raise ShapeError(f"PopulationMLP.to_model: expected one genome of shape ({self.n_genes},), received "
                             f"shape {np.shape(genome)}. Pick a row of the population, e.g. population[0].")
        genome = _population(np.asarray(genome)[None], "PopulationMLP.to_model", self.n_genes)[0]
        layers = []
        for i, ((w, b), n_in, n_out) in enumerate(zip(self._slices, self.layer_sizes[:-1], self.layer_sizes[1:])):
            dense = Dense(n_in, n_out, rng=0, dtype=self.dtype)
            dense.W.data[...] = genome[w].reshape(n_in, n_out)
            dense.b.data[...] = genome[b]
            last = i == len(self._slices) - 1
            layers += [dense, (self._f_output if last else self._f_hidden)[1]()]
        return Sequential(*layers)

    def genome_of(self, model: Sequential) -> np.ndarray:
        """The flat genome ``(G,)`` of a model built like :meth:`to_model` (e.g. one trained by backprop)."""
        denses = [m for m in model.modules() if isinstance(m, Dense)]
        shapes = [(d.n_in, d.n_out) for d in denses]
        want = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))
        if shapes != want or any(d.b is None for d in denses):
            raise ShapeError(f"PopulationMLP.genome_of: expected Dense layers of shapes {want} with biases, "
                             f"received {shapes}. Build the model with to_model().")
        return np.concatenate([np.concatenate([d.W.data.ravel(), d.b.data]) for d in denses]).astype(self.dtype)


# --------------------------------------------------------------------------------------- fitness
def _outputs_and_labels(outputs, y, who: str):
    outputs = as_float_array(outputs, who)
    y = np.asarray(y)
    if outputs.ndim != 3 or y.shape != outputs.shape[1:2]:
        raise ShapeError(f"{who}: expected outputs (P, n, k) and labels (n,), received shapes "
                         f"{outputs.shape} and {y.shape}.")
    classes = max(outputs.shape[2], 2)  # one output: labels 0/1
    if y.dtype.kind not in "iub" or (y.size and (y.min() < 0 or y.max() >= classes)):
        raise ValueError(f"{who}: labels must be integer class indices 0 … {classes - 1}, received "
                         f"{describe(y)}. Pass y as integers (e.g. y.astype(int)), not one-hot rows or ±1.")
    return outputs, y


def accuracy_fitness(outputs, y) -> np.ndarray:
    """Fraction of correct predictions of each individual: ``(P, n, k)`` outputs, labels ``(n,)`` → ``(P,)``.

    The prediction is the arg-max over the k outputs, or ``a > 0.5`` when there is a single output.
    """
    outputs, y = _outputs_and_labels(outputs, y, "accuracy_fitness")
    predicted = outputs[..., 0] > 0.5 if outputs.shape[2] == 1 else outputs.argmax(axis=2)
    return (predicted == y).mean(axis=1)


def neg_cross_entropy_fitness(outputs, y) -> np.ndarray:
    """``F_i = −C_i``, minus the mean cross-entropy of each individual's softmax outputs (higher is better).

    ``C_i = −(1/n) Σ_x log softmax(a_i(x))_{y(x)}`` with logits ``a_i`` ``(P, n, k)`` and labels ``y`` ``(n,)``.
    """
    outputs, y = _outputs_and_labels(outputs, y, "neg_cross_entropy_fitness")
    log_p = F.log_softmax(outputs, axis=2)
    return log_p[:, np.arange(len(y)), y].mean(axis=1)


# ------------------------------------------------------------------------------------- selection
def _fitness_vector(fitness, who: str) -> np.ndarray:
    fitness = as_float_array(fitness, who, np.float64)
    if fitness.ndim != 1 or len(fitness) == 0:
        raise ShapeError(f"{who}: expected a non-empty fitness vector of shape (P,), received shape {fitness.shape}.")
    check_finite(fitness, who, "fitness")
    return fitness


def tournament_selection(fitness, n: int, k: int = 3, rng=None) -> np.ndarray:
    """Indices of ``n`` parents, each the fittest of ``k`` individuals drawn uniformly (with replacement).

    The selection pressure grows with ``k``: ``k = 1`` is uniform random choice, the individual of
    rank r (1 = worst of P) wins a tournament with probability (r/P)ᵏ − ((r−1)/P)ᵏ.
    """
    fitness = _fitness_vector(fitness, "tournament_selection")
    n, k = check_positive_int(n, "tournament_selection", "n"), check_positive_int(k, "tournament_selection", "k")
    contestants = initializers.make_rng(rng).integers(0, len(fitness), size=(n, k))
    return contestants[np.arange(n), fitness[contestants].argmax(axis=1)]


def truncation_selection(fitness, n: int, fraction: float = 0.2, rng=None) -> np.ndarray:
    """Indices of ``n`` parents drawn uniformly among the best ``⌈fraction · P⌉`` individuals."""
    fitness = _fitness_vector(fitness, "truncation_selection")
    n = check_positive_int(n, "truncation_selection", "n")
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"truncation_selection: fraction must lie in (0, 1], received {fraction!r}.")
    best = np.argsort(-fitness, kind="stable")[:max(1, int(np.ceil(fraction * len(fitness))))]
    return best[initializers.make_rng(rng).integers(0, len(best), size=n)]


# ------------------------------------------------------------------------------------- crossover
def _parents(a, b, who: str):
    a, b = as_float_array(a, who), as_float_array(b, who)
    if a.shape != b.shape or a.ndim != 2:
        raise ShapeError(f"{who}: expected two parent populations of the same shape (P, G), received shapes "
                         f"{a.shape} and {b.shape}.")
    return a, b


def uniform_crossover(a, b, rng=None, p: float = 0.5) -> np.ndarray:
    """Children ``(P, G)`` of the parent pairs ``(a_i, b_i)``: each gene from ``a`` with probability ``p``,
    else from ``b`` (independently for every gene)."""
    a, b = _parents(a, b, "uniform_crossover")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"uniform_crossover: p must lie in [0, 1], received {p!r}.")
    return np.where(initializers.make_rng(rng).random(a.shape) < p, a, b)


def one_point_crossover(a, b, rng=None) -> np.ndarray:
    """Children ``(P, G)``: genes ``0…c−1`` from ``a_i`` and ``c…G−1`` from ``b_i``, with a cut point
    ``c`` drawn uniformly in ``1…G−1`` for each pair (so each child has genes of both parents)."""
    a, b = _parents(a, b, "one_point_crossover")
    if a.shape[1] < 2:
        raise ValueError(f"one_point_crossover: genomes need at least 2 genes, received {a.shape[1]}.")
    cut = initializers.make_rng(rng).integers(1, a.shape[1], size=(len(a), 1))
    return np.where(np.arange(a.shape[1]) < cut, a, b)


# -------------------------------------------------------------------------------------- mutation
def gaussian_mutation(genomes, rate: float, sigma: float, rng=None) -> np.ndarray:
    """A mutated copy: ``θ_g ← θ_g + σ ε_g`` with ``ε_g ~ N(0, 1)``, for each gene with probability ``rate``."""
    genomes = _population(genomes, "gaussian_mutation")
    _check_mutation(rate, sigma, "gaussian_mutation")
    rng = initializers.make_rng(rng)
    mask = rng.random(genomes.shape) < rate
    return genomes + (sigma * mask * rng.standard_normal(genomes.shape)).astype(genomes.dtype)


def _check_mutation(rate, sigma, who: str) -> None:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{who}: the mutation rate is a probability in [0, 1], received {rate!r}.")
    check_positive(sigma, who, "sigma", allow_zero=True)


# ------------------------------------------------------------------------------ CoSyNE permutation
def cosyne_permute(genomes, fitness, rng=None) -> np.ndarray:
    """CoSyNE's cooperative-coevolution step: shuffle each gene among the individuals.

    Each column ``g`` of the population is a sub-population of values for one weight. An
    individual's value ``θ_ig`` is marked with probability ``1 − ((F_i − F_min)/(F_max − F_min))^(1/G)``
    (the fittest individual is never marked, weak ones almost always), and within each column the
    marked values are randomly permuted among the marked individuals. A weight thus survives in
    new combinations with the other weights and is judged by how well it *cooperates*.
    """
    genomes = _population(genomes, "cosyne_permute")
    fitness = _fitness_vector(fitness, "cosyne_permute")
    if len(fitness) != len(genomes):
        raise ShapeError(f"cosyne_permute: expected one fitness per genome ({len(genomes)}), received {len(fitness)}.")
    rng = initializers.make_rng(rng)
    P, G = genomes.shape
    spread = fitness.max() - fitness.min()
    rank = (fitness - fitness.min()) / spread if spread > 0 else np.zeros(P)
    marked = rng.random((P, G)) < 1.0 - rank[:, None] ** (1.0 / G)
    rows = np.arange(P, dtype=np.float64)[:, None]
    # marked rows first (in row order / in a random order), then the unmarked ones in row order
    slots = np.argsort(np.where(marked, rows, P + rows), axis=0, kind="stable")
    sources = np.argsort(np.where(marked, rng.random((P, G)), 2.0 + rows), axis=0, kind="stable")
    permuted = np.empty_like(genomes)
    columns = np.arange(G)[None, :]
    permuted[slots, columns] = genomes[sources, columns]
    return permuted


# ---------------------------------------------------------------------------------- the GA itself
_SELECTIONS = {"tournament": tournament_selection, "truncation": truncation_selection}
_CROSSOVERS = {"uniform": uniform_crossover, "one_point": one_point_crossover, "none": None}


@dataclass
class Evolution:
    """The result of :func:`evolve`: the best genome ever seen, its fitness, the final population
    with its fitness, and a :class:`coursepkg.train.History` with ``best_fitness``, ``mean_fitness``,
    ``evaluations`` (fitness evaluations so far) and ``time`` (seconds) per generation."""

    best_genome: np.ndarray
    best_fitness: float
    population: np.ndarray
    fitness: np.ndarray
    history: History


def evolve(fitness_fn: Callable[[np.ndarray], np.ndarray], population, generations: int,
           selection: str = "tournament", crossover: str = "uniform", mutation_rate: float = 0.1,
           sigma: float = 0.1, elite: int = 2, tournament_size: int = 3, truncation: float = 0.2,
           cosyne: bool = False, rng=None, progress: bool = True) -> Evolution:
    """Run the genetic algorithm for ``generations`` generations on an initial ``(P, G)`` population.

    ``fitness_fn(genomes (P, G)) -> (P,)`` scores a whole population (higher is better), e.g.
    ``lambda g: accuracy_fitness(net.forward(g, X), y)``. Each generation keeps the ``elite`` best
    genomes, then fills the other ``P − elite`` places with children: two parents chosen by
    ``selection`` (``"tournament"`` of ``tournament_size`` or ``"truncation"`` to the best
    ``truncation`` fraction), combined by ``crossover`` (``"uniform"``, ``"one_point"`` or
    ``"none"``: the first parent is copied) and mutated by :func:`gaussian_mutation`. With
    ``cosyne=True`` the children are evaluated and go through :func:`cosyne_permute` (a simplification
    of CoSyNE that costs one extra evaluation per child; ``history["evaluations"]`` counts it).
    """
    population = _population(population, "evolve")
    P = len(population)
    generations = check_positive_int(generations, "evolve", "generations")
    if selection not in _SELECTIONS:
        raise ValueError(f"evolve: unknown selection {selection!r}; choose one of {sorted(_SELECTIONS)}.")
    if crossover not in _CROSSOVERS:
        raise ValueError(f"evolve: unknown crossover {crossover!r}; choose one of {sorted(_CROSSOVERS)}.")
    if int(elite) != elite or not 0 <= elite < P:
        raise ValueError(f"evolve: elite must be an integer in [0, P) = [0, {P}), received {elite!r}.")
    _check_mutation(mutation_rate, sigma, "evolve")
    rng = initializers.make_rng(rng)
    pick = _SELECTIONS[selection]
    pick_args = {"k": tournament_size} if selection == "tournament" else {"fraction": truncation}
    history, start = History(), time.perf_counter()
    bar = progress_bar(generations, progress, "evolution", unit="gen")
    fitness, evaluations = _checked_fitness(fitness_fn, population), P
    best_i = int(fitness.argmax())
    best_genome, best_fitness = population[best_i].copy(), float(fitness[best_i])
    for _ in range(generations):
        n_children = P - int(elite)
        first = population[pick(fitness, n_children, rng=rng, **pick_args)]
        if _CROSSOVERS[crossover] is None:
            children = first
        else:
            second = population[pick(fitness, n_children, rng=rng, **pick_args)]
            children = _CROSSOVERS[crossover](first, second, rng=rng)
        children = gaussian_mutation(children, mutation_rate, sigma, rng)
        if cosyne:
            children = cosyne_permute(children, _checked_fitness(fitness_fn, children), rng)
            evaluations += n_children
        elites = population[np.argsort(-fitness, kind="stable")[:int(elite)]]
        population = np.concatenate([elites, children]).astype(population.dtype, copy=False)
        fitness, evaluations = _checked_fitness(fitness_fn, population), evaluations + P
        if fitness.max() > best_fitness:
            best_i = int(fitness.argmax())
            best_genome, best_fitness = population[best_i].copy(), float(fitness[best_i])
        history.append({"best_fitness": best_fitness, "mean_fitness": fitness.mean(),
                        "evaluations": evaluations, "time": time.perf_counter() - start})
        bar.update(1)
        bar.set_postfix(best=f"{best_fitness:.4g}", refresh=False)
    bar.close()
    return Evolution(best_genome, best_fitness, population, fitness, history)


def _checked_fitness(fitness_fn, population) -> np.ndarray:
    fitness = np.asarray(fitness_fn(population), dtype=np.float64)
    if fitness.shape != (len(population),):
        raise ShapeError(f"evolve: fitness_fn must return one fitness per genome, shape ({len(population)},), "
                         f"received shape {fitness.shape}.")
    check_finite(fitness, "evolve", "the fitness returned by fitness_fn")
    return fitness
