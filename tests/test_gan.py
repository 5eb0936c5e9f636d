"""GANs: the two costs and their logit gradients, backprop through the discriminator into the
generator (finite differences), a generator step that leaves D alone, k:1 updates, the optimal
discriminator, conditioning, the toy mixtures, error messages, and a short 1-D GAN that learns."""

import numpy as np
import pytest

from coursepkg.data.mixtures import GaussianMixture, ring_of_gaussians
from coursepkg.errors import DTypeError, NonFiniteError, ShapeError
from coursepkg.gradcheck import check_module, numerical_gradient, relative_error
from coursepkg.models.gan import (
    GAN,
    ConditionalGAN,
    discriminator_loss,
    generator_loss,
    optimal_discriminator,
)
from coursepkg.nn import Dense, Dropout, Sequential, Tanh
from coursepkg.optim import SGD, Adam

TOL = 1e-6


def sigmoid(s):
    return 1 / (1 + np.exp(-s))


def mlp(n_in, hidden, n_out, rng, depth=1):
    """``depth`` hidden tanh layers of ``hidden`` units."""
    sizes = [n_in] + [hidden] * depth
    layers = [m for a, b in zip(sizes, sizes[1:]) for m in (Dense(a, b, rng=rng), Tanh())]
    return Sequential(*layers, Dense(hidden, n_out, rng=rng))


def tiny_gan(cls=GAN, noise_dim=2, data_dim=3, classes=0, **kw):
    """A float64 GAN with random non-zero biases, so every gradient is exercised."""
    rng = np.random.default_rng(0)
    G, D = mlp(noise_dim + classes, 4, data_dim, rng), mlp(data_dim + classes, 5, 1, rng)
    args = (noise_dim, classes) if classes else (noise_dim,)
    gan = cls(G, D, *args, **kw).double()
    for p in gan.parameters():
        p.data[...] = rng.normal(size=p.shape)
    return gan


# ------------------------------------------------------------------------- the two costs
def test_discriminator_loss_value_and_gradients_match_their_formulas():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(5, 1)) * 3, rng.normal(size=(3, 1)) * 3
    cost, g_real, g_fake = discriminator_loss(real, fake)
    want = -np.mean(np.log(sigmoid(real))) - np.mean(np.log(1 - sigmoid(fake)))
    assert np.isclose(cost, want, rtol=1e-12)
    assert np.allclose(g_real, (sigmoid(real) - 1) / 5) and np.allclose(g_fake, sigmoid(fake) / 3)
    numeric = numerical_gradient(lambda: discriminator_loss(real, fake)[0], real)
    assert relative_error(g_real, numeric) < TOL
    numeric = numerical_gradient(lambda: discriminator_loss(real, fake)[0], fake)
    assert relative_error(g_fake, numeric) < TOL


def test_discriminator_loss_is_log4_for_a_confused_discriminator():
    cost, _, _ = discriminator_loss(np.zeros((4, 1)), np.zeros((4, 1)))  # D = ½ everywhere
    assert np.isclose(cost, np.log(4))


@pytest.mark.parametrize("kind", ["minimax", "non_saturating"])
def test_generator_losses_and_their_logit_gradients(kind):
    s = np.random.default_rng(2).normal(size=(6, 1)) * 4
    cost, grad = generator_loss(s, kind)
    if kind == "minimax":
        want_cost, want_grad = np.mean(np.log(1 - sigmoid(s))), -sigmoid(s) / 6
    else:
        want_cost, want_grad = -np.mean(np.log(sigmoid(s))), (sigmoid(s) - 1) / 6
    assert np.isclose(cost, want_cost, rtol=1e-10) and np.allclose(grad, want_grad, rtol=1e-10)
    assert relative_error(grad, numerical_gradient(lambda: generator_loss(s, kind)[0], s)) < TOL


