"""Every provider failure, as the user sees it in JupyterLab's output area.

The reliability suite proves in a kernel that each fault gives one clear line
(tests/reliability/test_faults.py); this runs the same faults and dialects
through JupyterLab and reads the page: the one line under whatever answer had
arrived, no traceback, no key, no dialog, and a kernel that answers the next
cell. The session's kernels already point every provider at ``lab_wire``.

One notebook per provider holds all its faults, each followed by a cell that
must answer again: a page load and SDK import apiece would cost minutes. Cells
run one at a time, since a failing cell stops Run All.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from kernel_providers import SENTINELS
from lab_session import Notebook
from playwright.sync_api import Page, expect
from providers.dialects import NAMES, Dialect, load
from reliability.test_faults import FAULTS, PARTS
from wire_server import Reply, WireServer

pytestmark = pytest.mark.browser

NotebookMaker = Callable[[list[str]], Notebook]
Output = tuple[str, str]  # (mime type, text) of one output as the page shows it
# the silence fault ends in 2 s; each fault once, as met when it persists (retries: tests/reliability)
SETUP = "%load_ext llmring_jupyter\n%config LLMMagics.idle_timeout = 2\n%config LLMMagics.retries = 0"
STDERR_MIME = "application/vnd.jupyter.stderr"
STDERR = f'.jp-OutputArea-output[data-mime-type="{STDERR_MIME}"]'
ONE_ERROR_LINE = re.compile(r"^[A-Z]\w*Error: \S[^\n]*$")
#: A traceback, or a frame of our package or an SDK, as rendered text would show it.
TRACEBACK = re.compile(r'Traceback|File "|site-packages|\.py", line|\.py:\d+|Cell In\[|llmring_jupyter/|-{20,}')
HOW_IT_ENDED = re.compile(r"✗ failed|⚠ incomplete")


def shown(nb: Notebook, index: int) -> list[Output]:
    """Cell ``index``'s outputs in order, read in one go.

    Nothing else may appear: not even the asyncio warning ipykernel prints when JupyterLab
    deletes a comm subshell with a view message in it, which the kernel's comm anchor
    (llmring_jupyter.view.widget.ViewAnchor) prevents."""
    return [
        (mime, text)
        for mime, text in nb.output(index).evaluate_all("els => els.map(e => [e.dataset.mimeType || '', e.innerText])")
    ]


def run_cell(nb: Notebook, wire: WireServer, index: int, reply: Reply) -> None:
    """Run cell ``index`` against ``reply``, checking it was the one request the cell made.

    The wire server is the session's: a reply left queued, or a retry that
    took the next one, would make a later cell see the wrong fault.
    """
    before = len(wire.seen)
    wire.queue(reply)
    nb.run_and_wait(index, timeout=30_000)
    assert len(wire.seen) == before + 1, f"cell {index} sent {len(wire.seen) - before} requests, not 1"
    assert wire.last().finished.wait(5), f"cell {index} left its HTTP request open"


def check_fault_cell(nb: Notebook, index: int, fault: str) -> None:
    """What a user reads under a failed cell: the kept text with its footer, then one error line."""
    _, kept, words = FAULTS[fault]
    cell = nb.cell(index)
    error = cell.locator(STDERR).filter(has_text=words)
    expect(error, f"{fault}: the error says what went wrong").to_have_count(1)
    expect(cell.locator(".llmring-view"), f"{fault}: the live view is gone").to_have_count(0)
    answer = cell.locator(".llmring-answer")
    if kept != "":
        footer = cell.locator(".llmring-footer")
        expect(footer, f"{fault}: the footer says how it ended").to_have_text(HOW_IT_ENDED)
    outputs = shown(nb, index)
    errors = [text for mime, text in outputs if mime == STDERR_MIME]
    assert len(errors) == 1, f"{fault}: stray stderr under the cell: {errors}"
    assert outputs[-1][0] == STDERR_MIME, f"{fault}: the error is not the last thing shown: {outputs}"
    line = errors[0].strip()
    assert ONE_ERROR_LINE.match(line), f"{fault}: not one error line: {line!r}"
    assert not [t for _, t in outputs if TRACEBACK.search(t)], f"{fault}: a traceback is shown: {outputs}"

    if kept == "":  # refused before any text: nothing but the error
        expect(answer, f"{fault}: no answer is shown").to_have_count(0)
        assert [t.strip() for _, t in outputs[:-1]] in ([], [""]), f"{fault}: more than the error: {outputs}"
        return
    expect(answer, f"{fault}: the partial answer is kept").to_have_count(1)
    assert outputs[0][0] == "text/html" and len(outputs) == 2, f"{fault}: answer, then error: {outputs}"
    text = answer.inner_text().strip()
    if kept is None:  # a cut or stall: some prefix of the answer arrived
        assert text and "".join(PARTS).startswith(text), f"{fault}: kept {text!r}"
    else:
        assert text == kept.strip(), f"{fault}: kept {text!r}, not {kept!r}"


def check_recovered(nb: Notebook, index: int, fault: str, d: Dialect) -> None:
    """The cell after a fault answers normally: the kernel and the provider are usable again."""
    cell = nb.cell(index)
    expect(cell.locator(".llmring-answer"), f"after {fault}: the next cell answers").to_have_text("Recovered.")
    expect(cell.locator(".llmring-footer"), f"after {fault}: it ended well").to_contain_text(
        f"{d.provider}:{d.model} · stop"
    )
    assert [m for m, _ in shown(nb, index)] == ["text/html"], f"after {fault}: {shown(nb, index)}"


@pytest.mark.parametrize("name", NAMES)
def test_every_fault_shows_one_line_under_the_partial_answer(
    notebook: NotebookMaker, page: Page, dialogs: list[str], lab_wire: WireServer, name: str
) -> None:
    d = load(name)
    cells = [SETUP]
    for fault in FAULTS:
        cells += [f"%%llm {name}:{d.model}\nQuestion that meets {fault}", f"%%llm {name}:{d.model}\nAnd now?"]
    nb = notebook(cells)
    nb.run_and_wait(0)
    for k, (fault, (make, _, _)) in enumerate(FAULTS.items()):
        failed, after = 1 + 2 * k, 2 + 2 * k
        run_cell(nb, lab_wire, failed, make(d))
        check_fault_cell(nb, failed, fault)
        run_cell(nb, lab_wire, after, d.answer(["Recovered."]))
        check_recovered(nb, after, fault, d)
        content = page.content()
        leaked = [var for var, key in SENTINELS.items() if key in content]
        assert not leaked, f"{fault}: the page shows the key in {leaked}"
        assert dialogs == [], f"{fault}: {dialogs}"
