"""What the extension costs before and around the first answer, and over a long session.

- ``%load_ext llmring_jupyter`` in a fresh kernel (timed inside the kernel).
- The first cell's overhead: client-observed time from the execute request to
  the first delta, minus the provider's own time to first token (adapter call →
  first chunk, measured in the kernel); the second cell shows the warm figure.
- Kernel RSS after N short ``%%llm`` cells (with the default conversation
  history, as a user runs them) against N plain cells in another fresh kernel.
"""

from __future__ import annotations

import statistics
from typing import Any

import measures
import probe
from capture import BenchKernel


def _first_delta_overhead(k: BenchKernel, delay: float) -> dict[str, float]:
    run, sent = k.run(probe.llm_cell(20, delay))
    if not run.ok:
        raise RuntimeError(run.error)
    rep = k.report()
    first = next(m["wire"]["t"] for m in run.messages if (c := measures.custom(m)) and c.get("kind") == "delta")
    provider_ttft = rep["produced"][0][0] - rep["called"][0]
    seen = first - sent
    return {
        "to_first_delta_ms": seen * 1e3,
        "provider_ttft_ms": provider_ttft * 1e3,
        "overhead_ms": (seen - provider_ttft) * 1e3,
    }


def load_and_first_cell(runs: int, delay: float = 0.02) -> dict[str, Any]:
    """Median over ``runs`` fresh kernels of load_ext time and first/second-cell overheads."""
    loads, first, second = [], [], []
    for _ in range(runs):
        with BenchKernel() as k:
            loads.append(float(k.must(probe.LOAD_EXT_TIMED).stdout.strip()) * 1e3)
            k.setup(load_ext=False)
            first.append(_first_delta_overhead(k, delay))
            second.append(_first_delta_overhead(k, delay))

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    return {
        "runs": runs,
        "load_ext_ms": {"median": statistics.median(loads), "all": loads},
        "first_cell": {key: med(first, key) for key in first[0]},
        "second_cell": {key: med(second, key) for key in second[0]},
    }


def memory(cells: int) -> dict[str, Any]:
    """Kernel RSS growth over ``cells`` short %%llm cells vs as many plain cells (each after a warm-up)."""
    plain = "print('a short answer from a plain cell ' * 3)"
    out: dict[str, Any] = {"cells": cells}
    for name, code in (("llm", probe.llm_cell(20, 0, history=True)), ("plain", plain)):
        with BenchKernel() as k:
            k.setup(install=False)  # the probe's own records would grow too
            k.must(code)  # warm-up: first-use imports are not growth
            before = k.rss()
            for _ in range(cells):
                k.must(code)
            after = k.rss()
        out[name] = {
            "rss_before_mb": before / 2**20,
            "rss_after_mb": after / 2**20,
            "growth_kb_per_cell": (after - before) / 1024 / cells,
        }
    out["extra_growth_kb_per_cell"] = out["llm"]["growth_kb_per_cell"] - out["plain"]["growth_kb_per_cell"]
    return out
