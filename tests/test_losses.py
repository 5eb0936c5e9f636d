"""Cost functions: gradient checks, hand-computed values, stability and error messages."""

import warnings

import numpy as np
import pytest

from coursepkg import nn
from coursepkg.errors import NonFiniteError, ShapeError
from coursepkg.gradcheck import check_loss
from coursepkg.nn import functional as F

TOL = 1e-6
rng = np.random.default_rng(0)
N, K = 6, 4
LOGITS = rng.standard_normal((N, K)) * 2
LABELS = np.array([0, 3, 1, 2, 3, 0])
SOFT = rng.random((N, K)) + 0.1
SOFT /= SOFT.sum(axis=1, keepdims=True)
PM1 = np.array([[1.0], [-1.0], [1.0], [1.0], [-1.0], [-1.0]])
SCORES = np.array([[2.3], [0.4], [-0.7], [0.2], [-1.6], [1.2]])  # |1 − y a| ≥ 0.2: no kink nearby


def _multimargin_scores():
    """Scores whose margins aⱼ − a_y + 1 are all at least 0.05 away from 0 (no kink nearby)."""
    a = LOGITS.copy()
    m = a - a[np.arange(N), LABELS][:, None] + 1
    a[np.abs(m) < 0.05] += 0.2
    return a


CASES = {
    "MSELoss": (nn.MSELoss(), LOGITS, SOFT),
    "BCELoss": (nn.BCELoss(), F.sigmoid(LOGITS), (SOFT > 0.25).astype(float)),
    "BCELoss_soft": (nn.BCELoss(), F.sigmoid(LOGITS), SOFT),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss(), LOGITS, (SOFT > 0.25).astype(float)),
    "CrossEntropyLoss_labels": (nn.CrossEntropyLoss(), LOGITS, LABELS),
    "CrossEntropyLoss_rows": (nn.CrossEntropyLoss(), LOGITS, SOFT),
    "CrossEntropyLoss_unnormalized_rows": (nn.CrossEntropyLoss(), LOGITS, 2 * SOFT),
    "NLLLoss": (nn.NLLLoss(), F.log_softmax(LOGITS), LABELS),
    "HingeLoss": (nn.HingeLoss(), SCORES, PM1),
    "LogisticLoss": (nn.LogisticLoss(), SCORES, PM1),
    "MultiMarginLoss_sum": (nn.MultiMarginLoss(), _multimargin_scores(), LABELS),
    "MultiMarginLoss_max": (nn.MultiMarginLoss(aggregate="max"), _multimargin_scores(), LABELS),
    "KLDivLoss": (nn.KLDivLoss(), F.softmax(LOGITS), SOFT),
    "KLDivLoss_log_input": (nn.KLDivLoss(log_input=True), F.log_softmax(LOGITS), SOFT),
}


@pytest.mark.parametrize("name", CASES)
def test_gradient_check(name):
    loss, a, y = CASES[name]
    report = check_loss(loss, a, y)
    assert report.max_error < TOL, str(report)


@pytest.mark.parametrize("name", CASES)
def test_float32_in_float32_gradient_out(name):
    loss, a, y = CASES[name]
    value = loss(a.astype(np.float32), y)
    assert isinstance(value, float)
    grad = loss.backward()
    assert grad.dtype == np.float32 and grad.shape == a.shape
    np.testing.assert_allclose(loss.backward(2.0), 2 * grad)


@pytest.mark.parametrize("name", CASES)
def test_rejects_scalars_and_nan_predictions_naming_the_loss(name):
    loss, a, y = CASES[name]
    who = type(loss).__name__
    with pytest.raises(ShapeError, match=f"{who}: .*0-d"):
        loss(np.float64(0.5), 1)
    bad = a.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match=f"{who}: prediction contains 1 NaN"):
        loss(bad, y)


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="CrossEntropyLoss.backward called before forward"):
        nn.CrossEntropyLoss().backward()


