"""The benchmark (bench/run.py) still runs end to end: tiny sizes, no timing assertions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.kernel
def test_quick_benchmark_completes_and_writes_its_json(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "PASS" in done.stdout or "FAIL" in done.stdout
    res = json.loads(out.read_text())
    assert {"machine", "config", "answers", "cpu", "sdk", "startup", "memory", "targets", "elapsed_s"} <= set(res)
    kinds = {(r["kind"], r["pace"], r["chunks"]) for r in res["answers"]}
    for pace in ("paced", "unpaced"):
        for size in res["config"]["sizes"]:
            assert {("ours", pace, size), ("whole", pace, size), ("bare", pace, size)} <= kinds
    ours = next(r for r in res["answers"] if r["kind"] == "ours")
    assert ours["complete"], "every chunk must be matched to a message that carried it"
    for key in ("bytes", "messages", "answer_bytes", "latency", "first_chunk_ms", "by_part"):
        assert key in ours
    assert {"load_ext_ms", "first_cell", "second_cell"} <= set(res["startup"])
    assert {"llm", "plain"} <= set(res["memory"])
    assert all({"target", "pass", "shown"} <= set(t) for t in res["targets"])
