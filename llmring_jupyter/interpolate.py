"""``{{name}}`` in a prompt pulls in a notebook variable; everything else is literal.

Single braces are left alone (pasted code, JSON and f-strings are common in
prompts, and ``str.format`` breaks on them), and ``\\{{`` escapes the syntax.
Only names and attribute paths are looked up, never evaluated as code.
Values are rendered for a model to read: a DataFrame as its shape, dtypes and
first rows rather than its full repr, and anything long cut with a marker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import UsageError

_PLACEHOLDER = re.compile(r"(\\?)\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
DEFAULT_MAX_CHARS = 4_000
HEAD_ROWS = 5


def interpolate(prompt: str, namespace: Mapping[str, Any], max_chars: int = DEFAULT_MAX_CHARS) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match.group(1):  # \{{name}} → {{name}}, sent as written
            return match.group(0)[1:]
        return render_value(_lookup(match.group(2), namespace), max_chars)

    return _PLACEHOLDER.sub(substitute, prompt)


def _lookup(path: str, namespace: Mapping[str, Any]) -> Any:
    name, *attributes = path.split(".")
    if name not in namespace:
        raise UsageError(
            f"{{{{{path}}}}} names no variable {name!r}: define it first, "
            f"or write \\{{{{{path}}}}} to send the braces as they are."
        )
    value = namespace[name]
    for i, attribute in enumerate(attributes):
        try:
            value = getattr(value, attribute)
        except AttributeError:
            owner = ".".join([name, *attributes[:i]])
            raise UsageError(f"{{{{{path}}}}}: {owner} has no attribute {attribute!r}.") from None
    return value


def render_value(value: Any, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Text a model can read, at most about ``max_chars`` long."""
    kind = type(value)
    if kind.__module__.startswith("pandas") and kind.__name__ == "DataFrame":
        text = _dataframe(value)
    elif kind.__module__.startswith("pandas") and kind.__name__ == "Series":
        text = _dataframe(value.to_frame())
    elif isinstance(value, str):
        text = value
    else:
        text = repr(value)
    return _truncate(text, max_chars)


def _dataframe(df: Any) -> str:
    rows, columns = df.shape
    dtypes = ", ".join(f"{name}: {dtype}" for name, dtype in df.dtypes.items())
    head = df.head(HEAD_ROWS).to_csv(index=True).strip()
    more = f"\n… ({rows - HEAD_ROWS:,} more rows)" if rows > HEAD_ROWS else ""
    return f"DataFrame with {rows:,} rows × {columns:,} columns\ncolumns: {dtypes}\nfirst rows (CSV):\n{head}{more}"


def _truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}\n… [truncated: {len(text) - max_chars:,} more characters]"
