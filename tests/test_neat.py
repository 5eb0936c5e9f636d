"""NEAT and CPPNs (chapter 15): innovation numbers, mutations, crossover, distance, speciation, XOR."""

import numpy as np
import pytest

from coursepkg.errors import ShapeError
from coursepkg.models.neat import (
    NEAT,
    ConnectionGene,
    FeedForwardNetwork,
    Genome,
    InnovationTracker,
    NEATConfig,
    NodeGene,
    add_connection,
    add_node,
    allot_offspring,
    compatibility_distance,
    crossover,
    draw_cppn,
    draw_genome,
    genome_layout,
    mutate,
    mutate_weights,
    random_cppn,
    solves_xor,
    xor_fitness,
)


def _genome(genes, n_inputs=2, hidden=()):
    """A genome with inputs 0..n_inputs−1, bias n_inputs, output n_inputs+1, hidden nodes, and
    connection genes given as (innovation, src, dst, weight[, enabled])."""
    nodes = {i: NodeGene(i, "input") for i in range(n_inputs)}
    nodes[n_inputs] = NodeGene(n_inputs, "bias")
    nodes[n_inputs + 1] = NodeGene(n_inputs + 1, "output", "sigmoid")
    nodes.update({h: NodeGene(h, "hidden", "tanh") for h in hidden})
    return Genome(nodes, {g[0]: ConnectionGene(*g) for g in genes})


def test_same_mutation_in_one_generation_gets_the_same_innovation_number():
    tracker = InnovationTracker()
    a = Genome.minimal(2, 1, tracker, rng=0)
    b = Genome.minimal(2, 1, tracker, rng=1)
    assert sorted(a.connections) == sorted(b.connections) == [0, 1, 2]
    node_a = add_node(a, tracker, np.random.default_rng(0), innovation=1)
    node_b = add_node(b, tracker, np.random.default_rng(0), innovation=1)
    assert node_a.id == node_b.id == 4
    assert sorted(a.connections) == sorted(b.connections) == [0, 1, 2, 3, 4]
    assert tracker.connection(0, 4) == tracker.connection(0, 4) == 5
    tracker.next_generation()
    assert tracker.connection(0, 4) == 6  # a later generation: a new number
    c = Genome.minimal(2, 1, tracker, rng=2)
    assert min(c.connections) == 7  # even the initial links get new numbers in a new generation
    assert add_node(c, tracker, np.random.default_rng(0), innovation=8).id == 5


def test_add_node_with_identity_activation_preserves_the_function():
    tracker = InnovationTracker()
    genome = Genome.minimal(3, 2, tracker, rng=0, output_activation="tanh")
    x = np.random.default_rng(0).normal(size=(10, 3))
    before = FeedForwardNetwork(genome)(x)
    old = genome.connections[5]
    node = add_node(genome, tracker, np.random.default_rng(0), activation="identity", innovation=5)
    assert not old.enabled
    into = [c for c in genome.connections.values() if c.dst == node.id]
    out_of = [c for c in genome.connections.values() if c.src == node.id]
    assert len(into) == len(out_of) == 1
    assert into[0].weight == 1.0 and out_of[0].weight == old.weight
    assert (into[0].src, out_of[0].dst) == (old.src, old.dst)
    np.testing.assert_allclose(FeedForwardNetwork(genome)(x), before, rtol=1e-12)
    add_node(genome, tracker, np.random.default_rng(0), activation="sigmoid", innovation=into[0].innovation)
    assert not np.allclose(FeedForwardNetwork(genome)(x), before)  # a sigmoid in between changes it a little


def test_network_evaluates_in_topological_order_on_a_batch():
    # x0 → h5 (tanh) → out ; x1 → out ; bias → h5 ; h5 ← x0 via a disabled direct link
    genome = _genome([(0, 0, 5, 0.7), (1, 1, 3, -1.2), (2, 2, 5, 0.3), (3, 5, 3, 2.0), (4, 0, 3, 9.9, False)],
                     hidden=(5,))
    x = np.random.default_rng(1).normal(size=(6, 2))
    h = np.tanh(0.7 * x[:, 0] + 0.3)
    want = 1 / (1 + np.exp(-(-1.2 * x[:, 1] + 2.0 * h)))
    np.testing.assert_allclose(FeedForwardNetwork(genome)(x)[:, 0], want, rtol=1e-12)


