"""The training loop: mini-batch gradient descent with validation, history and callbacks.

One step of training on a mini-batch (X, y):

    a = model(X);  C = loss(a, y)                 forward
    model.backward(loss.backward())               backward: fills every Parameter.grad
    callbacks.after_backward(trainer)             e.g. weight penalties, gradient clipping/noise
    optimizer.step()                              θ ← update(θ, ∇C)
    callbacks.after_step(trainer)                 e.g. max-norm constraints

After each epoch the model is evaluated (in ``eval()`` mode) on the training and validation
sets, the numbers go into a ``History``, and ``on_epoch_end`` callbacks may stop training
(early stopping) or change ``optimizer.lr`` (schedules).
"""

from __future__ import annotations

import time

import numpy as np

from .data.batching import minibatches, num_batches
from .init import make_rng
from .nn.module import input_gradient_skipped


def accuracy(output, y) -> float:
    """Fraction of correct predictions.

    ``y`` holds integer labels ``(n,)`` or one-hot rows ``(n, k)``. With ``k > 1`` output units
    the prediction is ``argmax`` over units; with one output unit it is ``output > 0.5``
    (a sigmoid unit) or, for ±1 targets, ``sign(output)``.
    """
    output = np.asarray(output)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    y = y.reshape(len(y))
    if output.ndim == 2 and output.shape[1] > 1:
        pred = output.argmax(axis=1)
    else:
        out = output.reshape(len(output))
        pred = np.where(out > 0, 1, -1) if y.min(initial=0) < 0 else (out > 0.5).astype(int)
    return float(np.mean(pred == y))


def _is_classification(y) -> bool:
    """Integer labels, one-hot rows, or a single column of 0/1 (or ±1) targets."""
    y = np.asarray(y)
    if y.dtype.kind in "iub":
        return True
    if y.ndim == 2 and y.shape[1] > 1:
        return bool(np.all((y == 0) | (y == 1)))
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
        values = np.unique(y)
        return len(values) <= 2 and bool(np.all(np.isin(values, (0, 1))) or np.all(np.isin(values, (-1, 1))))
    return False


class History:
    """Per-epoch metrics of a training run, e.g. ``history["val_accuracy"][-1]``.

    Keys are ``loss`` and ``accuracy`` (on the training set, evaluated after each epoch),
    their ``val_`` counterparts when validation data was given, ``lr`` and ``time`` (seconds
    since the start). ``history.plot()`` draws the loss and accuracy curves.
    """

    def __init__(self):
        self.metrics: dict[str, list[float]] = {}

    def append(self, logs: dict) -> None:
        for key, value in logs.items():
            self.metrics.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        try:
            return self.metrics[key]
        except KeyError:
            raise KeyError(f"History has no metric {key!r}; it has {sorted(self.metrics)}.") from None

    def __contains__(self, key: str) -> bool:
        return key in self.metrics

    def __len__(self) -> int:
        return len(next(iter(self.metrics.values()), []))

    @property
    def epochs(self) -> np.ndarray:
        return np.arange(1, len(self) + 1)

    def best(self, key: str = "val_loss") -> tuple[int, float]:
        """``(epoch, value)`` of the best epoch for ``key`` (minimum for losses, else maximum)."""
        values = np.asarray(self[key])
        i = int(values.argmin() if "loss" in key else values.argmax())
        return i + 1, float(values[i])

    def plot(self, keys=None, axes=None, label: str = ""):
        """Plot loss curves (left) and accuracy curves (right) against the epoch."""
        from .viz import plot_history

        return plot_history(self, keys=keys, axes=axes, label=label)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.metrics.items() if k != "time")
        return f"History({len(self)} epochs: {last})"


class Callback:
    """Hooks into the training loop; override the ones you need. ``trainer`` gives access to
    ``model``, ``loss``, ``optimizer``, ``params``, ``epoch``, ``history`` and ``stop_training``."""

    def on_train_begin(self, trainer) -> None: ...
    def on_epoch_begin(self, trainer) -> None: ...
    def after_backward(self, trainer) -> None: ...
    def after_step(self, trainer) -> None: ...
    def on_epoch_end(self, trainer, logs: dict) -> None: ...
    def on_train_end(self, trainer) -> None: ...


