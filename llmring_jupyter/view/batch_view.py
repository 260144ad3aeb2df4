"""The view of a ``--batch`` run: one output, updated as the batches are polled, then the summary.

Polling happens on the background answers' thread; updating a display by its id from there lands
in the asking cell's output (the task keeps that cell's context). The output's metadata carries the
batch ids, so a saved notebook records which batches its cell made.
"""

from __future__ import annotations

import sys
from typing import Any

from ..map_result import BatchMapResult
from ..providers.batch.jobs import BatchJob
from ..render.batch_table import batch_bundle, job_line, metadata
from ..render.map_summary import map_bundle


class DisplayBatchView:
    """In a notebook: a display updated in place (no widget: it must outlive the kernel as it is)."""

    def __init__(self, model: str) -> None:
        from IPython.display import display

        self.model = model
        self._handle: Any = display({"text/plain": f"{model} · submitting the batch…"}, raw=True, display_id=True)

    def update(self, jobs: tuple[BatchJob, ...], note: str | None) -> None:
        self._handle.update(batch_bundle(jobs, note), raw=True, metadata=metadata(jobs))

    def finish(self, result: BatchMapResult, jobs: tuple[BatchJob, ...], note: str | None) -> None:
        summary = map_bundle(result, self.model)
        data = batch_bundle(jobs, note, head=summary["text/html"])
        data["text/plain"] = summary["text/plain"] + "\n" + data["text/plain"]
        self._handle.update(data, raw=True, metadata=metadata(jobs))


class TerminalBatchView:
    """In a terminal: a line per batch when submitted, and the summary once they end."""

    def __init__(self, model: str) -> None:
        self.model = model

    def update(self, jobs: tuple[BatchJob, ...], note: str | None) -> None:
        pass

    def finish(self, result: BatchMapResult, jobs: tuple[BatchJob, ...], note: str | None) -> None:
        for line in [job_line(j) for j in jobs] + ([note] if note else []):
            print(line, file=sys.stdout)
