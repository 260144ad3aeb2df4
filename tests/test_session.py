"""The session's settings each change what a question sends or how it streams (no kernel)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from recorder import Recorder
from shell import loaded_shell, magics

import llmring_jupyter
from llmring_jupyter.answer.options import Options
from llmring_jupyter.exceptions import UsageError
from llmring_jupyter.result import Result


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("LLMRING_DEMO_DELAY", "0")
    yield from loaded_shell()


def _ask(m: Any, prompt: str, **options: Any) -> tuple[Result, Recorder]:
    out = Recorder()
    result = asyncio.run(m.session.ask(prompt, Options.of(options.pop("model", "demo"), options), out))
    return result, out


@pytest.mark.parametrize(("rate", "most"), [(2.0, 3), (1000.0, None)])
def test_update_rate_sets_how_often_text_is_sent(shell: Any, rate: float, most: int | None) -> None:
    m = magics(shell)
    m.update_rate = rate
    result, out = _ask(m, "word " * 40, model="demo:echo", provider_options=[("delay", 0.004)], history=False)
    assert "".join(out.deltas) == result.text
    if most is not None:
        assert len(out.deltas) <= most
    else:
        assert len(out.deltas) > 10


def test_history_tokens_bounds_what_earlier_turns_are_sent(shell: Any) -> None:
    m = magics(shell)
    for n in range(3):
        m.session.pre_run_cell(type("Info", (), {"cell_id": f"c{n}", "raw_cell": ""})())
        _ask(m, f"question {n} " + "word " * 100)
    m.session.pre_run_cell(type("Info", (), {"cell_id": "last", "raw_cell": ""})())
    request, dropped = m.session.request("now", Options())
    assert len(request.messages) == 7 and dropped == 0
    newest = m.session.conversations.get("default").turns[-1].cost()
    m.history_tokens = newest + 1  # room for the newest turn only
    request, dropped = m.session.request("now", Options())
    assert len(request.messages) == 3 and dropped == 2
    m.history_turns = 0
    assert m.session.request("now", Options())[0].messages[-1].content == "now"
    assert len(m.session.request("now", Options())[0].messages) == 1


def test_resend_incomplete_decides_whether_a_cut_answer_is_context(shell: Any) -> None:
    m = magics(shell)
    m.session.pre_run_cell(type("Info", (), {"cell_id": "a", "raw_cell": ""})())
    _ask(m, "long one", max_tokens=3)
    m.session.pre_run_cell(type("Info", (), {"cell_id": "b", "raw_cell": ""})())
    assert len(m.session.request("next", Options())[0].messages) == 3
    m.resend_incomplete = False
    assert len(m.session.request("next", Options())[0].messages) == 1


def test_default_model_is_asked_when_the_line_names_none(shell: Any) -> None:
    m = magics(shell)
    m.default_model = "demo:echo"
    result, _ = _ask(m, "echo me", model=None, history=False)
    assert result.model == "demo:echo" and result.text == "echo me"


def test_max_value_chars_cuts_a_long_variable(shell: Any) -> None:
    shell.user_ns["long"] = "y" * 500
    magics(shell).max_value_chars = 50
    assert shell.run_cell("%%llm demo:echo --no-history\n{{long}}").error_in_exec is None
    text = shell.user_ns["_llm"].text
    assert text.startswith("y" * 50 + "\n… [truncated: 450 more characters]")


def test_chat_from_code_joins_the_named_conversation(shell: Any) -> None:
    result = llmring_jupyter.chat_sync("from code", "demo:echo", conversation="notes")
    assert result.text == "from code"
    assert [t.prompt for t in magics(shell).session.conversations.get("notes").turns] == ["from code"]
    with pytest.raises(UsageError, match=r"format=\) must be one of"):
        llmring_jupyter.chat_sync("x", "demo", format="pdf")


def test_after_unloading_chat_no_longer_answers(shell: Any) -> None:
    llmring_jupyter.unload_ipython_extension(shell)
    with pytest.raises(UsageError, match="load_ext"):
        llmring_jupyter.chat_sync("hello", "demo")
    assert shell.run_cell("%%llm demo\nhello").error_in_exec is not None
