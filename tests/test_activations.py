"""Activation functions (functional and modules), Maxout and radial basis units."""

import warnings

import numpy as np
import pytest

from coursepkg import nn
from coursepkg.errors import DTypeError, ShapeError
from coursepkg.gradcheck import check_model, check_module
from coursepkg.nn import functional as F

TOL = 1e-6


def away_from_kinks(shape, seed=0, kinks=(-1.0, 0.0, 1.0), gap=0.05):
    """Random inputs at least ``gap`` from every kink, so finite differences stay on one piece."""
    x = np.random.default_rng(seed).uniform(-3, 3, size=shape)
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + np.where(x[near] >= k, gap, -gap) * 2
    return x


# --------------------------------------------------------------------------- functional
FUNCTIONS = [F.step, F.sigmoid, F.sigmoid_prime, F.tanh, F.tanh_prime, F.softplus,
             F.softplus_prime, F.relu, F.relu_prime, F.leaky_relu, F.leaky_relu_prime, F.ramp,
             F.ramp_prime, F.hardtanh, F.hardtanh_prime, F.softmax, F.log_softmax,
             F.gaussian_rbf, F.gaussian_rbf_prime, F.ricker, F.ricker_prime]


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
def test_functional_preserves_float32_and_has_equation_docstring(f):
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    assert f(z).dtype == np.float32
    assert f(z.astype(np.float64)).dtype == np.float64
    assert f(z).shape == z.shape
    assert f.__doc__ and ("=" in f.__doc__ or "'" in f.__doc__)


@pytest.mark.parametrize("f, df", [
    (F.sigmoid, F.sigmoid_prime), (F.tanh, F.tanh_prime), (F.softplus, F.softplus_prime),
    (F.relu, F.relu_prime), (F.leaky_relu, F.leaky_relu_prime), (F.ramp, F.ramp_prime),
    (F.hardtanh, F.hardtanh_prime), (F.gaussian_rbf, F.gaussian_rbf_prime),
    (F.ricker, F.ricker_prime),
], ids=lambda f: f.__name__)
def test_functional_derivatives_match_finite_differences(f, df):
    z = away_from_kinks((40,), seed=1)
    h = 1e-6
    np.testing.assert_allclose(df(z), (f(z + h) - f(z - h)) / (2 * h), atol=1e-7)


