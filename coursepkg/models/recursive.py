"""Modular and recursive (tree-structured) neural networks.

A **modular** net reuses one module for several input slots: a word module ``W`` maps each of
``k`` words to a vector, and a second module ``R`` reads the ``k`` vectors side by side.

A **recursive** net removes the fixed ``k``: one shared association module composes two child
vectors into a parent vector of the same size,

    p = tanh([c₁; c₂] W + b)          ([c₁; c₂]: the two children side by side, W of shape (2d, d)),

and is applied bottom-up over a binary parse tree, so phrases of any length and shape end in one
root vector. Training is backpropagation through structure: the gradient flows from the root
down the tree, and since every internal node uses the same ``W`` and ``b``, their gradients are
the sums of the contributions of all nodes.

Vectorization: the nodes of a batch of trees are grouped by *height* (leaves 0, a parent one more
than its taller child). All nodes of one height depend only on lower ones, so each height is one
matrix product; the loops run over heights, never over nodes or trees.
"""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..errors import ShapeError, as_float_array, check_finite, check_shape
from ..nn import Dense, Embedding, Flatten, Module, Parameter, Sequential, Tanh
from ..nn.module import DEFAULT_DTYPE


# ------------------------------------------------------------------------------ tree batches
class TreeBatch:
    """A batch of binary trees laid out for level-by-level evaluation.

    A tree is written as nested pairs: a leaf is a token id (an ``int``), an internal node a pair
    ``(left, right)``; e.g. ``(6, (7, 0))`` for "not (very good)" with ids not=6, very=7, good=0.

    Node numbering: the ``n_leaves`` leaves first (left to right, tree after tree), then the
    internal nodes sorted by height. Attributes: ``leaf_ids`` ``(n_leaves,)``, ``children``
    ``(n_internal, 2)`` node indices of the left and right child of each internal node, ``levels``
    a list of ``slice`` objects into the internal nodes (one per height 1, 2, …), ``roots``
    ``(n_trees,)`` node index of each tree's root, ``depth`` ``(n_trees,)`` each tree's height.
    """

    def __init__(self, trees):
        trees = list(trees)
        if not trees:
            raise ValueError("TreeBatch: received no trees; pass a list of nested pairs such as [(1, (2, 3))].")
        leaves: list[int] = []
        internal: list[tuple[int, tuple, tuple]] = []  # (height, left ref, right ref)

        def visit(node) -> tuple[tuple, int]:
            """A reference ("leaf"/"node", index) to ``node`` and its height."""
            if isinstance(node, (int, np.integer)) and not isinstance(node, bool):
                leaves.append(int(node))
                return ("leaf", len(leaves) - 1), 0
            if isinstance(node, (tuple, list)) and len(node) == 2:
                (left, h_left), (right, h_right) = visit(node[0]), visit(node[1])
                internal.append((1 + max(h_left, h_right), left, right))
                return ("node", len(internal) - 1), internal[-1][0]
            raise ValueError(f"TreeBatch: a tree node must be a token id (int) or a pair (left, right), "
                             f"received {node!r}. Write e.g. (6, (7, 0)) for a three-word phrase.")

        refs, depth = zip(*(visit(tree) for tree in trees))
        n_leaves = len(leaves)
        heights = np.array([h for h, _, _ in internal], dtype=np.int64)
        order = np.argsort(heights, kind="stable")  # internal nodes by height
        rank = np.empty(len(internal), dtype=np.int64)
        rank[order] = np.arange(len(internal))

        def index(ref) -> int:
            return ref[1] if ref[0] == "leaf" else n_leaves + int(rank[ref[1]])

        self.leaf_ids = np.array(leaves, dtype=np.int64)
        self.children = np.array([[index(internal[j][1]), index(internal[j][2])] for j in order],
                                 dtype=np.int64).reshape(-1, 2)
        sorted_heights = heights[order]
        bounds = np.searchsorted(sorted_heights, np.arange(1, int(max(depth)) + 2)) + n_leaves
        self.levels = [slice(int(start), int(stop)) for start, stop in zip(bounds[:-1], bounds[1:])]
        self.roots = np.array([index(ref) for ref in refs], dtype=np.int64)
        self.depth = np.array(depth, dtype=np.int64)
        self.n_leaves, self.n_nodes = n_leaves, n_leaves + len(internal)

    def __len__(self) -> int:
        return len(self.roots)

    def __repr__(self) -> str:
        return f"TreeBatch({len(self)} trees, {self.n_nodes} nodes, {len(self.levels)} levels)"