# --------------------------------------------------------------------------- values
def test_mse_and_bce_hand_values():
    assert nn.MSELoss()(np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 1.0]])) == 1.5
    a, y = np.array([[0.9], [0.2]]), np.array([[1.0], [0.0]])
    expected = -(np.log(0.9) + np.log(0.8)) / 2
    assert nn.BCELoss()(a, y) == pytest.approx(expected)
    z = np.log(a / (1 - a))  # σ(z) = a
    assert nn.BCEWithLogitsLoss()(z, y) == pytest.approx(expected)
    assert nn.BCEWithLogitsLoss()(z, y[:, 0]) == pytest.approx(expected)  # (n,) fits (n, 1)


def test_bce_saturated_prediction_is_large_but_finite():
    loss = nn.BCELoss()
    value = loss(np.array([[0.0], [1.0]]), np.array([[1.0], [1.0]]))
    assert 15 < value < 40
    assert np.all(np.isfinite(loss.backward()))


def test_bce_gradient_through_sigmoid_is_a_minus_y():
    z, y = LOGITS[:, :1], (SOFT[:, :1] > 0.25).astype(float)
    loss, act = nn.BCELoss(), nn.Sigmoid()
    loss(act(z), y)
    np.testing.assert_allclose(act.backward(loss.backward()), (F.sigmoid(z) - y) / N, atol=1e-12)


def test_cross_entropy_is_mean_negative_log_softmax_at_the_label():
    loss = nn.CrossEntropyLoss()
    expected = -np.mean(F.log_softmax(LOGITS)[np.arange(N), LABELS])
    assert loss(LOGITS, LABELS) == pytest.approx(expected)
    grad = loss.backward()
    one_hot = np.eye(K)[LABELS]
    np.testing.assert_allclose(grad, (F.softmax(LOGITS) - one_hot) / N)
    assert loss(LOGITS, one_hot) == pytest.approx(expected)
    np.testing.assert_allclose(loss.backward(), grad)
    assert loss(LOGITS, LABELS.astype(float)) == pytest.approx(expected)  # 3.0 is a fine label
    assert loss(LOGITS, LABELS[:, None]) == pytest.approx(expected)  # a column of labels too


def test_cross_entropy_handles_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]], dtype=np.float32)
    loss = nn.CrossEntropyLoss()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert loss(z, np.array([0, 1])) == pytest.approx(0.0, abs=1e-6)
        assert loss(z, np.array([1, 0])) == pytest.approx(1000.0)  # ln Σ e^z ≈ 1000, z_y = 0
        assert np.all(np.isfinite(loss.backward()))


def test_logsoftmax_then_nll_equals_cross_entropy():
    ce, nll, logsm = nn.CrossEntropyLoss(), nn.NLLLoss(), nn.LogSoftmax()
    assert nll(logsm(LOGITS), LABELS) == pytest.approx(ce(LOGITS, LABELS))
    np.testing.assert_allclose(logsm.backward(nll.backward()), ce.backward(), atol=1e-12)


def test_hinge_logistic_and_margin_hand_values():
    a, y = np.array([[2.0], [0.5], [-1.0]]), np.array([[1.0], [1.0], [1.0]])
    hinge = nn.HingeLoss()
    assert hinge(a, y) == pytest.approx((0 + 0.5 + 2.0) / 3)
    np.testing.assert_allclose(hinge.backward(), [[0.0], [-1 / 3], [-1 / 3]])
    assert nn.HingeLoss(margin=3.0)(a, -y) == pytest.approx((5 + 3.5 + 2) / 3)
    assert nn.LogisticLoss()(a, y) == pytest.approx(np.mean(np.log1p(np.exp(-a))))
    t = (PM1 + 1) / 2
    assert nn.LogisticLoss()(SCORES, PM1) == pytest.approx(nn.BCEWithLogitsLoss()(SCORES, t))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.LogisticLoss()(np.array([[-1000.0]]), np.array([[1.0]])) == pytest.approx(1000.0)

    scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    labels = np.array([0, 1, 2])
    # row 0: (5.1 − 3.2 + 1) = 2.9;  row 1: none;  row 2: (2.2 + 3.1 + 1) + (2.5 + 3.1 + 1) = 12.9
    assert nn.MultiMarginLoss()(scores, labels) == pytest.approx((2.9 + 0 + 12.9) / 3)
    assert nn.MultiMarginLoss(aggregate="max")(scores, labels) == pytest.approx((2.9 + 0 + 6.6) / 3)
    mm = nn.MultiMarginLoss()
    mm(scores, labels)
    np.testing.assert_allclose(mm.backward() * 3, [[-1, 1, 0], [0, 0, 0], [1, 1, -2]])
    assert mm(scores, np.eye(3)[labels]) == pytest.approx((2.9 + 12.9) / 3)  # one-hot rows


