"""A value as a model reads it: a DataFrame as its shape, dtypes and first rows, long text cut
with a marker, code in a fence no backticks inside can close.

Shared by ``{{name}}`` interpolation, attached files and the notebook's errors.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_MAX_CHARS = 4_000
HEAD_ROWS = 5


def render_value(value: Any, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Text a model can read, at most about ``max_chars`` long."""
    kind = type(value)
    hook = getattr(kind, "_llm_prompt_", None)
    if callable(hook):
        return str(hook(value))  # it chose its own text and bounds (the notebook's errors)
    if kind.__module__.startswith("pandas") and kind.__name__ == "DataFrame":
        text = _dataframe(value)
    elif kind.__module__.startswith("pandas") and kind.__name__ == "Series":
        text = _dataframe(value.to_frame())
    elif isinstance(value, str):
        text = value
    else:
        text = repr(value)
    return truncate(text, max_chars)


def fenced(text: str, info: str = "") -> str:
    """``text`` as a markdown code block whose fence no run of backticks inside it can close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def _dataframe(df: Any) -> str:
    rows, columns = df.shape
    dtypes = ", ".join(f"{name}: {dtype}" for name, dtype in df.dtypes.items())
    head = df.head(HEAD_ROWS).to_csv(index=True).strip()
    more = f"\n… ({rows - HEAD_ROWS:,} more rows)" if rows > HEAD_ROWS else ""
    return f"DataFrame with {rows:,} rows × {columns:,} columns\ncolumns: {dtypes}\nfirst rows (CSV):\n{head}{more}"


def truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}\n… [truncated: {len(text) - max_chars:,} more characters]"
