"""Every failure mode of every provider, as a user meets it in a real kernel.

Each fault is served in the provider's own wire format to its real SDK: the cell shows
one line that says what went wrong, whatever text had arrived is kept with how it
ended, the conversation records the failed turn and stays well-formed (read where the
next request reaches the server), the provider connection is closed, and the next cell
works. A notebook with a failing cell in the middle stops there under Run All.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kernel_providers import footer, one_line_error, provider_env, reads_well, value
from kernel_session import Kernel
from providers.dialects import NAMES, Dialect, load
from wire_server import CUT, HANG, Reply, WireServer

PARTS = ["Partial ", "answer ", "that ", "never ", "ends."]

# fault → (the reply, the text the user keeps, words the one line must contain)
FAULTS: dict[str, tuple[Callable[[Dialect], Reply], str | None, str]] = {
    "401": (lambda d: d.http_error(401, "Incorrect API key provided"), "", "key"),
    "429": (lambda d: d.http_error(429, "Rate limit reached for requests", retry_after=7), "", "retry after 7 s"),
    "500": (lambda d: d.http_error(500, "The server had an error"), "", "500"),
    "stream-error": (
        lambda d: d.in_stream_error(PARTS[:2], "Overloaded, try later"),
        "Partial answer ",
        "Overloaded, try later",
    ),
    "cut": (lambda d: _cut(d), None, "mid-answer"),
    "no-end-marker": (lambda d: d.without_end_marker(PARTS[:3]), "Partial answer that ", "end marker"),
    "malformed": (lambda d: d.malformed(PARTS[:2]), "Partial answer ", "malformed"),
    "silence": (lambda d: _silent(d), None, "idle_timeout"),
}


def _cut(d: Dialect, **kw: Any) -> Reply:
    reply = d.answer(PARTS, **kw)
    reply.parts = [*reply.parts[:3], CUT]
    return reply


def _silent(d: Dialect) -> Reply:
    reply = d.answer(PARTS)
    reply.parts = [*reply.parts[:3], HANG]
    return reply


@pytest.fixture(scope="module", autouse=True)
def quick_timeout(kernel: Kernel) -> None:
    # each fault once, as the user meets it when it persists: retries have their own tests
    assert kernel.run("%config LLMMagics.idle_timeout = 2\n%config LLMMagics.retries = 0").ok


def well_formed(messages: list[tuple[str, str]]) -> None:
    """What a provider accepts: optional system, then user/assistant alternating, ending with
    the user, and no empty message."""
    roles = [role for role, _ in messages if role != "system"]
    assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"], messages
    assert all(text.strip() for _, text in messages), messages


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", NAMES)
def test_fault_is_one_line_keeps_the_text_and_the_chat_goes_on(
    kernel: Kernel, wire: WireServer, figures: dict[str, Any], name: str, fault: str
) -> None:
    d = load(name)
    make, kept, words = FAULTS[fault]
    counts = figures["faults"].setdefault(name, {"injected": 0, "survived": 0})
    counts["injected"] += 1
    chat = f"{name}-{fault}"
    prompt = f"Question that meets {fault}"
    wire.queue(make(d))
    run = kernel.run(f"%%llm {name}:{d.model} --chat {chat}\n{prompt}", cell_id=f"{chat}-1", timeout=30)

    # one actionable line, no traceback
    error = one_line_error(run)
    assert "Traceback" not in run.error
    assert words in error, error
    reads_well(error)
    # the partial text is kept, with how it ended
    text, finish = value(kernel, "_llm.text, _llm.finish_reason")
    assert finish in ("error", "incomplete")
    if kept is None:  # a cut or stall: some prefix of the answer arrived
        assert text and "".join(PARTS).startswith(text), text
    else:
        assert text == kept
    if text:
        assert run.final["data"]["text/plain"].startswith(text + "\n\n— ")
        assert ("✗ failed" if finish == "error" else "⚠ incomplete") in footer(run)
        assert run.final["metadata"]["llmring"]["finish_reason"] == finish
    kernel.wait_closed(*run.widget_comms)  # the live view's comm is closed: nothing left open by a fault
    # the provider connection is closed (a stalled one too)
    assert wire.last().finished.wait(5), "the HTTP request was left open"
    # the conversation records the turn as failed
    turns = value(
        kernel,
        "[(t.prompt, t.answer, t.result.finish_reason) for t in get_ipython()"
        f".magics_manager.registry['LLMMagics'].session.conversations.get({chat!r}).turns]",
    )
    assert turns == [(prompt, text, finish)]

    # the next cell works, and what it sends is well-formed
    wire.queue(d.answer(["Recovered."]))
    again = kernel.run(f"%%llm {name}:{d.model} --chat {chat}\nAnd now?", cell_id=f"{chat}-2", timeout=30)
    assert again.ok, again.error
    assert value(kernel, "_llm.text, _llm.finish_reason") == ("Recovered.", "stop")
    sent = d.sent_messages(wire.last())
    well_formed(sent)
    assert sent == ([("user", prompt), ("assistant", text)] if text else []) + [("user", "And now?")]
    counts["survived"] += 1


def test_run_all_stops_at_the_failing_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wire: WireServer) -> None:
    """nbclient, as Run All: two providers answer, then one is cut off mid-answer. (Two, not
    four: a fresh kernel imports each SDK, seconds apiece, and the stop does not depend on it.)"""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbformat.v4 import new_code_cell, new_notebook

    for var, val in provider_env(wire.url).items():
        monkeypatch.setenv(var, val)
    dialects = [load("ollama"), load("openai")]
    before = len(wire.seen)
    wire.queue(*(d.answer([f"{d.provider} ", "answered."]) for d in dialects), _cut(dialects[1]))
    first = f"{dialects[1].provider}:{dialects[1].model}"
    nb = new_notebook(
        cells=[
            new_code_cell("%load_ext llmring_jupyter"),
            *(new_code_cell(f"%%llm {d.provider}:{d.model}\nFirst question") for d in dialects),
            new_code_cell(f"%%llm {first}\nThis one is cut off"),
            new_code_cell("print('after')"),
            new_code_cell(f"%%llm {first}\nNever asked"),
        ]
    )
    with pytest.raises(CellExecutionError, match="ProviderUnavailableError"):
        NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    for cell, d in zip(nb.cells[1:3], dialects, strict=True):
        assert cell.outputs[0]["data"]["text/plain"].startswith(f"{d.provider} answered.\n\n— ")
    failed = nb.cells[3].outputs
    assert failed[-1]["output_type"] == "error" and len(failed[-1]["traceback"]) == 1
    assert failed[0]["data"]["text/plain"].startswith("Partial answer "), "the partial text is kept"
    assert nb.cells[4].get("outputs", []) == [] and nb.cells[5].get("outputs", []) == []
    assert len(wire.seen) == before + 3 and all(s.finished.wait(5) for s in wire.seen[before:])
    nbformat.validate(nb)


@pytest.mark.parametrize("name", ["anthropic", "google"])  # the providers that count the input before the text
def test_a_cut_answer_keeps_the_input_count_it_was_sent(kernel: Kernel, wire: WireServer, name: str) -> None:
    """The connection drops after the input count (25 tokens) and some text: the 25 were
    counted and billed, so ``_llm.usage`` keeps them; only the output is ours to estimate."""
    d = load(name)
    wire.queue(_cut(d, usage=(25, 9)))
    run = kernel.run(f"%%llm {name}:{d.model}\nA question whose answer is cut", timeout=30)
    assert "mid-answer" in one_line_error(run) and "Traceback" not in run.error
    text, prompt, estimated = value(kernel, "_llm.text, _llm.usage.prompt_tokens, _llm.usage.estimated")
    assert text and "".join(PARTS).startswith(text), "the text that arrived is kept"
    assert (prompt, estimated) == (25, True), "25 in, as sent; the output count is ours"
