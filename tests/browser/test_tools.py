"""Tools in real JupyterLab: the call streams into the view, Run / Skip work, the saved answer shows it all."""

from __future__ import annotations

import pytest
from lab_session import PROMPT, TOOL, Notebook
from playwright.sync_api import Page, expect
from test_live_view import NotebookMaker, saved_static, setup_cell

pytestmark = pytest.mark.browser


def test_the_call_streams_run_and_skip_work_and_the_saved_notebook_shows_calls(
    notebook: NotebookMaker, page: Page, dialogs: list[str]
) -> None:
    nb: Notebook = notebook(
        [
            setup_cell(0.25),
            TOOL,
            f"%%llm demo --tools get_weather --approve\n{PROMPT}",
            f"%%llm demo --tools get_weather --approve\n{PROMPT}",
            "print(calls)",
        ]
    )
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    nb.run(2)
    view = nb.output(2).locator(".llmring-view")
    block = view.locator(".llmring-tool")
    expect(block).to_have_attribute("data-state", "streaming", timeout=15_000)
    expect(block.locator("summary")).to_contain_text("get_weather(")
    expect(block).to_have_attribute("data-state", "approve", timeout=10_000)
    expect(block.locator("summary")).to_contain_text('get_weather(city="Paris")')
    expect(view.locator(".llmring-answer")).to_contain_text("Let me ask get_weather.")
    text_first = view.locator(".llmring-answer").evaluate(
        "el => el.textContent.indexOf('Let me ask') < el.textContent.indexOf('get_weather(city')"
    )
    assert text_first, "the text before the call shows before its block"
    block.locator("button.llmring-tool-run").click()
    expect(block.locator("pre")).to_contain_text("18 °C in Paris", timeout=10_000)

    expect(nb.output(2).locator(".llmring-footer")).to_contain_text("demo:chat", timeout=30_000)
    expect(nb.output(2).locator(".llmring-view")).to_have_count(0)
    final = nb.output(2).locator(".llmring-answer")
    expect(final.locator("details.llmring-tool")).to_have_count(1)
    expect(final).to_contain_text("what the tools told me")
    expect(final.locator("details.llmring-tool pre")).to_contain_text("<img src=x onerror=window.__pwned=7>")
    expect(nb.output(2).locator(".llmring-footer")).to_contain_text("2 steps · 1 tool call")
    nb.wait_done(2)

    nb.run(3)
    skip = nb.output(3).locator(".llmring-view .llmring-tool button.llmring-tool-skip")
    expect(skip).to_be_visible(timeout=15_000)
    skip.click()
    expect(nb.output(3).locator(".llmring-answer details.llmring-tool pre")).to_contain_text(
        "The user declined to run this tool call.", timeout=30_000
    )
    nb.wait_done(3)
    nb.run_and_wait(4)
    expect(nb.output(4)).to_have_text("['Paris']")  # Run ran it once; Skip never did

    for output in (nb.output(2), nb.output(3)):
        expect(output.locator("img, script")).to_have_count(0)
    assert page.evaluate("() => typeof window.__pwned") == "undefined" and dialogs == []

    nb.save(saved_static(3))
    nb.reload()
    saved = nb.output(2).locator(".llmring-answer")
    expect(saved.locator("details.llmring-tool summary")).to_contain_text('get_weather(city="Paris")')
    saved.locator("details.llmring-tool summary").click()
    expect(saved.locator("details.llmring-tool pre")).to_contain_text("18 °C in Paris")
    expect(saved).to_contain_text("what the tools told me")
