"""Generative adversarial networks (GANs): a generator and a discriminator trained against each other.

The generator ``G`` turns noise ``z ~ p_z`` into samples ``G(z)``; the discriminator ``D`` outputs a
logit ``s`` whose sigmoid ``D(x) = σ(s)`` is the probability that ``x`` came from the data rather
than from ``G``. They play the minimax game with the value function

    V(D, G) = E_{x∼p_data}[log D(x)] + E_{z∼p_z}[log(1 − D(G(z)))],        min_G max_D V(D, G).

On a mini-batch of ``m`` real examples ``x_i`` and ``m`` noise vectors ``z_i``:

    discriminator:  C_D = −(1/m) Σ_i [log D(x_i) + log(1 − D(G(z_i)))]      (= −V, descended by D)
    generator:      C_G = (1/m) Σ_i log(1 − D(G(z_i)))                      "minimax"
               or   C_G = −(1/m) Σ_i log D(G(z_i))                          "non-saturating"

Both costs are computed from the logits with :class:`~coursepkg.nn.BCEWithLogitsLoss` (stable for
any logit). With respect to a fake logit ``s`` the generator's two costs have the gradients
``−σ(s)/m`` (minimax) and ``(σ(s) − 1)/m`` (non-saturating): early in training ``D(G(z)) = σ(s) ≈ 0``,
where the first vanishes and the second is as large as it gets, hence the default.

One training step does ``k`` discriminator updates (each on a fresh real batch and fresh noise)
then one generator update. The generator's gradient flows *through* the discriminator
(``D.backward`` returns ∂C_G/∂G(z)); the discriminator's parameter gradients from that pass are
zeroed and only the generator's optimizer steps, so a generator update never changes ``D``.
"""

from __future__ import annotations

import time

import numpy as np

from ..data.batching import one_hot
from ..errors import ShapeError, as_float_array, check_finite, check_shape
from ..init import make_rng
from ..nn import functional as F
from ..nn.losses import BCEWithLogitsLoss
from ..nn.module import DEFAULT_DTYPE, Module, input_gradient_skipped, input_gradients_needed
from ..train import History, progress_bar

GENERATOR_LOSSES = ("non_saturating", "minimax")
NOISE_PRIORS = ("normal", "uniform")


def _logits(s, who: str) -> np.ndarray:
    s = as_float_array(s, who)
    if s.ndim != 2 or s.shape[1] != 1:
        raise ShapeError(f"{who}: expected discriminator logits of shape (batch, 1), received shape "
                         f"{s.shape}. The discriminator must end in a single linear unit (no sigmoid).")
    return s


def discriminator_loss(real_logits, fake_logits):
    """The discriminator's cost from its logits ``s`` (``D = σ(s)``) on a real and a fake batch:

        C_D = −(1/m_r) Σ log σ(s_real) − (1/m_f) Σ log(1 − σ(s_fake))
        ∂C_D/∂s_real = (σ(s_real) − 1)/m_r,        ∂C_D/∂s_fake = σ(s_fake)/m_f

    i.e. binary cross-entropy with target 1 for real and 0 for fake examples. Returns
    ``(C_D, ∂C_D/∂s_real, ∂C_D/∂s_fake)``; logits have shape ``(batch, 1)``.
    """
    real = _logits(real_logits, "discriminator_loss (real logits)")
    fake = _logits(fake_logits, "discriminator_loss (fake logits)")
    bce = BCEWithLogitsLoss()
    cost_real = bce.forward(real, np.ones_like(real))
    grad_real = bce.backward()
    cost_fake = bce.forward(fake, np.zeros_like(fake))
    return cost_real + cost_fake, grad_real, bce.backward()


