"""The checkers of chapters 1-8 accept a right answer and name each typical mistake.

For every exercise, ``RIGHT`` holds a correct implementation (as in ``solutions/``), which must
pass with full credit. ``MISTAKES`` holds, for every known-mistake hint and every explicit
``fail(...)`` hint of the exercise's checker, a function that makes exactly that mistake: the
checker must fail it with a message containing a distinctive phrase of that hint, and award the
stated partial credit. The checkers are run with ``np.random.default_rng(seed)``, a mistake on seeds
0-2 unless its hint needs other random inputs (it then names its seeds); the right answer must pass
on every seed that one of its mistakes uses.
"""

import numpy as np
import pytest

from coursepkg.grading import registry
from coursepkg.grading.checker import PASSED, run_checker
from coursepkg.nn import functional as F

SIGMOID = F.sigmoid


def outcome(exercise: str, fns: tuple, kwargs: dict, seed: int):
    return run_checker(registry.get(exercise), fns, kwargs, np.random.default_rng(seed))


def answer(*fns, **kwargs):
    """The learner objects passed to ``check(exercise, *fns, **kwargs)``."""
    return fns, kwargs


def pair(cost, grad):
    """A learner function returning ``(cost(*args), grad(*args))`` (chapter 4)."""
    def fn(*args, **kwargs):
        return cost(*args, **kwargs), grad(*args, **kwargs)
    return fn


def uniform_init(bound):
    """An initializer drawing U(−a, a) with ``a = bound(fan_in, fan_out)`` (chapter 5)."""
    def init(shape, fan_in, fan_out, rng, dtype=np.float32):
        a = bound(fan_in, fan_out)
        return rng.uniform(-a, a, size=shape).astype(dtype)
    return init


def normal_init(std):
    """An initializer drawing N(0, std(fan_in, fan_out)²) (chapter 5)."""
    def init(shape, fan_in, fan_out, rng, dtype=np.float32):
        return (rng.standard_normal(shape) * std(fan_in, fan_out)).astype(dtype)
    return init


# ============================================================================ chapter 1

def perceptron(activation=lambda X, w, b: (X @ w + b > 0).astype(float), scale=lambda n: 1.0, learn_b=True):
    def perceptron_update(w, b, X, t, lr=1.0):
        error = t - activation(X, w, b)
        return w + lr * scale(len(X)) * (X.T @ error), b + lr * error.sum() * learn_b
    return perceptron_update


def perceptron_in_place(w, b, X, t, lr=1.0):
    error = t - (X @ w + b > 0)
    w += lr * X.T @ error
    return w, b + lr * error.sum()


def perceptron_restless(w, b, X, t, lr=1.0):
    """Right, except that it still moves b when every example is already right."""
    new_w, new_b = perceptron()(w, b, X, t, lr)
    return new_w, new_b + (lr if np.all(new_w == w) else 0.0)


def delta_rule(sign=-1.0, mean=True, db=None):
    def delta_rule_gradient(w, b, X, t):
        r = t - (X @ w + b)
        n = len(X) if mean else 1
        return sign * (X.T @ r) / n, sign * r.sum() / n if db is None else db
    return delta_rule_gradient


def gate(w, b):
    return lambda: (np.array(w, dtype=float), b)


# ============================================================================ chapter 2

def sigmoid_prime(z):
    s = SIGMOID(z)
    return s * (1 - s)


def sigmoid_prime_numerical(z, h=0.015):
    """A central difference: within 1e-4 of σ' everywhere, but not exactly ¼ at 0."""
    return (SIGMOID(z + h) - SIGMOID(z - h)) / (2 * h)


def softmax(z, axis=-1, shift=lambda z, axis: np.max(z, axis=axis, keepdims=True), normalize=True):
    e = np.exp(z - shift(z, axis))
    return e / np.sum(e, axis=axis, keepdims=True) if normalize else e


def softmax_unshifted(z):
    return softmax(z, shift=lambda z, axis: 0.0)


def leaky_relu_backward(grad_out, z, alpha):
    return grad_out * np.where(z > 0, 1.0, alpha)


# ============================================================================ chapter 3

def output_delta(z, y):
    a = SIGMOID(z)
    return (a - y) / len(z) * a * (1 - a)


def dense_backward(x, W, delta):
    return x.T @ delta, delta.sum(axis=0), delta @ W.T


def _out_delta(a, y, n):
    return (a - y) / n * a * (1 - a)


def _hidden_delta(delta, W, a):
    return (delta @ W.T) * a * (1 - a)


def network(out_delta=_out_delta, hidden_delta=_hidden_delta, reverse=False, only_last=False):
    def backprop(x, y, weights, biases):
        acts = [x]
        for W, b in zip(weights, biases):
            acts.append(SIGMOID(acts[-1] @ W + b))
        delta = out_delta(acts[-1], y, len(x))
        grads_W, grads_b = [], []
        for layer in reversed(range(len(weights))):
            grads_W.insert(0, acts[layer].T @ delta)
            grads_b.insert(0, delta.sum(axis=0))
            if layer > 0:
                delta = hidden_delta(delta, weights[layer], acts[layer])
        if only_last:
            return grads_W[-1:], grads_b[-1:]
        return (grads_W[::-1], grads_b[::-1]) if reverse else (grads_W, grads_b)
    return backprop


# ============================================================================ chapter 4

def bce_cost(a, y):
    return -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / len(a)


def bce_grad(a, y):
    return (a - y) / (a * (1 - a)) / len(a)


