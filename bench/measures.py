"""Turn one captured cell (IOPub messages + the probe's chunk times) into figures.

Chunks are matched to messages by text offsets: chunk *i* ends at character
``E_i`` of the answer; it has reached the client with the first message whose
text reaches ``E_i`` (``at + len(text)`` of a delta for ours, the length of the
whole displayed text for the whole-answer baseline). Its latency is that
message's arrival time minus the chunk's production time in the kernel.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from typing import Any

import _paths  # noqa: F401  (tests/ on sys.path)
from kernel_session import Msg


def custom(msg: Msg) -> dict[str, Any] | None:
    """The content of an anywidget custom message (our deltas), else None."""
    if msg["msg_type"] != "comm_msg":
        return None
    data = msg["content"]["data"]
    return data.get("content") if data.get("method") == "custom" else None


def _markdown(msg: Msg) -> str | None:
    if msg["msg_type"] in ("display_data", "update_display_data"):
        markdown: str | None = msg["content"]["data"].get("text/markdown")
        return markdown
    return None


def carried(kind: str, messages: list[Msg], stamps: dict[str, float] | None = None) -> list[tuple[float, int, str]]:
    """(arrival time, answer characters reached, text) of each message that carries answer text.

    With ``stamps`` (msg_id → time the kernel sent it), that time replaces the arrival:
    the part of the latency spent in the kernel."""
    out = []
    for m in messages:
        t = stamps.get(m["header"]["msg_id"], float("nan")) if stamps is not None else m["wire"]["t"]
        if kind == "ours" and (c := custom(m)) and c.get("kind") == "delta":
            out.append((t, c["at"] + len(c["text"]), c["text"]))
        elif kind == "whole" and (md := _markdown(m)) is not None:
            out.append((t, len(md), md))
    return out


def answer_text(kind: str, messages: list[Msg]) -> str:
    """The answer as the client could rebuild it from the text-carrying messages."""
    text = ""
    for _t, end, piece in carried(kind, messages):
        text = piece if kind == "whole" else text[: end - len(piece)] + piece
    return text


def latencies(produced: list[tuple[float, int]], arrivals: list[tuple[float, int, str]]) -> list[float]:
    """Seconds from each chunk's production to the first message that carries it (missing → skipped)."""
    reach, times = [], []
    best = 0
    for t, end, _ in arrivals:  # arrival order; a later message may repeat earlier text
        if end > best:
            best = end
            reach.append(end)
            times.append(t)
    out = []
    for (made, _), end in zip(produced, itertools.accumulate(n for _, n in produced), strict=False):
        j = bisect.bisect_left(reach, end)
        if j < len(reach):
            out.append(times[j] - made)
    return out


def summary(values: list[float]) -> dict[str, float | None]:
    """Median, p95 and max in milliseconds."""
    if not values:
        return {"median_ms": None, "p95_ms": None, "max_ms": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(ordered) * 1e3, "p95_ms": p95 * 1e3, "max_ms": ordered[-1] * 1e3}


def traffic(kind: str, messages: list[Msg]) -> dict[str, Any]:
    """Messages and bytes of a cell, split by what they carried."""
    parts: dict[str, list[int]] = {}
    delta_text = 0
    for m in messages:
        c = custom(m)
        if c is not None:
            part = "view_module" if c.get("kind") == "module" else "deltas"  # the module: once per page
            delta_text += len(c.get("text", "").encode())
        elif m["msg_type"] == "comm_msg" and "text" in m["content"]["data"].get("state", {}):
            part = "snapshots"
        elif m["msg_type"] == "comm_open":
            part = "view_open"  # the widget's state, with the view's loader
        elif _markdown(m) is not None or m["msg_type"] == "update_display_data":
            part = "answer_displays" if kind == "whole" else "final_static"
        else:
            part = "other"
        parts.setdefault(part, []).append(m["wire"]["bytes"])
    return {
        "messages": len(messages),
        "bytes": sum(sum(v) for v in parts.values()),
        "text_messages": len(carried(kind, messages)),
        "by_part": {k: {"messages": len(v), "bytes": sum(v)} for k, v in sorted(parts.items())},
        "delta_text_bytes": delta_text,
    }