def test_kl_divergence_values_and_argument_order():
    p = np.array([[0.5, 0.5, 0.0]])
    q = np.array([[0.25, 0.25, 0.5]])
    kl = nn.KLDivLoss()
    assert kl(q, p) == pytest.approx(np.log(2))  # KL(p‖q): prediction q first, target p second
    assert kl(p, p) == 0.0
    np.testing.assert_allclose(kl.backward(), [[-1.0, -1.0, 0.0]])
    assert nn.KLDivLoss(log_input=True)(np.log(q), p) == pytest.approx(np.log(2))
    with pytest.raises(FloatingPointError, match="KLDivLoss: the cost is inf"):
        kl(p, q)  # KL(q‖p) is infinite: q puts mass where p has none


# --------------------------------------------------------------------------- errors
def test_cross_entropy_target_errors():
    ce = nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: labels must lie in 0 … 3 .*\[0, 4\]"):
        ce(LOGITS, np.array([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: labels must lie in 0 … 3"):
        ce(LOGITS, -LABELS - 1)
    with pytest.raises(ValueError, match="CrossEntropyLoss: labels must be whole numbers .*0.5"):
        ce(LOGITS, np.array([0.5, 1, 2, 3, 0, 0]))
    with pytest.raises(ShapeError, match="CrossEntropyLoss: the prediction has 6 rows but the target has 5"):
        ce(LOGITS, LABELS[:5])
    with pytest.raises(ShapeError, match=r"CrossEntropyLoss: expected target rows .*\(6, 4\).*\(5, 4\)"):
        ce(LOGITS, SOFT[:5])
    with pytest.raises(ShapeError, match=r"CrossEntropyLoss: expected scores .*\(batch, any\)"):
        ce(LOGITS[0], 1)
    with pytest.raises(ValueError, match="MultiMarginLoss: needs hard labels"):
        nn.MultiMarginLoss()(LOGITS, SOFT)


@pytest.mark.parametrize("loss", [nn.HingeLoss(), nn.LogisticLoss()], ids=lambda loss: type(loss).__name__)
def test_pm1_losses_reject_zero_one_labels(loss):
    who = type(loss).__name__
    with pytest.raises(ValueError, match=rf"{who}: expects labels −1/\+1, received 0/1 .*y = 2 \* y - 1"):
        loss(SCORES, (PM1 + 1) / 2)
    with pytest.raises(ValueError, match=rf"{who}: expects labels −1/\+1, received \[2.\]"):
        loss(SCORES, 2 * PM1 ** 2)


def test_probability_losses_reject_values_outside_unit_interval():
    with pytest.raises(ValueError, match=r"BCELoss: predictions .* \[0, 1\].*BCEWithLogitsLoss"):
        nn.BCELoss()(LOGITS, (SOFT > 0.25).astype(float))
    with pytest.raises(ValueError, match="BCEWithLogitsLoss: targets must lie in"):
        nn.BCEWithLogitsLoss()(LOGITS, SOFT + 1)
    with pytest.raises(ValueError, match="KLDivLoss: predictions q .*log_input=True"):
        nn.KLDivLoss()(LOGITS, SOFT)
    with pytest.raises(ValueError, match="NLLLoss: expects log-probabilities .*LogSoftmax"):
        nn.NLLLoss()(F.softmax(LOGITS), LABELS)
    with pytest.raises(ShapeError, match=r"MSELoss: expected target .*\(6, 4\)"):
        nn.MSELoss()(LOGITS, SOFT[:, :3])
