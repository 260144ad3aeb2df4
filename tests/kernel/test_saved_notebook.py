"""What a notebook saved after a run holds: the static answer, readable anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

SENTINEL = "sk-test-SENTINEL-0123456789abcdef"


def _run(tmp_path: Path, *sources: str) -> dict:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = json.loads(path.read_text())
    for cell in saved["cells"]:  # nbformat stores long strings as lists of lines
        for output in cell.get("outputs", []):
            output["data"] = {k: "".join(v) if isinstance(v, list) else v for k, v in output.get("data", {}).items()}
    return saved


def test_saved_notebook_holds_the_static_answer_and_footer(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LLMRING_DEMO_DELAY", "0")
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    saved = _run(tmp_path, "%load_ext llmring_jupyter", "%%llm demo\nWrite a haiku about streaming")
    (output,) = saved["cells"][1]["outputs"]
    assert output["output_type"] == "display_data"
    assert set(output["data"]) == {"text/html", "text/plain"}, "no widget view may remain"
    html = output["data"]["text/html"]
    assert "<h2>Demo answer</h2>" in html and 'class="llmring-footer"' in html
    assert "demo:chat · stop" in html
    assert output["data"]["text/plain"].startswith("## Demo answer")
    assert output["metadata"]["llmring"]["model"] == "demo:chat"
    widgets = saved["metadata"].get("widgets")
    assert widgets is None or "state" in next(iter(widgets.values())), "GitHub refuses widgets without state"
    assert SENTINEL not in json.dumps(saved)


def test_an_executed_notebook_carries_no_state_of_a_view(tmp_path: Path, monkeypatch) -> None:
    """nbclient runs no widget JavaScript, so no live view is made: the answer is static from the start,
    and the notebook's widget metadata holds at most the kernel's view anchor, never an answer's view."""
    monkeypatch.setenv("LLMRING_DEMO_DELAY", "0.01")  # long enough for the view's grace period to pass
    saved = _run(tmp_path, "%load_ext llmring_jupyter", "%%llm demo\nFirst", "%%llm demo --format code\nSecond")
    for cell in saved["cells"][1:]:
        (output,) = cell["outputs"]
        assert set(output["data"]) == {"text/html", "text/plain"}
        assert "llmring-footer" in output["data"]["text/html"]
    widgets = saved["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    states = [w["state"] for w in widgets.get("state", {}).values()]
    assert not [s for s in states if "status" in s or "text" in s], "an answer's view reached the notebook"
    assert sorted(s["_model_name"] for s in states) in ([], ["AnyModel", "LayoutModel"]), "the anchor at most"


def test_failing_cell_stops_the_run(tmp_path: Path) -> None:
    import pytest
    from nbclient.exceptions import CellExecutionError

    nb = new_notebook(
        cells=[
            new_code_cell("%load_ext llmring_jupyter"),
            new_code_cell("%%llm no-such-alias\nhi"),
            new_code_cell("print('after')"),
        ]
    )
    with pytest.raises(CellExecutionError, match="Unknown model alias 'no-such-alias'"):
        NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert nb.cells[2].get("outputs", []) == []
