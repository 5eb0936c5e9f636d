"""Core API: Parameter/Module/Sequential, Dense, initializers, SGD, training loop, gradcheck."""

import numpy as np
import pytest

from coursepkg import init
from coursepkg.data import minibatches, num_batches, one_hot, train_val_test_split
from coursepkg.errors import DTypeError, ShapeError
from coursepkg.gradcheck import check_model, check_module, numerical_gradient, relative_error
from coursepkg.nn import Dense, Module, MSELoss, Parameter, Sequential
from coursepkg.optim import SGD
from coursepkg.train import Callback, History, Trainer, accuracy, fit


# ----------------------------------------------------------------------------- Module
def test_parameters_are_found_once_in_order():
    shared = Dense(3, 3, rng=0)
    model = Sequential(Dense(2, 3, rng=0), shared, shared)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"]
    assert model.num_parameters() == 2 * 3 + 3 + 3 * 3 + 3


def test_train_eval_propagates_and_zero_grad_clears():
    model = Sequential(Dense(2, 2, rng=0), Sequential(Dense(2, 1, rng=1)))
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    for p in model.parameters():
        p.grad += 1
    model.zero_grad()
    assert all(np.all(p.grad == 0) for p in model.parameters())


def test_state_dict_round_trip_and_errors():
    a, b = Dense(4, 2, rng=0), Dense(4, 2, rng=1)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.W.data, b.W.data)
    with pytest.raises(KeyError, match="missing keys"):
        Dense(4, 2, bias=False).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="expects shape"):
        Dense(3, 2).load_state_dict(a.state_dict())


def test_sequential_rejects_classes_and_supports_slicing():
    with pytest.raises(TypeError, match="Pass layer instances"):
        Sequential(Dense(2, 2), Dense)
    model = Sequential(Dense(2, 3), Dense(3, 1))
    assert len(model[:1]) == 1 and model[1].n_out == 1
    assert "Dense(2, 3)" in repr(model)


def test_to_dtype_converts_params_and_grads():
    layer = Dense(3, 2).double()
    assert layer.W.data.dtype == np.float64 and layer.W.grad.dtype == np.float64


# ----------------------------------------------------------------------------- Dense
def test_dense_forward_is_affine_map():
    layer = Dense(3, 2, rng=0)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(layer(x), x @ layer.W.data + layer.b.data, rtol=1e-6)
    assert layer(x).dtype == np.float32
    assert layer.W.shape == (3, 2)


def test_dense_gradient_check():
    report = check_module(Dense(5, 4, rng=0), np.random.default_rng(1).normal(size=(6, 5)))
    assert report.max_error < 1e-6, report


def test_dense_without_bias_gradient_check():
    report = check_module(Dense(3, 2, bias=False, rng=0), np.random.default_rng(2).normal(size=(4, 3)))
    assert set(report.errors) == {"input", "W"} and report.max_error < 1e-6


def test_dense_casts_input_to_parameter_dtype():
    assert Dense(2, 2)(np.ones((1, 2), dtype=np.float64)).dtype == np.float32
    assert Dense(2, 2)(np.ones((1, 2), dtype=np.int64)).dtype == np.float32


def test_dense_errors_name_the_layer_and_shapes():
    layer = Dense(784, 30)
    with pytest.raises(ShapeError, match=r"Dense\(784, 30\).*\(batch, 784\).*\(10, 1, 28, 28\).*flattened"):
        layer(np.zeros((10, 1, 28, 28)))
    with pytest.raises(ShapeError, match="batch axis"):
        layer(np.zeros(784))
    with pytest.raises(DTypeError, match="numeric"):
        layer(np.array([["a"] * 784]))
    with pytest.raises(ValueError, match="positive"):
        Dense(0, 3)


def test_gradient_accumulates():
    layer = Dense(2, 2, rng=0)
    x = np.ones((1, 2), dtype=np.float32)
    g = np.ones((1, 2), dtype=np.float32)
    layer(x)
    layer.backward(g)
    first = layer.W.grad.copy()
    layer(x)
    layer.backward(g)
    np.testing.assert_allclose(layer.W.grad, 2 * first)


