"""``%llm fix`` in real JupyterLab: the explanation streams, the corrected cell appears below, never run.

The kernel's OpenAI SDK talks to the session's wire server, which answers as
the API does; where a frontend cannot insert cells, the answer's code box has
the Copy button of ``--format code`` (the same constant script).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lab_session import LabServer, Notebook
from playwright.sync_api import BrowserContext, Page, expect
from providers.dialects import load
from test_copy_button import click_and_read
from test_live_view import setup_cell
from wire_server import WireServer

pytestmark = pytest.mark.browser

OPENAI = load("openai")
FAILING = "def ratio(a, b):\n    return a / b\n\nratio(1, 0)"
FIXED = "def ratio(a, b):\n    return a / b if b else 0.0\n\nratio(1, 0)"
ANSWER = ["`b` is zero, so ", "the division fails. Guard it:\n\n", f"```python\n{FIXED}\n```\n"]


def test_fix_streams_the_explanation_and_inserts_the_corrected_cell_below(
    notebook: Callable[[list[str]], Notebook],
    page: Page,
    context: BrowserContext,
    lab: LabServer,
    dialogs: list[str],
    lab_wire: WireServer,
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)
    nb = notebook([setup_cell(0.005), FAILING, f"%llm fix openai:{OPENAI.model}"])
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    expect(nb.output(1)).to_contain_text("ZeroDivisionError")
    lab_wire.queue(OPENAI.answer(ANSWER))
    nb.run_and_wait(2)
    output = nb.output(2)
    expect(output.locator(".llmring-footer").first).to_contain_text(f"openai:{OPENAI.model}")
    expect(output.locator(".llmring-answer").first).to_contain_text("the division fails")

    sent = OPENAI.sent_messages(lab_wire.last())[-1][1]
    assert "ZeroDivisionError: division by zero" in sent and f"```python\n{FAILING}\n```" in sent

    cells = page.locator(".jp-Notebook .jp-Cell")
    expect(cells).to_have_count(4)  # the corrected cell, inserted below the fix cell
    expect(nb.cell(3).locator(".cm-content")).to_contain_text("return a / b if b else 0.0")
    expect(nb.prompt(3)).to_have_text("[ ]:")  # inserted, never run

    box = output.locator(".llmring-code")
    assert box.locator("pre > code").text_content() == FIXED
    assert click_and_read(page, box.get_by_role("button")) == FIXED
    assert dialogs == []
    context.clear_permissions()
