"""Answers that run at once (issue 17): background answers and models side by side, in one run.

    .venv/bin/python bench/concurrency.py            # full: 2,000 tokens an answer, ~1 min
    .venv/bin/python bench/concurrency.py --quick    # 200 tokens, seconds

Every figure is a ratio against a baseline measured in the same kernel, in the same run:

- kernel CPU (``time.process_time()`` of the kernel, all threads) of N answers streaming at once,
  against N times one answer's, as background answers and as N models side by side; each minus
  an idle cell of the same length (the kernel's own ticking);
- a plain cell's round trip (execute request → reply, at the client) while two background
  answers stream at 2 ms a token, against the same cell with nothing streaming;
- IOPub bytes of one background answer, and of a side-by-side cell per model, against one
  ordinary answer of the same tokens.

Prints PASS/FAIL per target and writes bench/results/concurrency.json (``--out``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _paths import BENCH
from capture import BenchKernel
from kernel_session import Execution

FULL = {"tokens": 2000, "repeats": 3, "pings": 60, "ns": [2, 3]}
QUICK = {"tokens": 200, "repeats": 1, "pings": 10, "ns": [2]}
DELAY = 0.002  # seconds between tokens: a fast model


def _cpu_cell(body: str) -> str:
    """A cell that prints the kernel's CPU seconds spent on ``body`` (awaited to its end)."""
    return f"import time as _t\n_c = _t.process_time()\n{body}\nprint(_t.process_time() - _c)"


def _background(n: int, tokens: int) -> str:
    ask = f"chat('Bench', 'demo', background=True, history=False, tokens={tokens}, delay={DELAY})"
    return f"from llmring_jupyter import chat\n_ps = [await {ask} for _ in range({n})]\nfor _p in _ps:\n    await _p"


def _side_by_side(n: int, tokens: int) -> str:
    models = " ".join(["demo"] * n)
    return f"%%llm {models} --no-history -o tokens={tokens} -o delay={DELAY}\nBench"


def _cpu(k: BenchKernel, code: str, repeats: int) -> float:
    """Median kernel CPU seconds of a cell (side-by-side cells time themselves from the outside)."""
    runs = []
    for _ in range(repeats):
        if code.startswith("%%llm"):
            before = float(k.must("import time as _t\nprint(_t.process_time())").stdout)
            k.must(code)
            runs.append(float(k.must("print(_t.process_time())").stdout) - before)
        else:
            runs.append(float(k.must(_cpu_cell(code)).stdout))
    return statistics.median(runs)


def _bytes(run: Execution) -> dict[str, int]:
    """All IOPub bytes of a cell, and the answer's part of them: the deltas and the static answer
    (the rest is the widgets' comms, status and the like: fixed, whatever the answer's length)."""
    answer = sum(
        m["wire"]["bytes"]
        for m in run.messages
        if m["msg_type"] == "update_display_data"
        or (m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "custom")
    )
    return {"all": sum(m["wire"]["bytes"] for m in run.messages), "answer": answer}


def _ping(k: BenchKernel) -> float:
    sent = time.perf_counter()
    k.kernel.run("pass")
    return (time.perf_counter() - sent) * 1e3


def measure(config: dict[str, Any], log: Any) -> dict[str, Any]:
    tokens, repeats = config["tokens"], config["repeats"]
    res: dict[str, Any] = {"config": config, "delay_s": DELAY}
    with BenchKernel() as k:
        k.must("%load_ext llmring_jupyter")
        k.must(_side_by_side(2, 20))  # warm-up: the view's module, imports, the kernel's comm anchor
        k.must(_background(1, 20))
        idle_s = tokens * DELAY
        log("CPU: idle, one answer, N at once")
        idle = _cpu(k, f"await __import__('asyncio').sleep({idle_s})", repeats)
        one = _cpu(k, _background(1, tokens), repeats) - idle
        res["cpu"] = {"idle_s": idle, "one_s": one, "rows": []}
        for n in config["ns"]:
            for kind, code in (("background", _background(n, tokens)), ("side by side", _side_by_side(n, tokens))):
                spent = _cpu(k, code, repeats) - idle
                res["cpu"]["rows"].append({"kind": kind, "n": n, "cpu_s": spent, "ratio": spent / (n * one)})

        log("latency of a plain cell: idle, then while two background answers stream")
        quiet = [_ping(k) for _ in range(config["pings"])]
        long_tokens = int((config["pings"] * 0.1 + 5) / DELAY)  # outlasts the pings
        k.must(_background(2, long_tokens).rsplit("\nfor ", 1)[0])  # started, not awaited
        busy = [_ping(k) for _ in range(config["pings"])]
        still = k.must("print(sum(not p.done for p in _ps))").stdout.strip()
        k.must("for _p in _ps:\n    _p.stop()\nfor _p in _ps:\n    await _p")
        res["latency"] = {
            "quiet_ms": statistics.median(quiet),
            "busy_ms": statistics.median(busy),
            "streams_running_at_end": int(still),
        }

        log("bytes: one answer, one background answer, side by side per model")
        plain, _ = k.run(f"%%llm demo --no-history -o tokens={tokens} -o delay={DELAY}\nBench")
        background, _ = k.run(_background(1, tokens))
        side, _ = k.run(_side_by_side(2, tokens))
        side_bytes = _bytes(side)
        res["bytes"] = {
            "one": _bytes(plain),
            "background": _bytes(background),
            "side_by_side_per_model": {k: v / 2 for k, v in side_bytes.items()},
        }
    return res


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for row in res["cpu"]["rows"]:
        out.append(
            {
                "target": f"kernel CPU of {row['n']} answers at once ({row['kind']}) ≤ 1.2 × {row['n']} × one",
                "pass": row["ratio"] <= 1.2,
                "shown": f"{row['ratio']:.2f} × ({row['cpu_s'] * 1e3:.0f} ms; one: {res['cpu']['one_s'] * 1e3:.0f} ms)",
            }
        )
    lat = res["latency"]
    out.append(
        {
            "target": "a plain cell while two background answers stream at 2 ms/token replies within 50 ms (median)",
            "pass": lat["busy_ms"] <= 50 and lat["streams_running_at_end"] == 2,
            "shown": f"{lat['busy_ms']:.1f} ms (idle kernel: {lat['quiet_ms']:.1f} ms, "
            f"{lat['busy_ms'] / lat['quiet_ms']:.1f} ×; {lat['streams_running_at_end']} streams still running)",
        }
    )
    b = res["bytes"]
    one = b["one"]
    shapes = (("a background answer", b["background"]), ("side by side, per model", b["side_by_side_per_model"]))
    for name, value in shapes:
        ratio = value["answer"] / one["answer"]
        fixed = (value["all"] - value["answer"]) - (one["all"] - one["answer"])
        out.append(
            {
                "target": f"answer bytes (deltas + static answer) of {name} ≤ 1.05 × one answer's",
                "pass": ratio <= 1.05,
                "shown": f"{ratio:.3f} × ({value['answer']:,.0f} B against {one['answer']:,} B); "
                f"all IOPub {value['all'] / one['all']:.2f} ×, the widgets' fixed cost {fixed / 1e3:+.1f} KB",
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small answers: checks the benchmark works")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "concurrency.json")
    args = parser.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    res = measure({**(QUICK if args.quick else FULL), "quick": args.quick}, log)
    res["targets"] = targets(res)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1))
    for t in res["targets"]:
        print(f"{'PASS' if t['pass'] else 'FAIL'}  {t['target']}: {t['shown']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
