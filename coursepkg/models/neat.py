"""NEAT, NeuroEvolution of Augmenting Topologies (Stanley & Miikkulainen, 2002), and CPPNs.

NEAT evolves the weights *and* the topology of a network, starting from the smallest one (every
input wired to every output, no hidden node) and growing it by mutation. Three ideas make it work:

* **Historical markings.** Every connection gene carries an *innovation number*, handed out by an
  :class:`InnovationTracker` when the connection first appears. The same structural mutation made
  twice in one generation gets the same number, so genes with equal numbers are the "same" gene
  in two genomes, and crossover lines genomes up by innovation number without any graph matching.
* **Speciation.** Genomes are grouped by the compatibility distance

      δ = c₁ E / N + c₂ D / N + c₃ W̄

  (E excess genes, D disjoint genes, W̄ mean weight difference of the matching genes, N the size
  of the larger genome) and compete mainly inside their species. With **explicit fitness sharing**
  ``f'_i = f_i / |S_i|`` a species' offspring is proportional to its *mean* fitness, so a new
  structure, whose weights are not yet tuned, is protected from being outcompeted at once.
* **Complexification.** Structural mutations only add: a connection between two unconnected
  nodes, or a node that splits a connection (the old one disabled, the new incoming weight 1 and
  the outgoing weight the old one, so the network barely changes at the moment of the mutation).

Genomes here are feed-forward (an added connection never closes a cycle). A genome's phenotype,
:class:`FeedForwardNetwork`, evaluates its nodes in topological order, each on the whole batch.

A **CPPN** (compositional pattern-producing network) is the same kind of network with a mix of
activations (sin, Gaussian, sigmoid, tanh, abs, identity), queried at every pixel's coordinates
``(x, y, d)`` to draw a 2-D pattern: :func:`random_cppn` and :func:`draw_cppn`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from .. import init as initializers
from ..errors import ShapeError, as_float_array, check_positive, check_probability
from ..nn import functional as F
from ..train import History, progress_bar

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "neat_sigmoid": lambda z: F.sigmoid(4.9 * z),  # the steepened sigmoid of the NEAT paper
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "sin": np.sin,
    "gaussian": lambda z: np.exp(-z * z),
    "abs": np.abs,
    "identity": lambda z: z,
    "relu": F.relu,
}
CPPN_ACTIVATIONS = ("sin", "gaussian", "sigmoid", "tanh", "abs", "identity")


def _check_activations(names: Iterable[str], who: str) -> tuple[str, ...]:
    names = tuple(names)
    unknown = [n for n in names if n not in ACTIVATIONS]
    if unknown or not names:
        raise ValueError(f"{who}: unknown or no activation(s) {unknown or names!r}; choose from {sorted(ACTIVATIONS)}.")
    return names


# ------------------------------------------------------------------------------------------ genes
@dataclass
class NodeGene:
    """A node: ``id``, ``kind`` (``"input"``, ``"bias"``, ``"hidden"``, ``"output"``) and the name of
    its activation ``f`` (a key of :data:`ACTIVATIONS`): the node computes ``a = f(Σ_j w_j a_j)``."""

    id: int
    kind: str
    activation: str = "identity"


@dataclass
class ConnectionGene:
    """A weighted link ``src → dst`` with its historical marking ``innovation``; a disabled gene is
    kept in the genome (it can be inherited and re-enabled) but not expressed in the network."""

    innovation: int
    src: int
    dst: int
    weight: float
    enabled: bool = True


class InnovationTracker:
    """Hands out global innovation numbers and node ids.

    ``connection(src, dst)`` returns the innovation number of the link ``src → dst``: a new
    number the first time in a generation, the same number when the same link appears again in
    that generation. ``split(innovation)`` does the same for the add-node mutation: splitting
    the same connection twice in one generation gives the same new node and the same two
    innovation numbers. ``next_generation()`` forgets the current generation's mutations (the
    counters keep growing).
    """

    def __init__(self, next_innovation: int = 0, next_node: int = 0):
        self.next_innovation, self.next_node = int(next_innovation), int(next_node)
        self._links: dict[tuple[int, int], int] = {}
        self._splits: dict[int, tuple[int, int, int]] = {}

    def connection(self, src: int, dst: int) -> int:
        """The innovation number of the link ``src → dst`` in this generation."""
        key = (int(src), int(dst))
        if key not in self._links:
            self._links[key] = self.next_innovation
            self.next_innovation += 1
        return self._links[key]

    def split(self, innovation: int) -> tuple[int, int, int]:
        """``(new node id, innovation of src → new, innovation of new → dst)`` for splitting a connection."""
        if innovation not in self._splits:
            node = self.next_node
            self.next_node += 1
            self._splits[innovation] = (node, self.next_innovation, self.next_innovation + 1)
            self.next_innovation += 2
        return self._splits[innovation]

    def next_generation(self) -> None:
        """Start a new generation: the same mutation from now on gets new numbers."""
        self._links.clear()
        self._splits.clear()


class Genome:
    """A NEAT genotype: node genes by id and connection genes by innovation number, plus a fitness.

    ``Genome.minimal(n_inputs, n_outputs, tracker, rng)`` is NEAT's starting point: node ids
    ``0…n_in−1`` are the inputs, ``n_in`` the bias (constant 1), then the outputs; every input and
    the bias is connected to every output, with N(0, 1) weights.
    """

    def __init__(self, nodes: dict[int, NodeGene], connections: dict[int, ConnectionGene]):
        self.nodes, self.connections = nodes, connections
        self.fitness: float | None = None

    @classmethod
    def minimal(cls, n_inputs: int, n_outputs: int, tracker: InnovationTracker, rng=None,
                output_activation: str = "neat_sigmoid") -> Genome:
        """The fully connected genome without hidden nodes (see the class docstring)."""
        for name, n in (("n_inputs", n_inputs), ("n_outputs", n_outputs)):
            if int(n) != n or n < 1:
                raise ValueError(f"Genome.minimal: {name} must be a positive integer, received {n!r}.")
        _check_activations([output_activation], "Genome.minimal")
        rng = initializers.make_rng(rng)
        nodes = {i: NodeGene(i, "input") for i in range(n_inputs)}
        nodes[n_inputs] = NodeGene(n_inputs, "bias")
        outputs = range(n_inputs + 1, n_inputs + 1 + n_outputs)
        nodes.update({o: NodeGene(o, "output", output_activation) for o in outputs})
        tracker.next_node = max(tracker.next_node, n_inputs + 1 + n_outputs)
        connections = {}
        for src in range(n_inputs + 1):
            for dst in outputs:
                innovation = tracker.connection(src, dst)
                connections[innovation] = ConnectionGene(innovation, src, dst, float(rng.normal()))
        return cls(nodes, connections)

    def copy(self) -> Genome:
        """A deep copy (without the fitness)."""
        return Genome(_copy_nodes(self.nodes), {i: copy.copy(c) for i, c in self.connections.items()})

    def ids(self, *kinds: str) -> list[int]:
        """Sorted ids of the nodes of the given kinds."""
        return sorted(i for i, n in self.nodes.items() if n.kind in kinds)

    def weights(self) -> dict[int, float]:
        """``{innovation: weight}`` of all connection genes (the input of :func:`compatibility_distance`)."""
        return {i: c.weight for i, c in self.connections.items()}

    def genes(self) -> list[tuple[int, float]]:
        """``[(innovation, weight), …]`` sorted by innovation number: what the distance δ walks through."""
        return sorted(self.weights().items())

    @property
    def n_hidden(self) -> int:
        """The number of hidden node genes."""
        return len(self.ids("hidden"))

    @property
    def n_enabled(self) -> int:
        """The number of enabled connection genes (those expressed in the network)."""
        return sum(c.enabled for c in self.connections.values())

    def __repr__(self) -> str:
        return (f"Genome({len(self.ids('input'))} inputs, {self.n_hidden} hidden, {len(self.ids('output'))} outputs, "
                f"{self.n_enabled}/{len(self.connections)} connections enabled, fitness={self.fitness})")

    def creates_cycle(self, src: int, dst: int) -> bool:
        """True when the link ``src → dst`` would close a cycle (``src`` is reachable from ``dst``)."""
        if src == dst:
            return True
        successors: dict[int, list[int]] = {}
        for c in self.connections.values():
            successors.setdefault(c.src, []).append(c.dst)
        seen, stack = {dst}, [dst]
        while stack:
            for nxt in successors.get(stack.pop(), ()):
                if nxt == src:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False


# -------------------------------------------------------------------------------------- phenotype
def _copy_nodes(nodes: dict[int, NodeGene]) -> dict[int, NodeGene]:
    return {i: NodeGene(n.id, n.kind, n.activation) for i, n in nodes.items()}


class FeedForwardNetwork:
    """The phenotype of a :class:`Genome`: its enabled connections, evaluated in topological order.

    For every non-input node ``j`` (in an order where each node comes after all its sources)
    ``a_j = f_j(Σ_{i→j} w_ij a_i)`` for the whole batch at once; inputs are the columns of ``x``
    and the bias node is 1. ``forward(x (n, n_in)) -> (n, n_out)``. Hidden nodes that cannot
    reach an output are skipped; an output without inputs outputs ``f(0)``.
    """

    def __init__(self, genome: Genome):
        self.inputs, self.bias = genome.ids("input"), genome.ids("bias")
        self.outputs = genome.ids("output")
        enabled = [c for c in genome.connections.values() if c.enabled]
        incoming: dict[int, list[ConnectionGene]] = {}
        for c in enabled:
            incoming.setdefault(c.dst, []).append(c)
        order = _topological_order(genome.nodes, enabled, self.outputs)
        self._column = {node: k for k, node in enumerate(self.inputs + self.bias + order)}
        self._plan = []  # (the node's column, its sources' columns, their weights, its activation)
        for node in order:
            links = incoming.get(node, [])
            self._plan.append((self._column[node], np.array([self._column[c.src] for c in links], dtype=np.intp),
                               np.array([c.weight for c in links]), ACTIVATIONS[genome.nodes[node].activation]))
        self.n_columns = len(self._column)

    def forward(self, x) -> np.ndarray:
        """The outputs ``(n, n_out)`` for the inputs ``x`` ``(n, n_in)``, one node at a time, all rows at once."""
        x = as_float_array(x, "FeedForwardNetwork")
        if x.ndim != 2 or x.shape[1] != len(self.inputs):
            raise ShapeError(f"FeedForwardNetwork: expected inputs of shape (batch, {len(self.inputs)}), "
                             f"received shape {x.shape}.")
        a = np.empty((len(x), self.n_columns), dtype=x.dtype)
        a[:, :len(self.inputs)] = x
        a[:, len(self.inputs):len(self.inputs) + len(self.bias)] = 1.0
        for column, sources, weights, f in self._plan:
            a[:, column] = f(a[:, sources] @ weights.astype(x.dtype, copy=False))
        return a[:, [self._column[o] for o in self.outputs]]

    __call__ = forward


def _topological_order(nodes: dict[int, NodeGene], enabled: list[ConnectionGene], outputs: list[int]) -> list[int]:
    """Hidden and output nodes that the outputs depend on, each after all its sources (Kahn's algorithm)."""
    needed, stack = set(outputs), list(outputs)
    sources: dict[int, list[int]] = {}
    for c in enabled:
        sources.setdefault(c.dst, []).append(c.src)
    while stack:  # walk back from the outputs
        for src in sources.get(stack.pop(), ()):
            if src not in needed and nodes[src].kind == "hidden":
                needed.add(src)
                stack.append(src)
    waiting = {n: sum(nodes[s].kind in ("hidden", "output") and s in needed for s in sources.get(n, ()))
               for n in needed}
    successors: dict[int, list[int]] = {}
    for c in enabled:
        if c.src in needed and c.dst in needed:
            successors.setdefault(c.src, []).append(c.dst)
    ready, order = sorted(n for n, k in waiting.items() if k == 0), []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for nxt in successors.get(node, ()):
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append(nxt)
    if len(order) != len(needed):
        raise ValueError("FeedForwardNetwork: the genome's enabled connections contain a cycle; NEAT here "
                         "evolves feed-forward networks only.")
    return order


# ---------------------------------------------------------------------- distance and crossover
def compatibility_distance(a: dict[int, float], b: dict[int, float], c1: float = 1.0, c2: float = 1.0,
                           c3: float = 0.4, small_genome: int = 0) -> float:
    """NEAT's compatibility distance ``δ = c₁E/N + c₂D/N + c₃W̄`` between two genomes given as
    ``{innovation: weight}`` dicts (:meth:`Genome.weights`).

    Genes whose innovation number is larger than every number of the other genome are *excess*
    (E), other unmatched genes are *disjoint* (D); ``W̄`` is the mean ``|w_a − w_b|`` over the
    matching genes (0 if none). ``N`` is the number of genes of the larger genome, or 1 when it
    has fewer than ``small_genome`` genes (the NEAT paper uses 20).
    """
    for name, value in (("c1", c1), ("c2", c2), ("c3", c3)):
        check_positive(value, "compatibility_distance", name, allow_zero=True)
    return _distance(sorted(a.items()), sorted(b.items()), c1, c2, c3, small_genome)


def _distance(a: list[tuple[int, float]], b: list[tuple[int, float]], c1, c2, c3, small_genome) -> float:
    """``δ = c₁E/N + c₂D/N + c₃W̄`` of two genomes given as ``(innovation, weight)`` lists sorted by
    innovation (:meth:`Genome.genes`), in one pass and without the argument checks (NEAT calls it
    thousands of times).

    The pass walks both lists in step, like a merge: equal numbers are matching genes, an unmatched
    gene met on the way is disjoint, and once one list is used up the genes left in the other lie
    beyond its largest number: they are the excess genes.
    """
    i = j = matching = 0
    difference = 0.0  # Σ |w_a − w_b| over the matching genes
    while i < len(a) and j < len(b):
        (innovation_a, weight_a), (innovation_b, weight_b) = a[i], b[j]
        if innovation_a == innovation_b:
            difference += abs(weight_a - weight_b)
            matching += 1
            i, j = i + 1, j + 1
        elif innovation_a < innovation_b:
            i += 1
        else:
            j += 1
    excess = len(a) - i + len(b) - j
    disjoint = i + j - 2 * matching
    w_bar = difference / matching if matching else 0.0
    n = max(len(a), len(b), 1)  # 1 for two empty genomes
    n = 1 if n < small_genome else n
    return c1 * excess / n + c2 * disjoint / n + c3 * w_bar


def crossover(fitter: Genome, other: Genome, rng=None, disable_probability: float = 0.75) -> Genome:
    """The child of two genomes, aligned gene by gene on their innovation numbers.

    Matching genes are inherited from either parent at random (50/50); disjoint and excess genes
    come from ``fitter`` only (those of ``other`` are dropped). A gene disabled in either parent is
    disabled in the child with probability ``disable_probability``. Node genes come from ``fitter``.
    """
    check_probability(disable_probability, "crossover", "disable_probability")
    rng = initializers.make_rng(rng)
    connections = {}
    for innovation, gene in fitter.connections.items():
        partner = other.connections.get(innovation)
        child = copy.copy(partner if partner is not None and rng.random() < 0.5 else gene)
        if partner is not None and not (gene.enabled and partner.enabled):
            child.enabled = not rng.random() < disable_probability
        connections[innovation] = child
    return Genome(_copy_nodes(fitter.nodes), connections)


# -------------------------------------------------------------------------------------- mutations
@dataclass
class NEATConfig:
    """NEAT's hyper-parameters (defaults close to the paper's XOR experiment, except a population of
    100 instead of 150 and structural mutations three to four times more frequent, 0.1 and 0.2 instead
    of 0.03 and 0.05, which lets the smaller population find hidden nodes sooner).

    Distance: ``c1, c2, c3, small_genome``; species ``threshold`` δ_t. Reproduction: the best
    ``⌊survival·|S|⌋ + 1`` members of a species may breed (as in the original NEAT software, so that a
    species of 5 still has two parents to cross), ``crossover_rate`` of the children have two
    parents, the champion of each species with at least ``elite_min_size`` members is copied
    unchanged, a species that has not improved for ``stagnation`` generations gets no children
    (the best species is spared). Mutations: with probability ``weight_rate`` a genome's weights
    are mutated, each perturbed by U(−``perturb_power``, ``perturb_power``) or (probability
    ``replace_rate``) redrawn from N(0, 1), and kept within ±``weight_limit``; ``add_connection_rate``,
    ``add_node_rate`` (each at most once per child); ``activation_rate`` changes a hidden node's
    activation (for CPPNs). New hidden nodes get an activation drawn from ``hidden_activations``;
    outputs use ``output_activation``. With
    ``target_species`` set, δ_t is adapted after each speciation (lowered by ``threshold_step`` when
    there are fewer species than the target, raised when there are more; as in the original NEAT
    software's option), which keeps the population from collapsing into a single species.
    """

    population: int = 100
    c1: float = 1.0
    c2: float = 1.0
    c3: float = 0.4
    small_genome: int = 20
    threshold: float = 3.0
    survival: float = 0.2
    crossover_rate: float = 0.75
    elite_min_size: int = 5
    stagnation: int = 15
    weight_rate: float = 0.8
    perturb_power: float = 2.5
    weight_limit: float = 8.0
    replace_rate: float = 0.1
    add_connection_rate: float = 0.2
    add_node_rate: float = 0.1
    activation_rate: float = 0.0
    disable_probability: float = 0.75
    hidden_activations: tuple = ("neat_sigmoid",)
    output_activation: str = "neat_sigmoid"
    target_species: int | None = None
    threshold_step: float = 0.3

    def __post_init__(self):
        who = "NEATConfig"
        if int(self.population) != self.population or self.population < 2:
            raise ValueError(f"{who}: population must be an integer ≥ 2, received {self.population!r}.")
        for name in ("c1", "c2", "c3", "perturb_power"):
            check_positive(getattr(self, name), who, name, allow_zero=True)
        check_positive(self.weight_limit, who, "weight_limit")
        check_positive(self.threshold, who, "threshold")
        for name in ("crossover_rate", "weight_rate", "replace_rate", "add_connection_rate", "add_node_rate",
                     "activation_rate", "disable_probability"):
            check_probability(getattr(self, name), who, name)
        if not 0 < self.survival <= 1:
            raise ValueError(f"{who}: survival must lie in (0, 1], received {self.survival!r}.")
        if self.target_species is not None and (int(self.target_species) != self.target_species
                                                or self.target_species < 1):
            raise ValueError(f"{who}: target_species must be a positive integer or None, "
                             f"received {self.target_species!r}.")
        check_positive(self.threshold_step, who, "threshold_step")
        self.hidden_activations = _check_activations(self.hidden_activations, who)
        _check_activations([self.output_activation], who)


def mutate_weights(genome: Genome, rng, power: float = 2.5, replace_rate: float = 0.1, limit: float = 8.0) -> None:
    """In place: every weight ``w ← clip(w + u, −limit, limit)`` with ``u ~ U(−power, power)`` (the paper's
    uniform perturbation), or (probability ``replace_rate``) ``w ~ N(0, 1)``.

    The defaults, ``power`` 2.5 and ``limit`` 8, are those of the original NEAT software's XOR experiment: the
    steps are large next to the steep sigmoid σ(4.9z), so a mutation can turn a saturated node into a different
    logical function, and the limit stops the weights from drifting ever further into saturation.
    """
    rng, limit = initializers.make_rng(rng), float(limit)
    for gene in genome.connections.values():
        gene.weight = (rng.normal() if rng.random() < replace_rate
                       else min(max(gene.weight + rng.uniform(-power, power), -limit), limit))


def add_connection(genome: Genome, tracker: InnovationTracker, rng, tries: int = 20) -> ConnectionGene | None:
    """In place: link two previously unconnected nodes (no input/bias as target, no cycle) with a N(0, 1) weight.

    A pair that already has a gene, even a disabled one, is not a candidate: re-enabling the link that an
    add-node mutation disabled would undo that mutation (the paper's add-connection links unconnected nodes
    only). Returns the gene, or None when ``tries`` random picks found no valid pair (e.g. the genome is
    fully connected).
    """
    rng = initializers.make_rng(rng)
    sources = genome.ids("input", "bias", "hidden", "output")
    targets = genome.ids("hidden", "output")
    existing = {(c.src, c.dst) for c in genome.connections.values()}
    for _ in range(tries):
        src, dst = int(rng.choice(sources)), int(rng.choice(targets))
        if (src, dst) in existing or genome.creates_cycle(src, dst):
            continue
        innovation = tracker.connection(src, dst)
        gene = genome.connections[innovation] = ConnectionGene(innovation, src, dst, float(rng.normal()))
        return gene
    return None


def add_node(genome: Genome, tracker: InnovationTracker, rng, activation: str = "neat_sigmoid",
             innovation: int | None = None) -> NodeGene | None:
    """In place: split an enabled connection ``i → j`` (``innovation``, or one at random) by a new node ``k``.

    A random pick never splits a link from the bias: the new node's only input would be the constant 1,
    so it would compute a constant and add nothing until other mutations wire inputs into it.

    The old gene is disabled; ``i → k`` gets weight 1 and ``k → j`` the old weight ``w``. Then
    ``a_j`` receives ``w f(a_i)`` instead of ``w a_i``: with ``f = identity`` the network computes
    exactly the same function as before the mutation; with a sigmoid the signal is rescaled and
    shifted (σ(4.9a) ≈ ½ + 1.225a near 0), a small change compared with a new random connection.
    Returns the new node gene (None if the genome has no enabled connection that is not from the bias).
    """
    rng = initializers.make_rng(rng)
    enabled = [i for i, c in genome.connections.items() if c.enabled]
    if innovation is None:
        candidates = [i for i in enabled if genome.nodes[genome.connections[i].src].kind != "bias"]
        if not candidates:
            return None
        innovation = int(rng.choice(candidates))
    elif innovation not in enabled:
        raise ValueError(f"add_node: innovation {innovation!r} is not an enabled connection of the genome; "
                         f"enabled ones: {sorted(enabled)}.")
    _check_activations([activation], "add_node")
    old = genome.connections[innovation]
    node, into, out_of = tracker.split(innovation)
    old.enabled = False
    genome.nodes[node] = NodeGene(node, "hidden", activation)
    genome.connections[into] = ConnectionGene(into, old.src, node, 1.0)
    genome.connections[out_of] = ConnectionGene(out_of, node, old.dst, old.weight)
    return genome.nodes[node]


def mutate(genome: Genome, tracker: InnovationTracker, config: NEATConfig, rng) -> None:
    """In place, each with its probability from ``config``: weights, a new node, a new connection, an
    activation change of one hidden node. ``rng``: a seed or a ``numpy.random.Generator``."""
    rng = initializers.make_rng(rng)
    if rng.random() < config.weight_rate:
        mutate_weights(genome, rng, config.perturb_power, config.replace_rate, config.weight_limit)
    if rng.random() < config.add_node_rate:
        add_node(genome, tracker, rng, str(rng.choice(config.hidden_activations)))
    if rng.random() < config.add_connection_rate:
        add_connection(genome, tracker, rng)
    hidden = genome.ids("hidden")
    if hidden and rng.random() < config.activation_rate:
        genome.nodes[int(rng.choice(hidden))].activation = str(rng.choice(config.hidden_activations))


# ---------------------------------------------------------------------------------------- species
@dataclass
class Species:
    """A group of compatible genomes: an id, a ``representative`` (compared with newcomers), the
    ``members`` of this generation, the best fitness it ever had and when it last improved."""

    id: int
    representative: Genome
    members: list = field(default_factory=list)
    best_fitness: float = -np.inf
    last_improved: int = 0

    def mean_fitness(self) -> float:
        """The mean fitness of the members, which is the sum of their shared fitness ``f_i / |S|``."""
        return float(np.mean([g.fitness for g in self.members]))


def allot_offspring(shares, total: int) -> np.ndarray:
    """Split ``total`` children between species in proportion to ``shares`` (their summed shared
    fitness), rounding by largest remainders so the counts add up to ``total`` exactly."""
    shares = np.maximum(np.asarray(shares, dtype=np.float64), 0.0)
    shares = np.ones_like(shares) if shares.sum() <= 0 else shares
    exact = total * shares / shares.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(-(exact - counts), kind="stable")[:total - counts.sum()]] += 1
    return counts


