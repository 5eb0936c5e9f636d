"""Two-dimensional test surfaces for optimizer races, and ``trajectory`` to run one.

Each surface ``f`` takes points as an array whose last axis holds ``(x, y)``:
``f(points) -> values``, ``f.grad(points) -> gradients`` (same shape as ``points``) and
``f.hessian(point) -> 2×2``. ``f.grid(n)`` returns ``X, Y, Z`` ready for ``plt.contour``.

``trajectory(lambda ps: Adam(ps, lr=0.1), Rosenbrock(), start=(-1.5, 2), steps=500)`` wraps the
point in a ``Parameter``, so every optimizer class of ``coursepkg.optim`` runs unchanged.
"""

from __future__ import annotations

import numpy as np

from ..nn.module import Parameter


class Surface:
    """A cost ``f(x, y)`` with its gradient and Hessian; subclasses implement ``_f``, ``_grad``
    and ``_hessian`` on the coordinates ``x, y`` (arrays of any matching shape)."""

    minimum: tuple[float, float] | None = None  # the global minimiser, if there is one
    bounds: tuple[tuple[float, float], tuple[float, float]] = ((-2.0, 2.0), (-2.0, 2.0))

    @staticmethod
    def _xy(points) -> tuple[np.ndarray, np.ndarray]:
        points = np.asarray(points, dtype=np.float64)
        if points.shape[-1:] != (2,):
            raise ValueError(
                f"surface: points need a last axis of size 2 holding (x, y), received shape "
                f"{points.shape}."
            )
        return points[..., 0], points[..., 1]

    def __call__(self, points) -> np.ndarray:
        return self._f(*self._xy(points))

    def grad(self, points) -> np.ndarray:
        gx, gy = self._grad(*self._xy(points))
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def hessian(self, point) -> np.ndarray:
        return np.asarray(self._hessian(*self._xy(np.ravel(point))), dtype=np.float64)

    def grid(self, n: int = 200, bounds=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``X, Y, Z`` on an ``n × n`` grid over ``bounds = ((x0, x1), (y0, y1))``."""
        (x0, x1), (y0, y1) = bounds if bounds is not None else self.bounds
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self._f(X, Y)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in vars(self).items())})"


class QuadraticBowl(Surface):
    """An elongated convex bowl ``f = ½ (a x² + b y²)`` with minimum 0 at the origin.

    The condition number ``b/a`` sets how badly plain gradient descent zig-zags: the step must be
    below ``2/b`` to be stable along ``y`` but then crawls along ``x`` at rate ``η a``.
    """

    minimum = (0.0, 0.0)

    def __init__(self, a: float = 1.0, b: float = 10.0):
        self.a, self.b = a, b
        self.bounds = ((-5.0, 5.0), (-3.0, 3.0))

    def _f(self, x, y):
        return 0.5 * (self.a * x**2 + self.b * y**2)

    def _grad(self, x, y):
        return self.a * x, self.b * y

    def _hessian(self, x, y):
        return [[self.a, 0.0], [0.0, self.b]]


class Rosenbrock(Surface):
    """The banana valley ``f = (a − x)² + b (y − x²)²``, minimum 0 at ``(a, a²)``.

    Finding the valley is easy; following its curved, nearly flat floor is hard.
    """

    def __init__(self, a: float = 1.0, b: float = 100.0):
        self.a, self.b = a, b
        self.minimum = (a, a * a)
        self.bounds = ((-2.0, 2.0), (-1.0, 3.0))

    def _f(self, x, y):
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def _grad(self, x, y):
        r = y - x**2
        return -2 * (self.a - x) - 4 * self.b * x * r, 2 * self.b * r

    def _hessian(self, x, y):
        return [[2 - 4 * self.b * (y - 3 * x**2), -4 * self.b * x], [-4 * self.b * x, 2 * self.b]]


class Beale(Surface):
    """Beale's function ``f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²``,
    minimum 0 at ``(3, 0.5)``: flat plateaus and steep walls at very different scales."""

    minimum = (3.0, 0.5)
    bounds = ((-4.5, 4.5), (-4.5, 4.5))
    _c = (1.5, 2.25, 2.625)

    def _terms(self, x, y):
        return [(c - x + x * y**k, y**k - 1, k * x * y ** (k - 1)) for k, c in enumerate(self._c, 1)]

    def _f(self, x, y):
        return sum(r**2 for r, _, _ in self._terms(x, y))

    def _grad(self, x, y):
        terms = self._terms(x, y)
        return sum(2 * r * dx for r, dx, _ in terms), sum(2 * r * dy for r, _, dy in terms)

    def _hessian(self, x, y):
        # f = Σ r²  ⇒  ∂²f/∂u∂w = 2 Σ (∂r/∂u ∂r/∂w + r ∂²r/∂u∂w), with ∂²r/∂x² = 0,
        # ∂²r/∂x∂y = k yᵏ⁻¹ and ∂²r/∂y² = k(k−1) x yᵏ⁻² (zero for k = 1)
        hxx = hxy = hyy = 0.0
        for k, (r, dx, dy) in enumerate(self._terms(x, y), 1):
            hxx += 2 * dx * dx
            hxy += 2 * (dx * dy + r * k * y ** (k - 1))
            hyy += 2 * (dy * dy + (r * k * (k - 1) * x * y ** (k - 2) if k > 1 else 0.0))
        return [[hxx, hxy], [hxy, hyy]]


class Saddle(Surface):
    """The saddle ``f = ½ (a x² − b y²)``: a minimum along ``x``, a maximum along ``y``, no
    minimum at all. Started on the ridge ``y = 0`` gradient descent stalls at the origin; any
    tiny ``y`` (or gradient noise) lets it escape downhill."""

    def __init__(self, a: float = 1.0, b: float = 1.0):
        self.a, self.b = a, b

    def _f(self, x, y):
        return 0.5 * (self.a * x**2 - self.b * y**2)

    def _grad(self, x, y):
        return self.a * x, -self.b * y

    def _hessian(self, x, y):
        return [[self.a, 0.0], [0.0, -self.b]]


def trajectory(optimizer_factory, fn: Surface, start, steps: int = 100) -> np.ndarray:
    """Run an optimizer on the surface ``fn`` from ``start`` and return the visited points.

    ``optimizer_factory(params) -> optimizer`` receives ``[Parameter]`` holding the point (in
    float64), e.g. ``lambda ps: SGD(ps, lr=0.01, momentum=0.9)``. Each step sets the gradient
    ``fn.grad(point)`` and calls ``step()`` (``step(closure)`` for optimizers that need one, such
    as the annealers). Returns an array ``(k + 1, 2)``: the start and the point after each step;
    it stops early (``k < steps``) if the point becomes NaN or infinite (divergence).
    """
    point = Parameter(np.asarray(start, dtype=np.float64).reshape(2))
    opt = optimizer_factory([point])

    def closure() -> float:
        point.grad[...] = fn.grad(point.data)
        return float(fn(point.data))

    path = [point.data.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            closure()
            if getattr(opt, "needs_closure", False):
                opt.step(closure)
            else:
                opt.step()
            if not np.all(np.isfinite(point.data)):
                break
            path.append(point.data.copy())
    return np.array(path)