def generator_loss(fake_logits, kind: str = "non_saturating"):
    """The generator's cost from the discriminator's logits ``s`` on a fake batch of ``m``:

        "minimax":         C_G =  (1/m) Σ log(1 − σ(s)),     ∂C_G/∂s = −σ(s)/m
        "non_saturating":  C_G = −(1/m) Σ log σ(s),          ∂C_G/∂s = (σ(s) − 1)/m

    Both push ``D(G(z)) = σ(s)`` up. Where ``D`` confidently rejects the fakes (``σ(s) → 0``) the
    minimax gradient vanishes and the non-saturating one tends to ``−1/m``. Returns ``(C_G, ∂C_G/∂s)``.
    """
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"generator_loss: kind must be one of {GENERATOR_LOSSES}, received {kind!r}.")
    fake = _logits(fake_logits, "generator_loss")
    bce = BCEWithLogitsLoss()
    if kind == "minimax":  # log(1 − σ(s)) = −softplus(s) = −BCE(s, target 0)
        cost = -bce.forward(fake, np.zeros_like(fake))
        return cost, -bce.backward()
    cost = bce.forward(fake, np.ones_like(fake))  # −log σ(s) = BCE(s, target 1)
    return cost, bce.backward()


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """``D*(x) = p_data(x) / (p_data(x) + p_g(x))``, the best discriminator for a fixed generator
    (from the two densities evaluated at the same points; ½ where both are 0)."""
    p_data = as_float_array(p_data, "optimal_discriminator (p_data)", np.float64)
    p_g = as_float_array(p_g, "optimal_discriminator (p_g)", np.float64)
    if p_data.shape != p_g.shape:
        raise ShapeError(f"optimal_discriminator: p_data and p_g must have the same shape, received "
                         f"{p_data.shape} and {p_g.shape}.")
    if np.any(p_data < 0) or np.any(p_g < 0):
        raise ValueError("optimal_discriminator: densities must be non-negative.")
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full(total.shape, 0.5), where=total > 0)