def _log_softmax(z):
    shifted = z - np.max(z, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def _picked(z, labels):
    return z[np.arange(len(z)), labels]


def sce_cost(z, labels):
    return -np.mean(_picked(_log_softmax(z), labels))


def sce_grad(z, labels, sign=1.0, one_hot=1.0, n=None):
    grad = np.exp(_log_softmax(z))
    grad[np.arange(len(z)), labels] -= one_hot
    return sign * grad / (len(z) if n is None else n)


def z_in_place(z, labels):
    z -= z.max(axis=1, keepdims=True)
    return sce_cost(z, labels), sce_grad(z, labels)


def _hinge_terms(s, labels, margin):
    terms = s - _picked(s, labels)[:, None] + margin
    terms[np.arange(len(s)), labels] = 0
    return terms


def hinge_cost(s, labels, margin=1.0):
    return np.sum(np.maximum(_hinge_terms(s, labels, margin), 0)) / len(s)


def hinge_grad(s, labels, margin=1.0, true_class=True):
    grad = (_hinge_terms(s, labels, margin) > 0).astype(float)
    grad[np.arange(len(s)), labels] = -grad.sum(axis=1) if true_class else 0.0
    return grad / len(s)


def changed(fn, cost=lambda c, args: c, grad=lambda g, args: g):
    """``fn`` with its cost and/or gradient changed (``args``: the arrays it was called with)."""
    def wrong(*args, **kwargs):
        c, g = fn(*args, **kwargs)
        return cost(c, args), grad(g, args)
    return wrong


def scribbling(fn, argument: int):
    """``fn`` that also changes its argument number ``argument`` in place (e.g. ``z -= z.max()``)."""
    def wrong(*args, **kwargs):
        result = fn(*args, **kwargs)
        args[argument][...] = args[argument] - np.max(args[argument], axis=1, keepdims=True)
        return result
    return wrong


# ============================================================================ chapter 5

def xavier_bound(fan_in, fan_out):
    return np.sqrt(6 / (fan_in + fan_out))


def he_std(fan_in, fan_out):
    return np.sqrt(2 / fan_in)


def sparse(rows=lambda rng, n_in, n_units, k: np.argsort(rng.random((n_in, n_units)), axis=0)[:k],
           values=lambda rng, size: rng.standard_normal(size), cap=min):
    """A sparse initializer: ``rows(...)`` (k, n_units) chooses the rows of each column."""
    def sparse_init(shape, fan_in, fan_out, rng, dtype=np.float32, k=15):
        n_in, n_units = shape
        k = cap(k, n_in)
        w = np.zeros(shape, dtype=dtype)
        chosen = rows(rng, n_in, n_units, k)
        w[chosen, np.arange(n_units)] = values(rng, chosen.shape)
        return w
    return sparse_init


def sparse_per_row(shape, fan_in, fan_out, rng, dtype=np.float32, k=15):
    w = np.zeros(shape, dtype=dtype)
    columns = np.argsort(rng.random(shape), axis=1)[:, :k]
    w[np.arange(shape[0])[:, None], columns] = rng.standard_normal(columns.shape)
    return w


def balanced_rows(rng, n_in, n_units, k):
    """Consecutive blocks of k rows of a random permutation, a new one after each full pass over the
    rows: every input feeds the same number of units when the passes fit n_units exactly."""
    period = n_in // np.gcd(k, n_in)
    perms = [rng.permutation(n_in) for _ in range(-(-n_units // period))]
    return np.stack([perms[j // period][(j * k + np.arange(k)) % n_in] for j in range(n_units)], axis=1)


# ============================================================================ chapter 6

def momentum(velocity=lambda v, g, lr, mu: mu * v - lr * g, step=lambda theta, v, new_v, g, lr: theta + new_v):
    def momentum_step(theta, v, grad, lr, mu):
        new_v = velocity(v, grad, lr, mu)
        return step(theta, v, new_v, grad, lr), new_v
    return momentum_step


def momentum_in_place(theta, v, grad, lr, mu):
    v *= mu
    v -= lr * grad
    return theta + v, v


def _bias(beta, t):
    return 1 - beta**t


def adam(first=lambda m, g, b1: b1 * m + (1 - b1) * g, second=lambda v, g, b2: b2 * v + (1 - b2) * g**2,
         bias_m=_bias, bias_v=_bias, denominator=lambda v_hat, eps: np.sqrt(v_hat) + eps, old_moments=False,
         return_corrected=False):
    def adam_step(theta, m, v, grad, t, lr, beta1, beta2, eps):
        new_m, new_v = first(m, grad, beta1), second(v, grad, beta2)
        mm, vv = (m, v) if old_moments else (new_m, new_v)
        m_hat, v_hat = mm / bias_m(beta1, t), vv / bias_v(beta2, t)
        new_theta = theta - lr * m_hat / denominator(v_hat, eps)
        return (new_theta, m_hat, v_hat) if return_corrected else (new_theta, new_m, new_v)
    return adam_step


def adam_in_place(theta, m, v, grad, t, lr, beta1, beta2, eps):
    m *= beta1
    m += (1 - beta1) * grad
    new_v = beta2 * v + (1 - beta2) * grad**2
    return theta - lr * (m / _bias(beta1, t)) / (np.sqrt(new_v / _bias(beta2, t)) + eps), m, new_v


def inverse_time(rule=lambda t, lr0, lam: lr0 / (1 + lr0 * lam * t), as_array=np.asarray):
    def inverse_time_lr(t, lr0, lam):
        return rule(as_array(t, dtype=float), lr0, lam)
    return inverse_time_lr


# ============================================================================ chapter 7

def acceptance(rule=lambda c, T, k: np.exp(-np.maximum(c, 0.0) / (k * T))):
    def acceptance_probability(c, T, k=1.0):
        return rule(c, T, k)
    return acceptance_probability


def acceptance_by_ratio(c, T, k=1.0):
    """min(1, e) written as e / max(1, e), with the overflow warnings silenced: inf/inf = NaN."""
    with np.errstate(all="ignore"):
        e = np.exp(-c / (k * T))
        return e / np.maximum(1.0, e)


def cauchy(rule=lambda u, T, rho: rho * T * np.tan(np.pi * (u - 0.5))):
    def cauchy_step(u, T, rho=1.0):
        return rule(u, T, rho)
    return cauchy_step


def cooling(boltzmann=np.log1p, cauchy_rule=lambda T0, t: T0 / (1.0 + t), unknown=ValueError):
    def temperature(t, T0, schedule):
        t = np.asarray(t, dtype=float)
        if schedule == "boltzmann":
            return T0 / boltzmann(t)
        if schedule == "cauchy" or unknown is None:
            return cauchy_rule(T0, t)
        raise unknown(schedule)
    return temperature


# ============================================================================ chapter 8

def l2_step(W_rule=lambda W, dW, eta, lam, n: (1 - eta * lam / n) * W - eta * dW,
            b_rule=lambda b, db, eta, lam, n: b - eta * db):
    def l2_sgd_step(W, b, dW, db, eta, lam, n):
        return W_rule(W, dW, eta, lam, n), b_rule(b, db, eta, lam, n)
    return l2_sgd_step


def l2_in_place(W, b, dW, db, eta, lam, n):
    W *= 1 - eta * lam / n
    W -= eta * dW
    return W, b - eta * db


def dropout(rule=lambda a, mask, p: a * mask / (1 - p)):
    def dropout_forward(a, mask, p):
        return rule(a, mask, p)
    return dropout_forward


def dropout_in_place(a, mask, p):
    a *= mask
    return a / (1 - p)


def _bn_zhat(z, gamma, beta, eps):
    return gamma * (z - z.mean(axis=0)) / np.sqrt(z.var(axis=0) + eps) + beta


def batchnorm(zhat=_bn_zhat, mu=lambda z: z.mean(axis=0), var=lambda z: z.var(axis=0)):
    def batchnorm_forward(z, gamma, beta, eps=1e-5):
        return zhat(z, gamma, beta, eps), mu(z), var(z)
    return batchnorm_forward


def batchnorm_in_place(z, gamma, beta, eps=1e-5):
    mu, var = z.mean(axis=0), z.var(axis=0)
    z -= mu
    return gamma * z / np.sqrt(var + eps) + beta, mu, var


def _centred(z):
    return z - z.mean(axis=0)


# ============================================================================ the answers

RIGHT = {
    "1.1": answer(perceptron()),
    "1.2": answer(delta_rule()),
    "1.3": answer(gate([-2.0, -2.0], 3.0)),
    "2.1": answer(sigmoid_prime),
    "2.2": answer(softmax),
    "2.3": answer(leaky_relu_backward),
    "3.1": answer(output_delta),
    "3.2": answer(dense_backward),
    "3.3": answer(network()),
    "4.1": answer(pair(bce_cost, bce_grad)),
    "4.2": answer(pair(sce_cost, sce_grad)),
    "4.3": answer(pair(hinge_cost, hinge_grad)),
    "5.1": answer(uniform_init(xavier_bound)),
    "5.2": answer(normal_init(he_std)),
    "5.3": answer(sparse()),
    "6.1": answer(momentum()),
    "6.2": answer(adam()),
    "6.3": answer(inverse_time()),
    "7.1": answer(acceptance()),
    "7.2": answer(cauchy()),
    "7.3": answer(cooling()),
    "8.1": answer(l2_step()),
    "8.2": answer(dropout(), backward=lambda g, mask, p: g * mask / (1 - p)),
    "8.3": answer(batchnorm()),
}


#: Seeds on which a checker once failed a right answer, because a known mistake equals the right
#: answer there: 6.2 where 1 − β₁ ≈ √(1 − β₂) (no bias correction on the first step), 8.3 where
#: ε = 1e-5 is too small to tell √(σ² + ε) from √σ².
REGRESSION_SEEDS = {"6.2": (970,), "8.3": (191827,)}

#: One seed for each ratio fan_out/fan_in that chapter 5's checkers draw (1.5, 0.7, 0.4, 2.5).
FAN_SEEDS = (0, 2, 3, 4)


def mistake(exercise: str, name: str, fns, phrase: str, credit: float = 0.0, seeds=(0, 1, 2), **kwargs):
    fns = fns if isinstance(fns, tuple) else (fns,)
    return pytest.param(exercise, fns, kwargs, phrase, credit, seeds, id=f"{exercise}-{name}")


def _cost_mistakes(exercise: str):
    """The hints every chapter-4 cost check shares, on that exercise's right answer."""
    right = RIGHT[exercise][0][0]
    return [
        mistake(exercise, "cost-wrong-sign", changed(right, cost=lambda c, args: -c), "the cost has the wrong sign"),
        mistake(exercise, "cost-summed-over-batch", changed(right, cost=lambda c, args: c * len(args[0])),
                "the cost is n times too large"),
        mistake(exercise, "cost-mean-over-all-entries", changed(right, cost=lambda c, args: c / args[0].shape[1]),
                "the cost is k times too small"),
        mistake(exercise, "cost-nan", changed(right, cost=lambda c, args: np.nan), "the cost is nan"),
        mistake(exercise, "cost-wrong-other", changed(right, cost=lambda c, args: c * 1.37),
                "the cost is wrong (yours is"),
        mistake(exercise, "grad-twice", changed(right, grad=lambda g, args: 2 * g), "(Your cost is right.)", 0.5),
        mistake(exercise, "not-a-pair", lambda *args, **kwargs: right(*args, **kwargs)[0],
                "should return a pair (cost, grad)"),
        mistake(exercise, "cost-per-example", changed(right, cost=lambda c, args: np.full(len(args[0]), c)),
                "should be a single number (the mean over the batch)"),
        mistake(exercise, "cost-none", changed(right, cost=lambda c, args: None), "the cost should be a number"),
        mistake(exercise, "in-place", scribbling(right, 0), "changed its argument 1 in place"),
    ]


MISTAKES = [
    # 1.1 the perceptron rule
    mistake("1.1", "in-place", perceptron_in_place, "changed its arguments w or X in place"),
    mistake("1.1", "ignores-bias", perceptron(activation=lambda X, w, b: (X @ w > 0).astype(float)),
            "Your outputs a ignore the bias"),
    mistake("1.1", "averages", perceptron(scale=lambda n: 1 / n), "1/n of the expected one"),
    mistake("1.1", "frozen-bias", perceptron(learn_b=False), "new_b equals b"),
    mistake("1.1", "bias-mean", lambda w, b, X, t, lr=1.0: (perceptron()(w, b, X, t, lr)[0],
                                                          b + lr * np.mean(t - (X @ w + b > 0))),
            "as if it had an input fixed at 1"),
    mistake("1.1", "moves-when-all-right", perceptron_restless, "must leave w and b unchanged"),
    mistake("1.1", "one-value", lambda w, b, X, t, lr=1.0: perceptron()(w, b, X, t, lr)[0], "should return 2 values"),
    # 1.2 the delta rule
    mistake("1.2", "wrong-sign", delta_rule(sign=1.0), "dE_dw has the wrong sign"),
    mistake("1.2", "sum-not-mean", delta_rule(mean=False), "an array size"),
    mistake("1.2", "no-bias-gradient", delta_rule(db=0.0), "the bias is a weight on an input that is always 1"),
    # 1.3 NAND
    mistake("1.3", "and", gate([2.0, 2.0], -3.0), "Your unit computes AND"),
    mistake("1.3", "or", gate([1.0, 1.0], -0.5), "is wrong on the input(s) (0, 0), (1, 1)"),
    mistake("1.3", "near-a-corner", gate([-1.0, -1.0], 1.01), "passes too close to a corner"),
    # 2.1 σ'
    mistake("2.1", "sigma", SIGMOID, "you returned σ(z) itself"),
    mistake("2.1", "times-1-minus-z", lambda z: SIGMOID(z) * (1 - z), "you multiplied σ(z) by (1 − z)"),
    mistake("2.1", "one-minus-sigma", lambda z: 1 - SIGMOID(z), "you returned 1 − σ(z)"),
    mistake("2.1", "negative", lambda z: -sigmoid_prime(z), "the sign is wrong"),
    mistake("2.1", "numerical", sigmoid_prime_numerical, "sigmoid_prime(0) should be exactly 1/4"),
    # 2.2 softmax
    mistake("2.2", "over-columns", lambda z: softmax(z, axis=0), "each column sums to 1"),
    mistake("2.2", "not-normalized", lambda z: softmax(z, normalize=False), "the entries of each row should sum to 1"),
    mistake("2.2", "no-shift", softmax_unshifted, "returns NaN or inf"),
    mistake("2.2", "global-max", lambda z: softmax(z, shift=lambda z, axis: np.max(z)), "returns NaN or inf"),
    mistake("2.2", "axis-1", lambda z: softmax(z, axis=1), "for a 3-D z (normalize along the last axis)"),
    # 2.3 leaky ReLU backward
    mistake("2.3", "slope-only", lambda g, z, alpha: np.where(z > 0, 1.0, alpha), "the slope f'(z) alone"),
    mistake("2.3", "swapped", lambda g, z, alpha: g * np.where(z > 0, alpha, 1.0), "the slopes are swapped"),
    mistake("2.3", "relu", lambda g, z, alpha: g * (z > 0), "the plain ReLU's backward"),
    mistake("2.3", "times-output", lambda g, z, alpha: g * np.where(z > 0, z, alpha * z),
            "multiplied grad_out by the forward output"),
    # 3.1 δᴸ
    mistake("3.1", "no-sigma-prime", lambda z, y: (SIGMOID(z) - y) / len(z), "you left out σ'(zᴸ)"),
    mistake("3.1", "no-1/n", lambda z, y: (SIGMOID(z) - y) * sigmoid_prime(z), "times too large (n is the batch size)"),
    mistake("3.1", "mean-over-entries", lambda z, y: output_delta(z, y) / z.shape[1], "you divided by n·k"),
    mistake("3.1", "sign", lambda z, y: -output_delta(z, y), "the sign is wrong"),
    mistake("3.1", "sigma-prime-of-a", lambda z, y: (SIGMOID(z) - y) * sigmoid_prime(SIGMOID(z)) / len(z),
            "you evaluated σ' at a = σ(z)"),
    mistake("3.1", "z-not-a", lambda z, y: (z - y) * sigmoid_prime(z) / len(z), "you used the net input z"),
    # 3.2 dense layer backward
    mistake("3.2", "two-arrays", lambda x, W, d: dense_backward(x, W, d)[:2], "should return 3 arrays"),
    mistake("3.2", "dW-transposed", lambda x, W, d: (d.T @ x, d.sum(axis=0), d @ W.T), "dW is transposed"),
    mistake("3.2", "dW-mean", lambda x, W, d: (x.T @ d / len(x), d.sum(axis=0), d @ W.T), "dW is n = "),
    mistake("3.2", "db-axis-1", lambda x, W, d: (x.T @ d, d.sum(axis=1), d @ W.T), "db has one value per example"),
    mistake("3.2", "db-keepdims", lambda x, W, d: (x.T @ d, d.sum(axis=0, keepdims=True), d @ W.T),
            "it should be a vector of shape"),
    mistake("3.2", "db-mean", lambda x, W, d: (x.T @ d, d.mean(axis=0), d @ W.T), "db is n = "),
    mistake("3.2", "dx-W", lambda x, W, d: (x.T @ d, d.sum(axis=0), d @ W), "dx uses W where Wᵀ belongs"),
    mistake("3.2", "dx-wrong", lambda x, W, d: (x.T @ d, d.sum(axis=0), 2 * d @ W.T), "dx: "),
    # 3.3 backprop
    mistake("3.3", "not-two-lists", lambda *args: network()(*args)[0], "should return two lists"),
    mistake("3.3", "only-last-layer", network(only_last=True), "should be a list with one gradient per layer"),
    mistake("3.3", "reversed", network(reverse=True), "your lists are in reverse order"),
    mistake("3.3", "out-no-sigma-prime", network(out_delta=lambda a, y, n: (a - y) / n), "is missing σ'(zᴸ)"),
    mistake("3.3", "out-no-1/n", network(out_delta=lambda a, y, n: _out_delta(a, y, 1)), "times too large"),
    mistake("3.3", "out-sign", network(out_delta=lambda a, y, n: -_out_delta(a, y, n)), "the sign is wrong"),
    mistake("3.3", "hidden-no-sigma-prime", network(hidden_delta=lambda d, W, a: d @ W.T),
            "missing the factor σ'(zˡ)", 0.5),
    mistake("3.3", "hidden-W-not-transposed", network(hidden_delta=lambda d, W, a: (d @ W) * a * (1 - a)),
            "uses Wˡ⁺¹ where its transpose belongs", 0.5),
    mistake("3.3", "hidden-other", network(hidden_delta=lambda d, W, a: (d @ W.T) * a),
            "not the hidden layers'", 0.5),
    # 4.1 binary cross-entropy
    *_cost_mistakes("4.1"),
    mistake("4.1", "arguments-swapped", lambda a, y: (bce_cost(y, a), bce_grad(a, y)), "the cost is inf"),
    mistake("4.1", "only-y-ln-a", pair(lambda a, y: -np.sum(y * np.log(a)) / len(a), bce_grad),
            "you kept only the y ln a term"),
    mistake("4.1", "logs-swapped", pair(lambda a, y: -np.sum(y * np.log(1 - a) + (1 - y) * np.log(a)) / len(a),
                                        bce_grad), "the two logarithms are swapped"),
    mistake("4.1", "grad-dz", pair(bce_cost, lambda a, y: (a - y) / len(a)), "this is ∂C/∂z for a sigmoid", 0.5),
    mistake("4.1", "grad-no-1/n", pair(bce_cost, lambda a, y: bce_grad(a, y) * len(a)),
            "the gradient is n times too large", 0.5),
    mistake("4.1", "grad-sign", pair(bce_cost, lambda a, y: -bce_grad(a, y)), "the gradient has the wrong sign", 0.5),
    # 4.2 softmax cross-entropy
    *_cost_mistakes("4.2"),
    mistake("4.2", "z-in-place", z_in_place, "`z -= z.max(...)` changes the caller's z"),
    mistake("4.2", "softmax-over-batch",
            pair(lambda z, labels: -np.mean(np.log(_picked(F.softmax(z, axis=0), labels))), sce_grad),
            "the softmax is taken over the batch"),
    mistake("4.2", "no-z_y", pair(lambda z, labels: np.mean(F.logsumexp(z, axis=1)), sce_grad),
            "you dropped the − z_y term"),
    mistake("4.2", "max-not-added-back",
            pair(lambda z, labels: sce_cost(z, labels) - np.mean(np.max(z, axis=1)), sce_grad),
            "did not add it back"),
    mistake("4.2", "grad-softmax-only", pair(sce_cost, lambda z, labels: sce_grad(z, labels, one_hot=0.0)),
            "only the softmax: subtract the one-hot target", 0.5),
    mistake("4.2", "grad-no-1/n", pair(sce_cost, lambda z, labels: sce_grad(z, labels, n=1)),
            "the gradient is n times too large", 0.5),
    mistake("4.2", "grad-sign", pair(sce_cost, lambda z, labels: sce_grad(z, labels, sign=-1.0)),
            "raising the true class's logit", 0.5),
    mistake("4.2", "no-shift", pair(lambda z, labels: -np.mean(np.log(_picked(softmax_unshifted(z), labels))),
                                    lambda z, labels: (softmax_unshifted(z) - np.eye(z.shape[1])[labels]) / len(z)),
            "your result contains NaN"),
    mistake("4.2", "log-of-softmax", pair(lambda z, labels: -np.mean(np.log(_picked(softmax(z), labels))), sce_grad),
            "your cost is infinite although the gradient is finite"),
    # 4.3 multiclass hinge
    *_cost_mistakes("4.3"),
    mistake("4.3", "true-class-term",
            pair(lambda s, labels, margin=1.0: np.sum(np.maximum(s - _picked(s, labels)[:, None] + margin, 0)) / len(s),
                 hinge_grad), "larger by exactly the margin"),
    mistake("4.3", "worst-class-only",
            pair(lambda s, labels, margin=1.0: np.mean(np.max(np.maximum(_hinge_terms(s, labels, margin), 0), axis=1)),
                 hinge_grad), "you kept only the worst wrong class"),
    mistake("4.3", "margin-ignored", pair(lambda s, labels, margin=1.0: hinge_cost(s, labels), hinge_grad),
            "you used the margin 1 instead of the `margin` argument"),
    mistake("4.3", "grad-no-true-class",
            pair(hinge_cost, lambda s, labels, margin=1.0: hinge_grad(s, labels, margin, true_class=False)),
            "the true class's entries are missing", 0.5),
    mistake("4.3", "grad-no-1/n",
            pair(hinge_cost, lambda s, labels, margin=1.0: hinge_grad(s, labels, margin) * len(s)),
            "the gradient is n times too large", 0.5),
    mistake("4.3", "grad-sign", pair(hinge_cost, lambda s, labels, margin=1.0: -hinge_grad(s, labels, margin)),
            "raising a wrong class's score", 0.5),
    mistake("4.3", "default-margin", pair(lambda s, labels, margin=0.5: hinge_cost(s, labels, margin),
                                          lambda s, labels, margin=0.5: hinge_grad(s, labels, margin)),
            "with the default margin"),
    # 5.1 Xavier uniform
    mistake("5.1", "list", lambda *args, **kwargs: uniform_init(xavier_bound)(*args, **kwargs).tolist(),
            "should return a NumPy array"),
    mistake("5.1", "nan", lambda *args, **kwargs: uniform_init(xavier_bound)(*args, **kwargs) * np.nan,
            "contains NaN or inf values"),
    mistake("5.1", "float64", lambda shape, fan_in, fan_out, rng, dtype=np.float32:
            rng.uniform(-1, 1, size=shape) * xavier_bound(fan_in, fan_out), "the default dtype=np.float32"),
    mistake("5.1", "dtype-ignored", lambda shape, fan_in, fan_out, rng, dtype=np.float32:
            uniform_init(xavier_bound)(shape, fan_in, fan_out, rng), "return the array in the dtype asked for"),
    mistake("5.1", "global-random", lambda shape, fan_in, fan_out, rng, dtype=np.float32:
            uniform_init(xavier_bound)(shape, fan_in, fan_out, np.random.default_rng(), dtype),
            "draw every random number from the rng argument"),
    mistake("5.1", "fixed-seed", lambda shape, fan_in, fan_out, rng, dtype=np.float32:
            uniform_init(xavier_bound)(shape, fan_in, fan_out, np.random.default_rng(0), dtype),
            "returns the same weights for different generators"),
    mistake("5.1", "one-number", lambda shape, fan_in, fan_out, rng, dtype=np.float32:
            np.full(shape, rng.uniform(-1, 1) * xavier_bound(fan_in, fan_out), dtype=dtype), "all weights are equal"),
    mistake("5.1", "one-sided", lambda shape, fan_in, fan_out, rng, dtype=np.float32:
            (rng.random(shape) * xavier_bound(fan_in, fan_out)).astype(dtype), "the weights should have mean 0"),
    mistake("5.1", "bound-sqrt-2", uniform_init(lambda fi, fo: np.sqrt(2 / (fi + fo))), "three times too small"),
    mistake("5.1", "std-is-bound", normal_init(xavier_bound), "the bound itself"),
    mistake("5.1", "fan-in-only", uniform_init(lambda fi, fo: np.sqrt(6 / fi)), "you used only fan_in",
            seeds=FAN_SEEDS),
    mistake("5.1", "fan-out-only", uniform_init(lambda fi, fo: np.sqrt(6 / fo)), "you used only fan_out",
            seeds=FAN_SEEDS),
    mistake("5.1", "half-variance", uniform_init(lambda fi, fo: np.sqrt(3 / (fi + fo))), "half of Xavier's"),
    mistake("5.1", "fans-multiplied", uniform_init(lambda fi, fo: np.sqrt(6 / (fi * fo))), "you multiplied the fans"),
    mistake("5.1", "interval-doubled", uniform_init(lambda fi, fo: 2 * xavier_bound(fi, fo)), "twice too spread out"),
    mistake("5.1", "other-spread", uniform_init(lambda fi, fo: 0.85 * xavier_bound(fi, fo)),
            "the spread of the weights is wrong"),
    mistake("5.1", "normal", normal_init(lambda fi, fo: np.sqrt(2 / (fi + fo))), "some weights lie outside [−a, a]"),
    mistake("5.1", "peaked", lambda shape, fan_in, fan_out, rng, dtype=np.float32:
            (rng.choice([-1.0, 0.0, 1.0], size=shape, p=[1 / 6, 2 / 3, 1 / 6])
             * xavier_bound(fan_in, fan_out)).astype(dtype), "look normally distributed"),
    mistake("5.1", "two-values", lambda shape, fan_in, fan_out, rng, dtype=np.float32:
            (rng.choice([-1.0, 1.0], size=shape) * np.sqrt(2 / (fan_in + fan_out))).astype(dtype),
            "no weight comes close to ±a"),
    mistake("5.1", "fans-from-shape", lambda shape, fan_in, fan_out, rng, dtype=np.float32:
            uniform_init(xavier_bound)(shape, shape[1], shape[0], rng, dtype), "not from the entries of shape"),
    # 5.2 He normal
    mistake("5.2", "divided", normal_init(lambda fi, fo: 1 / np.sqrt(2 / fi)), "you divided ε by √(2/n)"),
    mistake("5.2", "variance-as-std", normal_init(lambda fi, fo: 2 / fi), "which is the *variance* He asks for"),
    mistake("5.2", "lecun", normal_init(lambda fi, fo: np.sqrt(1 / fi)), "your variance is 1/n_in"),
    mistake("5.2", "fan-out", normal_init(lambda fi, fo: np.sqrt(2 / fo)), "you used fan_out", seeds=FAN_SEEDS),
    mistake("5.2", "mean-fan", normal_init(lambda fi, fo: np.sqrt(2 / ((fi + fo) / 2))), "you used both fans",
            seeds=FAN_SEEDS),
    mistake("5.2", "unscaled", normal_init(lambda fi, fo: 1.0), "your weights have standard deviation 1"),
    mistake("5.2", "other-spread", normal_init(lambda fi, fo: 1.3 * he_std(fi, fo)), "the spread of the weights"),
    mistake("5.2", "uniform", uniform_init(lambda fi, fo: np.sqrt(3) * he_std(fi, fo)), "look uniformly distributed"),
    # 5.3 sparse initialization
    mistake("5.3", "per-row", sparse_per_row, "each *row* has k"),
    mistake("5.3", "with-replacement", sparse(rows=lambda rng, n_in, n_units, k: rng.integers(0, n_in, (k, n_units))),
            "draw them without replacement"),
    mistake("5.3", "bernoulli", lambda shape, fan_in, fan_out, rng, dtype=np.float32, k=15:
            (rng.standard_normal(shape) * (rng.random(shape) < k / shape[0])).astype(dtype),
            "every column should have exactly k"),
    mistake("5.3", "same-rows", sparse(rows=lambda rng, n_in, n_units, k:
                                       np.repeat(rng.permutation(n_in)[:k, None], n_units, axis=1)),
            "different sets of rows"),
    # seed 18: fan_in = 112, k = 7, fan_out = 240 = 15 passes of 16 units: the balanced design fits exactly
    mistake("5.3", "balanced", sparse(rows=balanced_rows), "spread too evenly over the inputs", seeds=(18,)),
    mistake("5.3", "ones", sparse(values=lambda rng, size: np.ones(size)), "all weights are equal"),
    mistake("5.3", "shifted", sparse(values=lambda rng, size: rng.standard_normal(size) + 1),
            "the weights should have mean 0"),
    mistake("5.3", "scaled", lambda shape, fan_in, fan_out, rng, dtype=np.float32, k=15:
            sparse()(shape, fan_in, fan_out, rng, np.float64, k).astype(dtype) / np.sqrt(fan_in).astype(dtype),
            "not scaled by 1/√n_in"),
    mistake("5.3", "uniform", sparse(values=lambda rng, size: rng.uniform(-1, 1, size)), "look uniform on [−1, 1]"),
    mistake("5.3", "other-spread", sparse(values=lambda rng, size: 2 * rng.standard_normal(size)),
            "the spread of the weights is wrong"),
    mistake("5.3", "k-over-fan-in", sparse(cap=lambda k, n_in: min(k, n_in - 1)), "when k > fan_in"),
    # 6.1 momentum
    mistake("6.1", "one-array", lambda *args: momentum()(*args)[0], "should return 2 arrays"),
    mistake("6.1", "in-place", momentum_in_place, "changed its argument(s) v in place"),
    mistake("6.1", "uphill", momentum(velocity=lambda v, g, lr, mu: mu * v + lr * g), "moves *down*hill"),
    mistake("6.1", "no-decay", momentum(velocity=lambda v, g, lr, mu: v - lr * g), "must decay by the momentum factor"),
    mistake("6.1", "average", momentum(velocity=lambda v, g, lr, mu: mu * v - (1 - mu) * lr * g),
            "this is an exponential average"),
    mistake("6.1", "old-velocity", momentum(step=lambda theta, v, new_v, g, lr: theta + v), "the *old* velocity"),
    mistake("6.1", "plain-gd", momentum(step=lambda theta, v, new_v, g, lr: theta - lr * g), "plain gradient descent"),
    # 6.2 Adam
    mistake("6.2", "two-arrays", lambda *args: adam()(*args)[:2], "should return 3 arrays"),
    mistake("6.2", "in-place", adam_in_place, "changed its argument(s) m"),
    mistake("6.2", "weights-swapped", adam(first=lambda m, g, b1: (1 - b1) * m + b1 * g),
            "the weights of the average are swapped"),
    mistake("6.2", "abs-not-square", adam(second=lambda v, g, b2: b2 * v + (1 - b2) * np.abs(g)),
            "averages the *squared* gradient"),
    mistake("6.2", "returns-corrected-moments", adam(return_corrected=True), "stored *without* bias correction"),
    mistake("6.2", "no-correction", adam(bias_m=lambda b, t: 1.0, bias_v=lambda b, t: 1.0), "far too small"),
    mistake("6.2", "only-v-corrected", adam(bias_m=lambda b, t: 1.0), "you corrected v but not m"),
    mistake("6.2", "only-m-corrected", adam(bias_v=lambda b, t: 1.0), "you corrected v but not m"),
    mistake("6.2", "eps-inside-root", adam(denominator=lambda v_hat, eps: np.sqrt(v_hat + eps)),
            "ε belongs outside the root"),
    mistake("6.2", "t-minus-1", adam(bias_m=lambda b, t: _bias(b, t - 1), bias_v=lambda b, t: _bias(b, t - 1)),
            "the bias correction uses the current step t (counted from 1)"),
    mistake("6.2", "t-plus-1", adam(bias_m=lambda b, t: _bias(b, t + 1), bias_v=lambda b, t: _bias(b, t + 1)),
            "not t + 1"),
    mistake("6.2", "old-moments", adam(old_moments=True), "use the *new* moments"),
    # 6.3 inverse-time schedule
    mistake("6.3", "no-lr0-in-denominator", inverse_time(lambda t, lr0, lam: lr0 / (1 + lam * t)),
            "you left η₀ out of the denominator"),
    mistake("6.3", "t-plus-1", inverse_time(lambda t, lr0, lam: lr0 / (1 + lr0 * lam * (t + 1))),
            "use t as given, not t + 1"),
    mistake("6.3", "increasing", inverse_time(lambda t, lr0, lam: lr0 * (1 + lr0 * lam * t)),
            "the rate should *decrease*"),
    mistake("6.3", "squared", inverse_time(lambda t, lr0, lam: lr0 / (1 + lr0 * lam * t) ** 2), "not its square"),
    mistake("6.3", "array-for-a-number", inverse_time(as_array=lambda t, dtype: np.atleast_1d(np.asarray(t, dtype))),
            "accept a single number t"),
    # 7.1 Metropolis
    mistake("7.1", "no-min", acceptance(lambda c, T, k: np.exp(-c / (k * T))), "Some probabilities are above 1"),
    mistake("7.1", "sign", acceptance(lambda c, T, k: np.exp(np.minimum(c, 0) / (k * T))),
            "Wrong sign in the exponent"),
    mistake("7.1", "no-k", acceptance(lambda c, T, k: np.exp(-np.maximum(c, 0) / T)), "ignores k"),
    mistake("7.1", "no-T", acceptance(lambda c, T, k: np.exp(-np.maximum(c, 0) / k)), "ignores the temperature T"),
    mistake("7.1", "times-kT", acceptance(lambda c, T, k: np.exp(-np.maximum(c, 0) * k * T)),
            "the exponent is −c divided by the product k·T"),
    mistake("7.1", "T-over-k", acceptance(lambda c, T, k: np.exp(-np.maximum(c, 0) / k * T)),
            "the exponent is −c divided by the product k·T"),
    mistake("7.1", "overflows", acceptance(lambda c, T, k: np.minimum(1, np.exp(-c / (k * T)))),
            "Your function raised a NumPy warning"),
    mistake("7.1", "nan-for-huge-c", acceptance_by_ratio, "must be exactly 1"),
    # 7.2 Cauchy step
    mistake("7.2", "tan-u", cauchy(lambda u, T, rho: rho * T * np.tan(u)), "You used tan(u) directly"),
    mistake("7.2", "not-centred", cauchy(lambda u, T, rho: rho * T * np.tan(np.pi * u)), "the angle must be centred"),
    mistake("7.2", "sign", cauchy(lambda u, T, rho: -rho * T * np.tan(np.pi * (u - 0.5))), "the wrong sign"),
    mistake("7.2", "no-rho", cauchy(lambda u, T, rho: T * np.tan(np.pi * (u - 0.5))), "Your step ignores ρ"),
    mistake("7.2", "no-T", cauchy(lambda u, T, rho: rho * np.tan(np.pi * (u - 0.5))), "ignores the temperature T"),
    # 7.3 cooling schedules
    mistake("7.3", "log-t", cooling(boltzmann=np.log), "you used log(t)"),
    mistake("7.3", "log10", cooling(boltzmann=lambda t: np.log10(1 + t)), "not log10"),
    mistake("7.3", "cauchy-t", cooling(cauchy_rule=lambda T0, t: T0 / t), "not T0 / t"),
    mistake("7.3", "unknown-accepted", cooling(unknown=None), "should raise ValueError"),
    mistake("7.3", "unknown-KeyError", cooling(unknown=KeyError), "raised KeyError; expected ValueError"),
    # 8.1 L2 step
    mistake("8.1", "one-value", lambda *args: l2_step()(*args)[0], "should return 2 values"),
    mistake("8.1", "in-place", l2_in_place, "changed its argument `W` in place"),
    mistake("8.1", "no-decay", l2_step(lambda W, dW, eta, lam, n: W - eta * dW), "your W ignores the penalty"),
    mistake("8.1", "notes-formula", l2_step(lambda W, dW, eta, lam, n: eta * lam / n - eta * dW),
            "the decay term must multiply W"),
    mistake("8.1", "constant-decay", l2_step(lambda W, dW, eta, lam, n: W - eta * dW - eta * lam / n),
            "you subtracted the constant ηλ/n"),
    mistake("8.1", "no-n", l2_step(lambda W, dW, eta, lam, n: (1 - eta * lam) * W - eta * dW), "divide λ by n"),
    mistake("8.1", "no-eta", l2_step(lambda W, dW, eta, lam, n: (1 - lam / n) * W - eta * dW), "you left out η"),
    mistake("8.1", "decay-sign", l2_step(lambda W, dW, eta, lam, n: (1 + eta * lam / n) * W - eta * dW),
            "the sign of the decay is wrong"),
    mistake("8.1", "uphill", l2_step(lambda W, dW, eta, lam, n: (1 - eta * lam / n) * W + eta * dW),
            "you stepped uphill"),
    mistake("8.1", "half", l2_step(lambda W, dW, eta, lam, n: (1 - eta * lam / (2 * n)) * W - eta * dW),
            "the ½ cancels the 2"),
    mistake("8.1", "bias-decayed", l2_step(b_rule=lambda b, db, eta, lam, n: (1 - eta * lam / n) * b - eta * db),
            "the biases are not penalized", 0.5),
    mistake("8.1", "bias-uphill", l2_step(b_rule=lambda b, db, eta, lam, n: b + eta * db), "(Your W is right.)", 0.5),
    # 8.2 dropout
    mistake("8.2", "in-place", dropout_in_place, "changed its argument `a` in place"),
    mistake("8.2", "no-rescale", dropout(lambda a, mask, p: a * mask), "you did not rescale"),
    mistake("8.2", "divided-by-p", dropout(lambda a, mask, p: a * mask / p), "you divided by p"),
    mistake("8.2", "test-time-scaling", dropout(lambda a, mask, p: a * mask * (1 - p)), "you multiplied by 1 − p"),
    mistake("8.2", "inverted-mask", dropout(lambda a, mask, p: a * ~mask / (1 - p)), "the mask is inverted"),
    mistake("8.2", "no-mask", dropout(lambda a, mask, p: a / (1 - p)), "you forgot to apply the mask"),
    mistake("8.2", "no-backward", dropout(), "pass your backward function too", 0.5),
    mistake("8.2", "backward-no-rescale", dropout(), "you left out the 1/(1 − p). (Your forward pass is right.)", 0.5,
            backward=lambda g, mask, p: g * mask),
    mistake("8.2", "backward-no-mask", dropout(), "a dropped unit did not affect the cost", 0.5,
            backward=lambda g, mask, p: g),
    mistake("8.2", "backward-other", dropout(), "(Your forward pass is right.)", 0.5,
            backward=lambda g, mask, p: g * mask / p),
    # 8.3 batch norm
    mistake("8.3", "two-values", lambda *args: batchnorm()(*args)[:2], "should return 3 values"),
    mistake("8.3", "in-place", batchnorm_in_place, "changed its argument `z` in place"),
    mistake("8.3", "stats-per-example", batchnorm(mu=lambda z: z.mean(axis=1)), "has one value per example"),
    mistake("8.3", "var-ddof-1", batchnorm(var=lambda z: z.var(axis=0, ddof=1)), "your variance divides by B − 1"),
    mistake("8.3", "std", batchnorm(var=lambda z: z.std(axis=0)), "you returned the standard deviation"),
    # seeds drawing eps = 0.1 or 1e-3, large enough to tell √σ², √σ² + ε and √(σ² + ε) apart
    mistake("8.3", "no-eps", batchnorm(zhat=lambda z, g, b, eps: g * _centred(z) / z.std(axis=0) + b),
            "add ε inside the square root", 0.5),
    mistake("8.3", "eps-outside", batchnorm(zhat=lambda z, g, b, eps: g * _centred(z) / (z.std(axis=0) + eps) + b),
            "ε goes inside the square root", 0.5),
    mistake("8.3", "by-variance", batchnorm(zhat=lambda z, g, b, eps: g * _centred(z) / (z.var(axis=0) + eps) + b),
            "not by the variance", 0.5),
    mistake("8.3", "u-only", batchnorm(zhat=lambda z, g, b, eps: _bn_zhat(z, 1.0, 0.0, eps)), "you returned u", 0.5),
    mistake("8.3", "gamma-beta-swapped", batchnorm(zhat=lambda z, g, b, eps: _bn_zhat(z, b, g, eps)),
            "γ and β are swapped", 0.5),
    mistake("8.3", "unbiased-variance",
            batchnorm(zhat=lambda z, g, b, eps: g * _centred(z) / np.sqrt(z.var(axis=0, ddof=1) + eps) + b),
            "normalize with the biased variance", 0.5),
    mistake("8.3", "rows", batchnorm(zhat=lambda z, g, b, eps: _bn_zhat(z.T, 1.0, 0.0, eps).T * g + b),
            "you normalized each row", 0.5),
    mistake("8.3", "zhat-other", batchnorm(zhat=lambda z, g, b, eps: _bn_zhat(z, g, -b, eps)),
            "(Your mu and var are right.)", 0.5),
]

EXERCISES = sorted(i for i in registry.all_exercises() if 1 <= int(i.split(".")[0]) <= 8)


def test_every_exercise_of_chapters_1_to_8_has_a_right_answer_and_mistakes():
    assert sorted(RIGHT) == EXERCISES
    assert sorted({p.values[0] for p in MISTAKES}) == EXERCISES


@pytest.mark.parametrize("exercise", EXERCISES)
def test_right_answer_passes_with_full_credit(exercise):
    """On a few seeds, on every seed a mistake of the exercise is tested with, and on regression seeds."""
    fns, kwargs = RIGHT[exercise]
    seeds = {0, 1, 2, 3, *REGRESSION_SEEDS.get(exercise, ())}
    seeds.update(seed for p in MISTAKES if p.values[0] == exercise for seed in p.values[5])
    for seed in sorted(seeds):
        result = outcome(exercise, fns, kwargs, seed)
        assert (result.status, result.message, result.credit) == (PASSED, "", 1.0), f"seed {seed}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the mistakes' own (a checker may still catch them)
@pytest.mark.parametrize("exercise, fns, kwargs, phrase, credit, seeds", MISTAKES)
def test_mistake_gets_its_hint(exercise, fns, kwargs, phrase, credit, seeds):
    for seed in seeds:
        result = outcome(exercise, fns, kwargs, seed)
        assert (result.status, result.credit) == ("failed", credit), f"seed {seed}: {result.message}"
        assert phrase in result.message, f"seed {seed}"
