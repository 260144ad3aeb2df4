"""The code of an answer, for ``--format code`` (the cell it fills and the block it shows)."""

from __future__ import annotations

import re

from .rules import RULES

# The live view uses the same pattern, so a stream shows the code it will end with.
_FENCE = re.compile(RULES["code_fence"])


def code_of(text: str) -> str:
    """The code in an answer: its fenced blocks joined (an unclosed last one too), or the whole text if none."""
    blocks = _FENCE.findall(text)
    return "\n".join(b.rstrip("\n") for b in blocks) if blocks else text.strip()
