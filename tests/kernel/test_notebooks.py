"""Every notebook under notebooks/ runs top to bottom in a real kernel, on the demo model, with no key.

Each runs in a scratch copy of notebooks/ (files it writes, such as its
llmring.lock or exported chats, stay out of the repository), with every
provider key removed and Ollama pointed at a closed port on 127.0.0.1, so a
cell that needs a real provider must fall back to demo or skip itself.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from llmring_jupyter.providers.keys import KEY_VARIABLES

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: A notebook that sets the demo model's pace for a reader to watch (0.05 s a word) runs at this
#: one: its answers still stream, and still overlap the cells after them, in a tenth of the time.
PACE = re.compile(r"(os\.environ\[['\"]LLMRING_DEMO_DELAY['\"]\]\s*=\s*)['\"][0-9.]+['\"]")
QUICK = "'0.005'"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "providers.ipynb", "conversations.ipynb", "data.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_on_demo(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        *KEY_VARIABLES,
        "LLMRING_LOCKFILE_PATH",
        "LLMRING_PROFILE",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "GOOGLE_GEMINI_BASE_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LLMRING_DEMO_DELAY", "0")
    monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{_closed_port()}")
    folder = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", folder)
    nb = nbformat.read(folder / path.name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.source = PACE.sub(rf"\g<1>{QUICK}", cell.source)

    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()  # raises on any error

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    meant = [o for c in nb.cells if "raises-exception" in c.metadata.get("tags", []) for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" and o not in meant], "only tagged cells fail"
    assert all(
        any(o.output_type == "error" for o in c.outputs)
        for c in nb.cells
        if "raises-exception" in c.metadata.get("tags", [])
    ), "a cell tagged raises-exception must raise"
    # Answers, not the Keep buttons of a side-by-side cell: those stay live on purpose while the kernel
    # runs, and carry in "gone" the line a restart puts in their place.
    answers = [o for o in outputs if "gone" not in o.get("metadata", {}).get("llmring", {"gone": None})]
    assert answers, "the notebook asked nothing"
    _leaves_the_checkout_clean(folder)
    for answer in answers:
        assert "application/vnd.jupyter.widget-view+json" not in answer.data, "a live view remained"
        served = answer.metadata["llmring"].get("model") or "demo"  # a --dry-run served nothing
        assert served.startswith("demo"), f"without keys every answer comes from demo, not {served}"


def _leaves_the_checkout_clean(folder: Path) -> None:
    """Run in the checkout, the notebook would leave ``git status`` clean: it changed no tracked
    file, and every file it wrote is one the repository ignores."""
    tracked = _git("ls-files", "-z", "notebooks").split("\0")
    for name in filter(None, tracked):
        assert (folder / Path(name).name).read_bytes() == (ROOT / name).read_bytes(), f"the notebook changed {name}"
    written = [f"notebooks/{p.relative_to(folder).as_posix()}" for p in folder.rglob("*") if p.is_file()]
    untracked = sorted(set(written) - set(tracked))
    ignored = set(_git("check-ignore", "--no-index", "--stdin", "-z", stdin="\0".join(untracked)).split("\0"))
    assert [name for name in untracked if name not in ignored] == [], "files the repository does not ignore"


def _git(*args: str, stdin: str = "") -> str:
    run = subprocess.run(["git", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, check=False)
    assert run.returncode in (0, 1), run.stderr  # check-ignore: 1 when nothing is ignored
    return run.stdout