class NEAT:
    """The NEAT algorithm: a population of :class:`Genome` s, speciated, evolving for a fitness.

    ``NEAT(n_inputs, n_outputs, config, rng)``, then ``run(fitness_fn, generations, target)``,
    where ``fitness_fn(network: FeedForwardNetwork) -> float`` (higher is better, ≥ 0 for the
    fitness sharing to make sense). One generation: evaluate, speciate (each genome joins the
    first species whose representative is within δ_t, else founds a new one), share fitness,
    allot the children per species by :func:`allot_offspring`, drop stagnant species, breed
    (elites, crossover of two parents from the best ``⌊survival·|S|⌋ + 1`` members or a copy, then
    :func:`mutate`), and pick random representatives for the next generation.
    """

    def __init__(self, n_inputs: int, n_outputs: int, config: NEATConfig | None = None, rng=None):
        self.config = config if config is not None else NEATConfig()
        if not isinstance(self.config, NEATConfig):
            raise TypeError(f"NEAT: config must be a NEATConfig, received {type(config).__name__}.")
        self.rng = initializers.make_rng(rng)
        self.tracker = InnovationTracker()
        self.population = []
        for _ in range(self.config.population):
            genome = Genome.minimal(n_inputs, n_outputs, self.tracker, self.rng, self.config.output_activation)
            self.population.append(genome)
        self.species: list[Species] = []
        self.threshold = self.config.threshold  # δ_t, adapted when config.target_species is set
        self._next_species = 0
        self.generation = 0
        self.best: Genome | None = None  # the fittest genome ever
        self.winner: Genome | None = None  # the first solution found by run
        self.history = History()
        self.species_sizes: list[dict[int, int]] = []  # {species id: size} per generation

    def distance(self, a: Genome, b: Genome) -> float:
        """The compatibility distance δ of two genomes with the config's coefficients."""
        return self._genes_distance(a.genes(), b.genes())

    def _genes_distance(self, a: list[tuple[int, float]], b: list[tuple[int, float]]) -> float:
        """δ of two genomes given by their :meth:`Genome.genes`, with the config's coefficients."""
        c = self.config
        return _distance(a, b, c.c1, c.c2, c.c3, c.small_genome)

    def speciate(self) -> None:
        """Put every genome of the population into the first species within ``threshold`` (or a new one).

        Every genome's sorted genes (:meth:`Genome.genes`) are built once per call, not once per comparison.
        """
        for s in self.species:
            s.members = []
        candidates = [(s, s.representative.genes()) for s in self.species]
        for genome in self.population:
            genes = genome.genes()
            species = next((s for s, representative in candidates
                            if self._genes_distance(genes, representative) < self.threshold), None)
            if species is None:
                species = Species(self._next_species, genome, last_improved=self.generation)
                self._next_species += 1
                self.species.append(species)
                candidates.append((species, genes))
            species.members.append(genome)
        self.species = [s for s in self.species if s.members]
        c = self.config
        if c.target_species is not None and len(self.species) != c.target_species:
            step = -c.threshold_step if len(self.species) < c.target_species else c.threshold_step
            self.threshold = max(c.threshold_step, self.threshold + step)

    def evaluate(self, fitness_fn: Callable[[FeedForwardNetwork], float],
                 solved: Callable[[FeedForwardNetwork], bool] | None = None) -> Genome | None:
        """Set the fitness of every genome from its network and remember the best genome ever.

        Returns the fittest genome whose network satisfies ``solved`` (None when none does, or when
        ``solved`` is None): every genome is tested, not only the fittest, because a network can
        solve a task (e.g. classify all four XOR cases) with a lower fitness than one that does not.
        """
        winner = None
        for genome in self.population:
            network = FeedForwardNetwork(genome)
            genome.fitness = float(fitness_fn(network))
            if not np.isfinite(genome.fitness):
                raise ValueError(f"NEAT.evaluate: fitness_fn returned {genome.fitness!r}; it must be a finite number.")
            if self.best is None or genome.fitness > self.best.fitness:
                self.best = genome.copy()
                self.best.fitness = genome.fitness
            if solved is not None and (winner is None or genome.fitness > winner.fitness) and solved(network):
                winner = genome
        return winner

    def reproduce(self) -> None:
        """Replace the population by the next generation (speciation and fitness already done)."""
        c, rng = self.config, self.rng
        for s in self.species:
            best = max(g.fitness for g in s.members)
            if best > s.best_fitness:
                s.best_fitness, s.last_improved = best, self.generation
        top = max(self.species, key=lambda s: s.best_fitness)
        alive = [s for s in self.species if s is top or self.generation - s.last_improved < c.stagnation]
        counts = allot_offspring([s.mean_fitness() for s in alive], c.population)
        self.tracker.next_generation()
        children = []
        for s, n in zip(alive, counts):
            ranked = sorted(s.members, key=lambda g: g.fitness, reverse=True)
            if n > 0 and len(ranked) >= c.elite_min_size:
                children.append(ranked[0].copy())
                n -= 1
            parents = ranked[:int(c.survival * len(ranked)) + 1]  # at least one; two from 5 members on (20%)
            for _ in range(n):
                a = parents[rng.integers(len(parents))]
                if len(parents) > 1 and rng.random() < c.crossover_rate:
                    b = parents[rng.integers(len(parents))]
                    fitter, other = (a, b) if a.fitness >= b.fitness else (b, a)
                    child = crossover(fitter, other, rng, c.disable_probability)
                else:
                    child = a.copy()
                mutate(child, self.tracker, c, rng)
                children.append(child)
        for s in alive:
            s.representative = s.members[rng.integers(len(s.members))]
        self.species, self.population = alive, children
        self.generation += 1

    def species_matrix(self) -> tuple[list[int], np.ndarray]:
        """``(species ids, sizes)`` with ``sizes[t, s]`` the members of species ``s`` in generation ``t``
        (0 before it appears or after it died out): the data of a stacked species plot."""
        ids = sorted({i for sizes in self.species_sizes for i in sizes})
        return ids, np.array([[sizes.get(i, 0) for i in ids] for sizes in self.species_sizes])

    def run(self, fitness_fn: Callable[[FeedForwardNetwork], float], generations: int,
            solved: Callable[[FeedForwardNetwork], bool] | None = None, progress: bool = True) -> Genome:
        """Evolve for at most ``generations`` generations, stopping early once ``solved(network)`` is true
        for *any* genome of the population (e.g. :func:`solves_xor`), as in the paper. Returns the fittest
        such genome (also kept in ``winner``), or the best genome ever if none solved it. ``history`` gets
        ``best_fitness``, ``mean_fitness``, ``species``, ``hidden_nodes`` and ``connections`` (of the
        best genome), ``threshold`` (δ_t) and ``time`` per generation; ``species_sizes`` the size of every species."""
        if int(generations) != generations or generations < 1:
            raise ValueError(f"NEAT.run: generations must be a positive integer, received {generations!r}.")
        start = time.perf_counter()
        bar = progress_bar(int(generations), progress, "NEAT", unit="gen")
        for _ in range(int(generations)):
            winner = self.evaluate(fitness_fn, solved)
            self.speciate()
            self.species_sizes.append({s.id: len(s.members) for s in self.species})
            self.history.append({"best_fitness": self.best.fitness,
                                 "mean_fitness": np.mean([g.fitness for g in self.population]),
                                 "species": len(self.species), "hidden_nodes": self.best.n_hidden,
                                 "connections": self.best.n_enabled, "threshold": self.threshold,
                                 "time": time.perf_counter() - start})
            bar.update(1)
            bar.set_postfix(best=f"{self.best.fitness:.3f}", species=len(self.species), refresh=False)
            if winner is not None:
                self.winner = winner.copy()
                self.winner.fitness = winner.fitness
                break
            self.reproduce()
        bar.close()
        return self.best if self.winner is None else self.winner


