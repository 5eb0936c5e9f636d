"""Recurrent layers: gradient checks, the gate relations of the notes, bidirectional runs,
truncated BPTT, embeddings, sampling and (when installed) agreement with PyTorch's LSTM."""

import numpy as np
import pytest

from coursepkg.data import one_hot
from coursepkg.errors import DTypeError, ShapeError
from coursepkg.gradcheck import check_model, check_module, numerical_gradient, relative_error
from coursepkg.nn import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    Dense,
    Embedding,
    MSELoss,
    OneHot,
    Sequential,
    TimeDistributed,
    carrying_state,
    functional,
    reset_states,
)
from coursepkg.nn.recurrent import _sigmoid_
from coursepkg.sampling import sample, sample_text, softmax_temperature

TOL = 1e-6
B, T, N_IN, H = 2, 4, 3, 5

VARIANTS = {
    "rnn": lambda **kw: RNN(N_IN, H, rng=1, **kw),
    "lstm": lambda **kw: LSTM(N_IN, H, rng=1, **kw),
    "lstm-peephole": lambda **kw: LSTM(N_IN, H, peephole=True, rng=1, **kw),
    "lstm-coupled": lambda **kw: LSTM(N_IN, H, coupled=True, rng=1, **kw),
    "lstm-peephole-coupled": lambda **kw: LSTM(N_IN, H, peephole=True, coupled=True, rng=1, **kw),
    "gru": lambda **kw: GRU(N_IN, H, rng=1, **kw),
}


def make(name, **kw):
    layer = VARIANTS[name](**kw)
    if getattr(layer, "P", None) is not None:  # non-zero peepholes, so their gradient is exercised
        layer.P.data[...] = np.random.default_rng(2).standard_normal(layer.P.shape)
    return layer


@pytest.fixture
def x():
    return np.random.default_rng(0).standard_normal((B, T, N_IN))


def state_like(layer, rng, batch=B):
    parts = [rng.standard_normal((batch, layer.hidden)) for _ in range(layer._n_states)]
    return parts[0] if len(parts) == 1 else tuple(parts)


def as_list(state):
    return list(state) if isinstance(state, tuple) else [state]


# ----------------------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("name", VARIANTS)
def test_gradcheck_all_states(name, x):
    report = check_module(make(name), x, rng=0)
    assert report.max_error < TOL, report


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_gradcheck_last_state_only_and_learned_h0(name, x):
    layer = make(name, return_sequences=False, learn_h0=True)
    for p in layer.parameters():  # a non-zero learned initial state
        if p.shape == (H,):
            p.data[...] = np.random.default_rng(3).standard_normal(H)
    report = check_module(layer, x, rng=0)
    assert {"h0"} <= set(report.errors)
    assert report.max_error < TOL, report


@pytest.mark.parametrize("name", VARIANTS)
def test_gradient_of_explicit_initial_state_and_last_state(name, x):
    """C = Σ G⊙outputs + Σ G_last⊙last_state; backward must give ∂C/∂x and ∂C/∂h0 (and ∂C/∂c0)."""
    rng = np.random.default_rng(4)
    layer = make(name).double()
    h0 = state_like(layer, rng)
    G = rng.standard_normal((B, T, H))
    G_last = state_like(layer, rng)

    def cost():
        out = layer.forward(x, h0=h0)
        return float(np.sum(G * out) + sum(np.sum(g * s) for g, s in zip(as_list(G_last), as_list(layer.last_state))))

    cost()
    dx = layer.backward(G, grad_last_state=G_last)
    assert relative_error(dx, numerical_gradient(cost, x)) < TOL
    for analytic, h in zip(as_list(layer.grad_h0), as_list(h0)):
        assert relative_error(analytic, numerical_gradient(cost, h)) < TOL


