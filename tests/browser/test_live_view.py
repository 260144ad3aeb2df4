"""``%%llm`` in real JupyterLab: the live view streams, stops, and leaves a safe static answer.

Each test opens its own notebook (and kernel) on the session's server. Streams
the test watches are slowed in the notebook's first cell; the others run at
the server's quick default pace.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from lab_session import Notebook
from playwright.sync_api import Locator, Page, expect

from llmring_jupyter import render
from llmring_jupyter.providers.demo import DemoProvider
from llmring_jupyter.providers.types import Message, Request

pytestmark = pytest.mark.browser

NotebookMaker = Callable[[list[str]], Notebook]
POLICY = json.loads((Path(render.__file__).parent / "rules.json").read_text())
BLOCKED = tuple(f"{scheme}:" for scheme in POLICY["blocked_schemes"])
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

HOSTILE = """\
<script>window.__pwned=1</script>

<img src=x onerror="window.__pwned=2">

<svg onload="window.__pwned=3">

<iframe src="javascript:window.top.__pwned=4"></iframe>

[x](javascript:window.__pwned=5)

[d](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD03PC9zY3JpcHQ+) ![p](data:image/png;base64,iVBORw0KGgo=) [ok](https://example.org/ok)

```html
<script>window.__pwned=6</script>
```

$\\text{<img src=x onerror="window.__pwned=8">}$ $\\mbox{<script>window.__pwned=9</script>}$

$\\href{javascript:window.__pwned=10}{x}$ $\\style{background-image:url(/files/bg.png)}{y}$

""" + " ".join(f"tail{i}" for i in range(150))  # keeps the stream going after the payloads


def setup_cell(delay: float) -> str:
    """A first cell that loads the extension with the demo model at ``delay`` s a token."""
    return f"import os; os.environ['LLMRING_DEMO_DELAY'] = '{delay}'\n%load_ext llmring_jupyter"


def demo_answer(prompt: str) -> str:
    """The full answer the demo model gives to ``prompt`` (computed here, without a kernel).

    Runs in a worker thread: Playwright's sync API keeps an event loop running in this one.
    """

    async def collect() -> str:
        request = Request("demo", (Message("user", prompt),), options={"delay": 0})
        return "".join([c.delta async for c in DemoProvider().stream("chat", request) if c.delta])

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, collect()).result()


def wait_longer(page: Page, answer: Locator, than: int, timeout: float = 10_000) -> int:
    """Wait until the answer's text is longer than ``than`` characters; return its length."""
    return int(
        page.wait_for_function(
            "([el, than]) => el.textContent.length > than && el.textContent.length",
            arg=[answer.element_handle(), than],
            timeout=timeout,
        ).json_value()
    )


def saved_static(index: int) -> Callable[[dict[str, Any]], bool]:
    """Whether a saved notebook holds cell ``index`` finished, with its static answer and no widget."""

    def check(doc: dict[str, Any]) -> bool:
        cell = doc["cells"][index]
        outputs = cell.get("outputs", [])
        html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
        return (
            cell.get("execution_count") is not None
            and "llmring-footer" in html
            and not any(WIDGET_MIME in o.get("data", {}) for o in outputs)
        )

    return check


def links(output: Locator) -> list[str]:
    """Every URL an answer's elements carry, in document order."""
    return list(
        output.locator(".llmring-answer").evaluate(
            "el => [...el.querySelectorAll('[href], [src]')].map(e => e.getAttribute('href') || e.getAttribute('src'))"
        )
    )


def assert_inert(page: Page, output: Locator, dialogs: list[str]) -> None:
    """The hostile prompt shows as text: no script ran, no active element, no link the policy blocks."""
    answer = output.locator(".llmring-answer")
    expect(answer).to_contain_text("<script>window.__pwned=1</script>")
    expect(answer).to_contain_text("[x](javascript:window.__pwned=5)")
    expect(answer.locator("script, img, svg, iframe, object, embed")).to_have_count(0)
    expect(answer.locator("[style*='url(']")).to_have_count(0)  # nothing fetched by a formula's style
    hrefs = links(output)
    assert "https://example.org/ok" in hrefs
    assert not [h for h in hrefs if h.strip().lower().startswith(BLOCKED)], hrefs
    page.wait_for_timeout(300)  # grace for an onerror/onload handler, were one there, to fire
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert dialogs == []


def test_text_grows_live_then_becomes_static(notebook: NotebookMaker, page: Page) -> None:
    nb = notebook([setup_cell(0.05), "%%llm demo\nWrite a haiku about streaming"])
    nb.run_and_wait(0)
    nb.run(1)
    view = nb.output(1).locator(".llmring-view")
    answer = view.locator(".llmring-answer")
    expect(view).to_have_attribute("data-status", "streaming", timeout=15_000)

    lengths = [wait_longer(page, answer, 0)]
    for _ in range(4):
        lengths.append(wait_longer(page, answer, lengths[-1]))
        expect(view.locator(".llmring-status")).to_contain_text("streaming")
        expect(view.locator("button.llmring-stop")).to_be_visible()
    assert lengths == sorted(set(lengths)), lengths
    wait_longer(page, answer, 300)

    footer = nb.output(1).locator(".llmring-footer")
    expect(footer).to_contain_text("demo:chat", timeout=30_000)
    expect(footer).to_contain_text("stop")
    expect(nb.output(1).locator(".llmring-view")).to_have_count(0)
    expect(nb.output(1).locator(".llmring-answer h2")).to_have_text("Demo answer")
    nb.wait_done(1)


def test_answers_reuse_the_view_module_and_the_comm_subshell(notebook: NotebookMaker, page: Page) -> None:
    """The second answer's live view reuses the module the first one fetched, styles included,
    and the kernel subshell JupyterLab runs widget messages on outlives each answer's widget."""
    nb = notebook([setup_cell(0.03), "%%llm demo\nFirst answer", "%subshell", "%%llm demo\nSecond answer", "%subshell"])
    nb.run_and_wait(0)
    loaded = "[...(globalThis.__llmringJupyterViews || new Map()).values()]"
    subshells = []
    for index in (1, 3):
        nb.run(index)
        view = nb.output(index).locator(".llmring-view")
        expect(view).to_have_attribute("data-status", "streaming", timeout=15_000)
        assert view.locator(".llmring-dot").evaluate("e => getComputedStyle(e).borderRadius") == "50%"
        if index == 1:
            page.evaluate(f"globalThis.__firstView = {loaded}[0]")
        nb.wait_done(index)
        expect(nb.output(index).locator(".llmring-footer")).to_contain_text("demo:chat")
        nb.run_and_wait(index + 1)
        listed = re.search(r"subshell list: (\[.*\])", nb.output(index + 1).inner_text())
        assert listed is not None, "the cell prints the kernel's subshells"
        subshells.append(listed.group(1))
    assert page.evaluate(f"{loaded}.length === 1 && {loaded}[0] === globalThis.__firstView")
    assert subshells[0] == subshells[1] != "[]", subshells


def test_stop_keeps_the_partial_answer_and_the_kernel_healthy(notebook: NotebookMaker, page: Page) -> None:
    prompt = "Explain how tokens stream"
    nb = notebook([setup_cell(0.08), f"%%llm demo\n{prompt}", "1+1"])
    nb.run_and_wait(0)
    nb.run(1)
    view = nb.output(1).locator(".llmring-view")
    wait_longer(page, view.locator(".llmring-answer"), 60, timeout=15_000)
    view.locator("button.llmring-stop").click()

    footer = nb.output(1).locator(".llmring-footer")
    expect(footer).to_contain_text("stopped", timeout=5_000)  # promptly, with slack for a busy CI box
    nb.wait_done(1, timeout=5_000)
    partial = nb.output(1).locator(".llmring-answer").inner_text()
    assert 0 < len(partial) < len(demo_answer(prompt)) // 2, partial
    assert "llmring.lock" not in partial  # the answer's last sentence never came

    nb.run_and_wait(2, timeout=10_000)
    expect(nb.output(2)).to_have_text("2")


def test_final_rendering_survives_save_and_reload(notebook: NotebookMaker, page: Page) -> None:
    nb = notebook([setup_cell(0.005), "%%llm demo\nWrite a haiku"])
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    expect(nb.output(1).locator(".llmring-footer")).to_contain_text("demo:chat")
    nb.save(saved_static(1))

    nb.reload()
    output = nb.output(1)
    expect(output.locator(".llmring-answer h2")).to_have_text("Demo answer")
    expect(output.locator(".llmring-footer")).to_contain_text("demo:chat · stop")
    expect(output.locator(".llmring-view")).to_have_count(0)


def test_hostile_output_never_runs_script(notebook: NotebookMaker, page: Page, dialogs: list[str]) -> None:
    nb = notebook([setup_cell(0.04), f"%%llm demo:echo\n{HOSTILE}"])
    nb.run_and_wait(0)
    nb.run(1)
    view = nb.output(1).locator(".llmring-view")
    expect(view.locator(".llmring-answer")).to_contain_text("tail5", timeout=15_000)
    assert_inert(page, view, dialogs)
    expect(view).to_have_attribute("data-status", "streaming")  # the checks above ran mid-stream
    live_links = links(view)

    footer = nb.output(1).locator(".llmring-footer")
    expect(footer).to_contain_text("demo:echo", timeout=30_000)
    assert_inert(page, nb.output(1), dialogs)
    assert links(nb.output(1)) == live_links  # one link policy: live keeps exactly what static keeps

    nb.wait_done(1)  # save the finished cell: a late execution count would leave the notebook dirty
    nb.save(saved_static(1))
    nb.reload()
    expect(nb.output(1).locator(".llmring-footer")).to_contain_text("demo:echo")
    assert_inert(page, nb.output(1), dialogs)


def test_every_live_status_says_what_the_answer_waits_for(notebook: NotebookMaker, page: Page) -> None:
    """The states other parts of the kernel set (queued, retrying with its countdown, a finished column)."""
    nb = notebook(
        [
            setup_cell(0.01),
            "from llmring_jupyter.view.widget import StreamView\n"
            "v = StreamView(model_label='demo', status='queued')\nv",
            "v.retry = {'reason': 'rate limited', 'attempt': 2, 'attempts': 3, 'seconds': 3.0}; v.status = 'retrying'",
            "v.status = 'done'",
        ]
    )
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    view = nb.output(1).locator(".llmring-view")
    status = view.locator(".llmring-status")
    expect(status).to_contain_text("demo · waiting for an earlier answer in this conversation…", timeout=15_000)
    expect(view.locator("button.llmring-stop")).to_be_enabled()
    nb.run_and_wait(2)
    expect(status).to_contain_text("rate limited — retrying in 3 s, attempt 2 of 3")
    expect(status).to_contain_text("retrying in 1 s", timeout=4_000)  # it counts down
    expect(status).to_contain_text("retrying in 0 s", timeout=4_000)
    expect(view.locator("button.llmring-stop")).to_be_visible()
    nb.run_and_wait(3)
    expect(status).to_have_text(re.compile(r"^demo · done · \d+ chars$"))
    expect(view.locator("button.llmring-stop")).to_be_hidden()
