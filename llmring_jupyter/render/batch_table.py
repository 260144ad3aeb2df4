"""What a ``--batch`` cell shows: one line per provider batch (id, status, counts, age, cost).

The same table serves the live view, the static output once every batch has ended and
``%llm batches``. Every value is escaped; ids and the provider's notes are text, never markup.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence

from ..providers.batch.jobs import BatchJob
from .footer import FOOTER_STYLE, dollars

#: What the output's metadata is keyed by: the notebook keeps its batches with it.
METADATA_KEY = "llmring_jupyter"


def age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def cost(job: BatchJob) -> str:
    if job.cost is None:
        return "cost unknown"
    return dollars(job.cost) + (" (estimated)" if job.cost_estimated else "")


def job_line(job: BatchJob) -> str:
    """``openai batch_abc · in_progress · 3 succeeded, 7 pending · 2 min · $0.0100 (estimated)``."""
    parts = [f"{job.model} {job.id}", job.status, str(job.counts), age(time.time() - job.created_at), cost(job)]
    return " · ".join(parts) + (f" · {job.note}" if job.note else "")


def batch_bundle(
    jobs: Sequence[BatchJob], note: str | None = None, head: str = "", empty: str = "no batch was submitted"
) -> dict[str, str]:
    """The batches as HTML lines and plain text, under ``head`` (a map's summary, once it ended)."""
    lines = [job_line(j) for j in jobs] or [empty]
    if note:
        lines.append(note)
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    body = f'<ul class="llmring-batches" style="{FOOTER_STYLE}">{items}</ul>'
    return {"text/html": head + body, "text/plain": "\n".join(lines)}


def metadata(jobs: Sequence[BatchJob]) -> dict[str, dict[str, object]]:
    """The cell output's metadata: the batch ids and states travel with the saved notebook."""
    return {METADATA_KEY: {"batches": [j.to_dict() for j in jobs]}}
