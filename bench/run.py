"""One command for issue 7: what streaming costs, against the whole-answer way, in one run.

    .venv/bin/python bench/run.py            # full: 200 / 2,000 / 20,000 chunks (a few minutes)
    .venv/bin/python bench/run.py --quick    # smoke sizes, seconds

Prints the table and PASS/FAIL per target, writes JSON (default
bench/results/latest.json). See bench/README.md for how to read it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import matrix
import report
import sdk_cost
import startup
from _paths import BENCH
from capture import BenchKernel

#: Seconds between tokens of a model at a human reading pace: each token a frame or more apart.
HUMAN_PACE = 0.02
FULL = {"sizes": [200, 2000, 20000], "cap": 3000, "load_runs": 5, "memory_cells": 300, "sdk_chunks": 2000}
QUICK = {"sizes": [20, 60, 200], "cap": 100, "load_runs": 1, "memory_cells": 10, "sdk_chunks": 200}


def _machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    root = BENCH.parent

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True).stdout.strip()

    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": git("rev-parse", "--short", "HEAD"),
        "llmring_jupyter_dirty": bool(git("status", "--porcelain", "--", "llmring_jupyter")),
        "versions": {
            p: version(p)
            for p in ("ipykernel", "jupyter_client", "pyzmq", "anywidget", "ipywidgets", "ipython", "openai")
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmark works")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument(
        "--paced-delay",
        type=float,
        default=0.002,
        help="seconds between tokens of the paced stream (default 0.002: a fast model)",
    )
    args = parser.parse_args(argv)
    config = {
        **(QUICK if args.quick else FULL),
        "delays": {"paced": args.paced_delay, "unpaced": 0.0},
        "quick": args.quick,
    }
    began = time.perf_counter()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    log("answers: ours, whole-answer baseline and the bare stream, in one kernel")
    with BenchKernel() as k:
        k.setup()
        answers = matrix.run_matrix(k, config["sizes"], config["delays"], config["cap"], log)
        mid = config["sizes"][len(config["sizes"]) // 2]
        log(f"ours at a human pace ({HUMAN_PACE * 1e3:g} ms between tokens), {mid:,} chunks")
        human = {**matrix.measure(k, "ours", mid, HUMAN_PACE), "pace": "human"}
    log("the openai SDK parsing SSE from the local wire server, at each pace")
    sdk = {
        pace: sdk_cost.sdk_cpu_per_chunk(config["sdk_chunks"], repeats=1 if args.quick else 3, delay=delay)
        for pace, delay in config["delays"].items()
    }
    log("%load_ext and the first cell, in fresh kernels")
    start = startup.load_and_first_cell(config["load_runs"])
    log(f"kernel memory after {config['memory_cells']} cells")
    mem = startup.memory(config["memory_cells"])

    res: dict[str, Any] = {
        "machine": _machine(),
        "config": config,
        "answers": answers,
        "human_pace": human,
        "sdk": sdk,
        "startup": start,
        "memory": mem,
        "bytes_measure": "sum of the ZMQ frames' lengths of each IOPub message, as received",
        "whole_answer_cap": f"above {config['cap']:,} chunks the whole-answer baseline streams "
        f"only its first {config['cap']:,} chunks; latency is theirs, bytes "
        "and messages are extrapolated (fit: envelope + text length)",
    }
    res["cpu"] = report.cpu(answers, {pace: figures["cpu_per_chunk_s"] for pace, figures in sdk.items()})
    res["targets"] = report.targets(res)
    res["elapsed_s"] = time.perf_counter() - began
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1))
    print(render(res))
    print(f"\nwrote {args.out} in {res['elapsed_s']:.0f} s")
    return 0


def render(res: dict[str, Any]) -> str:
    """Everything a reader needs, as text: table, side figures, targets."""
    m, s, mem = res["machine"], res["startup"], res["memory"]
    lines = [
        f"{m['date']} · {m['cores']} cores · {m['cpu']} · Python {m['python']} · "
        f"ipykernel {m['versions']['ipykernel']} · commit {m['commit']}"
        f"{' (llmring_jupyter/ modified)' if m['llmring_jupyter_dirty'] else ''}",
        f"paced = {res['config']['delays']['paced'] * 1e3:g} ms between tokens; bytes = {res['bytes_measure']}",
        "",
        report.table(res),
        "",
        f"¹ {res['whole_answer_cap']}.",
        "",
    ]
    for c in res["cpu"]:
        lines.append(
            f"CPU {c['pace']:>7} {c['chunks']:>6,} chunks: {c['streaming_us_per_chunk']:6.1f} µs/chunk "
            f"streaming ({c['us_per_message']:.0f} µs per message sent), {c['cell_us_per_chunk']:6.1f} µs/chunk "
            f"for the whole cell; finish (widget + static render) {c['finish_ms']:.0f} ms"
        )
    lines += [
        f"openai SDK {sdk['openai_version']} parsing SSE ({pace}): {sdk['cpu_per_chunk_s'] * 1e6:.0f} µs/chunk"
        for pace, sdk in res["sdk"].items()
    ]
    lines += [
        f"%load_ext: {s['load_ext_ms']['median']:.0f} ms median of {s['runs']} fresh kernels",
        f"first cell: {s['first_cell']['to_first_delta_ms']:.0f} ms to the first delta, provider's own "
        f"{s['first_cell']['provider_ttft_ms']:.0f} ms → overhead {s['first_cell']['overhead_ms']:.0f} ms "
        f"(second cell: {s['second_cell']['overhead_ms']:.0f} ms)",
        f"memory after {mem['cells']} cells: %%llm {mem['llm']['rss_after_mb']:.1f} MB "
        f"(+{mem['llm']['growth_kb_per_cell']:.1f} KB/cell), plain {mem['plain']['rss_after_mb']:.1f} MB "
        f"(+{mem['plain']['growth_kb_per_cell']:.1f} KB/cell)",
        "",
    ]
    lines += [f"{'PASS' if t['pass'] else 'FAIL'}  {t['target']}: {t['shown']}" for t in res["targets"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
