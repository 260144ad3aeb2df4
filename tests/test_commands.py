"""The %llm commands, in a real IPython shell (no kernel): each one does what help says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shell import loaded_shell, magics

from llmring_jupyter.context.conversation import Conversation
from llmring_jupyter.providers.types import FinishReason
from llmring_jupyter.records import transcript
from llmring_jupyter.result import Result, Timings


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("LLMRING_DEMO_DELAY", "0")
    yield from loaded_shell()


def _ask(shell: Any, text: str) -> None:
    result = shell.run_cell(text)
    assert result.error_in_exec is None, result.error_in_exec


def test_system_with_a_name_sets_that_conversation_not_the_default(shell: Any) -> None:
    _ask(shell, "%%llm demo --chat notes\nhello")
    shell.run_line_magic("llm", "system notes Answer in French")
    chats = magics(shell).session.conversations
    assert chats.get("notes").system == "Answer in French"
    assert chats.get("default").system is None
    shell.run_line_magic("llm", "system Be brief")  # no such chat named "Be": the default one
    assert chats.get("default").system == "Be brief" and chats.get("notes").system == "Answer in French"


def test_the_system_prompt_is_sent_with_the_next_question(shell: Any) -> None:
    shell.run_line_magic("llm", "system Speak like a pirate")
    _ask(shell, "%%llm demo\nhello")
    assert shell.user_ns["_llm"].messages[0].content == "Speak like a pirate"


def _result(finish: FinishReason, *, interrupted: bool = False) -> Result:
    return Result(
        "partial text", "demo", "demo:chat", finish, None, Timings(1.0, 0.1, 0.5), (), interrupted=interrupted
    )


@pytest.mark.parametrize(
    ("finish", "interrupted", "shown"),
    [
        ("stop", False, None),
        ("length", False, "truncated"),
        ("cancelled", True, "■ interrupted"),
        ("cancelled", False, "■ stopped"),
        ("content_filter", False, "content filter"),
    ],
)
def test_export_then_load_keeps_how_each_answer_ended(
    tmp_path: Path, finish: FinishReason, interrupted: bool, shown: str | None
) -> None:
    chat = Conversation("default")
    chat.record("a", "Q", _result(finish, interrupted=interrupted))
    transcript.save(chat, tmp_path / "c.json")
    back = transcript.load(tmp_path / "c.json")
    turn = back.turns[0]
    assert (turn.result.finish_reason, turn.result.interrupted) == (finish, interrupted)
    if shown:
        assert shown in transcript.to_markdown(back)


def test_load_under_a_new_name_keeps_the_original(shell: Any, tmp_path: Path) -> None:
    _ask(shell, "%%llm demo\nfirst question")
    path = tmp_path / "chat.json"
    shell.run_line_magic("llm", f"export {path}")
    assert json.loads(path.read_text())["turns"][0]["prompt"] == "first question"
    shell.run_line_magic("llm", f"load {path} copy")
    chats = magics(shell).session.conversations
    assert "copy" in chats and [t.prompt for t in chats.get("copy").turns] == ["first question"]
    assert len(chats.get("default").turns) == 1


def test_export_markdown_and_refuse_other_suffixes(shell: Any, tmp_path: Path) -> None:
    _ask(shell, "%%llm demo\nsome question")
    shell.run_line_magic("llm", f"export {tmp_path / 'c.md'}")
    assert "## 1. You\n\nsome question" in (tmp_path / "c.md").read_text()
    result = shell.run_cell(f"%llm export {tmp_path / 'c.txt'}")
    assert "json" in str(result.error_in_exec) and not (tmp_path / "c.txt").exists()


def test_reset_and_chats(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _ask(shell, "%%llm demo --chat review\nhello")
    capsys.readouterr()
    shell.run_line_magic("llm", "chats")
    assert "review" in capsys.readouterr().out
    shell.run_line_magic("llm", "reset review")
    assert "review" not in magics(shell).session.conversations


def test_unknown_command_is_one_line(shell: Any) -> None:
    result = shell.run_cell("%llm frobnicate")
    assert "Unknown command %llm frobnicate" in str(result.error_in_exec)


def test_help_prints_the_options_and_the_commands(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("llm", "help")
    out = capsys.readouterr().out
    assert "--max-tokens N" in out and "%llm export [NAME] FILE" in out