def progress_bar(total: int, enabled: bool = True, desc: str = "training", unit: str = "batch"):
    """A tqdm bar of ``total`` steps that works in JupyterLab and in a terminal; with
    ``enabled=False`` it shows nothing (its methods do nothing), so callers need no checks."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=True, mininterval=0.25, disable=not enabled)


class Trainer:
    """Trains ``model`` on ``loss`` with ``optimizer``; ``fit`` runs epochs, ``evaluate`` measures.

    Parameters
    ----------
    metrics : ``"auto"`` (accuracy when the targets are class labels or one-hot rows),
        ``None`` (loss only) or a dict ``{name: fn(output, y) -> float}``.
    progress : show a tqdm progress bar (in JupyterLab and in a terminal).
    """

    def __init__(self, model, loss, optimizer, callbacks=(), metrics="auto", progress: bool = True):
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.callbacks = list(callbacks)
        self.metrics = metrics
        self.progress = progress
        self.params = model.parameters()
        self.history = History()
        self.epoch = 0
        self.stop_training = False

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    def _metric_fns(self, y) -> dict:
        if self.metrics == "auto":
            return {"accuracy": accuracy} if _is_classification(y) else {}
        return dict(self.metrics or {})

    def train_batch(self, X, y) -> float:
        """One gradient step on one mini-batch; returns the batch cost before the step."""
        for p in self.params:
            p.zero_grad()
        cost = self.loss.forward(self.model.forward(X), y)
        self.model.backward(self.loss.backward())
        self._call("after_backward")
        self.optimizer.step()
        self._call("after_step")
        return cost

    def predict(self, X, batch_size: int = 1000) -> np.ndarray:
        """The model's output on ``X`` in evaluation mode, computed in chunks."""
        was_training = self.model.training
        self.model.eval()
        try:
            return np.concatenate([self.model.forward(X[i:i + batch_size])
                                   for i in range(0, len(X), batch_size)])
        finally:
            self.model.train(was_training)

    def evaluate(self, X, y, batch_size: int = 1000) -> dict:
        """``{"loss": …, "accuracy": …}`` on the data set ``(X, y)``, in evaluation mode."""
        out = self.predict(X, batch_size)
        logs = {"loss": self.loss.forward(out, y)}
        for name, fn in self._metric_fns(y).items():
            logs[name] = fn(out, y)
        return logs

    def fit(self, train, val=None, epochs: int = 10, batch_size: int = 32, rng=None,
            eval_train: bool = True, shuffle: bool = True) -> History:
        """Run ``epochs`` passes of mini-batch training over ``train = (X, y)``.

        ``val = (X_val, y_val)`` is evaluated after every epoch. With ``eval_train=False`` the
        training ``loss`` reported is the mean of the mini-batch costs during the epoch (cheaper
        than a second pass over the training set, but measured while the weights moved).
        The examples are reshuffled every epoch; ``shuffle=False`` keeps the order of ``X``, e.g.
        to see what a network learns from an ordered data set (chapter 9).
        """
        X, y = train
        if epochs < 0 or int(epochs) != epochs:
            raise ValueError(f"fit: epochs must be a non-negative integer, received {epochs!r}.")
        rng = make_rng(rng)
        n_b = num_batches(len(X), batch_size)
        start = time.perf_counter()
        self.stop_training = False
        # the data needs no gradient: the first layer skips computing ∂C/∂x while we train
        with input_gradient_skipped(self.model), progress_bar(epochs * n_b, self.progress, "training") as bar:
            self._call("on_train_begin")
            for _ in range(epochs):
                self.epoch += 1
                self.model.train()
                self._call("on_epoch_begin")
                total = 0.0
                for Xb, yb in minibatches(X, y, batch_size, shuffle=shuffle, rng=rng):
                    total += self.train_batch(Xb, yb) * len(Xb)
                    bar.update(1)
                logs = self.evaluate(X, y) if eval_train else {"loss": total / len(X)}
                if val is not None:
                    logs.update({f"val_{k}": v for k, v in self.evaluate(*val).items()})
                if self.optimizer.lr is not None:
                    logs["lr"] = self.optimizer.lr
                logs["time"] = time.perf_counter() - start
                self._call("on_epoch_end", logs)
                self.history.append(logs)
                bar.set_description(f"epoch {self.epoch}", refresh=False)  # drawn at the next update
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k not in ("time", "lr")},
                                refresh=False)
                if self.stop_training:
                    break
        self._call("on_train_end")
        return self.history


def fit(model, loss, optimizer, train, val=None, epochs: int = 10, batch_size: int = 32,
        callbacks=(), metrics="auto", rng=None, progress: bool = True,
        eval_train: bool = True, shuffle: bool = True) -> History:
    """Train ``model`` with mini-batch gradient descent and return its ``History``.

    >>> history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1),
    ...               (X_train, y_train), val=(X_val, y_val), epochs=10, batch_size=32)

    See :class:`Trainer` for the arguments; ``rng`` (a seed or generator) fixes the shuffling.
    """
    trainer = Trainer(model, loss, optimizer, callbacks=callbacks, metrics=metrics,
                      progress=progress)
    return trainer.fit(train, val, epochs=epochs, batch_size=batch_size, rng=rng,
                       eval_train=eval_train, shuffle=shuffle)