# ----------------------------------------------------------------------------- init
@pytest.mark.parametrize("name,std", [("normal", 1.0), ("scaled_normal", 1 / np.sqrt(400)),
                                      ("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / (400 + 300)))])
def test_initializer_standard_deviations(name, std):
    w = init.get(name)((400, 300), 400, 300, np.random.default_rng(0))
    assert w.dtype == np.float32
    assert abs(w.std() - std) / std < 0.02
    assert abs(w.mean()) < 0.02 * std * 10


def test_zeros_and_sparse_init():
    assert not init.zeros((3, 4), 3, 4, None).any()
    w = init.sparse((100, 20), 100, 20, np.random.default_rng(0))
    assert np.all((w != 0).sum(axis=0) == 15)
    conv = init.sparse((8, 3, 5, 5), 75, 200, np.random.default_rng(0))
    assert np.all((conv != 0).reshape(8, -1).sum(axis=1) == 15)


def test_zero_init_keeps_hidden_units_identical():
    """The symmetry argument: with equal weights every hidden unit gets the same gradient."""
    model = Sequential(Dense(2, 3, init="zeros"), Dense(3, 1, init="zeros"))
    model[1].W.data[...] = 0.5  # even with non-zero output weights the hidden units stay equal
    X = np.random.default_rng(0).normal(size=(8, 2))
    y = np.random.default_rng(1).normal(size=(8, 1))
    fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=5, batch_size=4,
        progress=False, rng=0)
    W = model[0].W.data
    assert np.allclose(W, W[:, :1])


def test_unknown_initializer_lists_choices():
    with pytest.raises(ValueError, match="unknown initializer 'gauss'.*xavier"):
        Dense(2, 2, init="gauss")


# ----------------------------------------------------------------------------- SGD
def _param(values, grad):
    p = Parameter(np.array(values, dtype=np.float64))
    p.grad[...] = grad
    return p


def test_sgd_plain_update_equation():
    p = _param([1.0, -2.0], [0.5, 1.0])
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [1.0 - 0.05, -2.0 - 0.1])


def test_sgd_momentum_update_equation():
    p = _param([1.0], [2.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()  # v = -0.2, θ = 0.8
    opt.step()  # v = 0.9(-0.2) - 0.2 = -0.38, θ = 0.42
    np.testing.assert_allclose(p.data, [0.42])


def test_nesterov_matches_lookahead_form():
    """Nesterov on f(θ) = ½ a θ²: stored weights are θ + μv of the look-ahead formulation."""
    a, lr, mu = 3.0, 0.05, 0.9
    theta, v = 2.0, 0.0
    p = Parameter(np.array([theta]))
    opt = SGD([p], lr=lr, momentum=mu, nesterov=True)
    for _ in range(20):
        v = mu * v - lr * a * (theta + mu * v)
        theta = theta + v
        p.grad[...] = a * p.data
        opt.step()
        np.testing.assert_allclose(p.data, [theta + mu * v], rtol=1e-12)


def test_optimizer_argument_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="not a Parameter"):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="lr must be a positive"):
        SGD([Parameter(np.zeros(2))], lr=-1)
    with pytest.raises(ValueError, match="needs a momentum"):
        SGD([Parameter(np.zeros(2))], lr=0.1, nesterov=True)


# ----------------------------------------------------------------------------- training
def _linear_problem(n=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = X @ rng.normal(size=(4, 2)) + 0.5
    return X, y.astype(np.float32)


def test_fit_learns_linear_regression_and_records_history():
    X, y = _linear_problem()
    model = Dense(4, 2, rng=0)
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), (X, y), val=(X[:50], y[:50]),
                  epochs=15, batch_size=16, rng=0, progress=False)
    assert len(history) == 15
    assert {"loss", "val_loss", "lr", "time"} <= set(history.metrics)
    assert history["loss"][-1] < 1e-3 < history["loss"][0]
    assert history.best("val_loss")[0] >= 10


def test_fit_is_reproducible_with_a_seed():
    X, y = _linear_problem()
    runs = []
    for _ in range(2):
        model = Dense(4, 2, rng=0)
        runs.append(fit(model, MSELoss(), SGD(model.parameters(), lr=0.05), (X, y), epochs=2,
                        batch_size=10, rng=3, progress=False)["loss"])
    assert runs[0] == runs[1]


def test_fit_without_shuffling_visits_the_examples_in_order():
    X, y = _linear_problem(n=30)
    seen = []
    model = Dense(4, 2, rng=0)
    trainer = Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.05), progress=False)
    original = trainer.train_batch
    trainer.train_batch = lambda Xb, yb: seen.append(Xb[:, 0].copy()) or original(Xb, yb)
    trainer.fit((X, y), epochs=2, batch_size=8, shuffle=False)
    np.testing.assert_array_equal(np.concatenate(seen), np.tile(X[:, 0], 2))
    seen.clear()
    trainer.fit((X, y), epochs=1, batch_size=8, rng=0)  # the default reshuffles
    assert not np.array_equal(np.concatenate(seen), X[:, 0])
    assert np.array_equal(np.sort(np.concatenate(seen)), np.sort(X[:, 0]))