def test_hand_computed_values():
    assert F.sigmoid(np.array([0.0]))[0] == 0.5
    np.testing.assert_allclose(F.sigmoid_prime(np.array([0.0])), [0.25])
    np.testing.assert_allclose(F.tanh(np.array([0.0, 1.0])), [0.0, np.tanh(1.0)])
    np.testing.assert_array_equal(F.relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    np.testing.assert_allclose(F.leaky_relu(np.array([-2.0, 3.0]), 0.1), [-0.2, 3.0])
    np.testing.assert_array_equal(F.step(np.array([-1.0, 0.0, 2.0])), [0, 0, 1])
    np.testing.assert_array_equal(F.step(np.array([-1.0, 2.0]), low=-1), [-1, 1])
    np.testing.assert_array_equal(F.hardtanh(np.array([-5.0, 0.3, 5.0])), [-1.0, 0.3, 1.0])
    np.testing.assert_array_equal(F.ramp(np.array([-5.0, 0.3, 5.0])), [0.0, 0.3, 1.0])
    np.testing.assert_allclose(F.gaussian_rbf(np.array([0.0, 1.0])), [1.0, np.exp(-1)])
    np.testing.assert_allclose(F.ricker(np.array([0.0, 1.0])), [1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(F.softplus(np.array([0.0])), [np.log(2)])


def test_tanh_is_a_rescaled_sigmoid():
    z = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(F.sigmoid(z), (1 + F.tanh(z / 2)) / 2)


def test_ramp_on_minus_one_one_is_hardtanh():
    z = np.linspace(-3, 3, 25)
    np.testing.assert_array_equal(F.ramp(z, -1, 1), F.hardtanh(z))
    assert "typo" in F.ramp.__doc__ and "typo" in nn.Ramp.__doc__


def test_sigmoid_softplus_softmax_are_stable_for_huge_inputs():
    z = np.array([[-1000.0, 0.0, 1000.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(F.sigmoid(z), [[0.0, 0.5, 1.0]])
        np.testing.assert_allclose(F.softplus(z), [[0.0, np.log(2), 1000.0]])
        s = F.softmax(z)
        ls = F.log_softmax(z)
    np.testing.assert_allclose(s, [[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(ls[0, :2], [-2000.0, -1000.0])


def test_softmax_rows_sum_to_one_and_ignore_constant_shifts():
    z = np.random.default_rng(2).standard_normal((5, 7))
    s = F.softmax(z)
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    assert np.all(s > 0)
    np.testing.assert_allclose(F.softmax(z + 123.0), s)
    np.testing.assert_allclose(F.log_softmax(z), np.log(s))
    np.testing.assert_allclose(F.softmax(z.T, axis=0), s.T)
    np.testing.assert_allclose(F.logsumexp(z), np.log(np.exp(z).sum(axis=1)))



@pytest.mark.parametrize("shape, axis", [
    ((300, 10), -1), ((300, 10), 1), ((4, 50, 7), -1),   # short rows: reduced across a transposed copy
    ((300, 64), -1), ((10, 10), -1), ((300, 10), 0),     # long rows, few rows, another axis: as NumPy
    ((300, 1), -1), ((0, 10), -1), ((12,), -1),
])
@pytest.mark.parametrize("ufunc", [np.maximum, np.add])
def test_reduce_along_matches_numpy_keepdims(shape, axis, ufunc):
    z = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out = F.reduce_along(ufunc, z, axis)
    want = ufunc.reduce(z, axis=axis, keepdims=True)
    assert out.shape == want.shape and out.dtype == want.dtype
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)  # sums: another order of additions
    if ufunc is np.maximum:
        np.testing.assert_array_equal(out, want)  # the maximum is exact whatever the order


# --------------------------------------------------------------------------- modules
def make_rrelu():
    layer = nn.RReLU(rng=0)
    layer.forward(np.zeros((6, 5)))  # draw the slopes once ...
    layer.resample = False  # ... and keep them for every call of the check
    return layer


MODULES = {
    "Identity": (nn.Identity, (6, 5)),
    "Step": (nn.Step, (6, 5)),
    "Sigmoid": (nn.Sigmoid, (6, 5)),
    "Tanh": (nn.Tanh, (6, 5)),
    "ReLU": (nn.ReLU, (6, 5)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), (6, 5)),
    "PReLU_shared": (nn.PReLU, (6, 5)),
    "PReLU_per_feature": (lambda: nn.PReLU(5, init=0.1), (6, 5)),
    "PReLU_conv": (lambda: nn.PReLU(3), (2, 3, 2, 2)),
    "RReLU": (make_rrelu, (6, 5)),
    "HardTanh": (nn.HardTanh, (6, 5)),
    "Ramp": (nn.Ramp, (6, 5)),
    "Softmax": (nn.Softmax, (6, 5)),
    "Softmax_axis0": (lambda: nn.Softmax(axis=0), (6, 5)),
    "LogSoftmax": (nn.LogSoftmax, (6, 5)),
    "StochasticBinary_eval": (lambda: nn.StochasticBinary(rng=0).eval(), (6, 5)),
    "Maxout": (lambda: nn.Maxout(5, 3, pieces=3, rng=0), (6, 5)),
    "RBF_gaussian": (lambda: nn.RBF(5, 4, rng=0), (6, 5)),
    "RBF_ricker": (lambda: nn.RBF(5, 4, basis="ricker", rng=0), (6, 5)),
}


@pytest.mark.parametrize("name", MODULES)
def test_gradient_check(name):
    make, shape = MODULES[name]
    layer = make()
    report = check_module(layer, away_from_kinks(shape), rng=0)
    assert report.max_error < TOL, str(report)
    expected = {"PReLU": {"input", "alpha"}, "Maxout": {"input", "W", "b"},
                "RBF": {"input", "c", "log_width"}}.get(type(layer).__name__, {"input"})
    assert set(report.errors) == expected


@pytest.mark.parametrize("name", MODULES)
def test_float32_in_float32_out(name):
    make, shape = MODULES[name]
    layer = make()
    x = away_from_kinks(shape).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())


def test_step_forward_and_zero_gradient():
    layer = nn.Step(threshold=0.5, low=-1)
    np.testing.assert_array_equal(layer(np.array([[0.2, 0.5, 0.7]])), [[-1, -1, 1]])
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), np.zeros((1, 3)))
    assert "perceptron" in nn.Step.__doc__.lower()


def test_module_matches_functional():
    x = away_from_kinks((4, 6))
    pairs = [(nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh), (nn.ReLU(), F.relu),
             (nn.HardTanh(), F.hardtanh), (nn.Softmax(), F.softmax), (nn.LogSoftmax(), F.log_softmax),
             (nn.LeakyReLU(0.2), lambda z: F.leaky_relu(z, 0.2)), (nn.Identity(), lambda z: z)]
    for layer, f in pairs:
        np.testing.assert_allclose(layer(x), f(x), err_msg=repr(layer))


def test_prelu_learns_its_slope():
    layer = nn.PReLU(2, init=0.5)
    x = np.array([[-2.0, 3.0], [-1.0, -4.0]])
    np.testing.assert_allclose(layer(x), [[-1.0, 3.0], [-0.5, -2.0]])
    layer.backward(np.ones((2, 2)))
    np.testing.assert_allclose(layer.alpha.grad, [-3.0, -4.0])  # Σ over negative inputs
    assert [n for n, _ in layer.named_parameters()] == ["alpha"]


def test_rrelu_training_and_eval_modes():
    layer = nn.RReLU(lower=0.1, upper=0.3, rng=1)
    x = -np.ones((50, 20))
    a1, a2 = layer(x), layer(x)
    slopes = -a1
    assert np.all((slopes >= 0.1) & (slopes <= 0.3)) and slopes.std() > 0.01
    assert not np.array_equal(a1, a2)  # a fresh draw at every training forward pass
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), a2 * -1)  # slope used by forward
    layer.resample = False
    np.testing.assert_array_equal(layer(x), a2)  # frozen: the last draw is reused
    layer.eval()
    np.testing.assert_allclose(layer(x), -0.2 * np.ones_like(x))
    np.testing.assert_allclose(layer(-x), np.ones_like(x))  # positives pass unchanged


def test_stochastic_binary_samples_with_probability_sigmoid():
    layer = nn.StochasticBinary(rng=3)
    z = np.tile(np.array([[-2.0, 0.0, 1.5]]), (20000, 1))
    a = layer(z)
    assert set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_allclose(a.mean(axis=0), F.sigmoid(z[0]), atol=0.02)
    np.testing.assert_allclose(layer.backward(np.ones_like(z))[0], F.sigmoid_prime(z[0]))
    np.testing.assert_allclose(layer.eval()(z[:1]), F.sigmoid(z[:1]))


def test_maxout_takes_the_max_piece_and_contains_relu():
    layer = nn.Maxout(3, 2, pieces=2, rng=0).double()
    x = np.random.default_rng(4).standard_normal((7, 3))
    z = (x @ layer.W.data + layer.b.data).reshape(7, 2, 2)
    np.testing.assert_allclose(layer(x), z.max(axis=2))
    # ReLU as a maxout unit: pieces (w, b) and (0, 0)
    w, b = np.array([1.0, -2.0, 0.5]), 0.3
    relu_unit = nn.Maxout(3, 1, pieces=2).double()
    relu_unit.W.data[:] = np.stack([w, np.zeros(3)], axis=1)
    relu_unit.b.data[:] = [b, 0.0]
    np.testing.assert_allclose(relu_unit(x)[:, 0], F.relu(x @ w + b))


def test_rbf_matches_the_radial_formula():
    layer = nn.RBF(3, 4, rng=0).double()
    layer.log_width.data[:] = np.log([0.5, 1.0, 2.0, 3.0])
    x = np.random.default_rng(5).standard_normal((6, 3))
    r = np.linalg.norm(x[:, None, :] - layer.c.data[None], axis=2) / layer.width
    np.testing.assert_allclose(layer(x), F.gaussian_rbf(r))
    layer.basis = "ricker"
    np.testing.assert_allclose(layer(x), F.ricker(r))


def test_rbf_gradient_is_finite_at_a_centre():
    layer = nn.RBF(2, 3, rng=0).double()
    x = layer.c.data[:2].copy()  # r = 0 for two of the units
    out = layer(x)
    np.testing.assert_allclose(out[[0, 1], [0, 1]], 1.0)
    assert np.all(np.isfinite(layer.backward(np.ones_like(out))))
    assert np.all(np.isfinite(layer.c.grad)) and np.all(np.isfinite(layer.log_width.grad))


def test_rbf_network_and_centres_from_data():
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((10, 2)), rng.standard_normal((10, 1))
    rbf = nn.RBF(2, 4).init_centers_from(X, rng=0)
    assert all(any(np.allclose(c, row) for row in X.astype(np.float32)) for c in rbf.c.data)
    assert np.all(rbf.width > 0)
    model = nn.Sequential(rbf, nn.Dense(4, 1, rng=0))
    assert check_model(model, nn.MSELoss(), X, y).max_error < TOL
    with pytest.raises(ValueError, match=r"RBF\(2, 4.*at least 4 examples"):
        nn.RBF(2, 4).init_centers_from(X[:3])


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("layer, pattern", [
    (nn.Sigmoid(), r"Sigmoid\(\)"), (nn.Softmax(), r"Softmax\(axis=-1\)"),
    (nn.Maxout(4, 2), r"Maxout\(4, 2, pieces=2\)"), (nn.RBF(4, 2), r"RBF\(4, 2"),
])
def test_errors_name_the_layer(layer, pattern):
    with pytest.raises(DTypeError, match=pattern):
        layer(np.array([["a", "b"]]))
    with pytest.raises(ShapeError, match=pattern + ".*0-d"):
        layer(np.float64(1.0))
    with pytest.raises(RuntimeError, match="before forward"):
        type(layer).backward(layer, np.ones((1, 2)))


def test_shape_errors():
    with pytest.raises(ShapeError, match=r"Maxout\(4, 2, pieces=2\).*\(batch, 4\).*\(3, 5\)"):
        nn.Maxout(4, 2)(np.zeros((3, 5)))
    with pytest.raises(ShapeError, match=r"RBF\(4, 2.*\(batch, 4\)"):
        nn.RBF(4, 2)(np.zeros((3, 2)))
    with pytest.raises(ShapeError, match=r"PReLU\(num_parameters=3\).*3 features"):
        nn.PReLU(3)(np.zeros((2, 4)))
    layer = nn.Tanh()
    layer(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"Tanh\(\)\.backward.*\(2, 3\)"):
        layer.backward(np.zeros((3, 2)))


def test_bad_hyper_parameters():
    with pytest.raises(ValueError, match="LeakyReLU: alpha"):
        nn.LeakyReLU(-0.1)
    with pytest.raises(ValueError, match="RReLU: need lower <= upper"):
        nn.RReLU(0.5, 0.1)
    with pytest.raises(ValueError, match="HardTanh: need low < high"):
        nn.HardTanh(1, -1)
    with pytest.raises(ValueError, match="Maxout: .*positive"):
        nn.Maxout(3, 2, pieces=0)
    with pytest.raises(ValueError, match="RBF: unknown basis 'cauchy'"):
        nn.RBF(3, 2, basis="cauchy")
    with pytest.raises(ValueError, match="PReLU: num_parameters"):
        nn.PReLU(0)
