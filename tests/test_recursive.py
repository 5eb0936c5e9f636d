"""Recursive and modular nets: tree batching, gradient checks through structure, the shared
weights' gradient as a sum over nodes (against a node-by-node reference), learning the toy
negation task, and the error messages."""

import numpy as np
import pytest

from coursepkg.errors import ShapeError
from coursepkg.gradcheck import check_model, check_module, numerical_gradient, relative_error
from coursepkg.models.recursive import (
    SENTIMENT_VOCAB,
    ModularNet,
    RecursiveNet,
    TreeBatch,
    TreeClassifier,
    phrase_text,
    sentiment_phrases,
)
from coursepkg.nn import CrossEntropyLoss, Module
from coursepkg.optim import Adam
from coursepkg.train import accuracy, fit

TREES = [((0, 1), (2, (3, 4))), 5, (6, 7), (((8, 9), 10), 11)]  # mixed shapes, a lone leaf


class _OnTrees(Module):
    """The recursive net with its trees fixed, so ``check_module`` sees a one-input module."""

    def __init__(self, net, trees):
        self.net, self.trees = net, TreeBatch(trees)

    def forward(self, leaves):
        return self.net(leaves, self.trees)

    def backward(self, grad_out):
        return self.net.backward(grad_out)


def _compose(tree, leaves, W, b, counter):
    """Node-by-node reference: the vector of ``tree`` (leaves consumed in order from ``leaves``)."""
    if isinstance(tree, tuple):
        left = _compose(tree[0], leaves, W, b, counter)
        right = _compose(tree[1], leaves, W, b, counter)
        return np.tanh(np.concatenate([left, right]) @ W + b)
    counter[0] += 1
    return leaves[counter[0] - 1]


def test_tree_batch_layout():
    batch = TreeBatch(TREES)
    assert batch.n_leaves == 12 and batch.n_nodes == 12 + 8
    np.testing.assert_array_equal(batch.leaf_ids, np.arange(12))
    np.testing.assert_array_equal(batch.depth, [3, 0, 1, 3])
    assert len(batch.levels) == 3
    assert batch.roots[1] == 5  # the lone leaf is its own root
    for level in batch.levels:  # children always live at lower node indices than the level
        kids = batch.children[level.start - 12:level.stop - 12]
        assert kids.max() < level.start
    assert sorted(batch.children.ravel().tolist() + batch.roots[[0, 2, 3]].tolist()) == \
        sorted(set(range(20)) - {5})  # every node except the roots is the child of exactly one parent
    assert "4 trees" in repr(batch)


def test_forward_matches_node_by_node_reference():
    rng = np.random.default_rng(0)
    net = RecursiveNet(4, rng=1, dtype=np.float64)
    leaves = rng.normal(size=(12, 4))
    batch = TreeBatch(TREES)
    nodes = net(leaves, batch)
    counter = [0]
    for tree, root in zip(TREES, batch.roots):
        np.testing.assert_allclose(nodes[root], _compose(tree, leaves, net.W.data, net.b.data, counter), rtol=1e-12)
    np.testing.assert_array_equal(nodes[:12], leaves)


def test_gradient_check_leaves_and_parameters():
    rng = np.random.default_rng(1)
    net = RecursiveNet(3, rng=2)
    net.b.data[:] = rng.normal(size=3) * 0.3
    report = check_module(_OnTrees(net, TREES), rng.normal(size=(12, 3)), rng=3)
    assert set(report.errors) == {"input", "net.W", "net.b"}
    assert report.max_error < 1e-6, report


def _compose_untied(tree, leaves, Ws, b, counters):
    """Like ``_compose`` but internal node number k (in post-order) uses its own copy ``Ws[k]``."""
    if isinstance(tree, tuple):
        left = _compose_untied(tree[0], leaves, Ws, b, counters)
        right = _compose_untied(tree[1], leaves, Ws, b, counters)
        counters[1] += 1
        return np.tanh(np.concatenate([left, right]) @ Ws[counters[1] - 1] + b)
    counters[0] += 1
    return leaves[counters[0] - 1]


def test_shared_weights_receive_the_sum_over_nodes():
    rng = np.random.default_rng(2)
    tree = ((0, 1), (2, (3, 4)))  # four internal nodes
    net = RecursiveNet(2, rng=4, dtype=np.float64)
    leaves, g_root = rng.normal(size=(5, 2)), rng.normal(size=2)
    batch = TreeBatch([tree])
    grad = np.zeros((batch.n_nodes, 2))
    grad[batch.roots[0]] = g_root  # C = g · p_root
    net.zero_grad()
    net(leaves, batch)
    net.backward(grad)
    # untie the weights: one copy per node, each with its own gradient (finite differences)
    copies = np.repeat(net.W.data[None], 4, axis=0)
    per_node = numerical_gradient(
        lambda: float(g_root @ _compose_untied(tree, leaves, copies, net.b.data, [0, 0])), copies)
    assert not np.allclose(per_node[0], per_node[3], atol=1e-3)  # different nodes, different contributions
    np.testing.assert_allclose(net.W.grad, per_node.sum(axis=0), rtol=1e-6, atol=1e-9)