class GAN(Module):
    """A generator and a discriminator built from any :mod:`coursepkg.nn` modules.

    Parameters
    ----------
    generator : a module mapping noise ``(n, noise_dim)`` to samples ``(n, *data_shape)``.
    discriminator : a module mapping samples to one logit per example, ``(n, 1)`` (no final sigmoid).
    noise_dim : the size of ``z``.
    generator_loss : ``"non_saturating"`` (default, −log D(G(z))) or ``"minimax"`` (log(1 − D(G(z)))).
    noise : the prior ``p_z``: ``"normal"`` (N(0, I)) or ``"uniform"`` (U(−1, 1) per component).

    ``forward(z)`` is ``G(z)`` and ``backward`` its gradient; ``generate(n, rng)`` samples;
    ``discriminate(x)`` gives ``D(x)``; ``train_step`` and ``fit`` train the pair (see the module
    docstring for the costs).
    """

    def __init__(self, generator: Module, discriminator: Module, noise_dim: int,
                 generator_loss: str = "non_saturating", noise: str = "normal"):
        name = type(self).__name__
        for role, module in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(module, Module):
                raise TypeError(f"{name}: the {role} must be a coursepkg.nn Module (e.g. a Sequential of "
                                f"Dense layers and activations), received {type(module).__name__}.")
        if int(noise_dim) != noise_dim or noise_dim < 1:
            raise ValueError(f"{name}: noise_dim must be a positive integer, received {noise_dim!r}.")
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"{name}: generator_loss must be one of {GENERATOR_LOSSES}, received "
                             f"{generator_loss!r}.")
        if noise not in NOISE_PRIORS:
            raise ValueError(f"{name}: noise must be one of {NOISE_PRIORS}, received {noise!r}.")
        self.generator, self.discriminator = generator, discriminator
        # each player's parameters, listed once (a dict, so that Module's traversal does not see them twice):
        # zeroing gradients twice per step by walking the module trees would cost a quarter of the training time
        self._params = {"generator": generator.parameters(), "discriminator": discriminator.parameters()}
        self.noise_dim, self.generator_loss, self.noise = int(noise_dim), generator_loss, noise
        self.steps_done = 0
        self.data_shape = self._evaluating(self._probe)  # eval mode: batch norm statistics stay untouched

    # ------------------------------------------------------------------ conditioning hooks
    def _conditions(self, labels, n: int, who: str):
        """The condition rows for ``n`` examples (none for an unconditional GAN)."""
        if labels is not None:
            raise TypeError(f"{who}: this GAN is unconditional and takes no labels; use ConditionalGAN "
                            "to condition on a class.")
        return None

    def _fake_labels(self, n: int, rng):
        """Labels for a batch of ``n`` generated examples (none for an unconditional GAN)."""
        return None

    @staticmethod
    def _join(a, c):
        """The network input: ``a`` itself, or ``[a ; c]`` when there is a condition ``c``."""
        return a if c is None else np.concatenate([a, c.astype(a.dtype, copy=False)], axis=1)

    def _without_condition(self, grad, c):
        """The part of ∂C/∂[x ; c] that belongs to ``x``."""
        return grad if c is None else grad[:, :grad.shape[1] - c.shape[1]]

    # ------------------------------------------------------------------ sampling
    @property
    def dtype(self):
        """The generator's parameter dtype (float32 by default), also used for noise and data."""
        params = self._params["generator"]
        return params[0].dtype if params else np.dtype(DEFAULT_DTYPE)

    def _zero_grad(self, role: str) -> None:
        for p in self._params[role]:
            p.zero_grad()

    def _probe(self) -> tuple:
        """Run both networks once on two examples to check that they fit together."""
        name = type(self).__name__
        z = np.zeros((2, self.noise_dim), dtype=self.dtype)
        c = self._conditions(self._fake_labels(2, make_rng(0)), 2, name)
        try:
            x = self.generator.forward(self._join(z, c))
        except ShapeError as err:
            raise ShapeError(f"{name}: the generator does not accept noise of size noise_dim={self.noise_dim}"
                             f"{'' if c is None else f' plus {c.shape[1]} condition units'}: {err}") from None
        if c is not None and x.ndim != 2:
            raise ShapeError(f"{name}: the generator must output flat rows (batch, features) so the condition "
                             f"can be appended, received shape {x.shape}; end it with Flatten().")
        try:
            s = self.discriminator.forward(self._join(x, c))
        except ShapeError as err:
            raise ShapeError(f"{name}: the discriminator does not accept the generator's output of shape "
                             f"{x.shape[1:]}{'' if c is None else ' plus the condition'}: {err}") from None
        if np.shape(s) != (2, 1):
            raise ShapeError(f"{name}: the discriminator must output one logit per example, shape (batch, 1), "
                             f"received shape {np.shape(s)}. End it with Dense(…, 1) and no sigmoid.")
        return x.shape[1:]

    def sample_noise(self, n: int, rng=None) -> np.ndarray:
        """``n`` noise vectors ``z ~ p_z``, shape ``(n, noise_dim)``, in the generator's dtype."""
        if int(n) != n or n < 1:
            raise ValueError(f"{type(self).__name__}.sample_noise: n must be a positive integer, received {n!r}.")
        rng = make_rng(rng)
        shape = (int(n), self.noise_dim)
        z = rng.standard_normal(shape) if self.noise == "normal" else rng.uniform(-1.0, 1.0, shape)
        return z.astype(self.dtype)

    def _check_noise(self, z, who: str) -> np.ndarray:
        z = as_float_array(z, who, self.dtype)
        check_shape(z, who, (None, self.noise_dim), f"noise z (batch, noise_dim={self.noise_dim})")
        check_finite(z, who, "noise z")
        return z

    def _check_data(self, x, who: str) -> np.ndarray:
        x = as_float_array(x, who, self.dtype)
        check_shape(x, who, (None, *self.data_shape), "real examples (the generator's output shape)")
        check_finite(x, who, "real examples")
        return x

    def forward(self, z, labels=None):
        """``G(z)`` (or ``G([z ; y])`` for a conditional GAN) for noise ``z`` ``(n, noise_dim)``."""
        z = self._check_noise(z, f"{type(self).__name__}.forward")
        return self.generator.forward(self._join(z, self._conditions(labels, len(z), type(self).__name__)))

    def backward(self, grad_out):
        """``∂C/∂z`` from ``∂C/∂G(z)`` after :meth:`forward`: the generator's backward pass (the
        condition's part of the gradient is dropped for a conditional GAN); adds to ``G``'s gradients."""
        grad = self.generator.backward(grad_out)
        return grad if grad is None else grad[:, :self.noise_dim]

    def _evaluating(self, fn, *args):
        """``fn(*args)`` with both networks in evaluation mode (dropout off), restored after."""
        modes = [(module, module.training) for module in self.modules()]
        self.eval()
        try:
            return fn(*args)
        finally:
            for module, training in modes:
                module.training = training

    def generate(self, n: int, rng=None, labels=None) -> np.ndarray:
        """``n`` samples ``G(z)``, ``z ~ p_z``, in evaluation mode."""
        return self._evaluating(self.forward, self.sample_noise(n, rng), labels)

    def discriminate(self, x, labels=None) -> np.ndarray:
        """``D(x) = σ(s)``, the probability that each row of ``x`` is real, shape ``(n,)``."""
        x = self._check_data(x, f"{type(self).__name__}.discriminate")
        c = self._conditions(labels, len(x), type(self).__name__)
        s = self._evaluating(self.discriminator.forward, self._join(x, c))
        return F.sigmoid(np.asarray(s, dtype=np.float64)[:, 0])

    # ------------------------------------------------------------------ gradients and steps
    def discriminator_gradients(self, x_real, z, labels=None, fake_labels=None) -> dict:
        """Add ∂C_D/∂θ_D into the discriminator's gradients for the real batch ``x_real`` and the fakes
        ``G(z)``; returns ``{"d_loss": C_D, "d_real": mean D(x), "d_fake": mean D(G(z))}``.

        Real and fake examples go through ``D`` as one batch ``[x ; G(z)]``; the generator is not
        differentiated.
        """
        who = f"{type(self).__name__}.discriminator_gradients"
        x_real, z = self._check_data(x_real, who), self._check_noise(z, who)
        c_real = self._conditions(labels, len(x_real), who)
        c_fake = self._conditions(fake_labels, len(z), who)
        x_fake = self.generator.forward(self._join(z, c_fake))
        both = np.concatenate([self._join(x_real, c_real), self._join(x_fake, c_fake)])
        s = self.discriminator.forward(both)
        m = len(x_real)
        cost, g_real, g_fake = discriminator_loss(s[:m], s[m:])
        with input_gradient_skipped(self.discriminator):  # ∂C_D/∂x is not needed
            self.discriminator.backward(np.concatenate([g_real, g_fake]).astype(s.dtype, copy=False))
        d = F.sigmoid(np.asarray(s, dtype=np.float64)[:, 0])
        return {"d_loss": cost, "d_real": float(d[:m].mean()), "d_fake": float(d[m:].mean())}

    def generator_gradients(self, z, labels=None) -> float:
        """Add ∂C_G/∂θ_G into the generator's gradients for the noise ``z``; returns ``C_G``.

        Backpropagation runs through the discriminator: ``δ = ∂C_G/∂s`` from the chosen generator
        loss, ``D.backward(δ)`` gives ∂C_G/∂G(z), which ``G.backward`` takes. The discriminator's
        parameter gradients this pass adds are zeroed afterwards: the generator's step must not
        move ``D``.
        """
        who = f"{type(self).__name__}.generator_gradients"
        z = self._check_noise(z, who)
        c = self._conditions(labels, len(z), who)
        x_fake = self.generator.forward(self._join(z, c))
        s = self.discriminator.forward(self._join(x_fake, c))
        cost, grad_s = generator_loss(s, self.generator_loss)
        with input_gradients_needed(self.discriminator):
            grad_x = self.discriminator.backward(grad_s.astype(s.dtype, copy=False))
        self._zero_grad("discriminator")
        with input_gradient_skipped(self.generator):  # ∂C_G/∂z is not needed
            self.generator.backward(self._without_condition(grad_x, c))
        return cost

    def discriminator_step(self, x_real, optimizer, rng=None, labels=None) -> dict:
        """One update of ``D`` (``optimizer`` holds the discriminator's parameters) on ``x_real``
        and as many fresh fakes; returns the metrics of :meth:`discriminator_gradients`."""
        rng = make_rng(rng)
        self._zero_grad("discriminator")
        fake_labels = self._fake_labels(len(x_real), rng)
        logs = self.discriminator_gradients(x_real, self.sample_noise(len(x_real), rng), labels, fake_labels)
        optimizer.step()
        return logs

    def generator_step(self, n: int, optimizer, rng=None) -> float:
        """One update of ``G`` (``optimizer`` holds the generator's parameters) on ``n`` fresh
        noise vectors; returns ``C_G`` before the step. ``D``'s parameters do not change."""
        rng = make_rng(rng)
        self._zero_grad("generator")
        cost = self.generator_gradients(self.sample_noise(n, rng), self._fake_labels(n, rng))
        optimizer.step()
        return cost

    def train_step(self, real_batches, d_optimizer, g_optimizer, rng=None, label_batches=None) -> dict:
        """``k = len(real_batches)`` discriminator updates, one per real batch, then one generator
        update with a batch of the same size. Returns the mean ``d_loss``, ``d_real``, ``d_fake`` of
        the ``k`` updates and the ``g_loss``."""
        if len(real_batches) < 1:
            raise ValueError(f"{type(self).__name__}.train_step: give at least one real batch (k ≥ 1).")
        rng = make_rng(rng)
        label_batches = [None] * len(real_batches) if label_batches is None else label_batches
        logs = [self.discriminator_step(x, d_optimizer, rng, y) for x, y in zip(real_batches, label_batches)]
        mean = {key: float(np.mean([log[key] for log in logs])) for key in logs[0]}
        mean["g_loss"] = self.generator_step(len(real_batches[-1]), g_optimizer, rng)
        self.steps_done += 1
        return mean

    def fit(self, X, d_optimizer, g_optimizer, steps: int, batch_size: int = 64, k: int = 1, labels=None,
            rng=None, log_every: int = 50, callback=None, progress: bool = True) -> History:
        """Train for ``steps`` generator updates, each after ``k`` discriminator updates on real batches
        of ``batch_size`` drawn at random from ``X`` (with ``labels`` for a conditional GAN).

        Every ``log_every`` steps the means of ``d_loss``, ``g_loss``, ``d_real`` (mean D(x)) and
        ``d_fake`` (mean D(G(z))) since the last record go into the returned ``History``, with
        ``step`` (counted over all calls to ``fit``) and ``time``; then ``callback(gan, step)`` runs
        (e.g. to take snapshots). A progress bar shows the latest record.
        """
        name = f"{type(self).__name__}.fit"
        X = self._check_data(X, name)
        for value, what in ((steps, "steps"), (batch_size, "batch_size"), (k, "k"), (log_every, "log_every")):
            if int(value) != value or value < 1:
                raise ValueError(f"{name}: {what} must be a positive integer, received {value!r}.")
        if labels is not None:
            labels = np.asarray(labels)
            if len(labels) != len(X):
                raise ShapeError(f"{name}: labels must have one entry per example, received {len(labels)} "
                                 f"labels for {len(X)} examples.")
        self._conditions(None if labels is None else labels[:1], 1, name)  # validates (un)conditional use
        rng = make_rng(rng)
        history, window = History(), []
        bar = progress_bar(int(steps), progress, "GAN training", unit="step")
        start = time.perf_counter()
        try:
            for step in range(1, int(steps) + 1):
                idx = rng.integers(0, len(X), size=(int(k), int(batch_size)))
                window.append(self.train_step(list(X[idx]), d_optimizer, g_optimizer, rng,
                                              None if labels is None else list(labels[idx])))
                bar.update(1)
                if step % log_every == 0 or step == steps:
                    logs = {key: float(np.mean([w[key] for w in window])) for key in window[0]}
                    window = []
                    history.append({**logs, "step": self.steps_done, "time": time.perf_counter() - start})
                    bar.set_postfix({key: f"{v:.3g}" for key, v in logs.items()}, refresh=False)
                    if callback is not None:
                        callback(self, self.steps_done)
        finally:
            bar.close()
        return history

    def extra_repr(self) -> str:
        return f"noise_dim={self.noise_dim}, generator_loss={self.generator_loss!r}, noise={self.noise!r}"


