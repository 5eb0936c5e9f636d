"""Sequence data: truncated-BPTT batching layout and the synthetic long-memory tasks."""

import numpy as np
import pytest

from coursepkg.data import adding_problem, bptt_batches, copy_task, num_bptt_batches, sequence_pairs
from coursepkg.errors import ShapeError


def test_bptt_batches_layout_streams_continue_across_chunks():
    ids = np.arange(103)
    batches = list(bptt_batches(ids, batch_size=4, seq_len=7))
    L = (len(ids) - 1) // 4  # 25 tokens per stream
    assert len(batches) == num_bptt_batches(len(ids), 4, 7) == 4
    assert [X.shape for X, _ in batches] == [(4, 7)] * 3 + [(4, 4)]  # the last chunk is shorter
    X = np.concatenate([x for x, _ in batches], axis=1)
    Y = np.concatenate([y for _, y in batches], axis=1)
    np.testing.assert_array_equal(X, ids[:4 * L].reshape(4, L))  # row b = contiguous stream b
    np.testing.assert_array_equal(Y, X + 1)  # the target is the next token
    for (x0, y0), (x1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(x1[:, 0], y0[:, -1])  # chunk k+1 continues chunk k row by row


def test_bptt_batches_with_text_ids_and_errors():
    text = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5], dtype=np.int64)
    (X, Y), = bptt_batches(text, batch_size=2, seq_len=10)
    np.testing.assert_array_equal(X, [[3, 1, 4, 1], [5, 9, 2, 6]])
    np.testing.assert_array_equal(Y, [[1, 4, 1, 5], [9, 2, 6, 5]])
    with pytest.raises(ShapeError, match="1-D array of integer"):
        next(bptt_batches(np.zeros((2, 5), dtype=int), 2, 2))
    with pytest.raises(ValueError, match="too short"):
        next(bptt_batches(np.arange(3), 4, 2))
    with pytest.raises(ValueError, match="seq_len"):
        next(bptt_batches(np.arange(30), 2, 0))


def test_adding_problem():
    X, y = adding_problem(500, 20, rng=0)
    assert X.shape == (500, 20, 2) and y.shape == (500, 1) and X.dtype == y.dtype == np.float32
    markers = X[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :10].sum(axis=1) == 1) and np.all(markers[:, 10:].sum(axis=1) == 1)
    np.testing.assert_allclose(y[:, 0], (X[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    assert abs(np.mean((y - 1) ** 2) - 1 / 6) < 0.03  # the "always 1" baseline stated in the docs
    X2, _ = adding_problem(500, 20, rng=0)
    np.testing.assert_array_equal(X, X2)


@pytest.mark.parametrize("reverse", [False, True])
def test_copy_task_layout(reverse):
    X, Y = copy_task(50, length=4, n_symbols=5, delay=3, reverse=reverse, rng=0)
    assert X.shape == Y.shape == (50, 11)
    symbols = X[:, :4]
    assert symbols.min() >= 2 and symbols.max() <= 6
    assert np.all(X[:, 4:7] == 0) and np.all(X[:, 7] == 1) and np.all(X[:, 8:] == 0)
    assert np.all(Y[:, :7] == 0)
    np.testing.assert_array_equal(Y[:, 7:], symbols[:, ::-1] if reverse else symbols)


@pytest.mark.parametrize("task", ["copy", "reverse", "sort"])
def test_sequence_pairs(task):
    src, tgt_in, tgt_out = sequence_pairs(30, 6, n_symbols=4, task=task, rng=0)
    assert src.min() >= 1 and src.max() <= 4
    expected = {"copy": src, "reverse": src[:, ::-1], "sort": np.sort(src, axis=1)}[task]
    np.testing.assert_array_equal(tgt_out, expected)
    np.testing.assert_array_equal(tgt_in[:, 0], 0)
    np.testing.assert_array_equal(tgt_in[:, 1:], tgt_out[:, :-1])
    with pytest.raises(ValueError, match="task"):
        sequence_pairs(3, 3, task="shuffle")
