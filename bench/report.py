"""Derived figures, the PASS/FAIL targets and the printed table.

Every target compares figures from the same run (ratios, or latencies that
are differences of one clock); nothing here is asserted in tests.
"""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]


def _find(rows: list[Row], kind: str, pace: str, size: int) -> Row:
    return next(r for r in rows if r["kind"] == kind and r["pace"] == pace and r["chunks"] == size)


def cpu(rows: list[Row], sdk_per_chunk: dict[str, float]) -> list[Row]:
    """Our kernel CPU per chunk over the bare stream, for each pace and size, and its share of
    what the SDK spends per chunk at the same pace (``sdk_per_chunk``: pace → seconds)."""
    out = []
    for ours in (r for r in rows if r["kind"] == "ours"):
        bare = _find(rows, "bare", ours["pace"], ours["chunks"])
        n = ours["chunks"]
        streaming = ours["stream_cpu_s"] - bare["stream_cpu_s"]
        cell = ours["cpu_s"] - bare["cpu_s"]
        out.append(
            {
                "pace": ours["pace"],
                "chunks": n,
                "streaming_us_per_chunk": streaming / n * 1e6,
                "cell_us_per_chunk": cell / n * 1e6,
                "us_per_message": streaming / max(1, ours["text_messages"]) * 1e6,
                "finish_ms": (cell - streaming) * 1e3,  # widget creation + the static render at the end
                "share_of_sdk": streaming / n / sdk_per_chunk[ours["pace"]],
            }
        )
    return out


def targets(res: dict[str, Any]) -> list[Row]:
    """The issue's targets, each evaluated on this run's figures."""
    rows, sizes = res["answers"], res["config"]["sizes"]
    mid = sizes[len(sizes) // 2]
    out: list[Row] = []

    def check(name: str, value: float | None, ok: bool, shown: str) -> None:
        out.append({"target": name, "value": value, "pass": bool(ok), "shown": shown})

    for pace in ("paced", "unpaced"):
        row = _find(rows, "ours", pace, mid)
        deltas = row["by_part"]["deltas"]
        envelope = (deltas["bytes"] - row["delta_text_bytes"]) / deltas["messages"]
        check(
            f"bytes on the wire ≤ 10× the answer at {mid:,} chunks ({pace}, all IOPub of the cell)",
            row["bytes_per_answer_byte"],
            row["bytes_per_answer_byte"] <= 10,
            f"{row['bytes_per_answer_byte']:.1f}× (Jupyter's envelope alone: {deltas['messages']} deltas × "
            f"{envelope:.0f} B = {deltas['messages'] * envelope / row['answer_bytes']:.1f}×)",
        )
    ours = _find(rows, "ours", "paced", mid)
    stream_only = _stream_bytes(ours) / ours["answer_bytes"]
    check(
        "…the same without the view's code and the final static answer (deltas + snapshots)",
        stream_only,
        stream_only <= 10,
        f"{stream_only:.1f}×",
    )
    for pace in ("paced", "unpaced"):
        ratios = [
            _stream_bytes(_find(rows, "ours", pace, s)) / _find(rows, "ours", pace, s)["answer_bytes"] for s in sizes
        ]
        check(
            f"streamed bytes grow linearly with the answer ({pace}: bytes/answer at "
            f"{' / '.join(f'{s:,}' for s in sizes)} chunks, last ≤ 1.5× the middle)",
            ratios[-1] / ratios[len(ratios) // 2],
            ratios[-1] <= 1.5 * ratios[len(ratios) // 2],
            " / ".join(f"{r:.1f}×" for r in ratios),
        )
    whole = _find(rows, "whole", "paced", mid)
    w = whole["bytes_per_answer_byte"]
    check(f"whole-answer baseline ~1,000× at {mid:,} chunks (within 300–3,000×)", w, 300 <= w <= 3000, f"{w:,.0f}×")
    lat = ours["latency"]["median_ms"]
    check(f"median chunk→message latency ≤ 9 ms at 60 Hz ({mid:,} chunks, paced)", lat, lat <= 9, f"{lat:.1f} ms")
    if (human := res.get("human_pace")) is not None:
        lat = human["latency"]["median_ms"]
        check(
            f"median chunk→message latency ≤ 3 ms at a human pace ({human['delay_s'] * 1e3:g} ms/token: each at once)",
            lat,
            lat <= 3,
            f"{lat:.1f} ms ({human['messages']} messages, {human['bytes_per_answer_byte']:.1f}× the answer)",
        )
    for where, key in (("reaches the client", "first_chunk_ms"), ("leaves the kernel", "first_chunk_in_kernel_ms")):
        firsts = [r[key] for r in rows if r["kind"] == "ours"]
        worst = max(firsts)
        check(
            f"first chunk {where} within 5 ms (worst of all our answers)",
            worst,
            worst <= 5,
            f"{worst:.1f} ms (all: {', '.join(f'{f:.1f}' for f in firsts)})",
        )
    for pace in ("unpaced", "paced"):
        c = next(c for c in res["cpu"] if c["pace"] == pace and c["chunks"] == mid)
        sdk = res["sdk"][pace]["cpu_per_chunk_s"]
        check(
            f"our CPU per chunk < 10% of the openai SDK's at the same pace ({pace}, {mid:,} chunks, while streaming)",
            c["share_of_sdk"],
            c["share_of_sdk"] < 0.10,
            f"{c['streaming_us_per_chunk']:.1f} µs = {c['share_of_sdk'] * 100:.1f}% of {sdk * 1e6:.0f} µs",
        )
    load = res["startup"]["load_ext_ms"]["median"]
    check("%load_ext < 150 ms (median of fresh kernels)", load, load < 150, f"{load:.0f} ms")
    return out


def _stream_bytes(row: Row) -> int:
    parts = row["by_part"]
    return sum(parts.get(p, {}).get("bytes", 0) for p in ("deltas", "snapshots"))


def table(res: dict[str, Any]) -> str:
    """The figures as a markdown table, ready for the README."""
    head = (
        "| pace | chunks | answer | ours: msgs | ours: bytes (× answer) | streamed only | "
        "whole: msgs | whole: bytes (× answer) | latency ours med / p95 / max | "
        "latency whole med / p95 / max | first chunk | CPU/chunk |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    cpus = {(c["pace"], c["chunks"]): c for c in res["cpu"]}
    for pace in res["config"]["delays"]:
        for size in res["config"]["sizes"]:
            o, w = _find(res["answers"], "ours", pace, size), _find(res["answers"], "whole", pace, size)
            c = cpus[(pace, size)]
            note = " ¹" if w.get("extrapolated") else ""
            lines.append(
                f"| {pace} | {size:,} | {_kb(o['answer_bytes'])} | {o['messages']} | "
                f"{_kb(o['bytes'])} ({o['bytes_per_answer_byte']:.1f}×) | "
                f"{_kb(_stream_bytes(o))} ({_stream_bytes(o) / o['answer_bytes']:.1f}×) | "
                f"{w['messages']:,}{note} | {_kb(w['bytes'])} ({w['bytes_per_answer_byte']:,.0f}×){note} | "
                f"{_lat(o)} | {_lat(w)}{note} | {o['first_chunk_ms']:.1f} ms | "
                f"{c['streaming_us_per_chunk']:.1f} µs |"
            )
    return "\n".join(lines)


def _kb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.1f} KB"


def _lat(row: Row) -> str:
    lat = row["latency"]
    return f"{lat['median_ms']:.1f} / {lat['p95_ms']:.1f} / {lat['max_ms']:.0f} ms"
