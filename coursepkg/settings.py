"""Run-time settings shared by the notebooks.

``full_size()`` tells a notebook whether to run its long experiments at full size: it is
``True`` when the environment variable ``COURSEPKG_FULL`` is ``1``. Notebooks do::

    FULL = full_size()   # or set FULL = True by hand to reproduce the published numbers

and choose e.g. ``epochs = 30 if FULL else 3``. The test-suite runs the reduced size.
"""

from __future__ import annotations

import os


def full_size() -> bool:
    """True when ``COURSEPKG_FULL=1`` asks for full-size experiments."""
    return os.environ.get("COURSEPKG_FULL", "").strip() == "1"


def pick(reduced, full, full_run: bool | None = None):
    """``full`` when running at full size, else ``reduced`` (e.g. ``pick(3, 30)`` epochs)."""
    return full if (full_size() if full_run is None else full_run) else reduced
