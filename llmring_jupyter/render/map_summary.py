"""What a ``--map`` cell shows once it ends: one line of counts, and a preview of the first rows.

Every value in the preview is model output (or the user's data), escaped by :mod:`.data` like any
JSON answer: no links, no scripts, inline styles only.
"""

from __future__ import annotations

import html
from typing import Any

from ..map_result import MapResult
from .data import value_html
from .footer import FOOTER_STYLE, dollars

PREVIEW_ROWS = 5
PREVIEW_CHARS = 200  # of a text answer, in the preview


def summary_line(result: MapResult) -> str:
    """``12 rows · 11 answered · 1 failed · 3 replayed · 1,234 tokens · $0.0100 · 4.2 s``."""
    failed = len(result.errors)
    parts = [f"{len(result):,} rows", f"{len(result) - failed:,} answered"]
    if failed:
        parts.append(f"{failed:,} failed or not run")
    if result.replayed:
        parts.append(f"{result.replayed:,} replayed (no cost)")
    if result.usage is not None:
        parts.append(f"{result.usage.total_tokens:,} tokens")
    if result.cost is not None:
        parts.append(dollars(result.cost))
    parts.append(f"{result.timings.total:.1f} s")
    if result.stopped:
        parts.append(f"ended early: {result.stopped}")
    return " · ".join(parts)


def map_bundle(result: MapResult, model: str) -> dict[str, str]:
    """The static output of a map: its summary, the first rows as a table, the first errors."""
    line = f"{model} · map · {summary_line(result)}"
    records = [_cut(r) for r in result.records(PREVIEW_ROWS)]
    more = len(result) - len(records)
    errors = list(result.errors.items())[:3]
    error_html = "".join(f"<li>row {i}: {html.escape(why)}</li>" for i, why in errors)
    parts = [
        f'<div class="llmring-map">{value_html(records)}',
        f'<div style="{FOOTER_STYLE}">… {more:,} more rows in _llm (_llm.to_pandas())</div>' if more > 0 else "",
        f'<ul style="{FOOTER_STYLE}">{error_html}</ul>' if errors else "",
        f'<div class="llmring-footer" style="{FOOTER_STYLE}">{html.escape(line)}</div></div>',
    ]
    plain = "\n".join([*(f"{i}: {r}" for i, r in enumerate(records)), *(f"row {i}: {w}" for i, w in errors), line])
    return {"text/html": "".join(parts), "text/plain": plain}


def _cut(record: dict[str, Any]) -> dict[str, Any]:
    text = record.get("text")
    if isinstance(text, str) and len(text) > PREVIEW_CHARS:
        record = {**record, "text": text[: PREVIEW_CHARS - 1] + "…"}
    return record
