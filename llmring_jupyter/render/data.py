"""A JSON answer as the static output shows it: its value as a table or a tree, escaped.

A list of records (``list[Paper]``) reads best as a table, one row a record; an
object as a tree of keys and values; nested values inside either the same way.
Every key and value is model output, so each is escaped and nothing else is
emitted: no links, no scripts, inline styles only (sanitisers strip ``<style>``).
Long lists are shown in part, with how many were left out; ``_llm.data`` has all.
"""

from __future__ import annotations

import html
import json
from typing import Any

from ..result import Result

#: At most this many rows or items of one list are shown.
MAX_ITEMS = 200

_TABLE = "border-collapse:collapse;margin:2px 0;font-size:inherit"
_CELL = "border:1px solid rgba(127,127,127,.35);padding:2px 8px;text-align:left;vertical-align:top"
_HEAD = f"{_CELL};background:rgba(127,127,127,.1);font-weight:600"
_KEY = f"{_CELL};font-weight:600;white-space:nowrap"
_MUTED = "color:rgba(127,127,127,.95);font-style:italic"


def json_answer(text: str, result: Result) -> tuple[str, str]:
    """The HTML and plain text of a JSON answer (``text``): its validated value, else the text itself."""
    if result.shape is not None:
        value = result.shape.dump(result.data)
        return f'<div class="llmring-data">{value_html(value)}</div>', _pretty(value)
    try:
        text = _pretty(json.loads(text))
    except ValueError:
        pass  # cut, stopped or broken: exactly what arrived
    return f'<pre class="llmring-json" style="white-space:pre-wrap">{html.escape(text)}</pre>', text


def value_html(value: Any) -> str:
    """Plain JSON data (dicts, lists, scalars) as escaped HTML."""
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return _records(value)
        if all(not isinstance(v, (dict, list)) for v in value):
            return _scalars(value)
        items = "".join(f"<li>{value_html(v)}</li>" for v in value[:MAX_ITEMS])
        return f'<ol start="0" style="margin:0;padding-left:2em">{items}</ol>{_more(len(value))}'
    if isinstance(value, dict):
        if not value:
            return f'<span style="{_MUTED}">{{}} (empty)</span>'
        rows = "".join(
            f'<tr><th scope="row" style="{_KEY}">{_text(k)}</th><td style="{_CELL}">{value_html(v)}</td></tr>'
            for k, v in value.items()
        )
        return f'<table style="{_TABLE}"><tbody>{rows}</tbody></table>'
    return _scalar(value)


def _records(rows: list[dict[str, Any]]) -> str:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    head = "".join(f'<th scope="col" style="{_HEAD}">{_text(c)}</th>' for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f'<td style="{_CELL}">{value_html(row[c]) if c in row else ""}</td>' for c in columns)
        + "</tr>"
        for row in rows[:MAX_ITEMS]
    )
    return f'<table style="{_TABLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{_more(len(rows))}'


def _scalars(values: list[Any]) -> str:
    if not values:
        return f'<span style="{_MUTED}">[] (empty)</span>'
    return ", ".join(_scalar(v) for v in values[:MAX_ITEMS]) + _more(len(values))


def _scalar(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return f"<code>{json.dumps(value)}</code>"
    return _text(value)


def _text(value: Any) -> str:
    return html.escape(str(value)).replace("\n", "<br>")


def _more(count: int) -> str:
    left = count - MAX_ITEMS
    return f'<div style="{_MUTED}">… {left:,} more (all of them are in _llm.data)</div>' if left > 0 else ""


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
