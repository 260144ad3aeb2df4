"""The static answer that replaces the live view when a stream ends.

It must read well with no widget JavaScript (saved notebooks, GitHub,
nbconvert, a restarted kernel) and be safe although the text is untrusted
(see :mod:`.markdown`).
"""

from __future__ import annotations

import html
from typing import Any

from ..result import Result
from . import tool_calls
from .data import json_answer
from .footer import FOOTER_STYLE, footer_text
from .markdown import answer_html
from .provenance import provenance
from .rules import RULES


def bundle(result: Result, *, fmt: str = "markdown") -> tuple[dict[str, str], dict[str, Any]]:
    """The display data (HTML + plain text) and provenance metadata of an answer."""
    foot = footer_text(result)
    if fmt == "json":  # --schema / --json: the value, as a table or a tree
        body, plain = json_answer(result)
    else:  # tool calls, if any, where they happened, between the pieces of text
        runs = result.tool_calls
        body = tool_calls.answer_html(result.text, runs, lambda text: answer_html(text, fmt))
        plain = tool_calls.answer_text(result.text, runs) if runs else result.text
    data = {
        "text/html": f'<div class="{RULES["answer_class"]}">{body}</div>'
        f'<div class="llmring-footer" style="{FOOTER_STYLE}">{html.escape(foot)}</div>',
        "text/plain": f"{plain}\n\n— {foot}",
    }
    return data, {"llmring": provenance(result)}
