"""Pytest set-up shared by ``tests/``, ``notebooks/`` and ``solutions/``.

nbval starts one Jupyter kernel per notebook. Under pytest-xdist two workers may start kernels at
the same moment, and a kernel can then die before it answers ("Kernel died before replying to
kernel_info"): each kernel picks its TCP ports by asking the system for free ones and releasing
them, so two kernels starting together can both pick the same port. The failure is in the start-up,
not in the notebook, so kernel start-up is retried a few times before the notebook is failed.
"""

from __future__ import annotations

import time

KERNEL_START_ATTEMPTS = 3


def retry_kernel_start(start, attempts: int = KERNEL_START_ATTEMPTS, pause: float = 1.0):
    """``start`` (nbval's ``start_new_kernel``) retried up to ``attempts`` times on a failed start-up."""

    def start_new_kernel(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError:
                if attempt == attempts:
                    raise
                time.sleep(pause * attempt)

    return start_new_kernel


def pytest_configure(config):
    try:
        import nbval.kernel
    except ImportError:  # nbval is a dev dependency: without it there are no notebook tests to protect
        return
    nbval.kernel.start_new_kernel = retry_kernel_start(nbval.kernel.start_new_kernel)