def test_float32_is_preserved_and_outputs_are_copies(x):
    layer = LSTM(N_IN, H, rng=0)
    out = layer.forward(x)
    assert out.dtype == np.float32 and out.shape == (B, T, H)
    h_last, c_last = layer.last_state
    assert h_last.dtype == c_last.dtype == np.float32
    np.testing.assert_array_equal(out[:, -1], h_last)
    out2 = layer.forward(x + 1)  # a second call must not overwrite what the first one returned
    assert not np.allclose(out, out2)
    np.testing.assert_array_equal(out[:, -1], h_last)
    dx = layer.backward(np.ones_like(out2))
    assert dx.dtype == np.float32 and dx.shape == x.shape
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())


def test_private_sigmoid_matches_functional():
    z = np.linspace(-60, 60, 241)
    np.testing.assert_allclose(_sigmoid_(z.copy()), functional.sigmoid(z), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("bad, hint", [
    (np.zeros((2, 4)), "Embedding or OneHot"),
    (np.zeros((4, 3)), "x[None]"),
    (np.zeros((2, 4, 7)), "(batch, time, 3)"),
])
def test_input_validation_names_layer_and_shapes(bad, hint):
    with pytest.raises(ShapeError) as err:
        LSTM(3, 5).forward(bad)
    assert "LSTM(3, 5)" in str(err.value) and hint in str(err.value)


def test_wrong_initial_state_and_grad_shapes():
    layer = LSTM(3, 5)
    x = np.zeros((2, 4, 3))
    with pytest.raises(ShapeError, match=r"pair \(h, c\)"):
        layer.forward(x, h0=np.zeros((2, 5)))
    with pytest.raises(ShapeError, match="h0"):
        layer.forward(x, h0=(np.zeros((3, 5)), np.zeros((3, 5))))
    layer.forward(x)
    with pytest.raises(ShapeError, match=r"\(2, 4, 5\)"):
        layer.backward(np.zeros((2, 5)))
    with pytest.raises(RuntimeError, match="before forward"):
        GRU(3, 5).backward(np.zeros((2, 4, 5)))


# ----------------------------------------------------------------------------- gate relations
BIG = 1e3  # σ(±BIG) is exactly 1 or 0 in floating point


def gate_bias(layer, **gates):
    """Set the bias of the named gate blocks (order [o, i, f, C̃], or [o, f, C̃] when coupled)."""
    order = ["o", "f", "g"] if layer.coupled else ["o", "i", "f", "g"]
    for gate, value in gates.items():
        k = order.index(gate)
        layer.b.data[k * layer.hidden:(k + 1) * layer.hidden] = value


def candidate_rnn(layer, x, h0=None):
    """The notes' relation: with i = o = 1 and f = 0 an LSTM step is C_t = C̃_t, OUT_t = tanh(C̃_t)."""
    Hd = layer.hidden
    W_x, W_r, b = layer.W_x.data[:, -Hd:], layer.W_r.data[:, -Hd:], layer.b.data[-Hd:]
    h = np.zeros((len(x), Hd)) if h0 is None else h0
    cells, outs = [], []
    for t in range(x.shape[1]):
        c = np.tanh(x[:, t] @ W_x + h @ W_r + b)
        h = np.tanh(c)
        cells.append(c)
        outs.append(h)
    return np.stack(outs, axis=1), cells[-1]


@pytest.mark.parametrize("peephole", [False, True])
def test_lstm_open_gates_and_no_forgetting_is_an_rnn_on_the_candidate(x, peephole):
    layer = LSTM(N_IN, H, peephole=peephole, rng=3).double()
    gate_bias(layer, i=BIG, o=BIG, f=-BIG)
    out = layer.forward(x, h0=(np.ones((B, H)), 5 * np.ones((B, H))))  # the old cell must not leak in
    expected, last_cell = candidate_rnn(layer, x, h0=np.ones((B, H)))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.last_state[1], last_cell, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("coupled", [False, True])
def test_lstm_forget_one_input_zero_carries_the_cell_unchanged(x, coupled):
    layer = LSTM(N_IN, H, coupled=coupled, rng=3).double()
    gate_bias(layer, f=BIG, **({} if coupled else {"i": -BIG}))  # coupled: i = 1 − f = 0 by itself
    c0 = np.random.default_rng(5).standard_normal((B, H))
    out = layer.forward(x * 10, h0=(np.zeros((B, H)), c0))
    np.testing.assert_allclose(layer.last_state[1], c0, rtol=1e-14, atol=1e-15)  # coupled: c + C̃ − C̃
    # the output is the output gate (in (0, 1)) times tanh of the unchanged cell
    ratio = out / np.tanh(c0)[:, None, :]
    assert np.all((ratio > 0) & (ratio < 1))


def test_coupled_lstm_with_forget_zero_writes_the_candidate(x):
    layer = LSTM(N_IN, H, coupled=True, rng=3).double()
    gate_bias(layer, f=-BIG, o=BIG)
    out = layer.forward(x)
    expected, _ = candidate_rnn(layer, x)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_peephole_with_zero_weights_is_the_plain_lstm(x):
    plain, peep = LSTM(N_IN, H, rng=7), LSTM(N_IN, H, peephole=True, rng=7)
    np.testing.assert_allclose(peep.forward(x), plain.forward(x), rtol=1e-6)
    peep.P.data[...] = 0.5
    assert not np.allclose(peep.forward(x), plain.forward(x))


def test_gru_with_reset_and_update_gates_open_is_the_vanilla_rnn(x):
    gru = GRU(N_IN, H, rng=2).double()
    gru.b.data[:2 * H] = BIG  # r = z = 1
    rnn = RNN(N_IN, H).double()
    rnn.W_x.data[...] = gru.W_x.data[:, 2 * H:]
    rnn.W_r.data[...] = gru.W_r.data[:, 2 * H:]
    rnn.b.data[...] = gru.b.data[2 * H:]
    h0 = np.random.default_rng(1).standard_normal((B, H))
    np.testing.assert_allclose(gru.forward(x, h0=h0), rnn.forward(x, h0=h0), rtol=1e-12, atol=1e-12)
    gru.b.data[H:2 * H] = -BIG  # z = 0: the state never changes
    np.testing.assert_array_equal(gru.forward(x, h0=h0), np.broadcast_to(h0[:, None], (B, T, H)))


def test_rnn_matches_its_equation(x):
    layer = RNN(N_IN, H, rng=0).double()
    h = np.zeros((B, H))
    out = layer.forward(x)
    for t in range(T):
        h = np.tanh(h @ layer.W_r.data + x[:, t] @ layer.W_x.data + layer.b.data)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-12)


