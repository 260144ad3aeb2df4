"""Put tests/ on sys.path: the benchmark reuses the suite's kernel driver and wire server."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TESTS = BENCH.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
