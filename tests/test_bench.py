"""The benchmark (bench/run.py) still runs end to end and measures what it says: tiny sizes,
no timing assertions — only facts that hold at any speed (counts and bytes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llmring_jupyter.answer.stream import DEFAULT_INTERVAL

ROOT = Path(__file__).resolve().parent.parent


def _quick(script: str, out: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run ``bench/<script> --quick``; its output and the JSON it wrote."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done, json.loads(out.read_text())


@pytest.mark.kernel
def test_quick_benchmark_completes_and_writes_its_json(tmp_path: Path) -> None:
    done, res = _quick("run.py", tmp_path / "latest.json")
    assert {"machine", "config", "answers", "cpu", "sdk", "startup", "memory", "targets", "elapsed_s"} <= set(res)
    kinds = {(r["kind"], r["pace"], r["chunks"]) for r in res["answers"]}
    for pace in ("paced", "unpaced"):
        for size in res["config"]["sizes"]:
            assert {("ours", pace, size), ("whole", pace, size), ("bare", pace, size)} <= kinds
    by = {(r["kind"], r["pace"], r["chunks"]): r for r in res["answers"]}
    measured = max(n for n in res["config"]["sizes"] if n <= res["config"]["cap"])  # larger ones are scaled
    for pace in ("paced", "unpaced"):
        ours, whole = by[("ours", pace, measured)], by[("whole", pace, measured)]
        assert ours["complete"], "every chunk must be matched to a message that carried it"
        # coalescing: at most one delta message a frame, however slow the machine, and far
        # fewer than one per chunk
        deltas = ours["by_part"]["deltas"]["messages"]
        rate = 1 / DEFAULT_INTERVAL
        # + the first at once, one after a quiet frame, the last, and a catch-up snapshot
        assert deltas <= ours["wall_s"] * rate * 1.5 + 4 and deltas < whole["messages"]
        assert ours["bytes"] < whole["bytes"], "deltas cost less than re-sending the whole answer"
        assert ours["first_chunk_ms"] > 0 and ours["latency"]["median_ms"] > 0
    assert {"load_ext_ms", "first_cell", "second_cell"} <= set(res["startup"])
    assert {"llm", "plain"} <= set(res["memory"])
    assert all({"target", "pass", "shown"} <= set(t) for t in res["targets"])
    for target in res["targets"]:  # the report prints each verdict it stored, as it stored it
        verdict = "PASS" if target["pass"] else "FAIL"
        assert f"{verdict}  {target['target']}: {target['shown']}" in done.stdout


@pytest.mark.kernel
def test_concurrency_benchmark_completes_and_writes_its_json(tmp_path: Path) -> None:
    done, res = _quick("concurrency.py", tmp_path / "concurrency.json")
    assert {"cpu", "latency", "bytes", "targets"} <= set(res)
    assert {(r["kind"], r["n"]) for r in res["cpu"]["rows"]} == {("background", 2), ("side by side", 2)}
    assert res["latency"]["streams_running_at_end"] == 2, "the plain cells ran while both answers streamed"
    assert len(res["targets"]) == 5
    for target in res["targets"]:
        assert f"{'PASS' if target['pass'] else 'FAIL'}  {target['target']}: {target['shown']}" in done.stdout


@pytest.mark.browser
def test_view_frames_benchmark_measures_both_renderers_in_the_browser(tmp_path: Path) -> None:
    """bench/view_frames.py still drives JupyterLab, times the first text of two answers, and the view
    still reports each frame's cost."""
    out = tmp_path / "view_frames.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "view_frames.py"),
            *("--sizes", "300", "--thinking", "300", "100", "--out", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    res = json.loads(out.read_text())
    first_text, runs = res["first_text_ms"], res["runs"]
    assert set(first_text) == {"first_answer", "later_answer"} and min(first_text.values()) > 0, first_text
    assert [(r["tokens"], r["renderer"]) for r in runs] == [(300, "incremental"), (300, "whole"), (100, "thinking")]
    assert runs[2]["thinking_tokens"] == 300
    for run in runs:
        assert run["fps"] > 0 and run["frames_rendered"] > 0 and run["render_ms_max"] > 0, run
        assert run["load_average"] >= 0
        assert f"{run['tokens']:>7} {run['renderer']:<12} {run['fps']:>5}" in done.stdout