# ----------------------------------------------------------------------------- initial state
def test_learned_initial_state_is_used_and_stateful_carry_takes_precedence(x):
    layer = GRU(N_IN, H, learn_h0=True, rng=0).double()
    layer.h0.data[...] = 0.3
    np.testing.assert_allclose(layer.forward(x), layer.forward(x, h0=np.full((B, H), 0.3)))
    layer.stateful = True
    layer.reset_state()
    first = layer.forward(x)
    carried = layer.forward(x)
    assert not np.allclose(carried, first)
    np.testing.assert_allclose(carried, layer.forward(x, h0=first[:, -1]))
    reset_states(layer)
    np.testing.assert_allclose(layer.forward(x), first)
    with pytest.raises(ShapeError, match="reset_state"):
        layer.forward(x[:1])


# ----------------------------------------------------------------------------- bidirectional
@pytest.mark.parametrize("Cell", [LSTM, GRU])
def test_bidirectional_is_concat_of_forward_and_reversed_runs(Cell, x):
    fwd, bwd = Cell(N_IN, H, rng=1), Cell(N_IN, H, rng=2)
    bi = Bidirectional(fwd, bwd)
    out = bi.forward(x)
    ref_f = Cell(N_IN, H, rng=1).forward(x)
    ref_b = Cell(N_IN, H, rng=2).forward(x[:, ::-1])[:, ::-1]
    np.testing.assert_allclose(out, np.concatenate([ref_f, ref_b], axis=-1), rtol=1e-6)
    assert out.shape == (B, T, 2 * H)


