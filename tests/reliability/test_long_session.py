"""Three hundred ``%%llm`` cells in one kernel: memory stays flat, every widget comm is
closed, and the conversation keeps only what the user kept (re-run cells replace their
turn; ``--no-history`` keeps nothing)."""

from __future__ import annotations

from typing import Any

from kernel_providers import value
from kernel_session import Kernel

CELLS = 300
CELL_IDS = 3  # the same three notebook cells, re-run again and again
GROWTH_BOUND_MB = 30

RSS = (
    "import gc, os\ngc.collect()\n"
    "print(int(open(f'/proc/{os.getpid()}/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE'))"
)
TURNS = "{c.name: len(c.turns) for c in get_ipython().magics_manager.registry['LLMMagics'].session.conversations}"


def _rss(kernel: Kernel) -> int:
    run = kernel.run(RSS)
    assert run.ok, run.error
    return int(run.stdout)


def test_three_hundred_cells_keep_memory_flat_and_turns_bounded(kernel: Kernel, figures: dict[str, Any]) -> None:
    assert kernel.run("%llm reset").ok
    opened: set[str] = set()
    closed: set[str] = set()
    rss: dict[int, int] = {}
    for n in range(1, CELLS + 1):
        history = "--no-history " if n % 10 == 0 else ""
        run = kernel.run(f"%%llm demo {history}-o delay=0\nQuestion {n % CELL_IDS}", cell_id=f"cell-{n % CELL_IDS}")
        assert run.ok, run.error
        opened |= run.answer_comms[0]  # the view and any child
        closed |= run.answer_comms[1]
        if n in (50, CELLS):
            rss[n] = _rss(kernel)
    growth_mb = (rss[CELLS] - rss[50]) / 2**20
    assert growth_mb < GROWTH_BOUND_MB, f"RSS grew {growth_mb:.1f} MB from cell 50 to {CELLS}"
    assert len(opened) >= CELLS, "every answer had a live view"
    kernel.wait_closed(opened, closed)  # and every one was closed
    assert value(kernel, TURNS) == {"default": CELL_IDS}, "re-runs replace their turn; --no-history keeps none"
    figures["long_session"] = {
        "cells": CELLS,
        "rss_after_50_mb": round(rss[50] / 2**20, 1),
        f"rss_after_{CELLS}_mb": round(rss[CELLS] / 2**20, 1),
        "growth_mb": round(growth_mb, 2),
        "bound_mb": GROWTH_BOUND_MB,
    }
