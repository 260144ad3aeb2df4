"""Structured output in real JupyterLab: the JSON reads well while it grows, and the value is shown at the end."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from lab_session import Notebook
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

NotebookMaker = Callable[[list[str]], Notebook]

SETUP = "import os; os.environ['LLMRING_DEMO_DELAY'] = '{delay}'\n%load_ext llmring_jupyter"
TYPES = "from pydantic import BaseModel\nclass Paper(BaseModel):\n    title: str\n    year: int\n    topics: list[str]"
HOSTILE = {"<img src=x onerror=window.__pwned=1>": "<script>window.__pwned=2</script>", "ok": [1, 2]}


def test_json_grows_pretty_printed_then_the_records_become_a_table(notebook: NotebookMaker, page: Page) -> None:
    nb = notebook([SETUP.format(delay=0.05), TYPES, "%%llm demo --schema list[Paper]\nExtract every paper on graphs"])
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    nb.run(2)
    view = nb.output(2).locator(".llmring-view")
    live = view.locator(".llmring-answer pre.llmring-json")
    expect(view).to_have_attribute("data-status", "streaming", timeout=15_000)
    expect(live).to_contain_text('"title": "', timeout=10_000)  # seen while streaming, not at the end
    shown = live.evaluate("el => el.textContent")
    assert shown.startswith('{\n  "items": [\n    {\n      "title": "'), shown  # indented, one field a line
    assert "\\n" not in shown and "&quot;" not in shown  # neither escaped text nor markup
    selected = live.evaluate(  # select the first line, as a reader copying a value would
        """el => { const r = document.createRange(); r.setStart(el.firstChild, 0); r.setEnd(el.firstChild, 1);
                   getSelection().removeAllRanges(); getSelection().addRange(r); return getSelection().toString(); }"""
    )
    length = len(shown)
    page.wait_for_function("([el, n]) => el.textContent.length > n", arg=[live.element_handle(), length + 20])
    assert page.evaluate("() => getSelection().toString()") == selected == "{"  # the text grew; the selection held
    expect(view).to_have_attribute("data-status", "streaming")  # the checks above ran mid-stream
    expect(view.locator(".llmring-answer p, .llmring-answer ul")).to_have_count(0)  # not rendered as markdown

    output = nb.output(2)
    expect(output.locator(".llmring-footer")).to_contain_text("demo:chat", timeout=30_000)
    table = output.locator(".llmring-answer .llmring-data table")
    expect(table.locator("thead th")).to_have_text(["title", "year", "topics"])
    expect(table.locator("tbody tr")).to_have_count(2)
    first = table.locator("tbody tr").first.locator("td")
    expect(first.nth(0)).to_have_text(re.compile(r"^\w+ \w+$"))
    expect(first.nth(1)).to_have_text(re.compile(r"^20\d\d$"))


def test_hostile_json_is_text_live_and_final(notebook: NotebookMaker, page: Page, dialogs: list[str]) -> None:
    nb = notebook([SETUP.format(delay=0.3), f"%%llm demo:echo --json\n{json.dumps(HOSTILE)}"])
    nb.run_and_wait(0)
    nb.run(1)
    output = nb.output(1)
    expect(output.locator(".llmring-json")).to_contain_text("<script>window.__pwned=2</script>", timeout=15_000)
    expect(output.locator(".llmring-footer")).to_contain_text("demo:echo", timeout=30_000)
    data = output.locator(".llmring-data")
    expect(data.locator("th").first).to_have_text("<img src=x onerror=window.__pwned=1>")
    expect(data).to_contain_text("<script>window.__pwned=2</script>")
    expect(output.locator("script, img, iframe, svg")).to_have_count(0)
    page.wait_for_timeout(300)
    assert page.evaluate("() => typeof window.__pwned") == "undefined" and dialogs == []
