"""``--format code`` in real JupyterLab: the Copy button copies exactly the code, hostile code stays text.

The button comes from render.COPY_SCRIPT, the one script an answer's HTML holds;
where outputs run no script (an untrusted notebook, GitHub) there is no button at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import nbformat
import pytest
from lab_session import LabServer, Notebook
from playwright.sync_api import BrowserContext, Locator, Page, expect
from test_live_view import saved_static, setup_cell

from llmring_jupyter.render import answer_html
from llmring_jupyter.render.copy_button import COPY_JS

pytestmark = pytest.mark.browser

NotebookMaker = Callable[[list[str]], Notebook]

#: Code a hostile model might answer: each line would run script if it reached the page as HTML.
CODE = """\
s = "</script><script>window.__pwned=1</script>"
t = '<img src=x onerror="window.__pwned=2">'  # `backticks` &amp; <svg onload=window.__pwned=3>
\tprint(s, t, "é")"""
CELL = f"%%llm demo:echo --format code\nHere it is:\n```python\n{CODE}\n```\nEnjoy."

#: How VS Code's notebook renderer shows an HTML output (extensions/notebook-renderers, renderHTML
#: and domEval): innerHTML into a fresh element, then a copy of each script is appended to that
#: element, run, and removed at once, so the script is not where the output put it.
VS_CODE_RENDER = """html => {
  const element = document.createElement("div");
  element.innerHTML = html;
  document.body.appendChild(element);
  for (const node of [...element.getElementsByTagName("script")]) {
    const copy = document.createElement("script");
    copy.text = node.innerText;
    element.appendChild(copy).parentNode.removeChild(copy);
  }
}"""


@pytest.fixture
def clipboard(context: BrowserContext, lab: LabServer) -> Iterator[None]:
    """Let pages of the lab use the clipboard: the tests read back what the button copied."""
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)
    yield
    context.clear_permissions()


def answered(notebook: NotebookMaker) -> Notebook:
    """A notebook whose cell 1 has answered CELL (JupyterLab puts the code in a new cell 2)."""
    nb = notebook([setup_cell(0.005), CELL])
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    expect(nb.output(1).locator(".llmring-footer")).to_contain_text("demo:echo")
    return nb


def copy_button(output: Locator) -> Locator:
    """The answer's one button (its name changes to say what happened, so it is not found by name)."""
    return output.locator(".llmring-answer").get_by_role("button")


def assert_code_inert(page: Page, output: Locator, dialogs: list[str]) -> None:
    """The code shows as text, exactly; the only script is ours; nothing the code names ran."""
    answer = output.locator(".llmring-answer")
    assert answer.locator("pre > code").text_content() == CODE
    expect(answer.locator("img, svg, iframe, object, embed")).to_have_count(0)
    assert answer.locator("script").evaluate_all("els => els.map(e => e.textContent)") in ([COPY_JS], [])
    page.wait_for_timeout(300)  # grace for an onerror/onload handler, were one there, to fire
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert dialogs == []


def click_and_read(page: Page, button: Locator, press: str | None = None) -> str:
    """Empty the clipboard, activate the button (click, or focus and press a key), return the clipboard."""
    page.evaluate("navigator.clipboard.writeText('')")
    if press:
        button.focus()
        page.keyboard.press(press)
    else:
        button.click()
    said_copied(page, button)
    return str(page.evaluate("navigator.clipboard.readText()"))


def said_copied(page: Page, button: Locator) -> None:
    """Wait for the feedback, to eyes and screen readers at once (it lasts only 2 s)."""
    page.wait_for_function(
        "el => el.textContent === 'Copied' && el.getAttribute('aria-label') === 'Copied'",
        arg=button.element_handle(),
        timeout=5_000,
    )


def test_copy_button_copies_exactly_the_code(
    notebook: NotebookMaker, page: Page, dialogs: list[str], clipboard: None
) -> None:
    nb = answered(notebook)
    output = nb.output(1)
    assert_code_inert(page, output, dialogs)
    expect(output.locator("script")).to_have_count(1)
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(3)  # set_next_input added cell 2:
    expect(nb.cell(2).locator(".cm-content")).to_contain_text("window.__pwned=1")  # the code, as text

    button = copy_button(output)
    expect(button).to_be_visible()
    expect(button).to_have_text("Copy")
    expect(button).to_have_accessible_name("Copy the code")
    assert click_and_read(page, button) == CODE
    expect(button).to_have_text("Copy", timeout=5_000)  # the feedback is brief
    assert click_and_read(page, button, press="Enter") == CODE  # keyboard users too
    assert_code_inert(page, output, dialogs)


def test_copy_button_falls_back_to_selecting_the_code(
    notebook: NotebookMaker, page: Page, dialogs: list[str], clipboard: None
) -> None:
    """Off localhost over plain http there is no Clipboard API: the button copies the selection."""
    nb = answered(notebook)
    page.evaluate(
        "window.__readClipboard = navigator.clipboard.readText.bind(navigator.clipboard);"
        "navigator.clipboard.writeText(''); delete Navigator.prototype.clipboard"
    )
    button = copy_button(nb.output(1))
    button.click()
    said_copied(page, button)
    assert page.evaluate("window.__readClipboard()") == CODE
    assert page.evaluate("getSelection().toString()") == CODE
    assert_code_inert(page, nb.output(1), dialogs)


def test_each_output_gets_its_own_button_as_vs_code_runs_scripts(context: BrowserContext) -> None:
    page = context.new_page()
    try:
        for code in (CODE, "second = 2"):
            page.evaluate(VS_CODE_RENDER, answer_html(f"```\n{code}\n```", "code"))
        blocks = page.locator(".llmring-code")
        for index, code in enumerate((CODE, "second = 2")):
            expect(blocks.nth(index).get_by_role("button")).to_have_accessible_name("Copy the code")
            assert blocks.nth(index).locator("pre > code").text_content() == code
        expect(page.get_by_role("button")).to_have_count(2)
        assert page.evaluate("() => typeof window.__pwned") == "undefined"
    finally:
        page.close()


def test_saved_answer_has_a_working_button_if_trusted_and_none_if_not(
    notebook: NotebookMaker, page: Page, dialogs: list[str], clipboard: None
) -> None:
    """Saving signs the notebook (all its outputs came from this session), so reopened it is
    trusted and the script runs again. Changed elsewhere, it is untrusted: JupyterLab's
    sanitiser drops the script, and the code shows without a button, not with a dead one."""
    nb = answered(notebook)
    nb.save(saved_static(1))
    nb.reload()
    output = nb.output(1)
    expect(output.locator(".llmring-footer")).to_contain_text("demo:echo")
    assert_code_inert(page, output, dialogs)
    assert click_and_read(page, copy_button(output)) == CODE

    doc = nbformat.read(nb.path, as_version=4)
    doc.cells[0].source += "  # edited outside JupyterLab: the signature no longer matches"
    untrusted = nb.path.with_name(f"{nb.path.stem}-untrusted.ipynb")
    nbformat.write(doc, untrusted)
    elsewhere = Notebook(nb.lab, page, untrusted)
    elsewhere.open()
    output = elsewhere.output(1)
    expect(output.locator(".llmring-footer")).to_contain_text("demo:echo")
    expect(output.locator(".llmring-answer pre > code")).to_contain_text("window.__pwned=1")
    assert_code_inert(page, output, dialogs)
    expect(output.locator("script, button")).to_have_count(0)
    expect(output).not_to_contain_text("inline scripts")  # JupyterLab's "run this script?" prompt
