"""A reasoning model's thinking as the user sees it: a section per phase, where it came.

While it thinks the live view shows the section open, its text streaming (js/think.js);
when the answer's text begins it collapses to one line ("Thought for 14 s · 2,310
reasoning tokens") that opens on a click. The static answer shows each phase as that
collapsed line, a ``<details>`` that GitHub, nbviewer and nbconvert open without
script. The thinking is model output, untrusted: it is rendered as the answer's text
is (:mod:`.markdown`), and its line is escaped.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from ..result import Thought
from .markdown import answer_html

#: How a section looks: one file, read here and by js/think.js, so the switch moves nothing.
LOOK = json.loads((Path(__file__).parent / "think_look.json").read_text(encoding="utf-8"))


def view_message(thought: Thought) -> dict[str, Any]:
    """The live view's message for a phase (see js/think.js), upserted by id; its text comes as deltas."""
    return {
        "kind": "thought",
        "id": thought.key,
        "at": thought.at,
        "done": thought.seconds is not None or thought.at_end,
        "label": thought.label(),
        "hidden": thought.at_end and not thought.text,
    }


def block_html(thought: Thought) -> str:
    """One phase, collapsed: its line; open it for the thinking, markdown whatever the answer's format."""
    line = html.escape(thought.label())
    if not thought.text:  # billed, not shown: the line alone
        line = f'<span style="{LOOK["summary_style"]}">{line}</span>'
        return f'<div class="llmring-think" style="{LOOK["block_style"]}">{line}</div>'
    return (
        f'<details class="llmring-think" style="{LOOK["block_style"]}"><summary style="{LOOK["summary_style"]}">'
        f'{line}</summary><div class="llmring-think-text" style="{LOOK["text_style"]}">{answer_html(thought.text)}'
        "</div></details>"
    )


def block_text(thought: Thought) -> str:
    """One phase in plain text: its line, then its thinking quoted."""
    quoted = "\n".join(f"> {line}" if line else ">" for line in thought.text.splitlines())
    return f"💭 {thought.label()}" + (f"\n{quoted}" if quoted else "")