def test_weight_and_activation_mutations():
    big = Genome(_genome([]).nodes, {i: ConnectionGene(i, 0, 3, 0.0) for i in range(4000)})  # 4000 genes, w = 0
    mutate_weights(big, np.random.default_rng(0), power=0.3, replace_rate=0.0)
    weights = np.array(list(big.weights().values()))
    assert np.abs(weights).max() <= 0.3 and np.abs(weights).max() > 0.29  # uniform on [−0.3, 0.3]
    assert abs(weights.std() - 0.3 / np.sqrt(3)) < 0.01 and abs(weights.mean()) < 0.01
    mutate_weights(big, np.random.default_rng(1), power=0.0, replace_rate=0.5)
    replaced = np.array(list(big.weights().values())) != weights
    assert abs(replaced.mean() - 0.5) < 0.03
    for gene in big.connections.values():
        gene.weight = 7.9
    mutate_weights(big, np.random.default_rng(2), power=0.3, replace_rate=0.0, limit=8.0)
    weights = np.array(list(big.weights().values()))
    assert weights.max() == 8.0 and abs((weights == 8.0).mean() - 1 / 3) < 0.03  # w + u > 8 is clipped
    tracker = InnovationTracker()
    cppn = Genome.minimal(3, 1, tracker, rng=0)
    add_node(cppn, tracker, np.random.default_rng(0), "tanh")
    config = NEATConfig(weight_rate=0.0, add_node_rate=0.0, add_connection_rate=0.0, activation_rate=0.999,
                        hidden_activations=("sin",))
    mutate(cppn, tracker, config, np.random.default_rng(0))
    assert [cppn.nodes[h].activation for h in cppn.ids("hidden")] == ["sin"]


def test_add_node_never_splits_a_bias_link_and_add_connection_never_reenables():
    tracker = InnovationTracker()
    rng = np.random.default_rng(0)
    for _ in range(50):
        genome = Genome.minimal(1, 1, tracker, rng)  # links x0 → out (innovation 0) and bias → out (1)
        node = add_node(genome, tracker, rng)
        assert not genome.connections[0].enabled and genome.connections[1].enabled
        assert [c.src for c in genome.connections.values() if c.dst == node.id] == [0]
    genome = Genome.minimal(1, 1, tracker, rng)
    genome.connections[0].enabled = False  # only the bias link is left to split
    assert add_node(genome, tracker, rng) is None
    # x0 → h → out with x0 → out disabled: the only new link is bias → h; x0 → out stays disabled
    genome = _genome([(0, 0, 2, 1.0, False), (1, 1, 2, 1.0), (2, 0, 3, 1.0), (3, 3, 2, 1.0)], n_inputs=1, hidden=(3,))
    gene = add_connection(genome, InnovationTracker(next_innovation=4), rng, tries=200)
    assert (gene.src, gene.dst) == (1, 3) and not genome.connections[0].enabled
    assert add_connection(genome, InnovationTracker(next_innovation=5), rng, tries=200) is None  # none left


def test_add_connection_never_creates_a_cycle_or_targets_an_input():
    tracker = InnovationTracker()
    genome = Genome.minimal(2, 2, tracker, rng=0)
    rng = np.random.default_rng(0)
    for _ in range(10):
        add_node(genome, tracker, rng, "tanh")
    for _ in range(60):
        add_connection(genome, tracker, rng)
    for c in genome.connections.values():
        assert genome.nodes[c.dst].kind in ("hidden", "output")
    FeedForwardNetwork(genome)  # raises on a cycle
    assert genome.creates_cycle(4, 4)


def test_crossover_aligns_genes_by_innovation_number():
    fitter = _genome([(0, 0, 3, 1.0), (1, 1, 3, 2.0), (2, 2, 3, 3.0, False), (4, 0, 5, 4.0), (5, 5, 3, 5.0),
                      (7, 1, 5, 6.0)], hidden=(5,))
    other = _genome([(0, 0, 3, -1.0), (1, 1, 3, -2.0), (2, 2, 3, -3.0), (3, 0, 6, -4.0), (6, 6, 3, -5.0),
                     (8, 2, 3, -6.0), (9, 1, 6, -7.0)], hidden=(6,))
    rng = np.random.default_rng(0)
    children = [crossover(fitter, other, rng) for _ in range(400)]
    for child in children:
        assert sorted(child.connections) == [0, 1, 2, 4, 5, 7]  # disjoint/excess only from the fitter
        for i in (4, 5, 7):
            assert child.connections[i].weight == fitter.connections[i].weight
    from_other = np.mean([[c.connections[i].weight < 0 for i in (0, 1, 2)] for c in children])
    assert abs(from_other - 0.5) < 0.05  # matching genes: 50/50
    disabled = np.mean([not c.connections[2].enabled for c in children])
    assert abs(disabled - 0.75) < 0.06
    assert all(c.connections[0].enabled for c in children)


