"""Neural Turing machine: gradient checks of every addressing stage and of the whole machine
through time, hand-computed values, the copy-task data and loss, errors, and a short training run."""

import math
from collections import Counter

import numpy as np
import pytest

from coursepkg.callbacks import ClipGradNorm
from coursepkg.errors import NonFiniteError, ShapeError
from coursepkg.gradcheck import check_loss, check_module
from coursepkg.models.ntm import NTM, HeadParameters, MaskedBCEWithLogitsLoss, bit_error_rate, copy_bits
from coursepkg.models.ntm_addressing import (
    Addressing,
    CircularShift,
    ContentAddressing,
    Interpolation,
    MemoryRead,
    MemoryWrite,
    Sharpening,
    content_weights,
    shift_offsets,
)
from coursepkg.nn import BCEWithLogitsLoss, Dense, Tanh
from coursepkg.optim import Adam
from coursepkg.train import fit

TOL = 1e-6
n, N, W = 3, 6, 4


@pytest.fixture
def arrays():
    r = np.random.default_rng(0)
    return {
        "M": r.standard_normal((n, N, W)), "k": r.standard_normal((n, W)), "beta": 3 * r.random(n),
        "w_c": r.dirichlet(np.ones(N), n), "w_prev": r.dirichlet(np.ones(N), n), "g": r.random(n),
        "s": r.dirichlet(np.ones(3), n), "gamma": 1 + 2 * r.random(n), "e": r.random((n, W)),
        "a": r.standard_normal((n, W)),
    }


STAGES = {
    "content": (ContentAddressing, ("M", "k", "beta")),
    "interpolation": (Interpolation, ("w_c", "w_prev", "g")),
    "shift": (CircularShift, ("w_c", "s")),
    "sharpening": (Sharpening, ("w_c", "gamma")),
    "addressing": (Addressing, ("M", "k", "beta", "g", "s", "gamma", "w_prev")),
    "read": (MemoryRead, ("M", "w_c")),
    "write": (MemoryWrite, ("M", "w_c", "e", "a")),
}


@pytest.mark.parametrize("stage", STAGES)
def test_stage_gradients(stage, arrays):
    cls, names = STAGES[stage]
    report = check_module(cls(), *(arrays[k] for k in names), rng=1)
    assert len(report.errors) == len(names)
    assert report.max_error < TOL, report


def test_content_finite_at_zero_rows_and_key(arrays):
    """The smoothed norm keeps the cosine (= 0) and its gradient finite at an all-zero row or key."""
    M, k, beta = arrays["M"], arrays["k"], arrays["beta"]
    M[:, 2] = 0
    k[0] = 0
    stage = ContentAddressing()
    w = stage(M, k, beta)
    np.testing.assert_allclose(w[0], 1 / N)  # a zero key matches nothing better than anything else
    grads = stage.backward(np.random.default_rng(1).standard_normal(w.shape))
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_ntm_gradients_through_time():
    X, _ = copy_bits(2, 2, width=3, rng=0, dtype=np.float64)  # T = 5 steps
    model = NTM(4, 3, hidden=5, n_locations=5, width=3, rng=0)
    report = check_module(model, X, rng=1)
    assert set(report.errors) >= {"input", "controller.layers.0.W", "read_head.W", "write_head.b", "output.W"}
    assert report.max_error < TOL, report


# ---------------------------------------------------------------------- hand-computed values
def test_content_weights_formula(arrays):
    M, k, beta = arrays["M"], arrays["k"], arrays["beta"]
    cos = np.einsum("niw,nw->ni", M, k) / (np.linalg.norm(M, axis=2) * np.linalg.norm(k, axis=1)[:, None])
    expected = np.exp(beta[:, None] * cos)
    expected /= expected.sum(axis=1, keepdims=True)
    w = content_weights(M, k, beta)
    assert w.shape == (n, N)
    np.testing.assert_allclose(w, expected, rtol=1e-9)


def test_content_weights_special_cases(arrays):
    M, k = arrays["M"], arrays["k"]
    np.testing.assert_allclose(content_weights(M, k, np.zeros(n)), np.full((n, N), 1 / N))
    M[:, 4] = 2.5 * k  # row 4 points exactly along the key
    w = content_weights(M, k, np.full(n, 1e4))  # huge strength: no overflow, one-hot on row 4
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w, np.eye(N)[[4] * n], atol=1e-12)
    np.testing.assert_allclose(content_weights(np.zeros((n, N, W)), k, np.full(n, 5.0)), 1 / N)


def test_interpolation_gate_extremes(arrays):
    w_c, w_prev = arrays["w_c"], arrays["w_prev"]
    np.testing.assert_allclose(Interpolation()(w_c, w_prev, np.ones(n)), w_c)
    np.testing.assert_allclose(Interpolation()(w_c, w_prev, np.zeros(n)), w_prev)


