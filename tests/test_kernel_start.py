"""The notebooks' kernels are started with retries (see the repository's ``conftest.py``)."""

import nbval.kernel
import pytest

from conftest import retry_kernel_start


def test_nbval_starts_kernels_through_the_retry():
    # nbval's RunningKernel looks start_new_kernel up in its module at call time: the patch is what it uses
    assert nbval.kernel.start_new_kernel.__qualname__.startswith("retry_kernel_start")


def test_a_failed_start_is_retried_and_a_persistent_failure_raised():
    calls = []

    def flaky(*args, **kwargs):
        calls.append((args, kwargs))
        if len(calls) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "manager", "client"

    assert retry_kernel_start(flaky, attempts=3, pause=0)("python", cwd="x") == ("manager", "client")
    assert calls == [(("python",), {"cwd": "x"})] * 3

    calls.clear()
    with pytest.raises(RuntimeError, match="kernel_info"):
        retry_kernel_start(flaky, attempts=2, pause=0)()
    assert len(calls) == 2
