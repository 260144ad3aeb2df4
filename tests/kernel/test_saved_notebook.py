"""What a notebook saved after a run holds: the static answer, readable anywhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from kernel_session import Kernel, Msg
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

SENTINEL = "sk-test-SENTINEL-0123456789abcdef"


def _run(tmp_path: Path, *sources: str) -> dict[str, Any]:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved: dict[str, Any] = json.loads(path.read_text())
    for cell in saved["cells"]:  # nbformat stores long strings as lists of lines
        for output in cell.get("outputs", []):
            output["data"] = {k: "".join(v) if isinstance(v, list) else v for k, v in output.get("data", {}).items()}
    return saved


def test_saved_notebook_holds_the_static_answer_and_footer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_an_executed_notebook_carries_no_state_of_a_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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


def _anchor_finals(messages: list[Msg]) -> dict[str, str]:
    """The ended answers the kernel's anchor sent to pages that opened the notebook later."""
    finals: dict[str, str] = {}
    for m in messages:
        data = m["content"].get("data", {}) if m["msg_type"] == "comm_msg" else {}
        if data.get("method") == "custom" and data["content"].get("kind") == "final":
            finals.update(data["content"]["answers"])
    return finals


def test_a_page_that_opens_the_notebook_later_is_sent_the_answers_its_file_held_mid_stream(tmp_path: Path) -> None:
    """Display updates reach only the page that ran the cell; a reloaded page's text so far is
    replaced by the answer the anchor sends it when it attaches, and by each answer that ends later."""
    env = {"LLMRING_DEMO_DELAY": "0.005", "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    k = Kernel(cwd=tmp_path, env=env)
    try:
        opened = k.run("%load_ext llmring_jupyter").of("comm_open")
        (anchor,) = [m["content"]["comm_id"] for m in opened if "view_id" in m["content"]["data"]["state"]]
        first = k.run("%%llm demo\nFirst")
        assert first.ok, first.error
        assert not _anchor_finals(first.messages), "one page: nothing to send"
        failed = k.run("%%llm openai:gpt-4o-mini --retries 1\nUnreachable")
        assert not failed.ok and not _anchor_finals(failed.messages)

        attached = k.later(
            k.send_custom(anchor, {"kind": "initialized"}), until=lambda e: bool(_anchor_finals(e.messages))
        )
        # by answer, in the order they ended (no page here rendered a view, so their text-so-far
        # outputs, which name the answers, never held text)
        assert list(_anchor_finals(attached.messages).values()) == [first.final["data"]["text/html"], ""], (
            'the static answer as it replaced the view; for one that failed with nothing to show, ""'
        )

        second = k.run("%%llm demo\nSecond")  # a second page is open now: each answer that ends is sent
        assert list(_anchor_finals(second.messages).values()) == [second.final["data"]["text/html"]]
        kinds = [
            m["msg_type"] for m in second.messages if m["msg_type"] in ("update_display_data", "comm_msg", "comm_close")
        ]
        sent = max(i for i, m in enumerate(second.messages) if _anchor_finals([m]))
        assert all(second.messages.index(u) < sent for u in second.of("update_display_data")), kinds
    finally:
        k.close()
