"""Attention modules and the encoder-decoder: gradient checks, weights that sum to 1, learning."""

import numpy as np
import pytest

from coursepkg.data import sequence_pairs
from coursepkg.errors import ShapeError
from coursepkg.gradcheck import check_module
from coursepkg.models import Seq2Seq
from coursepkg.nn import AdditiveAttention, DotAttention, functional
from coursepkg.optim import Adam

TOL = 1e-6


@pytest.fixture
def qkv():
    rng = np.random.default_rng(0)
    return rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 6))


@pytest.mark.parametrize("make", [lambda: DotAttention(), lambda: DotAttention(scale=False),
                                  lambda: AdditiveAttention(4, 4, 7, rng=1)], ids=["dot", "dot-unscaled", "additive"])
@pytest.mark.parametrize("inputs", ["keys-are-values", "separate-values", "single-query"])
def test_attention_gradcheck(make, inputs, qkv):
    q, k, v = qkv
    args = {"keys-are-values": (q, k), "separate-values": (q, k, v), "single-query": (q[:, 0], k, v)}[inputs]
    report = check_module(make(), *args, rng=0)
    assert len(report.errors) >= len(args)
    assert report.max_error < TOL, report


def test_additive_attention_with_different_query_and_key_sizes():
    rng = np.random.default_rng(1)
    report = check_module(AdditiveAttention(3, 5, 4, rng=0), rng.standard_normal((2, 2, 3)),
                          rng.standard_normal((2, 4, 5)), rng=0)
    assert report.max_error < TOL, report


@pytest.mark.parametrize("att", [DotAttention(), AdditiveAttention(4, 4, 6, rng=0).double()], ids=["dot", "additive"])
def test_weights_are_a_distribution_and_context_is_their_average(att, qkv):
    q, k, v = qkv
    context = att.forward(q, k, v)
    w = att.weights
    assert w.shape == (2, 3, 5) and np.all(w > 0)
    np.testing.assert_allclose(w.sum(axis=-1), 1, rtol=1e-12)
    np.testing.assert_allclose(context, np.einsum("bqk,bkd->bqd", w, v), rtol=1e-12)
    att.forward(q[:, 0], k)
    assert att.weights.shape == (2, 5)


def test_dot_attention_equation_and_focus(qkv):
    q, k, _ = qkv
    att = DotAttention()
    att.forward(q, k)
    expected = functional.softmax(np.einsum("bqd,bkd->bqk", q, k) / 2.0, axis=-1)  # √d = 2
    np.testing.assert_allclose(att.weights, expected, rtol=1e-12)
    keys = np.zeros((1, 4, 3))
    keys[0, 2] = [10.0, 0, 0]  # one key matches the query strongly: (almost) all attention goes there
    att.forward(np.array([[10.0, 0, 0]]), keys)
    assert att.weights[0, 2] > 0.999


def test_attention_shape_errors(qkv):
    q, k, v = qkv
    with pytest.raises(ShapeError, match="keys"):
        DotAttention().forward(q, k[..., :3])
    with pytest.raises(ShapeError, match="same batch size"):
        DotAttention().forward(q, k, v[:1])
    with pytest.raises(ShapeError, match="queries"):
        AdditiveAttention(5, 4, 3).forward(q, k)
    with pytest.raises(RuntimeError, match="before forward"):
        DotAttention().backward(np.zeros((2, 3, 4)))


@pytest.mark.parametrize("cell, attention", [("lstm", "dot"), ("lstm", "additive"), ("gru", "dot"),
                                             ("rnn", None)])
def test_seq2seq_gradcheck(cell, attention):
    rng = np.random.default_rng(0)
    model = Seq2Seq(5, 6, hidden=3, embed_dim=2, cell=cell, attention=attention, rng=0)
    report = check_module(model, rng.integers(0, 5, (2, 4)), rng.integers(0, 6, (2, 3)), rng=0, wrt_inputs=False)
    assert report.max_error < TOL, report


def test_seq2seq_learns_to_reverse_and_attends_to_the_mirror_position():
    src, tgt_in, tgt_out = sequence_pairs(2000, 5, n_symbols=6, task="reverse", rng=0)
    model = Seq2Seq(7, 7, hidden=32, embed_dim=8, attention="dot", rng=0)
    opt = Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    first = model.train_batch(src[:64], tgt_in[:64], tgt_out[:64], opt)
    for _ in range(150):
        i = rng.integers(0, len(src), 64)
        last = model.train_batch(src[i], tgt_in[i], tgt_out[i], opt)
    assert last < 0.2 * first
    test_src, _, test_out = sequence_pairs(200, 5, n_symbols=6, task="reverse", rng=1)
    accuracy = np.mean(model.generate(test_src, start_id=0, length=5) == test_out)
    assert accuracy > 0.9, accuracy
    w = model.attention_weights
    assert w.shape == (200, 5, 5)
    np.testing.assert_allclose(w.sum(axis=-1), 1, rtol=1e-5)


def test_seq2seq_rejects_bad_options():
    with pytest.raises(ValueError, match="cell"):
        Seq2Seq(3, 3, cell="transformer")
    with pytest.raises(ValueError, match="attention"):
        Seq2Seq(3, 3, attention="cosine")
