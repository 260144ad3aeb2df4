"""The answers measured side by side in one kernel: ours, the whole-answer baseline, the bare stream.

The whole-answer baseline costs the square of the answer: above ``cap``
chunks it streams only the first ``cap`` chunks, its latency is measured on
those, and its bytes are extrapolated to the full answer from a least-squares
fit of each update's size against the text length it carried (exact in form:
every update is a fixed envelope plus the whole text).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import measures
import probe
from capture import BenchKernel
from kernel_session import Msg
from sdk_cost import demo_tokens


def measure(k: BenchKernel, kind: str, chunks: int, delay: float) -> dict[str, Any]:
    """Run one answer of ``kind`` (ours, whole or bare) and return its figures."""
    run, _sent = k.run(probe.driver(kind, chunks, delay))
    if not run.ok:
        raise RuntimeError(f"{kind} {chunks} chunks failed:\n{run.error}")
    rep = k.report()
    produced = rep["produced"]
    figures: dict[str, Any] = {
        "kind": kind,
        "chunks": len(produced),
        "delay_s": delay,
        "cpu_s": rep["cell"]["cpu"],
        "wall_s": rep["cell"]["wall"],
        "stream_cpu_s": sum(rep["stream_cpu"]),
    }
    if kind == "bare":
        return figures
    text = measures.answer_text(kind, run.messages)
    arrivals = measures.carried(kind, run.messages)
    lat = measures.latencies(produced, arrivals)
    handed = measures.carried(kind, run.messages, stamps=rep["sent"])  # when the kernel sent them
    lat_kernel = measures.latencies(produced, handed)
    figures |= {
        "answer_chars": len(text),
        "answer_bytes": len(text.encode()),
        "complete": len(text) == sum(n for _, n in produced) and len(lat) == len(produced),
        **measures.traffic(kind, run.messages),
        "latency": measures.summary(lat),
        "first_chunk_ms": lat[0] * 1e3 if lat else None,
        "latency_in_kernel": measures.summary(lat_kernel),
        "first_chunk_in_kernel_ms": lat_kernel[0] * 1e3 if lat_kernel else None,
    }
    figures["bytes_per_answer_byte"] = figures["bytes"] / max(1, figures["answer_bytes"])
    if kind == "whole":
        figures["_fit"] = _fit(run.messages)
    return figures


def _fit(messages: list[Msg]) -> tuple[float, float, int]:
    """(envelope bytes, bytes per text character, bytes of the other messages) of a whole-answer run."""
    xs, ys, other = [], [], 0
    for m in messages:
        md = m["content"].get("data", {}).get("text/markdown") if m["msg_type"].endswith("display_data") else None
        if md is None:
            other += m["wire"]["bytes"]
        else:
            xs.append(len(md))
            ys.append(m["wire"]["bytes"])
    n, sx, sy = len(xs), sum(xs), sum(ys)
    sxx, sxy = sum(x * x for x in xs), sum(x * y for x, y in zip(xs, ys, strict=False))
    slope = (n * sxy - sx * sy) / max(1, n * sxx - sx * sx)
    return (sy - slope * sx) / n, slope, other


def extrapolate_whole(capped: dict[str, Any], chunks: int) -> dict[str, Any]:
    """The whole-answer figures for ``chunks`` chunks, from a run of its first ``capped['chunks']``."""
    envelope, per_char, other = capped["_fit"]
    lengths = list(itertools.accumulate(len(t) for t in asyncio.run(demo_tokens(chunks))))
    answer_chars = lengths[-1]
    answer_bytes = round(capped["answer_bytes"] / capped["answer_chars"] * answer_chars)
    total = other + sum(envelope + per_char * n for n in lengths)
    return {
        **capped,
        "chunks": chunks,
        "measured_chunks": capped["chunks"],
        "extrapolated": True,
        "answer_chars": answer_chars,
        "answer_bytes": answer_bytes,
        "bytes": round(total),
        "messages": capped["messages"] - capped["text_messages"] + chunks,
        "text_messages": chunks,
        "bytes_per_answer_byte": total / answer_bytes,
        "cpu_s": None,
        "wall_s": None,
    }


def run_matrix(
    k: BenchKernel, sizes: list[int], delays: dict[str, float], cap: int, log: Any = print
) -> list[dict[str, Any]]:
    """Every (pace, size) answer as ours, whole and bare, in the one kernel ``k``."""
    for kind in ("ours", "whole", "bare"):  # warm-up: first-use imports are not per-chunk costs
        measure(k, kind, 50, 0)
    rows = []
    for pace, delay in delays.items():
        for size in sizes:
            for kind in ("ours", "whole", "bare"):
                n = min(size, cap) if kind == "whole" else size
                row = measure(k, kind, n, delay)
                if n < size:
                    row = extrapolate_whole(row, size)
                row["pace"] = pace
                row.pop("_fit", None)
                rows.append(row)
                log(f"  {pace:>8} {size:>6} {kind:<5} done in {row['wall_s'] or 0:.1f} s")
    return rows
