"""Thinking in real JupyterLab, light and dark: its section streams, readable (AA contrast),
collapses when the answer begins, moves nothing at the switch to static, stays inert though it
quotes a hostile prompt, and is saved collapsed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_session import LabServer, Notebook
from playwright.sync_api import Locator, Page, expect
from test_live_view import saved_static, setup_cell
from test_view_look import THEMES, low_contrast

pytestmark = pytest.mark.browser

PROBE = (Path(__file__).with_name("view_probe.js")).read_text()
MOVE_PX = 2
#: The demo's thinking quotes the prompt's first line: hostile markup reaches the thinking.
PROMPT = '<img src=x onerror="window.__pwned=1"> Why is the sky blue?'


def assert_inert(page: Page, output: Locator, dialogs: list[str]) -> None:
    """The prompt's markup shows as text in the thinking, and nothing ran."""
    thinking = output.locator(".llmring-think-text").first
    expect(thinking).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(output.locator(".llmring-answer").locator("script, img, svg, iframe, object, embed")).to_have_count(0)
    page.wait_for_timeout(300)  # grace for an onerror handler, were one there, to fire
    assert page.evaluate("() => typeof window.__pwned") == "undefined" and dialogs == []


@pytest.fixture(params=list(THEMES))
def theme(request: pytest.FixtureRequest, lab: LabServer) -> Iterator[str]:
    """Each JupyterLab theme in turn, on the session's one server; light again after."""
    lab.set_theme(THEMES[request.param])
    yield request.param
    lab.set_theme(THEMES["light"])


def assert_readable(page: Page, section: Locator, theme: str) -> None:
    """Every text of the open thinking section meets AA contrast against what is behind it."""
    low = low_contrast(page, section)
    assert not low, f"thinking, {theme}: below AA: {low}"


def test_thinking_streams_then_collapses_and_is_saved_collapsed(
    lab: LabServer, page: Page, dialogs: list[str], theme: str
) -> None:
    page.add_init_script(PROBE)
    cells = [setup_cell(0.03), f"%%llm demo --think high\n{PROMPT}"]
    nb = Notebook.create(lab, page, f"test_thinking-{theme}.ipynb", cells)
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", str(theme == "light").lower())
    nb.run_and_wait(0)
    nb.cell(1).evaluate("c => window.__llmringProbe.watchSwitch(c)")
    nb.run(1)
    view = nb.output(1).locator(".llmring-view")
    section = view.locator("details.llmring-think")
    expect(section).to_have_attribute("open", "", timeout=15_000)
    expect(section.locator("summary")).to_have_text("Thinking… 0 s")
    expect(section.locator(".llmring-think-text")).to_contain_text("Why is the sky blue?")
    assert view.locator(".llmring-answer h2").count() == 0, "the thinking streams before the answer"
    assert_readable(page, section, theme)
    assert_inert(page, view, dialogs)

    # the answer's text begins: the section collapses to its one line, which a click opens
    expect(view.locator(".llmring-answer h2")).to_have_text("Demo answer", timeout=15_000)
    expect(section).not_to_have_attribute("open", "")
    expect(section.locator("summary")).to_contain_text("Thought for")
    section.locator("summary").click()
    expect(section.locator(".llmring-think-text")).to_be_visible()
    section.locator("summary").click()
    expect(section.locator(".llmring-think-text")).to_be_hidden()

    nb.wait_done(1)
    switch = page.wait_for_function(
        "() => window.__llmringProbe.switch.final && window.__llmringProbe.switch", timeout=10_000
    ).json_value()
    page.wait_for_timeout(300)
    final = nb.cell(1).evaluate("c => window.__llmringProbe.layout(c)")
    live = switch["live"]
    assert live["blocks"][0]["tag"] == final["blocks"][0]["tag"] == "details"
    for before, after in zip(live["blocks"][:6], final["blocks"][:6], strict=True):
        assert before["tag"] == after["tag"], (before, after)
        assert abs(before["top"] - after["top"]) <= MOVE_PX, (before, after)
        assert abs(before["height"] - after["height"]) <= MOVE_PX, (before, after)
    static = nb.output(1).locator("details.llmring-think")
    expect(static.locator("summary")).to_contain_text("reasoning tokens")
    expect(static).not_to_have_attribute("open", "")
    static.locator("summary").click()
    assert_readable(page, static, theme)
    assert_inert(page, nb.output(1), dialogs)

    nb.save(saved_static(1))
    nb.reload()
    saved = nb.output(1).locator("details.llmring-think")
    expect(saved.locator("summary")).to_contain_text("Thought for")
    expect(saved).not_to_have_attribute("open", "")
    saved.locator("summary").click()
    assert_readable(page, saved, theme)
    assert_inert(page, nb.output(1), dialogs)