def test_compatibility_distance_on_a_hand_computed_example():
    a = {1: 0.5, 2: -1.0, 3: 2.0, 5: 0.0, 8: 1.0, 9: 1.0}
    b = {1: 1.0, 2: -1.0, 4: 3.0, 5: 1.0, 6: 0.0}
    # matching 1, 2, 5: W̄ = (0.5 + 0 + 1)/3 = 0.5; disjoint 3, 4, 6 (≤ 6); excess 8, 9 (> 6); N = 6
    assert compatibility_distance(a, b) == pytest.approx(1.0 * 2 / 6 + 1.0 * 3 / 6 + 0.4 * 0.5)
    assert compatibility_distance(a, b, c1=2, c2=0.5, c3=1) == pytest.approx(4 / 6 + 1.5 / 6 + 0.5)
    assert compatibility_distance(a, b, small_genome=20) == pytest.approx(2 + 3 + 0.2)
    assert compatibility_distance(a, b) == compatibility_distance(b, a)
    assert compatibility_distance(a, a) == 0.0
    assert compatibility_distance({}, {}) == 0.0
    assert compatibility_distance({}, {3: 1.0, 5: 2.0}) == pytest.approx(2 / 2)  # all excess, N = 2


def test_neat_distance_walks_the_sorted_genes_of_both_genomes():
    a = _genome([(9, 1, 3, 1.0), (1, 0, 3, 0.5), (8, 2, 3, 1.0), (2, 1, 3, -1.0), (5, 2, 3, 0.0), (3, 0, 3, 2.0)])
    b = _genome([(6, 2, 3, 0.0), (5, 1, 3, 1.0), (1, 0, 3, 1.0), (4, 2, 3, 3.0), (2, 1, 3, -1.0)])
    assert a.genes() == [(1, 0.5), (2, -1.0), (3, 2.0), (5, 0.0), (8, 1.0), (9, 1.0)]
    neat = NEAT(2, 1, NEATConfig(population=2, c1=2.0, c2=0.5, c3=1.0, small_genome=0), rng=0)
    assert neat.distance(a, b) == neat.distance(b, a) == pytest.approx(4 / 6 + 1.5 / 6 + 0.5)
    assert neat.distance(a, b) == compatibility_distance(a.weights(), b.weights(), c1=2.0, c2=0.5, c3=1.0)


def test_allot_offspring_is_proportional_and_exact():
    # exact shares 2.5, 5, 2.5: floors 2, 5, 2, the one left over goes to the first largest remainder
    np.testing.assert_array_equal(allot_offspring([1.0, 2.0, 1.0], 10), [3, 5, 2])
    np.testing.assert_array_equal(allot_offspring([0.0, 3.0], 7), [0, 7])


def test_speciation_separates_different_structures():
    neat = NEAT(2, 1, NEATConfig(population=20, threshold=1.0), rng=0)
    for genome in neat.population[10:]:
        for _ in range(4):
            add_node(genome, neat.tracker, neat.rng, "tanh")
    for genome in neat.population:
        for gene in genome.connections.values():
            gene.weight = 0.5
    neat.speciate()
    assert len(neat.species) >= 2 and all(len(s.members) for s in neat.species)
    assert sum(len(s.members) for s in neat.species) == 20
    assert neat.species[0].members == neat.population[:10]


def test_dynamic_threshold_moves_towards_the_target_number_of_species():
    neat = NEAT(2, 1, NEATConfig(population=10, threshold=3.0, target_species=4, threshold_step=0.5), rng=0)
    neat.speciate()  # identical minimal structures: one species, fewer than 4
    assert len(neat.species) == 1 and neat.threshold == 2.5
    neat.config.target_species = 1
    neat.speciate()
    assert neat.threshold == 2.5  # on target: unchanged
    with pytest.raises(ValueError, match="target_species"):
        NEATConfig(target_species=0)


def test_neat_solves_xor_under_a_fixed_seed():
    neat = NEAT(2, 1, NEATConfig(), rng=9)
    best = neat.run(xor_fitness, 30, solved=solves_xor, progress=False)
    assert solves_xor(FeedForwardNetwork(best)), neat.history["best_fitness"][-1]
    assert best is neat.winner and neat.generation < 30
    assert best.n_hidden >= 1  # XOR is not linearly separable
    assert np.all(np.diff(neat.history["best_fitness"]) >= 0)
    ids, sizes = neat.species_matrix()
    assert sizes.shape == (len(neat.history["species"]), len(ids))
    np.testing.assert_array_equal(sizes.sum(axis=1), 100)
    np.testing.assert_array_equal((sizes > 0).sum(axis=1), neat.history["species"])