def genome_layout(genome: Genome) -> dict[int, tuple[float, float]]:
    """Plot positions ``{node: (x, y)}``: ``x`` is the node's depth (the longest path from an input
    over enabled connections; outputs all at the largest depth), ``y`` spreads each column over [0, 1]."""
    enabled = [c for c in genome.connections.values() if c.enabled]
    depth = {i: 0 for i in genome.ids("input", "bias")}
    for node in _topological_order(genome.nodes, enabled, genome.ids("hidden", "output")):
        depth[node] = 1 + max((depth.get(c.src, 0) for c in enabled if c.dst == node), default=0)
    last = max(depth.values(), default=1)
    depth.update({o: max(last, 1) for o in genome.ids("output")})
    columns: dict[int, list[int]] = {}
    for node in sorted(depth):
        columns.setdefault(depth[node], []).append(node)
    return {node: (float(x), (k + 1) / (len(nodes) + 1))
            for x, nodes in columns.items() for k, node in enumerate(nodes)}


def draw_genome(genome: Genome, ax=None, title: str | None = None, input_names=None):
    """Draw a genome's network with matplotlib: nodes by kind (inputs, labelled ``input_names`` or
    x0, x1, …; bias; hidden and output nodes with their activation), enabled connections as arrows whose
    width is ∝ |w| (blue w > 0, red w < 0). Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    position = genome_layout(genome)
    enabled = [c for c in genome.connections.values() if c.enabled and c.src in position and c.dst in position]
    scale = max((abs(c.weight) for c in enabled), default=1.0)
    for c in enabled:
        ax.annotate("", xy=position[c.dst], xytext=position[c.src],
                    arrowprops=dict(arrowstyle="-|>", color="tab:blue" if c.weight > 0 else "tab:red",
                                    lw=0.5 + 3 * abs(c.weight) / scale, shrinkA=9, shrinkB=9, alpha=0.8))
    colours = {"input": "lightgrey", "bias": "khaki", "hidden": "white", "output": "lightgreen"}
    for node, (x, y) in position.items():
        gene = genome.nodes[node]
        ax.scatter([x], [y], s=500, c=colours[gene.kind], edgecolors="black", zorder=3)
        name = input_names[node] if input_names is not None and gene.kind == "input" else f"x{node}"
        label = {"input": name, "bias": "1"}.get(gene.kind, gene.activation.replace("neat_", "")[:4])
        ax.text(x, y, label, ha="center", va="center", fontsize=7, zorder=4)
    ax.set_xlim(-0.4, max(x for x, _ in position.values()) + 0.4)
    ax.set_ylim(0, 1)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


# -------------------------------------------------------------------------------------------- XOR
def xor_fitness(network: FeedForwardNetwork) -> float:
    """The NEAT paper's XOR fitness ``(4 − Σ |a − y|)²`` over the four input pairs (16 is perfect)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    error = np.abs(network(X)[:, 0] - np.array([0, 1, 1, 0])).sum()
    return float((4.0 - error) ** 2)