def test_minimax_generator_loss_saturates_where_the_non_saturating_one_does_not():
    s = np.array([[-12.0]])  # D(G(z)) = σ(−12) ≈ 6e-6: the discriminator rejects the fake
    assert abs(generator_loss(s, "minimax")[1].item()) < 1e-5
    assert abs(generator_loss(s, "non_saturating")[1].item()) > 0.99


def test_optimal_discriminator_formula_and_errors():
    assert np.allclose(optimal_discriminator([1.0, 0.0, 2.0, 0.0], [1.0, 3.0, 0.0, 0.0]), [0.5, 0.0, 1.0, 0.5])
    with pytest.raises(ShapeError, match="same shape"):
        optimal_discriminator([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        optimal_discriminator([-1.0], [1.0])


# ------------------------------------------------------------------------- backprop through D
@pytest.mark.parametrize("kind", ["minimax", "non_saturating"])
def test_generator_gradient_through_the_discriminator_matches_finite_differences(kind):
    gan = tiny_gan(generator_loss=kind)
    z = np.random.default_rng(3).normal(size=(4, 2))
    gan.zero_grad()
    gan.generator_gradients(z)

    def cost():
        return generator_loss(gan.discriminator(gan.generator(z)), kind)[0]

    for name, p in gan.generator.named_parameters():
        assert relative_error(p.grad, numerical_gradient(cost, p.data)) < TOL, name
    assert all(np.all(p.grad == 0) for p in gan.discriminator.parameters())  # D's share discarded


def test_conditional_generator_gradient_matches_finite_differences():
    gan = tiny_gan(ConditionalGAN, classes=3)
    z, labels = np.random.default_rng(4).normal(size=(5, 2)), np.array([0, 2, 1, 2, 0])
    gan.zero_grad()
    gan.generator_gradients(z, labels)
    c = np.eye(3)[labels]

    def cost():
        x = gan.generator(np.hstack([z, c]))
        return generator_loss(gan.discriminator(np.hstack([x, c])), "non_saturating")[0]

    for name, p in gan.generator.named_parameters():
        assert relative_error(p.grad, numerical_gradient(cost, p.data)) < TOL, name


@pytest.mark.parametrize("classes", [0, 3])
def test_forward_and_backward_are_the_generators(classes):
    gan = tiny_gan(ConditionalGAN if classes else GAN, classes=classes)
    z = np.random.default_rng(5).normal(size=(4, 2))
    if classes:
        labels = np.array([0, 2, 1, 1])
        x = gan.forward(z, labels)
        grad_z = gan.backward(np.ones_like(x))
        assert grad_z.shape == z.shape
        assert np.allclose(grad_z, gan.generator.backward(np.ones_like(x))[:, :2])
    else:
        assert check_module(gan, z).max_error < TOL


def test_discriminator_gradients_match_finite_differences():
    gan = tiny_gan()
    rng = np.random.default_rng(5)
    x, z = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    gan.zero_grad()
    logs = gan.discriminator_gradients(x, z)

    def cost():
        return discriminator_loss(gan.discriminator(x), gan.discriminator(gan.generator(z)))[0]

    assert np.isclose(logs["d_loss"], cost())
    assert np.isclose(logs["d_real"], sigmoid(gan.discriminator(x)).mean())
    for name, p in gan.discriminator.named_parameters():
        assert relative_error(p.grad, numerical_gradient(cost, p.data)) < TOL, name
    assert all(np.all(p.grad == 0) for p in gan.generator.parameters())  # G is not differentiated


def test_generator_step_leaves_the_discriminator_unchanged():
    gan = tiny_gan()
    before_d = [p.data.copy() for p in gan.discriminator.parameters()]
    before_g = [p.data.copy() for p in gan.generator.parameters()]
    gan.generator_step(8, SGD(gan.generator.parameters(), lr=0.5), rng=0)
    assert all(np.array_equal(b, p.data) for b, p in zip(before_d, gan.discriminator.parameters()))
    assert all(not np.allclose(b, p.data) for b, p in zip(before_g, gan.generator.parameters()))


def test_train_step_does_k_discriminator_updates_then_one_generator_update():
    gan = tiny_gan()
    d_opt, g_opt = SGD(gan.discriminator.parameters(), lr=0.1), SGD(gan.generator.parameters(), lr=0.1)
    batches = list(np.random.default_rng(6).normal(size=(3, 8, 3)))
    logs = gan.train_step(batches, d_opt, g_opt, rng=0)
    assert (d_opt.t, g_opt.t, gan.steps_done) == (3, 1, 1)
    assert set(logs) == {"d_loss", "d_real", "d_fake", "g_loss"}
    assert 0 < logs["d_real"] < 1 and 0 < logs["d_fake"] < 1


# ------------------------------------------------------------------------- learning
def test_discriminator_trained_against_a_fixed_generator_reaches_the_optimum():
    """p_data = N(0, 1), and G(z) = 0.5 z + 1 gives p_g = N(1, 0.5²): D → p_data / (p_data + p_g)."""
    rng = np.random.default_rng(7)
    G = Dense(1, 1, rng=rng)
    G.W.data[...], G.b.data[...] = 0.5, 1.0
    gan = GAN(G, mlp(1, 16, 1, rng, depth=2), noise_dim=1)
    X = rng.normal(size=(20000, 1)).astype(np.float32)
    d_opt = Adam(gan.discriminator.parameters(), lr=0.01)
    for _ in range(1500):
        gan.discriminator_step(X[rng.integers(0, len(X), 256)], d_opt, rng)
    grid = np.linspace(-3, 3, 61)[:, None]
    p_data, p_g = GaussianMixture([0.0], 1.0).pdf(grid), GaussianMixture([1.0], 0.5).pdf(grid)
    error = np.abs(gan.discriminate(grid) - optimal_discriminator(p_data, p_g))
    seen = p_data + p_g > 0.1  # where D saw enough examples to learn from (about −1.7 < x < 2.1)
    assert error[seen].max() < 0.05, error[seen].max()


def test_short_1d_gan_matches_the_data_mean_and_std():
    """A linear generator (p_g Gaussian) against a small tanh discriminator, data N(3, 0.5²). (With a
    single hidden layer the discriminator cannot push the spread: the generator collapses to a point.)"""
    rng = np.random.default_rng(0)
    X = GaussianMixture([3.0], 0.5).sample(10000, rng=rng)
    gan = GAN(Dense(1, 1, rng=rng), mlp(1, 16, 1, rng, depth=2), noise_dim=1)
    start = gan.generate(5000, rng=1)
    assert abs(start.mean() - 3.0) > 1.0  # far from the data at the start
    history = gan.fit(X, Adam(gan.discriminator.parameters(), lr=0.005, betas=(0.5, 0.999)),
                      Adam(gan.generator.parameters(), lr=0.005, betas=(0.5, 0.999)),
                      steps=1000, batch_size=64, rng=0, log_every=100, progress=False)
    x = gan.generate(5000, rng=1)
    assert abs(x.mean() - 3.0) < 0.15 and 0.8 < x.std() / 0.5 < 1.25, (x.mean(), x.std())
    assert len(history) == 10 and history["step"][-1] == 1000
    assert abs(history["d_real"][-1] - 0.5) < 0.1 and abs(history["d_loss"][-1] - np.log(4)) < 0.1


def test_fit_logs_and_calls_back_and_counts_steps_across_calls():
    gan = tiny_gan()
    seen = []
    opts = SGD(gan.discriminator.parameters(), lr=0.01), SGD(gan.generator.parameters(), lr=0.01)
    X = np.random.default_rng(8).normal(size=(50, 3))
    history = gan.fit(X, *opts, steps=7, batch_size=4, k=2, rng=0, log_every=3, progress=False,
                      callback=lambda g, step: seen.append(step))
    gan.fit(X, *opts, steps=2, batch_size=4, rng=0, log_every=5, progress=False, callback=lambda g, s: seen.append(s))
    assert seen == [3, 6, 7, 9] and history["step"] == [3, 6, 7] and opts[0].t == 7 * 2 + 2


# ------------------------------------------------------------------------- conditioning
def test_conditional_gan_shapes_and_label_forms():
    gan = tiny_gan(ConditionalGAN, classes=3)
    assert gan.generate(6, rng=0, labels=np.array([0, 1, 2, 0, 1, 2])).shape == (6, 3)
    z = gan.sample_noise(2, rng=0)
    assert np.allclose(gan(z, np.array([2, 0])), gan(z, np.eye(3)[[2, 0]]))  # labels or one-hot rows
    assert not np.allclose(gan(z, np.array([0, 0])), gan(z, np.array([1, 1])))  # the label matters
    assert gan.discriminate(np.zeros((4, 3)), labels=np.array([0, 1, 2, 1])).shape == (4,)
    X, y = np.random.default_rng(9).normal(size=(40, 3)), np.arange(40) % 3
    opts = SGD(gan.discriminator.parameters(), lr=0.01), SGD(gan.generator.parameters(), lr=0.01)
    assert len(gan.fit(X, *opts, steps=4, batch_size=8, labels=y, rng=0, log_every=2, progress=False)) == 2


def test_conditional_gan_errors():
    gan = tiny_gan(ConditionalGAN, classes=3)
    with pytest.raises(TypeError, match="ConditionalGAN needs the class labels"):
        gan.generate(2, rng=0)
    with pytest.raises(ShapeError, match="expected 3 labels"):
        gan.generate(3, rng=0, labels=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"0 … 2"):
        gan.generate(2, rng=0, labels=np.array([0, 3]))
    with pytest.raises(ShapeError, match="integer labels"):
        gan.generate(2, rng=0, labels=np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalGAN(Dense(3, 2), Dense(3, 1), 2, num_classes=1)
    opts = SGD(gan.discriminator.parameters(), lr=0.01), SGD(gan.generator.parameters(), lr=0.01)
    with pytest.raises(TypeError, match="needs the class labels"):
        gan.fit(np.zeros((10, 3)), *opts, steps=1, progress=False)


# ------------------------------------------------------------------------- errors
def test_construction_errors_name_the_problem():
    with pytest.raises(ShapeError, match="noise_dim=3"):
        GAN(Dense(2, 4), Dense(4, 1), noise_dim=3)
    with pytest.raises(ShapeError, match="discriminator does not accept"):
        GAN(Dense(2, 4), Dense(5, 1), noise_dim=2)
    with pytest.raises(ShapeError, match="one logit per example"):
        GAN(Dense(2, 4), Dense(4, 2), noise_dim=2)
    with pytest.raises(TypeError, match="must be a coursepkg.nn Module"):
        GAN(lambda z: z, Dense(4, 1), noise_dim=2)
    with pytest.raises(ValueError, match="generator_loss must be one of"):
        GAN(Dense(2, 4), Dense(4, 1), noise_dim=2, generator_loss="wasserstein")
    with pytest.raises(ValueError, match="noise must be one of"):
        GAN(Dense(2, 4), Dense(4, 1), noise_dim=2, noise="cauchy")
    with pytest.raises(ValueError, match="noise_dim must be a positive integer"):
        GAN(Dense(2, 4), Dense(4, 1), noise_dim=0)


def test_step_and_fit_errors():
    gan = tiny_gan()
    opts = SGD(gan.discriminator.parameters(), lr=0.01), SGD(gan.generator.parameters(), lr=0.01)
    with pytest.raises(ShapeError, match=r"noise z \(batch, noise_dim=2\)"):
        gan.generator_gradients(np.zeros((4, 3)))
    with pytest.raises(ShapeError, match="real examples"):
        gan.discriminator_step(np.zeros((4, 2)), opts[0])
    with pytest.raises(NonFiniteError, match="real examples"):
        gan.fit(np.full((5, 3), np.nan), *opts, steps=1, progress=False)
    with pytest.raises(DTypeError):
        gan.fit(np.array([["a", "b", "c"]]), *opts, steps=1, progress=False)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        gan.fit(np.zeros((5, 3)), *opts, steps=1, k=0, progress=False)
    with pytest.raises(TypeError, match="unconditional"):
        gan.fit(np.zeros((5, 3)), *opts, steps=1, labels=np.zeros(5, dtype=int), progress=False)
    with pytest.raises(ValueError, match="at least one real batch"):
        gan.train_step([], *opts)
    with pytest.raises(ShapeError, match=r"logits of shape \(batch, 1\)"):
        generator_loss(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="kind must be one of"):
        generator_loss(np.zeros((3, 1)), "wasserstein")


def test_noise_priors():
    normal = tiny_gan().sample_noise(4000, rng=0)
    uniform = tiny_gan(noise="uniform").sample_noise(4000, rng=0)
    assert normal.shape == (4000, 2) and normal.dtype == np.float64 and abs(normal.std() - 1) < 0.05
    assert uniform.min() >= -1 and uniform.max() <= 1 and abs(uniform.std() - 1 / np.sqrt(3)) < 0.02
    assert np.array_equal(tiny_gan().sample_noise(3, rng=5), tiny_gan().sample_noise(3, rng=5))


def test_generate_and_discriminate_run_in_evaluation_mode_and_restore_the_mode():
    rng = np.random.default_rng(10)
    gan = GAN(Sequential(Dense(2, 8, rng=rng), Dropout(0.5, rng=rng), Dense(8, 3, rng=rng)),
              Sequential(Dense(3, 8, rng=rng), Dropout(0.5, rng=rng), Dense(8, 1, rng=rng)), noise_dim=2)
    x = np.ones((4, 3))
    assert np.array_equal(gan.generate(4, rng=0), gan.generate(4, rng=0))  # dropout off: deterministic
    assert np.array_equal(gan.discriminate(x), gan.discriminate(x))
    assert all(m.training for m in gan.modules())  # back in training mode afterwards
    gan.discriminator.eval()
    gan.generate(2, rng=0)
    assert not gan.discriminator.training and gan.generator.training


# ------------------------------------------------------------------------- toy mixtures
def test_gaussian_mixture_density_sampling_and_coverage():
    p = GaussianMixture([-2.0, 1.0], stds=[0.5, 1.0], weights=[1, 3])
    grid = np.linspace(-8, 8, 4001)
    assert np.isclose(np.trapezoid(p.pdf(grid), grid), 1.0, atol=1e-6)
    x, modes = p.sample(20000, rng=0, return_modes=True)
    assert x.shape == (20000, 1) and x.dtype == np.float32 and abs(modes.mean() - 0.75) < 0.02
    assert abs(x.mean() - (0.25 * -2 + 0.75 * 1)) < 0.03
    ring = ring_of_gaussians(8, radius=2.0, std=0.05)
    assert np.allclose(np.linalg.norm(ring.means, axis=1), 2.0)
    modes, quality = ring.mode_coverage(ring.sample(4000, rng=1))
    assert modes == 8 and quality > 0.98
    collapsed = ring.means[[3]] + 0.01 * np.random.default_rng(2).normal(size=(500, 2))
    assert ring.mode_coverage(collapsed) == (1, 1.0)
    assert ring.mode_coverage(np.zeros((10, 2)))[1] == 0.0  # the centre is far from every mode


def test_gaussian_mixture_errors():
    with pytest.raises(ValueError, match="standard deviation"):
        GaussianMixture([0.0, 1.0], stds=[1.0, -1.0])
    with pytest.raises(ShapeError, match="stds"):
        GaussianMixture([0.0, 1.0], stds=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture([0.0, 1.0], weights=[0, 0])
    with pytest.raises(ShapeError, match=r"points \(n, 2\)"):
        ring_of_gaussians().pdf(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="modes must be a positive integer"):
        ring_of_gaussians(0)
