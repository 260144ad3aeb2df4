"""Shared by the reliability suite: one wire server and one kernel per module, every
provider pointed at the server with sentinel keys, and the figures the suite measures.

Set ``LLMRING_FIGURES=path.json`` to have the run write what it counted (faults
injected and survived, stops, payloads, fuzz examples, memory growth) to that file;
each pytest-xdist worker (``-n``) writes its own share, ``path.gw0.json`` and so on.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_providers import wired_kernel
from kernel_session import Kernel
from wire_server import WireServer, serving

_figures: dict[str, Any] = defaultdict(dict)


@pytest.fixture(scope="module")
def wire() -> Iterator[WireServer]:
    yield from serving()


@pytest.fixture(scope="module")
def kernel(wire: WireServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    yield from wired_kernel(wire.url, tmp_path_factory.mktemp("reliability"))


@pytest.fixture(scope="session")
def figures() -> Iterator[dict[str, Any]]:
    yield _figures
    target = os.environ.get("LLMRING_FIGURES")
    if target:
        path, worker = Path(target), os.environ.get("PYTEST_XDIST_WORKER")
        if worker:  # one file per process: two workers writing one would keep only the last one's counts
            path = path.with_suffix(f".{worker}{path.suffix}")
        path.write_text(json.dumps(_figures, indent=1, sort_keys=True))
