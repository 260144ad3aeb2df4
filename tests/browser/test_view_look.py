"""The live answer looks and behaves like the notebook's own output: JupyterLab and Notebook 7,
light and dark.

Each test measures what a user sees: boxes and computed styles just before and
after the live view turns static, the contrast of every text against what is
behind it, math typeset mid-stream, a selection kept while the answer grows,
``--format`` honoured from the first token, the kernel status during the first
answer, and no console errors across fast failures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from lab_session import LabServer, Notebook, screenshot
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

pytestmark = pytest.mark.browser

PROBE = (Path(__file__).with_name("view_probe.js")).read_text()
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
UIS = ("lab", "notebook")
AA = 4.5
#: How far anything may move, or grow, when the live view turns into the static answer.
MOVE_PX = 2
#: Styles that must be the same live and static (the probe's STYLE_KEYS).
SAME_STYLES = (
    "fontFamily",
    "fontSize",
    "fontWeight",
    "fontStyle",
    "lineHeight",
    "color",
    "backgroundColor",
    "marginTop",
    "marginBottom",
    "marginLeft",
    "marginRight",
    "paddingTop",
    "paddingLeft",
    "textAlign",
)


def setup_cell(delay: float) -> str:
    return f"import os; os.environ['LLMRING_DEMO_DELAY'] = '{delay}'\n%load_ext llmring_jupyter"


@pytest.fixture(params=[(ui, theme) for ui in UIS for theme in THEMES], ids=lambda p: f"{p[0]}-{p[1]}")
def looks(request: pytest.FixtureRequest, lab: LabServer, page: Page) -> Iterator[tuple[str, str]]:
    """Each (frontend, theme); the page measures with view_probe.js."""
    ui, theme = request.param
    lab.set_theme(THEMES[theme])
    page.add_init_script(PROBE)
    yield ui, theme
    lab.set_theme(THEMES["light"])


@pytest.fixture
def open_notebook(
    lab: LabServer, page: Page, request: pytest.FixtureRequest, looks: tuple[str, str]
) -> Callable[[list[str]], Notebook]:
    def make(cells: list[str]) -> Notebook:
        nb = Notebook.create(
            lab, page, f"{request.node.name}.ipynb".replace("[", "-").replace("]", ""), cells, looks[0]
        )
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", str(looks[1] == "light").lower())
        return nb

    return make


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    seen: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def low_contrast(page: Page, root: Locator) -> list[dict[str, Any]]:
    texts = root.evaluate("el => window.__llmringProbe.contrast(el)")
    assert texts, "no text to measure"
    return [t for t in texts if t["ratio"] < AA]


def test_live_and_final_look_the_same_with_math_tables_and_aa_contrast(
    open_notebook: Callable[[list[str]], Notebook], page: Page, looks: tuple[str, str]
) -> None:
    ui, theme = looks
    nb = open_notebook([setup_cell(0.02), "%%llm demo\nWrite a haiku about streaming"])
    nb.run_and_wait(0)
    nb.cell(1).evaluate("c => window.__llmringProbe.watchSwitch(c)")
    nb.run(1)
    view = nb.output(1).locator(".llmring-view")
    expect(view).to_have_attribute("data-status", "streaming", timeout=15_000)

    # math is typeset while the answer streams, and the table is styled and left-aligned
    expect(view.locator(".math.block math")).to_have_count(1, timeout=20_000)
    expect(view).to_have_attribute("data-status", "streaming")
    assert view.locator(".math.inline math").count() == 2
    aligns = view.evaluate("v => [...v.querySelectorAll('table td, table th')].map(c => getComputedStyle(c).textAlign)")
    assert aligns and set(aligns) == {"left"}, aligns
    live_low = low_contrast(page, nb.cell(1).locator(".jp-OutputArea"))
    assert not live_low, f"live, {ui} {theme}: below AA: {live_low}"
    if ui == "lab":
        nb.focus(0)
        screenshot(page, nb.cell(1), f"streaming-{theme}.png", pad_below=40)

    nb.wait_done(1)
    expect(nb.output(1).locator(".llmring-footer")).to_contain_text("demo:chat · stop")
    switch = page.wait_for_function(
        "() => window.__llmringProbe.switch.final && window.__llmringProbe.switch", timeout=10_000
    ).json_value()
    page.wait_for_timeout(300)  # let the frontend finish laying out the static answer
    final = nb.cell(1).evaluate("c => window.__llmringProbe.layout(c)")
    live = switch["live"]
    assert switch["frames"] > 10 and final and not final["live"]

    # nothing moves at the switch: the answer, each block, each formula, the footer's line
    assert abs(final["answer"]["top"] - live["answer"]["top"]) <= MOVE_PX, (live["answer"], final["answer"])
    assert abs(final["answer"]["left"] - live["answer"]["left"]) <= MOVE_PX
    assert abs(final["answer"]["width"] - live["answer"]["width"]) <= MOVE_PX
    shown = len(live["blocks"]) - 1  # the last live block may not have shown its last token
    assert shown > 8
    for before, after in zip(live["blocks"][:shown], final["blocks"], strict=False):
        assert before["tag"] == after["tag"], (before, after)
        assert abs(before["top"] - after["top"]) <= MOVE_PX, (ui, theme, before, after)
        assert abs(before["left"] - after["left"]) <= MOVE_PX, (ui, theme, before, after)
        assert abs(before["height"] - after["height"]) <= MOVE_PX, (ui, theme, before, after)
    for before, after in zip(live["maths"], final["maths"], strict=False):
        assert abs(before["top"] - after["top"]) <= MOVE_PX and abs(before["height"] - after["height"]) <= MOVE_PX
    if live["text"] == final["text"]:  # the live view showed the whole answer: its bar is the footer's line
        assert abs(live["footer"]["top"] - final["footer"]["top"]) <= MOVE_PX, (live["footer"], final["footer"])
        assert abs(live["area"] - final["area"]) <= MOVE_PX, (live["area"], final["area"])
    for key in SAME_STYLES:
        assert live["footer"]["style"][key] == final["footer"]["style"][key], key
    count = min(len(live["elements"]), len(final["elements"])) - 12  # the last block's may be incomplete
    for before, after in zip(live["elements"][:count], final["elements"][:count], strict=True):
        assert before["tag"] == after["tag"], (
            [e["tag"] for e in live["elements"]],
            [e["tag"] for e in final["elements"]],
            live["text"][-300:],
        )
        for key in SAME_STYLES:
            assert before["style"][key] == after["style"][key], (ui, theme, before["tag"], key)

    final_low = low_contrast(page, nb.cell(1).locator(".jp-OutputArea"))
    assert not final_low, f"final, {ui} {theme}: below AA: {final_low}"
    assert nb.output(1).locator(".math.block math").count() == 1
    if ui == "lab":
        screenshot(page, nb.cell(1), f"final-{theme}.png")


def test_colours_follow_a_theme_change_without_rerunning(
    open_notebook: Callable[[list[str]], Notebook], page: Page, looks: tuple[str, str]
) -> None:
    _, theme = looks
    if theme == "dark":
        pytest.skip("one switch per frontend: light → dark")
    nb = open_notebook([setup_cell(0.01), "%%llm demo\nColours", "%%llm demo\nStill streaming"])
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    expect(nb.output(1).locator(".llmring-footer")).to_contain_text("demo:chat")
    page.evaluate("() => window.__llmringProbe")  # the probe is installed
    nb.run(2)
    expect(nb.output(2).locator(".llmring-view")).to_have_attribute("data-status", "streaming", timeout=15_000)
    before = nb.output(1).locator("pre span").first.evaluate("e => getComputedStyle(e).color")
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=10_000)
    assert nb.output(1).locator("pre span").first.evaluate("e => getComputedStyle(e).color") != before
    for index in (1, 2):  # the finished answer and the one still streaming
        low = low_contrast(page, nb.cell(index).locator(".jp-OutputArea"))
        assert not low, f"cell {index} after the switch to dark: {low}"
    nb.wait_done(2)
    assert not low_contrast(page, nb.cell(2).locator(".jp-OutputArea"))


def test_selection_survives_streaming_and_formats_show_from_the_first_token(
    open_notebook: Callable[[list[str]], Notebook], page: Page, looks: tuple[str, str]
) -> None:
    if looks[1] == "dark":  # what the dark theme changes, colours, is measured above
        pytest.skip("selection and formats: once per frontend")
    nb = open_notebook(
        [
            setup_cell(0.03),
            "%%llm demo -o tokens=600\nA long answer",
            "%%llm demo --format text\nPlain text",
            "%%llm demo --format code\nSome code",
        ]
    )
    nb.run_and_wait(0)
    nb.run(1)
    answer = nb.output(1).locator(".llmring-view .llmring-answer")
    expect(answer.locator("h2")).to_have_count(1, timeout=15_000)
    expect(answer.locator("p")).not_to_have_count(0)
    page.wait_for_function("el => el.querySelectorAll('p').length >= 3", arg=answer.element_handle())
    selected = (
        answer.locator("p")
        .nth(1)
        .evaluate(
            """p => { const r = document.createRange(); r.selectNodeContents(p);
                  getSelection().removeAllRanges(); getSelection().addRange(r); return getSelection().toString(); }"""
        )
    )
    length = len(answer.inner_text())
    page.wait_for_timeout(700)
    assert len(answer.inner_text()) > length + 50, "the answer kept streaming"
    assert page.evaluate("() => getSelection().toString()") == selected and selected.strip()
    assert page.evaluate("() => getSelection().rangeCount && getSelection().getRangeAt(0).startContainer.isConnected")
    nb.output(1).locator(".llmring-view button.llmring-stop").click()  # the rest of the long answer proves nothing
    nb.wait_done(1, timeout=60_000)

    nb.run(2)  # --format text: the raw text, markdown marks and all
    view = nb.output(2).locator(".llmring-view")
    expect(view.locator(".llmring-answer pre")).to_contain_text("## Demo answer", timeout=15_000)
    expect(view).to_have_attribute("data-status", "streaming")
    nb.wait_done(2)
    expect(nb.output(2).locator(".llmring-answer pre")).to_contain_text("## Demo answer")

    nb.run(3)  # --format code (last: it fills a new cell below): the code block and its Copy button's place, live
    view = nb.output(3).locator(".llmring-view")
    expect(view.locator(".llmring-code pre code")).to_contain_text("prompt", timeout=15_000)
    expect(view).to_have_attribute("data-status", "streaming")
    assert view.locator(".llmring-answer h2, .llmring-answer p").count() == 0, "no markdown while it streams"
    nb.wait_done(3)
    expect(nb.output(3).locator(".llmring-code button")).to_have_text("Copy")
    assert "```" not in nb.output(3).locator(".llmring-code code").inner_text()


def test_first_answer_keeps_the_kernel_busy_and_fast_failures_log_nothing(
    open_notebook: Callable[[list[str]], Notebook], page: Page, looks: tuple[str, str], console_errors: list[str]
) -> None:
    ui, theme = looks
    if theme == "dark":
        pytest.skip("kernel status and console: once per frontend")
    nb = open_notebook(
        [
            setup_cell(0.03),
            "%%llm demo\nFirst answer",
            "%%llm demo:nope\nFails at once",
            "%%llm demo --max-tokens 0\nRefused",
            "%%llm demo\nAfter the failures",
        ]
    )
    nb.run_and_wait(0)
    status = (
        # Notebook 7 has no status bar: its favicon shows the kernel's status
        "() => [...document.querySelectorAll('link[rel~=icon]')].some(l => /busy/.test(l.href)) ? 'Busy' : 'Idle'"
        if ui == "notebook"
        else "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].map(e => e.textContent)"
        ".find(t => / \\| /.test(t)) || ''"
    )
    prompt = nb.prompt(1).element_handle()
    page.evaluate(  # samples while the cell runs (its prompt shows [*])
        f"p => {{ window.__status = []; window.__sampler = setInterval(() => "
        f"p.textContent.includes('*') && window.__status.push(({status})()), 50); }}",
        prompt,
    )
    nb.run(1)
    expect(nb.output(1).locator(".llmring-view")).to_have_attribute("data-status", "streaming", timeout=15_000)
    page.wait_for_timeout(1500)
    samples = page.evaluate("() => { clearInterval(window.__sampler); return window.__status; }")
    nb.wait_done(1)
    busy = [i for i, s in enumerate(samples) if re.search(r"\bbusy\b", s, re.I)]
    assert busy, f"the kernel never showed busy: {samples[:5]}"
    after = samples[busy[0] :]  # the prompt shows [*] a moment before the kernel's busy arrives
    idle = [s for s in after if re.search(r"\bidle\b", s, re.I)]
    assert len(after) > 20 and not idle, f"the kernel showed idle during its first answer: {idle[:3]} of {len(after)}"
    for index in (2, 3):
        nb.run_and_wait(index)
    nb.run_and_wait(4)
    expect(nb.output(4).locator(".llmring-footer")).to_contain_text("demo:chat · stop")
    page.wait_for_timeout(1000)
    ours = [e for e in console_errors if re.search(r"anywidget|llmring|widget", e, re.I)]
    assert not ours, ours


def _long_answer_saved_mid_stream(
    open_notebook: Callable[[list[str]], Notebook], looks: tuple[str, str], flags: str = ""
) -> Notebook:
    """A notebook whose second cell streams a long demo answer, saved while it streams
    (once the text so far was refreshed, at least once, into the file)."""
    if looks[1] == "dark":
        pytest.skip("saving and reloading: once per frontend")
    nb = open_notebook([setup_cell(0.03), f"%%llm demo {flags}-o tokens=600\nA long answer"])
    nb.run_and_wait(0)
    nb.run(1)
    answer = nb.output(1).locator(".llmring-view .llmring-answer")
    expect(answer.locator("ul")).to_have_count(1, timeout=15_000)
    nb.page.wait_for_timeout(5500)  # past one refresh of the saved text (SAVE_INTERVAL)

    def holds_text_so_far(doc: dict[str, Any]) -> bool:
        outputs = doc["cells"][1].get("outputs", [])
        return any("llmring-so-far" in "".join(o.get("data", {}).get("text/html", "")) for o in outputs)

    nb.save(holds_text_so_far)
    expect(nb.output(1).locator(".llmring-view")).to_have_attribute("data-status", "streaming")  # saved mid-stream
    return nb


def _shows_the_final_answer(nb: Notebook, index: int) -> None:
    """The cell shows its finished answer (footer and all), and nothing of the live view."""
    footer = nb.output(index).locator(".llmring-footer")
    expect(footer).to_contain_text("demo:chat · stop", timeout=40_000)
    expect(footer).not_to_contain_text("still answering")
    expect(nb.cell(index).get_by_text("Error displaying widget")).to_be_hidden()
    expect(nb.output(index).locator(".llmring-view")).to_be_hidden()
    expect(nb.output(index).get_by_text("Words that stood out").first).to_be_visible()


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "edited-elsewhere"])
def test_a_save_mid_stream_holds_the_text_so_far_and_a_reload_shows_it_then_the_end(
    open_notebook: Callable[[list[str]], Notebook], looks: tuple[str, str], trusted: bool
) -> None:
    """JupyterLab autosaves every two minutes, so answers are often saved while they stream;
    a page reloaded then shows the text the file holds and, once the answer ends, the answer.
    Also where the file was changed elsewhere meanwhile: untrusted, its outputs are sanitised."""
    from nbconvert import HTMLExporter

    nb = _long_answer_saved_mid_stream(open_notebook, looks)
    saved = nbformat.read(nb.path, as_version=4)
    outputs = saved.cells[1].outputs
    plain = [str(o.get("data", {}).get("text/plain", "")) for o in outputs]
    assert not [p for p in plain if re.search(r"object at 0x", p)], plain
    assert plain[0].startswith("## Demo answer\n\nYou asked: “A long answer”") and len(plain[0]) > 300, plain[0]
    assert "still answering when this notebook was saved" in plain[0]
    body, _ = HTMLExporter().from_notebook_node(saved)
    assert "Words that stood out" in body and "object at 0x" not in body, "nbconvert shows the text so far"

    if not trusted:
        saved.cells[0].source += "  # edited outside JupyterLab: the signature no longer matches"
        nbformat.write(saved, nb.path)
    nb.reload(wait_idle=False)  # the kernel still streams; the page shows what the file holds
    expect(nb.output(1).first).to_contain_text("Words that stood out", timeout=15_000)
    expect(nb.output(1).first).to_contain_text("still answering when this notebook was saved")
    assert not nb.kernel_idle(), "the answer still streams"
    _shows_the_final_answer(nb, 1)


def test_a_reload_while_a_background_answer_streams_shows_it_continuing_then_the_end(
    open_notebook: Callable[[list[str]], Notebook], looks: tuple[str, str]
) -> None:
    """A background answer's cell has ended, so a reloaded page gets the kernel's open views."""
    nb = _long_answer_saved_mid_stream(open_notebook, looks, "--background ")
    answer = nb.output(1).locator(".llmring-view .llmring-answer")
    nb.reload()
    view = nb.output(1).locator(".llmring-view")
    expect(view).to_have_attribute("data-status", "streaming", timeout=15_000)
    expect(nb.cell(1).locator(".llmring-so-far")).to_be_hidden()  # the view shows the text so far
    grown = len(answer.inner_text())
    expect(answer).not_to_have_text(re.compile(rf"^[\s\S]{{0,{grown}}}$"), timeout=10_000)  # and goes on
    _shows_the_final_answer(nb, 1)
