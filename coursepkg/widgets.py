"""Interactive explorers for the notebooks, built on ipywidgets and :mod:`coursepkg.viz`.

``interactive_plot(draw, a=Slider(...), ...)`` calls ``draw(a=value, ...)`` whenever a control
moves. When there is no widget front-end (plain Python, ipywidgets missing, or the
environment variable ``COURSEPKG_STATIC_WIDGETS=1``), it degrades to one static call of
``draw`` with the controls' initial values — so the same cell works in JupyterLab, in a
terminal and under the test-suite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Slider:
    """A numeric control: initial ``value`` within ``[min, max]`` by ``step`` (ints give an IntSlider)."""

    value: float
    min: float
    max: float
    step: float | None = None
    description: str | None = None
    log: bool = False

    def __post_init__(self):
        if not (self.min <= self.value <= self.max):
            raise ValueError(f"Slider: value {self.value} is outside [{self.min}, {self.max}].")


@dataclass(frozen=True)
class Choice:
    """A drop-down control with ``options`` and an initial ``value`` (the first option by default)."""

    options: Sequence[Any]
    value: Any = None
    description: str | None = None

    @property
    def initial(self):
        return self.options[0] if self.value is None else self.value


def has_frontend() -> bool:
    """True inside a Jupyter kernel with ipywidgets installed (and widgets not switched off)."""
    if os.environ.get("COURSEPKG_STATIC_WIDGETS", "") == "1":
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _initial(control):
    if isinstance(control, Slider):
        return control.value
    if isinstance(control, Choice):
        return control.initial
    return control  # a fixed value


def _to_widget(name: str, control):
    import ipywidgets as w

    if isinstance(control, Slider):
        desc = control.description or name
        style = {"description_width": "initial"}
        if control.log:
            import math

            return w.FloatLogSlider(value=control.value, base=10, min=math.log10(control.min),
                                    max=math.log10(control.max), step=control.step or 0.1,
                                    description=desc, style=style, continuous_update=False)
        ints = all(isinstance(v, int) for v in (control.value, control.min, control.max))
        cls = w.IntSlider if ints and (control.step is None or isinstance(control.step, int)) else w.FloatSlider
        kwargs = dict(value=control.value, min=control.min, max=control.max, description=desc,
                      style=style, continuous_update=False)
        if control.step is not None:
            kwargs["step"] = control.step
        return cls(**kwargs)
    if isinstance(control, Choice):
        return w.Dropdown(options=list(control.options), value=control.initial,
                          description=control.description or name)
    return w.fixed(control)


def interactive_plot(draw: Callable[..., Any], **controls):
    """Show ``draw`` with a control per keyword; without a front-end, call it once statically.

    >>> interactive_plot(lambda w1, w2: plot_line(w1, w2), w1=Slider(1.0, -3, 3), w2=Slider(0.5, -3, 3))

    The widget is displayed (nothing is returned, so it is not shown twice); in static mode
    ``draw``'s result is returned.
    """
    if not has_frontend():
        return draw(**{name: _initial(c) for name, c in controls.items()})
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    def redraw(**values):
        draw(**values)
        plt.show()

    ui = w.interactive(redraw, **{name: _to_widget(name, c) for name, c in controls.items()})
    display(ui)
    return None
