"""Details of the live view a user meets in JupyterLab: no flash before it, only code for
``--format code``, Stop in reach in a long answer, the approval wait, the clock after a reload,
and outputs that read well (dry runs, a long history).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from lab_session import PROMPT, TOOL, Notebook
from playwright.sync_api import Page, expect
from test_live_view import WIDGET_MIME, NotebookMaker, setup_cell

pytestmark = pytest.mark.browser

#: Each frame (requestAnimationFrame runs before each paint), record what of `cell` is shown:
#: a visible text-so-far output, the live view's code box and prose line (--format code).
WATCH = """cell => {
  const seen = (window.__seen = { soFar: [], code: [], prose: [], frames: 0 });
  const shown = (e) => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const tick = () => {
    seen.frames++;
    for (const e of cell.querySelectorAll(".llmring-so-far")) if (shown(e)) seen.soFar.push(e.textContent.slice(0, 80));
    const code = cell.querySelector(".llmring-view .llmring-code code");
    if (code) seen.code.push(code.textContent);
    const prose = cell.querySelector(".llmring-view .llmring-code-prose");
    if (shown(prose)) seen.prose.push(prose.textContent);
    if (!window.__stopWatch) requestAnimationFrame(tick);
  };
  window.__stopWatch = false;
  requestAnimationFrame(tick);
}"""


def _seen(page: Page) -> dict[str, Any]:
    seen: dict[str, Any] = page.evaluate("() => { window.__stopWatch = true; return window.__seen; }")
    return seen


def _seconds(status: str) -> float:
    found = re.search(r" · (\d+\.\d) s · ", status)
    assert found, status
    return float(found.group(1))


def test_no_text_so_far_shows_while_the_live_view_comes_up(notebook: NotebookMaker, page: Page) -> None:
    nb: Notebook = notebook([setup_cell(0.02), "%%llm demo\nFirst", "%%llm demo\nSecond"])
    nb.run_and_wait(0)
    for index in (1, 2):  # the first answer of a kernel, and a later one
        nb.cell(index).evaluate(WATCH)
        nb.run(index)
        expect(nb.output(index).locator(".llmring-view")).to_have_attribute("data-status", "streaming", timeout=15_000)
        nb.wait_done(index)
        expect(nb.output(index).locator(".llmring-footer")).to_contain_text("demo:chat · stop")
        seen = _seen(page)
        assert seen["frames"] > 20 and seen["soFar"] == [], f"answer {index} flashed: {seen['soFar'][:3]}"


def test_code_format_streams_only_the_code(notebook: NotebookMaker, page: Page) -> None:
    nb: Notebook = notebook([setup_cell(0.02), "%%llm demo --format code\nSome code"])
    nb.run_and_wait(0)
    nb.cell(1).evaluate(WATCH)
    nb.run(1)
    nb.wait_done(1)
    final = nb.output(1).locator(".llmring-code code").inner_text()
    seen = _seen(page)  # every frame: the code comes near the end, shown live for a moment only
    assert any("prompt = 'Some code'" in c for c in seen["code"]), f"the live code box showed {seen['code'][-1:]}"
    prose = [c for c in seen["code"] if "Demo answer" in c or "You asked" in c]
    assert seen["code"] and not prose, f"the code box showed the answer's prose: {prose[:1]}"
    assert all(final.startswith(c.strip()) for c in seen["code"] if c.strip()), "it grew into the final code"
    assert any("Demo answer" in p or "Math is typeset" in p for p in seen["prose"]), "the prose showed aside"


def test_stop_stays_in_view_while_a_long_answer_grows(notebook: NotebookMaker, page: Page) -> None:
    nb: Notebook = notebook([setup_cell(0.004), "%%llm demo -o tokens=4000\nA long answer"])
    nb.run_and_wait(0)
    nb.run(1)
    view = nb.output(1).locator(".llmring-view")
    expect(view).to_have_attribute("data-status", "streaming", timeout=15_000)
    page.wait_for_function(
        "v => v.getBoundingClientRect().bottom > window.innerHeight + 300", arg=view.element_handle(), timeout=30_000
    )
    stop = view.locator(".llmring-stop")
    on_top = stop.evaluate(
        """b => { const r = b.getBoundingClientRect();
                 return r.bottom <= window.innerHeight && r.top >= 0
                   && document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === b; }"""
    )
    assert on_top, "the Stop button scrolled away with the text"
    stop.click()
    expect(nb.output(1).locator(".llmring-footer")).to_contain_text("stopped", timeout=15_000)
    nb.wait_done(1)


def test_waiting_for_approval_says_so_stops_the_clock_and_its_buttons_look_like_stop(
    notebook: NotebookMaker, page: Page
) -> None:
    nb: Notebook = notebook([setup_cell(0.05), TOOL, f"%%llm demo --tools get_weather --approve\n{PROMPT}"])
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    nb.run(2)
    view = nb.output(2).locator(".llmring-view")
    block = view.locator(".llmring-tool")
    expect(block).to_have_attribute("data-state", "approve", timeout=20_000)
    status = view.locator(".llmring-status")
    expect(status).to_contain_text("waiting for approval")
    before = _seconds(status.inner_text())
    page.wait_for_timeout(1200)
    assert _seconds(status.inner_text()) == before, "the clock ran while the answer waited for the user"
    look = """b => { const s = getComputedStyle(b);
                     return [s.borderTopStyle, s.borderRadius, s.backgroundColor, s.color, s.fontSize, s.height]; }"""
    run = block.locator("button.llmring-tool-run")
    assert run.evaluate(look) == view.locator(".llmring-stop").evaluate(look)
    assert block.locator("button.llmring-tool-skip").evaluate(look) == run.evaluate(look)
    run.click()
    expect(status).not_to_contain_text("waiting for approval", timeout=10_000)
    nb.wait_done(2, timeout=60_000)


def test_a_reloaded_page_shows_the_answers_real_running_time(notebook: NotebookMaker, page: Page) -> None:
    nb: Notebook = notebook([setup_cell(0.01), "%%llm demo --background -o tokens=4000\nA long answer"])
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    status = nb.output(1).locator(".llmring-view .llmring-status")
    expect(status).to_contain_text("streaming", timeout=15_000)
    page.wait_for_timeout(3000)
    nb.save(lambda doc: any(WIDGET_MIME in o.get("data", {}) for o in doc["cells"][1].get("outputs", [])))
    ran = _seconds(status.inner_text())
    assert ran >= 2.5, ran
    nb.reload()
    status = nb.output(1).locator(".llmring-view .llmring-status")
    expect(status).to_contain_text("streaming", timeout=15_000)
    page.wait_for_function(  # the view caught up with the text so far: the kernel answered its "ready"
        "el => Number(/· (\\d+) chars/.exec(el.textContent)?.[1]) > 1000", arg=status.element_handle(), timeout=10_000
    )
    assert _seconds(status.inner_text()) >= ran, "the clock started again at 0"


def test_dry_run_and_a_long_history_read_well(notebook: NotebookMaker, page: Page) -> None:
    words = " ".join(["internationalisation", "characteristically", "incomprehensibilities"] * 40)
    nb: Notebook = notebook(
        [
            setup_cell(0),
            f"%%llm demo --dry-run\n{words}",
            "import llmring_jupyter\nfor i in range(30):\n"
            "    await llmring_jupyter.chat(f'Question {i}', 'demo', max_tokens=60)",
            "%llm history",
        ]
    )
    for index in range(4):
        nb.run_and_wait(index, timeout=120_000)
    split = (
        nb.output(1)
        .locator("pre")
        .last.evaluate(
            """pre => { const text = pre.firstChild, out = [];
                   for (const m of text.data.matchAll(/\\S+/g)) {
                     const r = document.createRange(); r.setStart(text, m.index); r.setEnd(text, m.index + m[0].length);
                     if (r.getClientRects().length > 1) out.push(m[0]);
                   }
                   return out; }"""
        )
    )
    assert split == [], f"words broken across lines: {split[:3]}"

    history = nb.output(3)
    expect(history).to_contain_text("30 turns")
    height = history.evaluate("e => e.getBoundingClientRect().height")
    assert height < 3000, f"the history of 30 turns is {height:.0f} px tall"
    expect(history.locator("details")).not_to_have_count(0)
    label = history.get_by_text("30. demo:chat").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    headings = history.locator("h1, h2, h3").evaluate_all(
        "hs => hs.filter(h => h.getClientRects().length).map(h => parseFloat(getComputedStyle(h).fontSize))"
    )
    assert headings and max(headings) <= label, (headings, label)