def test_run_stops_at_a_solution_even_when_it_is_not_the_fittest_genome():
    # fitness rewards outputs near 1 for (1, 0) only; "solved" asks for output < 0.5 at (0, 0): not the same order
    def fitness(network):
        return float(network(np.array([[1.0, 0.0]]))[0, 0])

    def solved(network):
        return bool(network(np.array([[0.0, 0.0]]))[0, 0] < 0.5)

    neat = NEAT(2, 1, NEATConfig(population=30), rng=0)
    winner = neat.run(fitness, 5, solved=solved, progress=False)
    assert len(neat.history) == 1 and neat.winner is winner and solved(FeedForwardNetwork(winner))
    fittest = max(neat.population, key=lambda g: g.fitness)
    assert not solved(FeedForwardNetwork(fittest))  # checking only the fittest genome would have missed it
    assert winner.fitness == max(g.fitness for g in neat.population if solved(FeedForwardNetwork(g)))


def test_genome_layout_puts_nodes_in_columns_by_depth():
    genome = _genome([(0, 0, 5, 0.7), (1, 5, 6, 1.0), (2, 6, 3, 2.0), (3, 1, 3, 1.0)], hidden=(5, 6))
    position = genome_layout(genome)
    assert {node: x for node, (x, _) in position.items()} == {0: 0, 1: 0, 2: 0, 5: 1, 6: 2, 3: 3}
    assert all(0 < y < 1 for _, y in position.values())
    import matplotlib

    matplotlib.use("Agg")
    ax = draw_genome(genome, title="test")
    assert len(ax.texts) == len(position) + genome.n_enabled  # a label per node, an arrow per connection
    assert ax.get_title() == "test"


def test_cppn_draws_a_deterministic_image():
    genome = random_cppn(rng=3, hidden_nodes=6)
    assert genome.n_hidden == 6 and {n.activation for n in genome.nodes.values()} - {"identity"}
    image = draw_cppn(genome, size=32)
    assert image.shape == (32, 32) and np.all((image >= 0) & (image <= 1))
    assert image.std() > 0
    np.testing.assert_array_equal(image, draw_cppn(random_cppn(rng=3, hidden_nodes=6), size=32))


def test_errors_name_the_function_and_the_problem():
    tracker = InnovationTracker()
    genome = Genome.minimal(2, 1, tracker, rng=0)
    with pytest.raises(ValueError, match="Genome.minimal"):
        Genome.minimal(0, 1, tracker)
    with pytest.raises(ShapeError, match=r"\(batch, 2\)"):
        FeedForwardNetwork(genome)(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="add_node: innovation 7"):
        add_node(genome, tracker, np.random.default_rng(0), innovation=7)
    with pytest.raises(ValueError, match="unknown"):
        add_node(genome, tracker, np.random.default_rng(0), activation="swish", innovation=0)
    with pytest.raises(ValueError, match="NEATConfig: threshold"):
        NEATConfig(threshold=0)
    with pytest.raises(ValueError, match="NEATConfig: population"):
        NEATConfig(population=1)
    with pytest.raises(ValueError, match="compatibility_distance: c3"):
        compatibility_distance({}, {}, c3=-1)
    with pytest.raises(ValueError, match="cycle"):
        FeedForwardNetwork(_genome([(0, 4, 5, 1.0), (1, 5, 4, 1.0), (2, 5, 3, 1.0)], hidden=(4, 5)))
    with pytest.raises(ValueError, match="finite"):
        NEAT(2, 1, NEATConfig(population=4), rng=0).evaluate(lambda net: np.nan)
    with pytest.raises(ValueError, match="draw_cppn"):
        draw_cppn(genome, size=1)


def test_mutations_take_a_seed_as_well_as_a_generator():
    tracker = InnovationTracker()
    results = []
    for rng in (7, np.random.default_rng(7)):
        genome = Genome.minimal(2, 1, tracker, rng=0)
        mutate_weights(genome, rng)
        results.append(sorted((i, c.weight) for i, c in genome.connections.items()))
    assert results[0] == results[1]
    genome = Genome.minimal(2, 1, tracker, rng=0)
    assert add_node(genome, tracker, 1) is not None
    add_connection(genome, tracker, 2)
    mutate(genome, tracker, NEATConfig(), 3)
