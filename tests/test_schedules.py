"""Learning-rate schedules, plateau halving, early stopping, gradient clipping and noise."""

import numpy as np
import pytest

from coursepkg.callbacks import (
    ClipGradNorm,
    ClipGradValue,
    EarlyStopping,
    GradientNoise,
    LRScheduler,
    ReduceLROnPlateau,
)
from coursepkg.nn import Dense, MSELoss, Parameter
from coursepkg.optim import (
    SGD,
    Constant,
    ExponentialDecay,
    InverseTime,
    PlateauDetector,
    PlateauHalving,
    StepDecay,
    add_gradient_noise,
    clip_grad_norm,
    clip_grad_value,
    grad_norm,
    noise_variance,
)
from coursepkg.train import Callback, Trainer


# ----------------------------------------------------------------------------- schedules
def test_schedule_values():
    t = np.arange(6)
    np.testing.assert_allclose(Constant(0.3)(t), 0.3)
    # η₀ / (1 + η₀ λ t) with η₀ = 0.5, λ = 2: 0.5 / (1 + t)
    np.testing.assert_allclose(InverseTime(0.5, 2.0)(t), 0.5 / (1 + t))
    assert InverseTime(0.5, 2.0)(3) == 0.125
    np.testing.assert_allclose(StepDecay(1.0, factor=0.1, every=2)(t), [1, 1, 0.1, 0.1, 0.01, 0.01])
    np.testing.assert_allclose(ExponentialDecay(2.0, gamma=0.5)(t), 2.0 * 0.5**t)
    assert isinstance(ExponentialDecay(2.0)(4), float)


@pytest.mark.parametrize("bad", [
    lambda: Constant(0.0), lambda: InverseTime(0.1, -1.0), lambda: StepDecay(0.1, factor=1.5),
    lambda: StepDecay(0.1, every=0), lambda: ExponentialDecay(0.1, gamma=0.0),
    lambda: PlateauHalving(0.1, min_ratio=2.0), lambda: PlateauDetector(0),
])
def test_bad_schedule_arguments(bad):
    with pytest.raises(ValueError):
        bad()


def test_negative_time_is_refused():
    with pytest.raises(ValueError, match="t must be >= 0"):
        InverseTime(0.1, 1.0)(-1)


def test_plateau_detector_counts_epochs_without_improvement():
    det = PlateauDetector(patience=2, monitor="val_loss")
    flags = [det.update(v) for v in [1.0, 0.8, 0.9, 0.85, 0.7, 0.7, 0.75]]
    assert flags == [False, False, False, True, False, False, True]
    assert (det.best, det.best_epoch) == (0.7, 5)
    acc = PlateauDetector(patience=1, monitor="val_accuracy", min_delta=0.01)
    assert acc.mode == "max"
    assert [acc.update(v) for v in [0.5, 0.505, 0.6]] == [False, True, False]


def test_plateau_halving_stops_at_one_1024th():
    sched = PlateauHalving(0.8, patience=2, monitor="val_accuracy")
    rates = [sched.update(0.9)]  # first epoch: a new best
    while not sched.finished:
        rates.append(sched.update(0.5))  # never improves again
    # halves every 2 epochs without improvement, 10 times, then is finished
    assert len(rates) == 1 + 2 * 10
    assert rates[2] == 0.4 and rates[-1] == pytest.approx(0.8 / 1024)
    assert sched.update(0.1) == pytest.approx(0.8 / 1024)  # no further halving


# ----------------------------------------------------------------------------- fit integration
def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)).astype(np.float32)
    y = X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)
    return X, y


class ScriptedMetric(Callback):
    """Overwrites ``logs[key]`` with a scripted value per epoch and records the weights."""

    def __init__(self, key, values):
        self.key, self.values, self.states = key, values, []

    def on_epoch_end(self, trainer, logs):
        logs[self.key] = self.values[trainer.epoch - 1]
        self.states.append(trainer.model.state_dict())


def make_trainer(callbacks, lr=0.05):
    model = Dense(3, 1, rng=0)
    return Trainer(model, MSELoss(), SGD(model.parameters(), lr=lr), callbacks=callbacks, progress=False)


@pytest.mark.parametrize("patience, best", [(1, 3), (2, 3), (3, 6)])
def test_early_stopping_stops_at_best_plus_patience_and_restores(patience, best):
    # the loss improves at epochs 1, 2, 3 and 6; patience 3 survives the two bad epochs 4-5
    values = [0.9, 0.7, 0.5, 0.6, 0.55, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9]
    script = ScriptedMetric("val_loss", values)
    stop = EarlyStopping("val_loss", patience=patience, restore_best_weights=True)
    trainer = make_trainer([script, stop])
    history = trainer.fit(regression_data(), epochs=len(values), batch_size=16, rng=0)
    assert stop.best_epoch == best and stop.stopped_epoch == best + patience
    assert len(history) == best + patience
    for name, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value, script.states[best - 1][name])


