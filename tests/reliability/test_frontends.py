"""Frontends without widgets. nbclient (no widget manager) is covered by
tests/kernel/test_saved_notebook.py; here, terminal IPython's Ctrl-C: SIGINT to a running
``ipython`` keeps the partial text, prints the footer saying it was interrupted, and
the process goes on to exit."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def test_ctrl_c_in_terminal_ipython_keeps_the_partial_text_and_prints_the_footer(tmp_path: Path) -> None:
    script = tmp_path / "ask.ipy"
    script.write_text("%%llm demo -o delay=0.05 -o tokens=400\nTell me a long story\n")
    ipython = Path(sys.executable).with_name("ipython")
    proc = subprocess.Popen(
        [str(ipython), "--no-banner", "--colors=nocolor", "--ext=llmring_jupyter", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    out: list[bytes] = []
    stdout = proc.stdout
    assert isinstance(stdout, io.BufferedReader)
    reader = threading.Thread(target=lambda: out.extend(iter(lambda: stdout.read1(4096), b"")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while b"Demo answer" not in b"".join(out) and time.monotonic() < deadline:  # the answer is streaming
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    finally:
        proc.kill()
    reader.join(5)
    stdout.close()
    text = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(out).decode())
    answer, _, footer = text.partition("\n\n— demo · ")
    assert "## Demo answer" in answer and len(answer) > 20, text
    assert "■ interrupted" in footer and "cancelled" not in footer, text
    assert re.search(r"Interrupted: The kernel was interrupted while demo answered, after [\d,]+ characters", text)
    assert "the partial answer is kept in _llm." in text, text
    assert "Traceback" not in text, text