def test_bidirectional_gradcheck(x):
    report = check_module(Bidirectional(LSTM(N_IN, H, rng=1), GRU(N_IN, H, rng=2)), x, rng=0)
    assert report.max_error < TOL, report
    summary = Bidirectional(RNN(N_IN, H, return_sequences=False, rng=1), RNN(N_IN, H, return_sequences=False, rng=2))
    report = check_module(summary, x, rng=0)
    assert report.max_error < TOL, report


# ----------------------------------------------------------------------------- truncated BPTT
@pytest.mark.parametrize("Cell", [LSTM, GRU])
def test_truncated_bptt_carries_state_and_cuts_the_gradient(Cell):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((B, 6, N_IN))
    G2 = rng.standard_normal((B, 3, H))  # the cost depends on the second chunk's outputs only
    full = Cell(N_IN, H, rng=1).double()
    out = full.forward(x)
    dx_full = full.backward(np.concatenate([np.zeros_like(G2), G2], axis=1))

    chunked = Cell(N_IN, H, stateful=True, rng=1).double()
    chunked.forward(x[:, :3])
    out2 = chunked.forward(x[:, 3:])
    np.testing.assert_allclose(out2, out[:, 3:], rtol=1e-12)  # the state was carried across chunks
    chunked.zero_grad()
    dx2 = chunked.backward(G2)
    truncated = dict(chunked.named_parameters())
    # inside the chunk, the error signals are those of full BPTT ...
    np.testing.assert_allclose(dx2, dx_full[:, 3:], rtol=1e-10, atol=1e-12)
    # ... and full BPTT = truncated BPTT + what would have flowed back into chunk 1 through the state
    rest = Cell(N_IN, H, rng=1).double()
    rest.forward(x[:, :3])
    rest.backward(np.zeros((B, 3, H)), grad_last_state=chunked.grad_h0)
    for (name, p), q in zip(full.named_parameters(), rest.parameters()):
        np.testing.assert_allclose(truncated[name].grad + q.grad, p.grad, rtol=1e-10, atol=1e-12)
        assert not np.allclose(truncated[name].grad, p.grad)  # the cut really drops that part


def test_carrying_state_feeds_piecewise_like_at_once(x):
    layer = LSTM(N_IN, H, rng=0)
    whole = layer.forward(x)
    with carrying_state(layer):
        pieces = [layer.forward(x[:, t:t + 1]) for t in range(T)]
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), whole, rtol=1e-5, atol=1e-6)
    assert layer.stateful is False and layer._carry is None


# ----------------------------------------------------------------------------- embeddings, wrappers
def test_embedding_is_one_hot_times_w_and_accumulates_repeated_ids():
    emb = Embedding(6, 4, rng=0).double()
    ids = np.array([[1, 3, 1], [5, 1, 0]])
    np.testing.assert_allclose(emb.forward(ids), one_hot(ids, 6, dtype=np.float64) @ emb.W.data)
    np.testing.assert_array_equal(OneHot(6).forward(ids), one_hot(ids, 6))
    report = check_module(emb, ids, rng=0, wrt_inputs=False)
    assert report.max_error < TOL, report
    assert emb.backward(np.ones((2, 3, 4))) is None
    with pytest.raises(ValueError, match=r"\[0, 5\]"):
        emb.forward(np.array([[6]]))
    with pytest.raises(DTypeError, match="integer token ids"):
        emb.forward(np.array([[0.5]]))


def test_time_distributed_and_sequential_char_model_gradcheck():
    rng = np.random.default_rng(0)
    report = check_module(TimeDistributed(Dense(3, 2, rng=0)), rng.standard_normal((2, 4, 3)), rng=0)
    assert report.max_error < TOL, report
    model = Sequential(OneHot(5), LSTM(5, 4, return_sequences=False, rng=1), Dense(4, 2, rng=2))
    report = check_model(model, MSELoss(), rng.integers(0, 5, (3, 4)), rng.standard_normal((3, 2)))
    assert report.max_error < TOL, report


