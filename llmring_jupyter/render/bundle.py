"""The static answer that replaces the live view when a stream ends.

It must read well with no widget JavaScript (saved notebooks, GitHub,
nbconvert, a restarted kernel) and be safe although the text is untrusted
(see :mod:`.markdown`).
"""

from __future__ import annotations

import html
from typing import Any

from ..result import Result
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
    else:
        body, plain = answer_html(result.text, fmt), result.text
    data = {
        "text/html": f'<div class="{RULES["answer_class"]}">{body}</div>'
        f'<div class="llmring-footer" style="{FOOTER_STYLE}">{html.escape(foot)}</div>',
        "text/plain": f"{plain}\n\n— {foot}",
    }
    return data, {"llmring": provenance(result)}
