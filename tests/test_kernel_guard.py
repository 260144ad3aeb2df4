"""A test without the ``kernel`` marker cannot start a kernel, whichever way it tries, so
``pytest -m "not kernel and not browser"`` never slows down again (tests/kernel_guard.py).
This test itself is unmarked: each attempt must be refused before any kernel starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from kernel_guard import UnmarkedKernelTest
from kernel_session import Kernel
from nbclient import NotebookClient


def test_the_harness_kernel_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnmarkedKernelTest, match=r"test_kernel_guard\.py::.* starts a kernel but is marked neither"):
        Kernel(cwd=tmp_path)


def test_nbclient_is_refused(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    client = NotebookClient(nb, timeout=30, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(UnmarkedKernelTest, match="starts a kernel"):
        client.execute()


def test_jupyterlab_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(Path(__file__).parent / "browser")
    from lab_session import LabServer

    with pytest.raises(UnmarkedKernelTest, match="starts JupyterLab"):
        LabServer(tmp_path)


def test_a_kernel_in_a_process_the_test_runs_is_refused(tmp_path: Path) -> None:
    """As the benchmark scripts start theirs, with the suite's harness."""
    tests = Path(__file__).parent
    path = os.pathsep.join(filter(None, [str(tests), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", "from kernel_session import Kernel; Kernel()"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "UnmarkedKernelTest" in done.stderr, done.stderr[-2000:]