def test_shift_rotates(arrays):
    w = arrays["w_c"]
    plus_one = np.tile([0.0, 0.0, 1.0], (n, 1))
    np.testing.assert_allclose(CircularShift()(w, plus_one), np.roll(w, 1, axis=1))
    np.testing.assert_allclose(CircularShift()(np.eye(N)[[N - 1] * n], plus_one), np.eye(N)[[0] * n])  # wraps
    np.testing.assert_allclose(CircularShift()(w, plus_one[:, ::-1]), np.roll(w, -1, axis=1))
    blurred = CircularShift()(np.eye(N)[[2] * n], np.tile([0.1, 0.8, 0.1], (n, 1)))
    np.testing.assert_allclose(blurred[0], [0, 0.1, 0.8, 0.1, 0, 0])
    assert shift_offsets(5).tolist() == [-2, -1, 0, 1, 2]


def test_sharpening(arrays):
    w = arrays["w_c"]
    np.testing.assert_allclose(Sharpening()(w, np.ones(n)), w)
    sharp = Sharpening()(w, np.full(n, 200.0))
    np.testing.assert_allclose(sharp, np.eye(N)[w.argmax(axis=1)], atol=1e-6)
    with_zero = Sharpening()(np.array([[0.5, 0.5, 0.0]]), np.array([2.0]))
    np.testing.assert_allclose(with_zero, [[0.5, 0.5, 0.0]])


def test_erase_clears_one_row_and_add_writes_it(arrays):
    M = arrays["M"]
    w = np.eye(N)[[1] * n]
    erased = MemoryWrite()(M, w, np.ones((n, W)), np.zeros((n, W)))
    np.testing.assert_allclose(erased[:, 1], 0)
    np.testing.assert_allclose(np.delete(erased, 1, axis=1), np.delete(M, 1, axis=1))
    a = arrays["a"]
    written = MemoryWrite()(M, w, np.ones((n, W)), a)
    np.testing.assert_allclose(written[:, 1], a)
    np.testing.assert_allclose(MemoryWrite()(M, w, np.zeros((n, W)), np.zeros((n, W))), M)
    np.testing.assert_allclose(MemoryRead()(written, w), a)


def test_head_parameters_ranges():
    head = HeadParameters(width=4, n_shifts=3, write=True)
    assert head.size == 4 + 3 + 3 + 4 + 4
    p = head(np.random.default_rng(0).standard_normal((5, head.size)) * 3)
    assert p["beta"].min() >= 0 and p["gamma"].min() >= 1
    assert 0 < p["g"].min() and p["g"].max() < 1 and np.all((p["e"] > 0) & (p["e"] < 1))
    np.testing.assert_allclose(p["s"].sum(axis=1), 1)
    assert np.abs(p["a"]).max() < 1 and p["k"].shape == (5, 4)


def test_ntm_records_valid_weightings():
    X, _ = copy_bits(4, 3, width=3, rng=1)
    model = NTM(4, 3, hidden=8, n_locations=6, width=5, rng=0)
    logits = model(X)
    assert logits.shape == (4, 7, 3) and logits.dtype == np.float32
    for weights in (model.read_weights, model.write_weights):
        assert weights.shape == (4, 7, 6)
        np.testing.assert_allclose(weights.sum(axis=2), 1, rtol=1e-5)
    assert set(model.addressing["read"]) == {"content", "gated", "shifted", "sharpened"}
    assert model.memory.shape == (4, 6, 5)


# ---------------------------------------------------------------------- copy task and its loss
def test_copy_bits_layout():
    X, Y = copy_bits(5, 3, width=4, rng=0)
    assert X.shape == (5, 7, 5) and Y.shape == (5, 7, 4)
    assert np.all(X[:, 3, 4] == 1) and X[:, :, 4].sum() == 5  # one delimiter per sequence, at t = L
    assert np.all(X[:, 3:, :4] == 0)  # blank after the vectors
    assert np.all(np.isnan(Y[:, :4])) and not np.isnan(Y[:, 4:]).any()
    np.testing.assert_array_equal(Y[:, 4:], X[:, :3, :4])  # the answer is the sequence
    assert set(np.unique(X)) <= {0.0, 1.0}
    np.testing.assert_array_equal(copy_bits(5, 3, width=4, rng=0)[0], X)
    assert 0.3 < X[:, :3, :4].mean() < 0.7


def test_masked_loss_value_and_gradient():
    _, Y = copy_bits(4, 3, width=4, rng=0, dtype=np.float64)
    z = np.random.default_rng(1).standard_normal(Y.shape)
    loss = MaskedBCEWithLogitsLoss()
    mask = ~np.isnan(Y)
    plain = BCEWithLogitsLoss()(z[mask][:, None], Y[mask][:, None])  # per row = per bit here
    assert loss(z, Y) == pytest.approx(plain)
    assert loss(np.zeros_like(Y), Y) == pytest.approx(math.log(2))
    assert check_loss(MaskedBCEWithLogitsLoss(), z, Y).max_error < TOL
    grad = loss.backward()
    assert np.all(grad[~mask] == 0)
    assert bit_error_rate(np.where(Y > 0.5, 3.0, -3.0), Y) == 0
    assert bit_error_rate(np.where(Y > 0.5, -3.0, 3.0), Y) == 1


