"""The code of an answer, for ``--format code`` (the cell it fills and the block it shows)."""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)


def code_of(text: str) -> str:
    """The code in an answer: its fenced blocks joined, or the whole text if it has none."""
    blocks = _FENCE.findall(text)
    return "\n".join(b.rstrip("\n") for b in blocks) if blocks else text.strip()