def as_tree_batch(trees) -> TreeBatch:
    """``trees`` itself if it is a :class:`TreeBatch`, else a new one built from the nested pairs."""
    return trees if isinstance(trees, TreeBatch) else TreeBatch(trees)


# --------------------------------------------------------------------------- the recursive net
class RecursiveNet(Module):
    """One shared composition module applied bottom-up over binary trees.

        p = tanh([c₁; c₂] W + b),      W: (2d, d),  b: (d,)

    ``forward(leaves, trees)`` takes the leaf vectors ``(n_leaves, d)`` (in the order of
    ``trees.leaf_ids``) and a :class:`TreeBatch`, and returns the vectors of *all* nodes,
    ``(n_nodes, d)`` (leaves first; ``out[trees.roots]`` are the phrase vectors). ``backward``
    takes ∂C/∂(every node vector) and returns ∂C/∂leaves; going down one level at a time, with
    δ = ∂C/∂p ⊙ (1 − p²) for the nodes of that level,

        ∂C/∂W += [c₁; c₂]ᵀ δ,    ∂C/∂b += Σ δ,    ∂C/∂[c₁; c₂] = δ Wᵀ  (added to the children's ∂C/∂p),

    so the shared parameters receive the sum over all internal nodes of all trees.
    """

    def __init__(self, dim: int, init="xavier", rng=None, dtype=DEFAULT_DTYPE):
        if int(dim) <= 0:
            raise ValueError(f"RecursiveNet: dim must be positive, received {dim}.")
        self.dim = int(dim)
        rng = initializers.make_rng(rng)
        self.W = Parameter(initializers.get(init)((2 * self.dim, self.dim), 2 * self.dim, self.dim, rng, dtype))
        self.b = Parameter(np.zeros(self.dim, dtype=dtype))
        self._cache = None

    def forward(self, leaves, trees):
        trees = as_tree_batch(trees)
        leaves = as_float_array(leaves, self, self.W.data.dtype)
        check_shape(leaves, self, (trees.n_leaves, self.dim), "leaf vectors")
        check_finite(leaves, self, "leaf vectors")
        nodes = np.empty((trees.n_nodes, self.dim), dtype=leaves.dtype)
        nodes[:trees.n_leaves] = leaves
        pairs = []
        for level in trees.levels:  # every node of one height at once
            kids = trees.children[level.start - trees.n_leaves:level.stop - trees.n_leaves]
            pair = np.concatenate([nodes[kids[:, 0]], nodes[kids[:, 1]]], axis=1)
            nodes[level] = np.tanh(pair @ self.W.data + self.b.data)
            pairs.append(pair)
        self._cache = (trees, nodes, pairs)
        return nodes

    def backward(self, grad_out):
        if self._cache is None:
            raise RuntimeError("RecursiveNet.backward called before forward: run the forward pass first.")
        trees, nodes, pairs = self._cache
        grad = as_float_array(grad_out, f"{self!r}.backward", nodes.dtype)
        if grad.shape != nodes.shape:
            raise ShapeError(f"{self!r}.backward: expected ∂C/∂nodes of shape {nodes.shape} (one row per node of "
                             f"the trees), received {grad.shape}.")
        grad = grad.copy()  # the children's rows receive their parents' contributions
        for level, pair in zip(reversed(trees.levels), reversed(pairs)):
            kids = trees.children[level.start - trees.n_leaves:level.stop - trees.n_leaves]
            delta = grad[level] * (1 - nodes[level] ** 2)
            self.W.add_grad_matmul(pair.T, delta)
            self.b.add_grad_sum(delta, axis=0)
            grad_pair = delta @ self.W.data.T
            grad[kids[:, 0]] += grad_pair[:, :self.dim]  # a node has one parent: no index repeats
            grad[kids[:, 1]] += grad_pair[:, self.dim:]
        return grad[:trees.n_leaves]

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class TreeClassifier(Module):
    """Classify phrases given as binary trees: embed the words, compose them with a
    :class:`RecursiveNet`, read the root vector with a dense layer.

        leaves = E[word ids],   p_root = RecursiveNet(leaves, tree),   z = p_root W_out + b_out

    ``forward(trees)`` takes a sequence of nested-pair trees (or a :class:`TreeBatch`) and returns
    the logits ``(n_trees, n_classes)``, so it trains with ``fit`` and ``CrossEntropyLoss`` on an
    object array of trees.
    """

    def __init__(self, vocab: int, dim: int, n_classes: int, rng=None, dtype=DEFAULT_DTYPE):
        rng = initializers.make_rng(rng)
        self.embedding = Embedding(vocab, dim, init="xavier", rng=rng, dtype=dtype)
        self.composer = RecursiveNet(dim, rng=rng, dtype=dtype)
        self.readout = Dense(dim, n_classes, rng=rng, dtype=dtype)
        self._trees = None

    def encode(self, trees) -> np.ndarray:
        """The vectors of every node of ``trees`` ``(n_nodes, dim)``, leaves first."""
        self._trees = as_tree_batch(trees)
        return self.composer(self.embedding(self._trees.leaf_ids), self._trees)

    def forward(self, trees):
        return self.readout(self.encode(trees)[self._trees.roots])

    def backward(self, grad_out):
        grad_root = self.readout.backward(grad_out)
        grad_nodes = np.zeros((self._trees.n_nodes, self.composer.dim), dtype=grad_root.dtype)
        grad_nodes[self._trees.roots] = grad_root
        self.embedding.backward(self.composer.backward(grad_nodes))