# ---------------------------------------------------------------------- errors
def test_argument_errors(arrays):
    M, k, beta = arrays["M"], arrays["k"], arrays["beta"]
    with pytest.raises(ShapeError, match=r"ContentAddressing.*key k"):
        content_weights(M, k[:, :3], beta)
    with pytest.raises(ShapeError, match="same batch size"):
        content_weights(M, k[:2], beta)
    with pytest.raises(ValueError, match="beta must be ≥ 0"):
        content_weights(M, k, -beta)
    with pytest.raises(NonFiniteError, match="ContentAddressing"):
        content_weights(np.full_like(M, np.nan), k, beta)
    with pytest.raises(ShapeError, match="memory M"):
        content_weights(M[0], k, beta)
    with pytest.raises(ValueError, match="positive odd integer"):
        CircularShift()(arrays["w_c"], np.full((n, 2), 0.5))
    with pytest.raises(ValueError, match="gamma must be ≥ 1"):
        Sharpening()(arrays["w_c"], np.full(n, 0.5))
    with pytest.raises(ValueError, match="gate g must lie in"):
        Interpolation()(arrays["w_c"], arrays["w_prev"], np.full(n, 2.0))
    with pytest.raises(ValueError, match="erase vector"):
        MemoryWrite()(M, arrays["w_c"], arrays["e"] + 1, arrays["a"])


def test_ntm_errors():
    model = NTM(4, 3, hidden=5, n_locations=5, width=3, rng=0)
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(np.zeros((1, 1, 3)))
    with pytest.raises(ShapeError, match=r"NTM.*\(batch, time ≥ 1, 4\)"):
        model(np.zeros((2, 5, 3)))
    model(np.zeros((2, 5, 4)))
    with pytest.raises(ShapeError, match="grad_out"):
        model.backward(np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match="NTM: hidden"):
        NTM(4, 3, hidden=0)
    with pytest.raises(ValueError, match="at least as many locations"):
        NTM(4, 3, n_locations=2)
    with pytest.raises(ShapeError, match=r"HeadParameters\(width=4.*\(batch, 10\)"):
        HeadParameters(width=4)(np.zeros((2, 9)))
    with pytest.raises(ValueError, match="positive odd integer"):
        HeadParameters(width=4, n_shifts=2)
    with pytest.raises(ValueError, match="copy_bits: width"):
        copy_bits(2, 3, width=0)
    with pytest.raises(ValueError, match="nothing to learn"):
        MaskedBCEWithLogitsLoss()(np.zeros((2, 3)), np.full((2, 3), np.nan))


# ---------------------------------------------------------------------- training
def test_learns_the_copy_task():
    X, Y = copy_bits(960, 3, width=4, rng=0)
    Xv, Yv = copy_bits(300, 3, width=4, rng=1)
    model = NTM(5, 4, hidden=32, n_locations=8, width=8, rng=0)
    loss = MaskedBCEWithLogitsLoss()
    before = loss(model(Xv), Yv)
    history = fit(model, loss, Adam(model.parameters(), lr=0.01), (X, Y), val=(Xv, Yv), epochs=3,
                  batch_size=32, callbacks=[ClipGradNorm(10.0)], metrics={"bit_error": bit_error_rate},
                  rng=0, progress=False, eval_train=False)
    assert abs(before - math.log(2)) < 0.05, before
    assert history["val_loss"][-1] < 0.25 * math.log(2), history["val_loss"]
    assert history["val_bit_error"][-1] < 0.1, history["val_bit_error"]


@pytest.mark.parametrize("stage", [ContentAddressing, Interpolation, CircularShift, Sharpening, MemoryRead,
                                   MemoryWrite])
def test_backward_before_forward_names_the_stage(stage):
    with pytest.raises(RuntimeError, match=f"{stage.__name__}.backward called before forward"):
        stage().backward(np.ones((2, 3)))


def test_head_parameters_and_copy_bits_name_themselves_in_errors():
    with pytest.raises(RuntimeError, match="HeadParameters.backward called before forward"):
        HeadParameters(4, 3).backward({})
    with pytest.raises(ValueError, match="copy_bits: length must be a positive integer"):
        copy_bits(2, 0)


def test_ntm_backward_runs_no_forward_again(monkeypatch):
    """Backpropagation through time takes every step's values from the caches of the forward pass:
    no layer (controller, heads, output) and no head squashing runs forward again in backward."""
    calls = Counter()

    def count(cls, name):
        original = getattr(cls, name)

        def counted(self, *args):
            calls[f"{cls.__name__}.{name}"] += 1
            return original(self, *args)
        monkeypatch.setattr(cls, name, counted)

    for cls, name in ((Dense, "forward"), (Tanh, "forward"), (HeadParameters, "squash")):
        count(cls, name)
    model = NTM(4, 3, hidden=5, n_locations=5, width=3, rng=0, dtype=np.float64)
    X, _ = copy_bits(2, 2, width=3, rng=0, dtype=np.float64)  # T = 5 steps
    logits = model(X)
    T = X.shape[1]
    expected = {"Dense.forward": 3 * T + 1, "Tanh.forward": T, "HeadParameters.squash": 2 * T}
    assert calls == expected  # controller and both heads at every step, the output layer once
    model.backward(np.ones_like(logits))
    assert calls == expected
