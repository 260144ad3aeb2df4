"""A test without the ``kernel`` marker cannot start a kernel, whichever way it tries, so
``pytest -m "not kernel and not browser"`` never slows down again (tests/kernel_guard.py).
This test itself is unmarked: each attempt must be refused before any kernel starts."""

from __future__ import annotations

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
