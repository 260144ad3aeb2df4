"""Only tests marked ``kernel`` or ``browser`` may start a Jupyter kernel.

That is what keeps ``pytest -m "not kernel and not browser"`` quick: tests/conftest.py
names the running test in :data:`UNMARKED` when it carries neither marker, and every way
a test starts a kernel calls :func:`check` first: jupyter_client's launcher in the test
process (the harness's Kernel, nbclient), and Kernel and LabServer in the processes a
test runs (the benchmark scripts), which inherit the variable.
"""

from __future__ import annotations

import os

#: The environment variable naming the running test while it may start no kernel.
UNMARKED = "LLMRING_TEST_WITHOUT_KERNEL_MARKER"


class UnmarkedKernelTest(RuntimeError):
    """A test without the ``kernel`` (or ``browser``) marker started a kernel."""


def check(what: str) -> None:
    """Refuse to start ``what`` (a kernel, a Jupyter server) in a test that is not marked for it."""
    test = os.environ.get(UNMARKED)
    if test:
        raise UnmarkedKernelTest(
            f"{test} starts {what} but is marked neither `kernel` nor `browser`: put it under tests/kernel "
            "or tests/reliability, use the `kernel` fixture, or mark it with @pytest.mark.kernel"
        )
