"""Tool calls as the user sees them: a block per call, where it happened in the answer.

The live view gets each block as a message (:func:`view_message`); the final,
static answer puts the blocks between the pieces of text (:mod:`.blocks`).
Names, arguments and results come from the model or the tool, so they are
untrusted: they reach the page only escaped, as text.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from ..result import ToolRun

#: How a block looks and what its states say: one file, read here and by js/tools.js.
LOOK = json.loads((Path(__file__).parent / "tool_look.json").read_text(encoding="utf-8"))
_SHOWN_CHARS = LOOK["shown_chars"]  # of a result, in the output; the model gets it whole


def view_message(run: ToolRun) -> dict[str, Any]:
    """The live view's message for a call (see js/tools.js): the whole block, upserted by id."""
    finished = run.status in ("done", "error", "skipped", "cancelled")
    return {
        "kind": "tool",
        "id": run.key,
        "at": run.at,
        "name": run.call.name,
        "arguments": run.call.arguments,
        "state": run.status,
        "result": _cut(run.shown()) if finished else None,
        "seconds": None if run.seconds is None else round(run.seconds, 3),
    }


def signature(run: ToolRun) -> str:
    """``get_weather(city="Paris")``: the call as the model made it, arguments as JSON values."""
    try:
        parsed = json.loads(run.call.arguments or "{}")
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):  # as js/tools.js writes it (JSON.stringify), so live and final agree
        args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False, separators=(',', ':'))}" for k, v in parsed.items())
    else:
        args = run.call.arguments
    return f"{run.call.name}({args})"


def summary(run: ToolRun) -> str:
    parts = [f"🔧 {signature(run)}"]
    if note := LOOK["states"].get(run.status, run.status):
        parts.append(note)
    if run.seconds is not None:
        parts.append(f"{run.seconds:.2f} s")
    return " · ".join(parts)


def block_html(run: ToolRun) -> str:
    """One call, collapsed: its signature and status; open it for the result."""
    return (
        f'<details class="llmring-tool" style="{LOOK["block_style"]}"><summary><code>{html.escape(summary(run))}</code>'
        f'</summary><pre style="{LOOK["result_style"]}">{html.escape(_cut(run.shown()))}</pre></details>'
    )


def block_text(run: ToolRun) -> str:
    result = _cut(run.shown()).replace("\n", "\n   ")
    return f"{summary(run)}\n → {result}"


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"
