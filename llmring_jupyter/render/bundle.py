"""The static answer that replaces the live view when a stream ends.

It must read well with no widget JavaScript (saved notebooks, GitHub,
nbconvert, a restarted kernel) and be safe although the text is untrusted
(see :mod:`.markdown`).
"""

from __future__ import annotations

import html
from typing import Any

from ..result import Result, answer_text
from . import blocks
from .data import json_answer
from .footer import FOOTER_STYLE, footer_text
from .markdown import answer_html
from .provenance import provenance
from .rules import RULES


def bundle(result: Result, *, fmt: str = "markdown") -> tuple[dict[str, str], dict[str, Any]]:
    """The display data (HTML + plain text) and provenance metadata of an answer."""
    foot = footer_text(result)
    shown, text = blocks.of(result), result.text
    value: tuple[str, str] | None = None
    if fmt == "json":  # --schema / --json: the value, as a table or a tree, after any steps that called tools
        answer = answer_text(result)
        text, value = text.removesuffix(answer), json_answer(answer, result)
    prose = "markdown" if fmt == "json" else fmt  # text besides the JSON: what a tool-calling step wrote
    # tool calls and thinking, if any, where they happened, between the pieces of text
    body = blocks.answer_html(text, shown, lambda part: answer_html(part, prose))
    plain = blocks.answer_text(text, shown) if shown else text
    if value is not None:
        body, plain = body + value[0], "\n\n".join(p for p in (plain, value[1]) if p)
    data = {
        "text/html": f'<div class="{RULES["answer_class"]}">{body}</div>'
        f'<div class="llmring-footer" style="{FOOTER_STYLE}">{html.escape(foot)}</div>',
        "text/plain": f"{plain}\n\n— {foot}",
    }
    return data, {"llmring": provenance(result)}
