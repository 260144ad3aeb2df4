"""What the live view costs the browser: frames, long tasks and per-frame render cost.

One JupyterLab (tests/browser/lab_session.py) and headless Chromium stream the
demo model's answer at 2 ms a token, 1k, 5k and 20k tokens, rendered two ways
in the same page, one after the other, and then a reasoning model's answer (``thinking``): 5k tokens of
thinking streamed into its section, then 2k of answer, rendered incrementally both:

- **incremental** (the view): finished blocks rendered once, only the last one
  re-rendered each frame (js/incremental.js ``IncrementalMarkdown``);
- **whole**: the whole answer re-rendered every frame, as the view did before
  (``WholeMarkdown``, chosen by setting the page's ``__llmringWholeRender``).

Per run: frames per second of the page while the live view streams, the long
tasks (> 50 ms) that began meanwhile (and, apart, those of the frontend
rendering the static answer at the end), and the view's render cost per frame (the view's
``llmring-paint`` measures) in the first and last fifth of the stream: flat
means the cost does not grow with the answer. Before them, how long after Ctrl+Enter the
kernel's first answer shows text, and a later answer (``first_text_ms``): the page fetches the
view's module when the extension loads, so the first answer should not wait for it. Run::

    .venv/bin/python bench/view_frames.py            # 1k, 5k, 20k tokens (~3 min)
    .venv/bin/python bench/view_frames.py --sizes 1000
    .venv/bin/python bench/view_frames.py --update-rate 30   # deltas at 30 Hz, against the default 60

It writes ``bench/results/view_frames.json`` and prints a table, with the machine's load
average after each run: on a busy machine the page gets fewer frames whatever renders them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from _paths import BENCH, TESTS

sys.path.insert(0, str(TESTS / "browser"))

from lab_session import LabServer, Notebook
from playwright.sync_api import sync_playwright

PROBE = (TESTS / "browser" / "view_probe.js").read_text()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
DELAY = 0.002


#: The thinking run: a reasoning model's thinking streams into its section, then the answer.
THINKING = (5000, 2000)


def _cell(tokens: int, thinking: int = 0) -> str:
    think = f" --think high -o think_tokens={thinking}" if thinking else ""
    return f"%%llm demo --no-history{think} -o tokens={tokens} -o delay={DELAY}\nMeasure the view"


def _fifths(values: list[float]) -> list[float]:
    """The median of each fifth, in order: flat means a frame costs the same however far the stream is."""
    k = max(1, len(values) // 5)
    return [statistics.median(values[i * k : (i + 1) * k] or values[-k:]) for i in range(5)]


def first_text_ms(nb: Notebook, index: int) -> float:
    """Run cell ``index``; how long after its Ctrl+Enter its live view showed text."""
    nb.page.evaluate("cell => window.__llmringProbe.watchFirstText(cell)", nb.cell(index).element_handle())
    nb.run(index)
    nb.page.wait_for_function("() => window.__llmringProbe.textAt !== null", timeout=60_000)
    nb.wait_done(index, timeout=60_000)
    return float(nb.page.evaluate("() => window.__llmringProbe.textAt - window.__llmringProbe.keyAt"))


def measure(nb: Notebook, index: int, whole: bool) -> dict[str, Any]:
    page = nb.page
    page.evaluate(f"() => {{ globalThis.__llmringWholeRender = {str(whole).lower()}; }}")
    nb.run(index)
    nb.output(index).locator(".llmring-view").wait_for(timeout=30_000)
    page.evaluate("() => window.__llmringProbe.startFrames()")
    page.wait_for_function(
        "el => !el.querySelector('.llmring-view')", arg=nb.cell(index).element_handle(), timeout=600_000
    )
    report = page.evaluate("() => window.__llmringProbe.stopFrames()")
    nb.wait_done(index, timeout=600_000)
    paints = report["paints"]
    fifths = _fifths(paints) if paints else [0.0] * 5
    first, last = fifths[0], fifths[-1]
    return {
        "fps": round(report["fps"], 1),
        "seconds": round(report["seconds"], 1),
        "long_tasks": len(report["longTasks"]),
        "worst_long_task_ms": round(max(report["longTasks"], default=0), 1),
        "long_tasks_at_the_switch": [round(d) for d in report["longTasksAfter"]],
        "frames_rendered": len(paints),
        "render_ms_first_fifth": round(first, 2),
        "render_ms_last_fifth": round(last, 2),
        "render_ms_by_fifth": [round(f, 2) for f in fifths],  # a thinking run: its thinking, then its answer
        "render_ms_max": round(max(paints, default=0), 1),
        # frame rates depend on what else the machine runs: its 1-minute load average after the run
        "load_average": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "view_frames.json")
    parser.add_argument(
        "--thinking",
        type=int,
        nargs=2,
        default=list(THINKING),
        metavar=("THINK", "ANSWER"),
        help="the thinking run's tokens of thinking, then of answer (0 0: no such run)",
    )
    parser.add_argument(
        "--update-rate",
        type=float,
        default=None,
        help="deltas a second (%%config LLMMagics.update_rate; default: the extension's, the display's 60)",
    )
    args = parser.parse_args()
    executable = shutil.which("chromium")
    if executable is None:
        sys.exit("needs Debian's chromium (apt-get install chromium)")
    runs: list[tuple[int, str]] = [(n, way) for n in args.sizes for way in ("incremental", "whole")]
    thinks, answers = args.thinking
    if thinks:  # the view's cost per frame must stay flat through the thinking and the answer after it
        runs.append((answers, "thinking"))
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="llmring-view-bench-") as home, sync_playwright() as playwright:
        lab = LabServer(Path(home))
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
            page.add_init_script(PROBE)
            load = "%load_ext llmring_jupyter"
            if args.update_rate is not None:
                load += f"\n%config LLMMagics.update_rate = {args.update_rate}"
            cells = [load, _cell(200), _cell(200)]
            cells += [_cell(n, thinks if way == "thinking" else 0) for n, way in runs]
            nb = Notebook.create(lab, page, "view_frames.ipynb", cells)
            nb.run_and_wait(0)
            # the first answer of a kernel, then a later one: the page fetched the view's module at load
            first_text = {"first_answer": round(first_text_ms(nb, 1)), "later_answer": round(first_text_ms(nb, 2))}
            print(json.dumps({"first_text_ms": first_text}), flush=True)
            for index, (tokens, way) in enumerate(runs, start=3):
                row = {"tokens": tokens, "renderer": way, **measure(nb, index, way == "whole")}
                if way == "thinking":  # its tokens of thinking first, then of answer
                    row["thinking_tokens"] = thinks
                results.append(row)
                print(json.dumps(row), flush=True)
        finally:
            browser.close()
            lab.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"delay_s": DELAY, "first_text_ms": first_text, "runs": results}, indent=2) + "\n")
    print(f"{'tokens':>7} {'renderer':<12} {'fps':>5} {'long':>5} {'worst':>7} {'ms first':>9} {'ms last':>8} load")
    for r in results:
        print(
            f"{r['tokens']:>7} {r['renderer']:<12} {r['fps']:>5} {r['long_tasks']:>5} {r['worst_long_task_ms']:>7}"
            f" {r['render_ms_first_fifth']:>9} {r['render_ms_last_fifth']:>8} {r['load_average']}"
        )


if __name__ == "__main__":
    main()
