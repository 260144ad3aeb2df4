from __future__ import annotations

from collections.abc import Iterator

import pytest
from kernel_session import Kernel


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """One kernel per test module, with the extension loaded and a quick demo model."""
    k = Kernel(cwd=tmp_path_factory.mktemp("kernel"), env={"LLMRING_DEMO_DELAY": "0.002"})
    assert k.run("%load_ext llmring_jupyter").ok
    yield k
    k.close()


@pytest.fixture
def slow(kernel: Kernel) -> Iterator[Kernel]:
    """The demo model at a human pace, for tests that act while it streams."""
    kernel.run("import os; os.environ['LLMRING_DEMO_DELAY'] = '0.05'")
    yield kernel
    kernel.run("os.environ['LLMRING_DEMO_DELAY'] = '0.002'")