def test_fit_reports_accuracy_for_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)).astype(np.float32)
    labels = (X[:, 0] > 0).astype(np.int64)
    model = Dense(2, 2, rng=0)
    Y = one_hot(labels, 2)
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=0.5), (X, Y), epochs=10,
                  batch_size=20, rng=0, progress=False)
    assert history["accuracy"][-1] > 0.9


def test_callbacks_run_in_order_and_can_stop():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, t): events.append("begin")
        def on_epoch_begin(self, t): events.append("epoch")
        def after_backward(self, t): events.append("backward")
        def after_step(self, t): events.append("step")

        def on_epoch_end(self, t, logs):
            events.append("end")
            t.stop_training = t.epoch == 2

    X, y = _linear_problem(n=20)
    model = Dense(4, 2, rng=0)
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=0.01), (X, y), epochs=10,
                  batch_size=10, callbacks=[Recorder()], progress=False)
    assert len(history) == 2
    assert events[:6] == ["begin", "epoch", "backward", "step", "backward", "step"]
    assert events.count("end") == 2


def test_trainer_predict_uses_eval_mode_and_restores_it():
    seen = []

    class Spy(Module):
        def forward(self, x):
            seen.append(self.training)
            return x

    model = Sequential(Spy())
    Trainer(model, MSELoss(), None).predict(np.zeros((3, 2)))
    assert seen == [False] and model.training


def test_progress_bar_and_history_repr(capsys):
    X, y = _linear_problem(n=40)
    model = Dense(4, 2, rng=0)
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=0.01), (X, y), epochs=2, batch_size=10)
    assert "epoch" in capsys.readouterr().err
    assert repr(history).startswith("History(2 epochs")
    with pytest.raises(KeyError, match="has no metric 'acc'"):
        history["acc"]


def test_progress_bar_is_not_redrawn_every_epoch(capsys):
    """Short epochs must not pay a redraw each (in JupyterLab a redraw is a widget message):
    the bar is drawn at most every 0.25 s, and once more at the end with the last epoch."""
    X, y = _linear_problem(n=10)
    model = Dense(4, 2, rng=0)
    fit(model, MSELoss(), SGD(model.parameters(), lr=0.01), (X, y), epochs=300, batch_size=10)
    err = capsys.readouterr().err
    assert "epoch 300" in err.rsplit("\r", 1)[-1]
    assert err.count("\r") < 15, err.count("\r")


def test_history_plot_draws_curves():
    import matplotlib

    matplotlib.use("Agg")
    h = History()
    for i in range(3):
        h.append({"loss": 1.0 / (i + 1), "accuracy": 0.5 + 0.1 * i, "time": i})
    axes = h.plot()
    assert len(axes) == 2 and len(axes[0].lines) == 1 and len(axes[1].lines) == 1


def test_accuracy_variants():
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    assert accuracy(np.array([[0.9], [0.2]]), np.array([1, 0])) == 1.0
    assert accuracy(np.array([[0.3], [-2.0]]), np.array([1, -1])) == 1.0
    assert accuracy(np.array([[0.1, 0.9]]), np.array([[0.0, 1.0]])) == 1.0


# ----------------------------------------------------------------------------- data helpers
def test_minibatches_cover_every_example_once():
    X = np.arange(23)[:, None]
    batches = list(minibatches(X, X[:, 0], batch_size=5, rng=0))
    assert len(batches) == num_batches(23, 5) == 5
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(23))
    assert all(np.array_equal(xb[:, 0], yb) for xb, yb in batches)
    with pytest.raises(ShapeError, match="same length"):
        list(minibatches(X, X[:3, 0]))


def test_one_hot_and_split():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        one_hot(np.array([3]), 3)
    X = np.arange(100)[:, None]
    (a, _), (b, _), (c, _) = train_val_test_split(X, X[:, 0], val=0.2, test=0.1, rng=0)
    assert (len(a), len(b), len(c)) == (70, 20, 10)
    assert len(np.unique(np.concatenate([a, b, c]))) == 100