# ----------------------------------------------------------------------------- sampling
def char_model(V=7):
    return Sequential(Embedding(V, 4, rng=0), LSTM(4, 8, rng=1), TimeDistributed(Dense(8, V, rng=2)))


def test_softmax_temperature():
    z = np.array([1.0, 2.0, 0.5])
    np.testing.assert_allclose(softmax_temperature(z, 1.0), functional.softmax(z))
    cold, hot = softmax_temperature(z, 0.1), softmax_temperature(z, 10.0)
    assert cold[1] > softmax_temperature(z)[1] > hot[1] > 1 / 3
    np.testing.assert_array_equal(softmax_temperature(z, 0), [0, 1, 0])
    with pytest.raises(ValueError, match="temperature"):
        softmax_temperature(z, -1)


def test_sample_is_reproducible_greedy_at_zero_and_restores_layers():
    model = char_model()
    lstm = model[1]
    lstm.stateful = True
    lstm.forward(np.zeros((3, 2, 4), dtype=np.float32))  # a carried state from "training"
    carry = lstm._carry
    a = sample(model, np.array([1, 2]), 15, temperature=1.0, rng=0)
    assert np.array_equal(a, sample(model, np.array([1, 2]), 15, temperature=1.0, rng=0))
    assert lstm.stateful and lstm._carry is carry and model.training
    greedy = sample(model, np.array([1, 2]), 6, temperature=0)
    ids = [1, 2]
    for _ in range(6):  # greedy = re-reading the whole text and taking the argmax each time
        with carrying_state(model):
            ids.append(int(model.forward(np.array([ids]))[0, -1].argmax()))
    np.testing.assert_array_equal(greedy, ids[2:])


def test_sample_text_with_vocab():
    from coursepkg.data import CharVocab

    vocab = CharVocab("to be or not")
    text = sample_text(char_model(len(vocab)), vocab, "to", 10, temperature=0.7, rng=1)
    assert text.startswith("to") and len(text) == 12 and set(text) <= set(vocab.chars)
    with pytest.raises(ValueError, match="bidirectional"):
        sample(Bidirectional(LSTM(3, 2), LSTM(3, 2)), np.array([1]), 3)


# ----------------------------------------------------------------------------- PyTorch reference
def test_lstm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4))
    G = rng.standard_normal((3, 6, 5))
    ours = LSTM(4, 5, rng=0).double()
    ref = torch.nn.LSTM(4, 5, batch_first=True).double()
    Hd = 5
    # torch's gate blocks are [i, f, g, o] along rows; ours are [o, i, f, g] along columns
    order = [3, 0, 1, 2]
    with torch.no_grad():
        for k, j in enumerate(order):
            rows = slice(j * Hd, (j + 1) * Hd)
            ref.weight_ih_l0[rows] = torch.from_numpy(ours.W_x.data[:, k * Hd:(k + 1) * Hd].T.copy())
            ref.weight_hh_l0[rows] = torch.from_numpy(ours.W_r.data[:, k * Hd:(k + 1) * Hd].T.copy())
            ref.bias_ih_l0[rows] = torch.from_numpy(ours.b.data[k * Hd:(k + 1) * Hd].copy())
            ref.bias_hh_l0[rows] = 0
    xt = torch.from_numpy(x).requires_grad_(True)
    out_t, (h_t, c_t) = ref(xt)
    out_t.backward(torch.from_numpy(G))
    out = ours.forward(x)
    dx = ours.backward(G)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.last_state[1], c_t[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for k, j in enumerate(order):
        rows = slice(j * Hd, (j + 1) * Hd)
        np.testing.assert_allclose(ours.W_r.grad[:, k * Hd:(k + 1) * Hd], ref.weight_hh_l0.grad[rows].numpy().T,
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.W_x.grad[:, k * Hd:(k + 1) * Hd], ref.weight_ih_l0.grad[rows].numpy().T,
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.b.grad[k * Hd:(k + 1) * Hd], ref.bias_ih_l0.grad[rows].numpy(),
                                   rtol=1e-10, atol=1e-12)