def test_batch_gradient_is_the_sum_over_trees():
    rng = np.random.default_rng(3)
    net = RecursiveNet(3, rng=5, dtype=np.float64)
    leaves = rng.normal(size=(12, 3))
    g_roots = rng.normal(size=(len(TREES), 3))
    batch = TreeBatch(TREES)
    grad = np.zeros((batch.n_nodes, 3))
    grad[batch.roots] = g_roots
    net.zero_grad()
    net(leaves, batch)
    grad_leaves = net.backward(grad)
    total_W, total_b = net.W.grad.copy(), net.b.grad.copy()
    net.zero_grad()  # now one tree at a time, accumulating into the same gradients
    start = 0
    for tree, g_root in zip(TREES, g_roots):
        single = TreeBatch([tree])
        rows = slice(start, start + single.n_leaves)
        net(leaves[rows], single)
        grad_single = np.zeros((single.n_nodes, 3))
        grad_single[single.roots[0]] = g_root
        np.testing.assert_allclose(net.backward(grad_single), grad_leaves[rows], rtol=1e-10)
        start += single.n_leaves
    np.testing.assert_allclose(net.W.grad, total_W, rtol=1e-10)
    np.testing.assert_allclose(net.b.grad, total_b, rtol=1e-10)


def test_tree_classifier_gradient_check():
    trees, labels = sentiment_phrases(6, max_depth=3, rng=5)
    model = TreeClassifier(len(SENTIMENT_VOCAB), 4, 2, rng=6).double()
    loss = CrossEntropyLoss()

    def cost():
        return loss(model(trees), labels)

    model.zero_grad()
    cost()
    model.backward(loss.backward())
    names = {name for name, _ in model.named_parameters()}
    assert names == {"embedding.W", "composer.W", "composer.b", "readout.W", "readout.b"}
    for name, p in model.named_parameters():
        assert relative_error(p.grad.copy(), numerical_gradient(cost, p.data)) < 1e-6, name


def test_modular_net_gradient_check_and_shared_word_module():
    rng = np.random.default_rng(7)
    model = ModularNet(vocab=9, dim=3, slots=4, hidden=5, n_out=2, rng=8)
    ids = rng.integers(0, 9, size=(6, 4))
    report = check_model(model, CrossEntropyLoss(), ids, rng.integers(0, 2, size=6))
    assert report.max_error < 1e-6, report
    assert len(model.parameters()) == 5  # one word table for all four slots


def test_learns_negation_and_generalizes_to_deeper_trees():
    train = sentiment_phrases(600, max_depth=3, rng=0)
    deeper = sentiment_phrases(300, max_depth=6, min_depth=4, rng=2)
    model = TreeClassifier(len(SENTIMENT_VOCAB), 8, 2, rng=0)
    history = fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.03), train, epochs=10,
                  batch_size=32, rng=0, progress=False)
    assert history["accuracy"][-1] > 0.98
    assert accuracy(model(deeper[0]), deeper[1]) > 0.95  # longer chains of "not" than in training


def test_sentiment_phrases_labels():
    trees, labels = sentiment_phrases(200, max_depth=4, rng=3)
    for tree, label in zip(trees, labels):
        words = phrase_text(tree).replace("(", " ").replace(")", " ").split()
        positive = words[-1] in SENTIMENT_VOCAB[:3]
        assert label == int(positive ^ (words.count("not") % 2 == 1))
    assert phrase_text((8, (6, 0))) == "(not (very good))"


def test_errors():
    net = RecursiveNet(3, rng=0)
    with pytest.raises(ValueError, match="TreeBatch.*pair"):
        TreeBatch([(1, 2, 3)])
    with pytest.raises(ValueError, match="TreeBatch.*no trees"):
        TreeBatch([])
    with pytest.raises(ShapeError, match="RecursiveNet.*leaf vectors.*\\(3, 3\\)"):
        net(np.zeros((2, 3)), [(0, (1, 2))])
    with pytest.raises(RuntimeError, match="before forward"):
        RecursiveNet(3).backward(np.zeros((1, 3)))
    net(np.zeros((3, 3)), [(0, (1, 2))])
    with pytest.raises(ShapeError, match="RecursiveNet.*backward.*\\(5, 3\\)"):
        net.backward(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="RecursiveNet: dim"):
        RecursiveNet(0)
    with pytest.raises(ShapeError, match="ModularNet: expected token ids"):
        ModularNet(9, 3, 4, 5, 2)(np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="sentiment_phrases"):
        sentiment_phrases(3, max_depth=1, min_depth=2)
