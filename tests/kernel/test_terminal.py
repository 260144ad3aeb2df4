"""Terminal IPython has no widgets and no running loop: the answer is printed as it streams."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def ipython(folder: Path, code: str, typed: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``code`` as one cell of terminal IPython with the extension loaded; ``typed`` is its stdin."""
    script = folder / "ask.ipy"
    script.write_text(code)
    return subprocess.run(
        [str(Path(sys.executable).with_name("ipython")), "--no-banner", "--colors=nocolor", "--ext=llmring_jupyter"]
        + [str(script)],
        input=typed,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
        env={**os.environ, "LLMRING_DEMO_DELAY": "0.001"},
    )


def test_terminal_ipython_prints_answer_and_footer(tmp_path: Path) -> None:
    run = ipython(tmp_path, "%%llm demo:echo\nHello from the terminal\n")
    assert run.returncode == 0, run.stderr
    assert "Hello from the terminal\n\n— demo:echo · stop · " in run.stdout
    assert "<llmring_jupyter" not in run.stdout and "Widget" not in run.stdout


WEATHER = '''
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"18 °C in {city}"
'''
PROMPT = "Is it warmer in Paris or in Oslo right now?"


@pytest.mark.parametrize(("typed", "ran"), [("y", True), ("n", False)])
def test_with_tools_it_asks_y_n_and_prints_the_call(tmp_path: Path, typed: str, ran: bool) -> None:
    ask = f"get_ipython().run_cell_magic('llm', 'demo --tools get_weather --approve', {PROMPT!r})\n"
    run = ipython(tmp_path, WEATHER + "\n" + ask, f"{typed}\n")  # one file is one cell: the magic as a cell calls it
    assert run.returncode == 0, run.stderr
    assert 'Run get_weather(city="Paris")? [y/N]' in run.stdout
    if ran:
        assert '🔧 get_weather(city="Paris")' in run.stdout and "18 °C in Paris" in run.stdout
    else:
        assert "skipped by you" in run.stdout and "The user declined to run this tool call." in run.stdout
        assert "18 °C in Paris" not in run.stdout
    assert "2 steps · 1 tool call" in run.stdout