class ConditionalGAN(GAN):
    """A GAN conditioned on a class label ``y`` (one of ``num_classes``), given as its one-hot row:

        generator:      x̃ = G([z ; y]),           discriminator:  D([x ; y])

    so ``G`` models ``p_g(x | y)`` and ``D`` judges whether ``x`` is a real example *of class y*.
    The generator's first layer takes ``noise_dim + num_classes`` inputs and the discriminator's
    ``data_dim + num_classes``. Labels are integers ``(n,)`` (or one-hot rows ``(n, num_classes)``).
    Fake examples get labels drawn uniformly over the classes, independently of the real batch.
    """

    def __init__(self, generator: Module, discriminator: Module, noise_dim: int, num_classes: int,
                 generator_loss: str = "non_saturating", noise: str = "normal"):
        if int(num_classes) != num_classes or num_classes < 2:
            raise ValueError(f"ConditionalGAN: num_classes must be an integer ≥ 2, received {num_classes!r}.")
        self.num_classes = int(num_classes)
        super().__init__(generator, discriminator, noise_dim, generator_loss, noise)

    def _conditions(self, labels, n: int, who: str):
        if labels is None:
            raise TypeError(f"{who}: a ConditionalGAN needs the class labels y of the examples "
                            f"(integers 0 … {self.num_classes - 1}, one per example).")
        labels = np.asarray(labels)
        if labels.ndim == 2 and labels.shape[1] == self.num_classes:
            rows = as_float_array(labels, who)
        elif labels.ndim == 1 and labels.dtype.kind in "iu":
            if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
                raise ValueError(f"{who}: labels must lie in 0 … {self.num_classes - 1}, received values from "
                                 f"{labels.min()} to {labels.max()}.")
            rows = one_hot(labels, self.num_classes)
        else:
            raise ShapeError(f"{who}: expected integer labels (n,) or one-hot rows (n, {self.num_classes}), "
                             f"received {labels.dtype} labels of shape {labels.shape}.")
        if len(rows) != n:
            raise ShapeError(f"{who}: expected {n} labels (one per example), received {len(rows)}.")
        return rows

    def _fake_labels(self, n: int, rng):
        return rng.integers(0, self.num_classes, size=n)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, " + super().extra_repr()