def test_early_stopping_without_improvement_runs_to_the_end_and_names_missing_metric():
    stop = EarlyStopping("val_accuracy", patience=5)
    trainer = make_trainer([ScriptedMetric("val_accuracy", [0.1, 0.2, 0.3]), stop])
    assert len(trainer.fit(regression_data(), epochs=3, batch_size=16, rng=0)) == 3
    assert stop.stopped_epoch == 0
    with pytest.raises(KeyError, match="val_loss.*val=\\(X_val"):
        make_trainer([EarlyStopping()]).fit(regression_data(), epochs=1)


def test_lr_scheduler_per_epoch_and_per_step():
    sched = InverseTime(0.1, 5.0)
    trainer = make_trainer([LRScheduler(sched)])
    history = trainer.fit(regression_data(), epochs=4, batch_size=16, rng=0)
    np.testing.assert_allclose(history["lr"], sched(np.arange(4)))
    seen = []

    class Spy(Callback):
        def after_backward(self, trainer):
            seen.append(trainer.optimizer.lr)

    trainer = make_trainer([LRScheduler(lambda t: 0.1 * 0.5**t, per="step"), Spy()])
    trainer.fit(regression_data(), epochs=2, batch_size=16, rng=0)  # 4 steps per epoch
    np.testing.assert_allclose(seen, 0.1 * 0.5 ** np.arange(8))
    with pytest.raises(ValueError, match="per"):
        LRScheduler(sched, per="batch")


def test_reduce_lr_on_plateau_halves_then_stops_training():
    cb = ReduceLROnPlateau("val_accuracy", patience=1)
    trainer = make_trainer([ScriptedMetric("val_accuracy", [0.5] * 30), cb], lr=0.04)
    history = trainer.fit(regression_data(), epochs=30, batch_size=16, rng=0)
    assert len(history) == 11 and cb.halvings == list(range(2, 12))
    assert trainer.optimizer.lr == pytest.approx(0.04 / 1024)


# ----------------------------------------------------------------------------- clipping
def grads(*arrays):
    ps = [Parameter(np.zeros_like(np.asarray(a, dtype=np.float64))) for a in arrays]
    for p, a in zip(ps, arrays):
        p.grad[...] = a
    return ps


def test_clip_grad_value():
    ps = grads([0.5, -3.0, 2.0], [[-0.1, 7.0]])
    clip_grad_value(ps, 1.0)
    np.testing.assert_array_equal(ps[0].grad, [0.5, -1.0, 1.0])
    np.testing.assert_array_equal(ps[1].grad, [[-0.1, 1.0]])
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value(ps, 0.0)


def test_clip_grad_norm_scales_all_gradients_together():
    ps = grads([3.0, 0.0], [[4.0]])  # joint norm 5
    assert grad_norm(ps) == 5.0
    assert clip_grad_norm(ps, 10.0) == 5.0
    np.testing.assert_array_equal(ps[0].grad, [3.0, 0.0])  # below the limit: untouched
    assert clip_grad_norm(ps, 1.0) == 5.0
    np.testing.assert_allclose(ps[0].grad, [0.6, 0.0])
    np.testing.assert_allclose(ps[1].grad, [[0.8]])
    assert grad_norm(ps) == pytest.approx(1.0)


def test_clipping_callbacks_act_before_the_step():
    X, y = regression_data()
    y = y * 1000  # huge errors, huge gradients

    class Check(Callback):
        def after_backward(self, trainer):
            assert grad_norm(trainer.params) <= 0.5 + 1e-6
            assert max(np.abs(p.grad).max() for p in trainer.params) <= 0.1 + 1e-7

    norm = ClipGradNorm(0.5)
    trainer = make_trainer([norm, ClipGradValue(0.1), Check()])
    trainer.fit((X, y), epochs=1, batch_size=16, rng=0)
    assert len(norm.norms) == 4 and min(norm.norms) > 0.5


# ----------------------------------------------------------------------------- gradient noise
def test_noise_variance_schedule():
    np.testing.assert_allclose(noise_variance([0, 1, 3], eta=0.3, gamma=0.5), [0.3, 0.3 / 2**0.5, 0.15])


def test_add_gradient_noise_has_the_annealed_variance():
    p = Parameter(np.zeros(200_000))
    sigma = add_gradient_noise([p], t=9, eta=1.0, gamma=0.55, rng=0)
    assert sigma == pytest.approx(10**-0.275)
    assert p.grad.std() == pytest.approx(sigma, rel=0.01) and abs(p.grad.mean()) < 0.01
    q = Parameter(np.zeros(200_000))
    add_gradient_noise([q], t=9, eta=1.0, gamma=0.55, rng=0)
    np.testing.assert_array_equal(p.grad, q.grad)  # seeded: reproducible


def test_gradient_noise_callback_uses_the_step_count():
    steps = []

    class Spy(Callback):
        def after_backward(self, trainer):
            steps.append(trainer.optimizer.t)

    X, y = regression_data()
    noisy = make_trainer([GradientNoise(eta=0.3, rng=0), Spy()])
    noisy.fit((X, y), epochs=1, batch_size=16, rng=0)
    clean = make_trainer([])
    clean.fit((X, y), epochs=1, batch_size=16, rng=0)
    assert steps == [0, 1, 2, 3]  # t of σₜ² = η/(1 + t)^γ
    assert not np.allclose(noisy.model.W.data, clean.model.W.data)
