"""Terminal IPython has no widgets and no running loop: the answer is printed as it streams."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_terminal_ipython_prints_answer_and_footer(tmp_path: Path) -> None:
    script = tmp_path / "ask.ipy"
    script.write_text("%%llm demo:echo\nHello from the terminal\n")
    ipython = Path(sys.executable).with_name("ipython")
    run = subprocess.run(
        [str(ipython), "--no-banner", "--colors=nocolor", "--ext=llmring_jupyter", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "LLMRING_DEMO_DELAY": "0.001"},
    )
    assert run.returncode == 0, run.stderr
    assert "Hello from the terminal\n\n— demo:echo · stop · " in run.stdout
    assert "<llmring_jupyter" not in run.stdout and "Widget" not in run.stdout
