"""``%load_ext llmring_jupyter`` stays instant: it imports the magics, their settings and events,
and leaves the answer engine to a background thread (or the first cell). A fresh process each:
what one test imported must not hide what the next one imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Records which thread imports each module, and what a plain import, then %load_ext, left imported.
SCRIPT = r"""
import json, sys, threading

by = {}

class Spy:
    def find_spec(self, name, path=None, target=None):
        by.setdefault(name, threading.current_thread().name)
        return None

sys.meta_path.insert(0, Spy())
import llmring_jupyter
from llmring_jupyter import RateLimitError
plain = sorted(by)
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
by.clear()
shell.run_line_magic("load_ext", "llmring_jupyter")
loading = sorted(name for name, thread in by.items() if thread == "MainThread")
for thread in threading.enumerate():
    if thread.name == "llmring-preload":
        thread.join(60)
warmed = sorted(name for name, thread in by.items() if thread == "llmring-preload")
run = shell.run_cell("%%llm demo\nSay hello")
text = shell.user_ns["_llm"].text
shell.run_cell("%%llm demo\nSay hello")
turns = len(shell.magics_manager.registry["LLMMagics"].session.conversations.get().turns)
from llmring_jupyter import chat
print(json.dumps({"plain": plain, "loading": loading, "warmed": warmed, "ok": run.success,
                  "text": text, "turns": turns, "chat": chat.__module__, "error": RateLimitError.__name__}))
"""

#: What answering needs and loading must not import: the engine, the replay cache (SQLite), the
#: renderer (MathML needs xml.etree), MCP, the routing and lockfiles, the adapters.
HEAVY = (
    "llmring_jupyter.answer.session",
    "llmring_jupyter.answer.options",
    "llmring_jupyter.answer.mcp",
    "llmring_jupyter.records.replay",
    "llmring_jupyter.render",
    "llmring_jupyter.render.mathml",
    "llmring_jupyter.view.outputs",
    "llmring_jupyter.providers.routing",
    "llmring_jupyter.providers.lockfile",
    "llmring_jupyter.providers.adapter",
    "llmring_jupyter.providers.demo",
    "sqlite3",
    "xml.etree.ElementTree",
    "mcp",
)


def _run(tmp_path: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def test_load_ext_leaves_the_engine_to_the_background_and_the_first_cell_still_answers(tmp_path: Path) -> None:
    got = _run(tmp_path)
    assert [m for m in HEAVY if m in got["plain"]] == [], "import llmring_jupyter (and its errors) stays cheap"
    assert "IPython" not in got["plain"], "importing the package alone needs no IPython"
    assert [m for m in HEAVY if m in got["loading"]] == [], "%load_ext imported the engine itself"
    warmed = set(got["warmed"])
    assert {"llmring_jupyter.answer.session", "llmring_jupyter.render", "llmring_jupyter.view.outputs"} <= warmed, (
        "the engine is imported in the background right after loading, so the first cell does not wait"
    )
    assert got["ok"] and got["text"].strip(), "the first %%llm demo cell answers"
    assert got["turns"] == 1, "the session, made by the first cell, knew that cell: run again, it replaces its turn"
    assert (got["chat"], got["error"]) == ("llmring_jupyter.notebook.api", "RateLimitError")