def solves_xor(network: FeedForwardNetwork) -> bool:
    """True when all four outputs are on the right side of 0.5."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return bool(np.array_equal(network(X)[:, 0] > 0.5, [False, True, True, False]))


# ------------------------------------------------------------------------------------------- CPPN
def random_cppn(rng=None, hidden_nodes: int = 8, extra_connections: int = 16, activations=CPPN_ACTIVATIONS,
                weight_scale: float = 1.5) -> Genome:
    """A random CPPN genome with inputs ``(x, y, d)`` (+ bias) and one output (sigmoid, a grey level).

    It is grown the NEAT way from the minimal genome: ``hidden_nodes`` add-node and
    ``extra_connections`` add-connection mutations, every hidden node with an activation drawn
    from ``activations``, and every weight redrawn from N(0, ``weight_scale``²).
    """
    rng = initializers.make_rng(rng)
    activations = _check_activations(activations, "random_cppn")
    for name, n in (("hidden_nodes", hidden_nodes), ("extra_connections", extra_connections)):
        if int(n) != n or n < 0:
            raise ValueError(f"random_cppn: {name} must be a non-negative integer, received {n!r}.")
    check_positive(weight_scale, "random_cppn", "weight_scale")
    tracker = InnovationTracker()
    genome = Genome.minimal(3, 1, tracker, rng, output_activation="sigmoid")
    for _ in range(int(hidden_nodes)):
        add_node(genome, tracker, rng, str(rng.choice(activations)))
    for _ in range(int(extra_connections)):
        add_connection(genome, tracker, rng)
    for gene in genome.connections.values():
        gene.weight = float(weight_scale * rng.normal())
    return genome


def draw_cppn(genome: Genome, size: int = 96, extent: float = 2.0) -> np.ndarray:
    """Query a CPPN at every pixel of a ``size × size`` grid: an image ``(size, size)``.

    Pixel coordinates ``x, y`` run over ``[−extent, extent]``, and ``d = √(x² + y²)`` is the
    distance from the centre; the image is the output ``CPPN(x, y, d)``, one pixel per row of a batch.
    """
    if int(size) != size or size < 2:
        raise ValueError(f"draw_cppn: size must be an integer ≥ 2, received {size!r}.")
    check_positive(extent, "draw_cppn", "extent")
    xs = np.linspace(-extent, extent, int(size))
    xx, yy = np.meshgrid(xs, xs)
    points = np.column_stack([xx.ravel(), yy.ravel(), np.hypot(xx, yy).ravel()])
    return FeedForwardNetwork(genome)(points)[:, 0].reshape(int(size), int(size))