# ------------------------------------------------------------------------------ the modular net
class ModularNet(Module):
    """A word module reused for each of ``slots`` inputs, followed by a reader module.

        a_k = E[w_k]  (the same word module for every slot k),   s = R([a_1; …; a_slots])

    ``forward(ids)`` takes token ids ``(n, slots)`` and returns ``R``'s output; ``R`` is
    ``Dense(slots·dim, hidden) → tanh → Dense(hidden, n_out)``. The word module's gradient is the
    sum over the slots, as for any shared module. It only reads phrases of exactly ``slots`` words.
    """

    def __init__(self, vocab: int, dim: int, slots: int, hidden: int, n_out: int, rng=None,
                 dtype=DEFAULT_DTYPE):
        rng = initializers.make_rng(rng)
        self.slots = int(slots)
        self.word = Embedding(vocab, dim, rng=rng, dtype=dtype)
        self.reader = Sequential(Flatten(), Dense(self.slots * dim, hidden, rng=rng, dtype=dtype), Tanh(),
                                 Dense(hidden, n_out, rng=rng, dtype=dtype))

    def forward(self, ids):
        ids = np.asarray(ids)
        check_shape(ids, "ModularNet", (None, self.slots), "token ids")
        return self.reader(self.word(ids))

    def backward(self, grad_out):
        self.word.backward(self.reader.backward(grad_out))

    def extra_repr(self) -> str:
        return f"slots={self.slots}"


# --------------------------------------------------------------------------- a toy phrase task
#: vocabulary of :func:`sentiment_phrases`: three positive and three negative adjectives, two
#: intensifiers and the negation.
SENTIMENT_VOCAB = ("good", "great", "fun", "bad", "dull", "awful", "very", "really", "not")


def sentiment_phrases(n: int, max_depth: int = 3, min_depth: int = 0, rng=None):
    """Toy phrases with negation, as binary trees over :data:`SENTIMENT_VOCAB`.

    A phrase is an adjective modified by a chain of ``min_depth``…``max_depth`` words from
    {very, really, not}, each one a node ``(modifier, phrase)``: e.g. ``not (very good)``. The label
    is 1 (positive) or 0: the adjective's polarity, flipped by every "not". Returns
    ``(trees, labels)``: an object array of nested pairs and an int array.
    """
    if not (0 <= int(min_depth) <= int(max_depth)):
        raise ValueError(f"sentiment_phrases: need 0 ≤ min_depth ≤ max_depth, received {min_depth}, {max_depth}.")
    rng = initializers.make_rng(rng)
    depths = rng.integers(min_depth, max_depth + 1, size=n)
    adjectives = rng.integers(0, 6, size=n)
    trees = np.empty(n, dtype=object)
    labels = np.empty(n, dtype=np.int64)
    for i in range(n):  # building the data, not a forward pass
        modifiers = rng.integers(6, 9, size=depths[i])
        tree = int(adjectives[i])
        for word in modifiers[::-1]:
            tree = (int(word), tree)
        trees[i] = tree
        labels[i] = int(adjectives[i] < 3) ^ int(np.sum(modifiers == 8) % 2)
    return trees, labels


def phrase_text(tree) -> str:
    """A tree of :data:`SENTIMENT_VOCAB` ids as bracketed words, e.g. ``(not (very good))``."""
    if isinstance(tree, (tuple, list)):
        return f"({phrase_text(tree[0])} {phrase_text(tree[1])})"
    return SENTIMENT_VOCAB[int(tree)]