# ----------------------------------------------------------------------------- gradcheck
def test_gradcheck_detects_a_wrong_gradient():
    class Broken(Dense):
        def backward(self, grad_out):
            super().backward(grad_out)
            self.W.grad *= 2  # off by a factor of two
            return grad_out @ self.W.data.T

    report = check_module(Broken(3, 2, rng=0), np.random.default_rng(0).normal(size=(4, 3)))
    assert report.errors["W"] > 0.1 and report.errors["input"] < 1e-6


def test_numerical_gradient_of_a_quadratic():
    x = np.array([1.0, -2.0, 3.0])
    g = numerical_gradient(lambda: float(np.sum(x ** 2)), x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-8)
    assert relative_error(g, 2 * x) < 1e-9


def test_check_model_on_two_layer_net():
    model = Sequential(Dense(3, 4, rng=0), Dense(4, 2, rng=1))
    rng = np.random.default_rng(0)
    report = check_model(model, MSELoss(), rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    assert report.max_error < 1e-6, report


def test_state_dict_keeps_buffers_such_as_running_statistics():
    from coursepkg.nn import BatchNorm1d

    rng = np.random.default_rng(0)
    a = Sequential(Dense(3, 4, rng=0), BatchNorm1d(4))
    a(rng.normal(size=(16, 3)) * 5 + 2)  # training mode: updates the running statistics
    state = a.state_dict()
    assert {"layers.1.running_mean", "layers.1.running_var", "layers.1.num_batches_tracked"} <= set(state)
    b = Sequential(Dense(3, 4, rng=1), BatchNorm1d(4)).load_state_dict(state)
    np.testing.assert_array_equal(b[1].running_mean, a[1].running_mean)
    assert b[1].num_batches_tracked == 1 and isinstance(b[1].num_batches_tracked, int)
    x = rng.normal(size=(5, 3))
    np.testing.assert_allclose(b.eval()(x), a.eval()(x))


def test_auto_metrics_recognise_binary_float_targets():
    from coursepkg.train import _is_classification

    assert _is_classification(np.array([[0.0], [1.0], [1.0]]))
    assert _is_classification(np.array([-1.0, 1.0]))
    assert not _is_classification(np.array([[0.2], [1.0]]))
    assert not _is_classification(np.array([[0.5, 0.5]]))


def test_first_layer_skips_the_input_gradient_only_while_fit_trains():
    from coursepkg.nn.module import first_layer, input_gradients_needed

    model = Sequential(Sequential(Dense(3, 4, rng=0)), Dense(4, 2, rng=1))
    entry = first_layer(model)
    assert entry is model[0][0]
    seen = []

    class Spy(Callback):
        def after_backward(self, t):
            seen.append(entry.needs_input_grad)

    X, y = _linear_problem(n=20)
    X = X[:, :3]
    fit(model, MSELoss(), SGD(model.parameters(), lr=0.01), (X, y), epochs=1, batch_size=10,
        callbacks=[Spy()], progress=False)
    assert seen == [False, False] and entry.needs_input_grad
    entry.needs_input_grad = False
    model(X)
    assert model.backward(np.ones((20, 2), dtype=np.float32)) is None
    assert entry.W.grad.any()  # parameter gradients are still computed
    with input_gradients_needed(model):
        model(X)
        assert model.backward(np.ones((20, 2), dtype=np.float32)).shape == (20, 3)
    assert entry.needs_input_grad is False


def test_input_gradient_skipped_covers_the_layers_before_the_first_that_learns():
    from coursepkg.nn import Dropout, ReLU
    from coursepkg.nn.module import input_gradient_skipped, leading_layers

    model = Sequential(Sequential(Dropout(0.2, rng=0), Dense(4, 3, rng=0)), ReLU(), Dense(3, 2, rng=1))
    assert leading_layers(model) == [model[0][0], model[0][1]]
    relu, dropout = ReLU(), Dropout(0.5)
    assert leading_layers(Sequential(relu, dropout)) == [relu, dropout]  # nothing learns: all of them
    x, g = np.random.default_rng(0).random((5, 4)), np.ones((5, 2), dtype=np.float32)

    def grads(skip):
        model[0][0].rng = np.random.default_rng(1)  # the same dropout mask in both runs
        model.zero_grad()
        model.forward(x)
        if skip:
            with input_gradient_skipped(model):
                assert not model[0][0].needs_input_grad and not model[0][1].needs_input_grad
                assert model.backward(g) is None
        else:
            assert model.backward(g).shape == x.shape
        return [p.grad.copy() for p in model.parameters()]

    for full, skipped in zip(grads(False), grads(True)):
        np.testing.assert_array_equal(full, skipped)
    assert model[0][1].needs_input_grad  # restored after the block
