"""The log in the llm CLI's schema, read back by the real ``llm`` (subprocess, ``-d logs.db``)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from llm.logs import LogStore
from llm.migrations import MIGRATIONS, migrate

from llmring_jupyter.exceptions import UsageError
from llmring_jupyter.providers import Message, ToolCall, Usage
from llmring_jupyter.providers.types import Reasoning
from llmring_jupyter.records import llm_log
from llmring_jupyter.result import Replayed, Result, Timings, ToolRun

SENTINEL = "sk-SENTINEL-log-0123456789abcdef"
LLM = shutil.which("llm", path=str(Path(sys.executable).parent)) or "llm"


def _llm_schema(path: Path) -> set[tuple[str, str, str]]:
    rows = sqlite3.connect(path).execute("select type, name, sql from sqlite_master where sql is not null")
    return set(rows.fetchall())


def test_the_schema_is_the_one_the_real_llm_builds(tmp_path: Path) -> None:
    """If this fails after an llm release, regenerate llm_log_schema.sql from a database its
    migrations made (sqlite_master in rowid order, FTS5 shadow tables left out) and list its
    migrations in MIGRATIONS."""
    theirs = tmp_path / "theirs.db"
    migrate(sqlite_utils.Database(theirs))
    ours = tmp_path / "ours.db"
    llm_log._open(ours).close()
    assert _llm_schema(ours) == _llm_schema(theirs)
    assert tuple(m.__name__ for m in MIGRATIONS) == llm_log.MIGRATIONS
    applied = sqlite3.connect(ours).execute("select name from _llm_migrations order by rowid").fetchall()
    assert tuple(name for (name,) in applied) == llm_log.MIGRATIONS


def _answer(prompt: str, text: str, earlier: tuple[Message, ...] = (), **changes: object) -> Result:
    fields: dict[str, object] = {
        "text": text,
        "requested": "chatbot",
        "model": "openai:gpt-4o-mini",
        "finish_reason": "stop",
        "usage": Usage.of(120, 9, cached_tokens=100),
        "timings": Timings(1_796_000_000.0, 0.2, 1.25),
        "messages": (Message("system", "You are terse."), *earlier, Message("user", prompt)),
        "parameters": {"temperature": 0.2, "api_key": SENTINEL},
        "chat": "default",
    }
    return Result(**(fields | changes))  # type: ignore[arg-type]


def _logs(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [LLM, "logs", "list", "-d", str(path), "--json", "-n", "0"], capture_output=True, text=True, check=True
    )
    logs: list[dict[str, Any]] = json.loads(out.stdout)
    return logs


def test_llm_lists_a_notebook_conversation(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    log = llm_log.Log()
    first = _answer("What is 2+2?", "4.")
    log.append(path, "What is 2+2?", first)
    second = _answer("And 3+3?", "6.", (Message("user", "What is 2+2?"), Message("assistant", "4.")))
    log.append(path, "And 3+3?", second)

    rows = _logs(path)
    assert [(r["prompt"], r["response"], r["system"]) for r in rows] == [
        ("What is 2+2?", "4.", "You are terse."),
        ("And 3+3?", "6.", "You are terse."),
    ]
    assert rows[0]["conversation_id"] == rows[1]["conversation_id"], "one notebook conversation, one llm thread"
    assert rows[0]["conversation_name"] == "What is 2+2?"
    assert (rows[1]["model"], rows[1]["resolved_model"]) == ("chatbot", "openai:gpt-4o-mini")
    assert (rows[1]["input_tokens"], rows[1]["output_tokens"], rows[1]["duration_ms"]) == (120, 9, 1250)
    assert rows[1]["options_json"] == {"temperature": 0.2, "api_key": "<redacted>"}, "a key option is named, not kept"
    assert json.loads(str(rows[1]["token_details"])) == {"cached_tokens": 100}
    assert str(rows[0]["datetime_utc"]).startswith("2026-11-30 ")  # when it was asked, UTC

    text = subprocess.run([LLM, "logs", "list", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    assert "## Prompt\n\nAnd 3+3?" in text and "## Response\n\n6." in text
    assert LogStore(sqlite_utils.Database(path)).verify() == [], "every message hashes as llm hashes it"
    assert SENTINEL.encode() not in path.read_bytes()


def test_conversations_are_threads_and_search_finds_answers(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    log = llm_log.Log()
    log.append(path, "first", _answer("first", "alpha"))
    log.append(path, "second", _answer("second", "bravo", chat="notes"))
    log.forget("default")  # --new
    log.append(path, "third", _answer("third", "charlie"))
    log.append(path, "fourth", _answer("fourth", "delta", chat=None))  # --no-history: a thread of its own
    threads = [r["conversation_id"] for r in _logs(path)]
    assert len(set(threads)) == 4
    out = subprocess.run(
        [LLM, "logs", "list", "-d", str(path), "-q", "bravo", "--json"], capture_output=True, text=True, check=True
    )
    assert [r["prompt"] for r in json.loads(out.stdout)] == ["second"]


def test_tool_calls_and_replays_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    call = ToolCall("call_1", "weather", '{"city": "Lyon"}')
    asked = _answer("Weather?", "", finish_reason="tool_calls", tool_calls=(ToolRun(call, step=1, at=0),))
    llm_log.Log().append(path, "Weather?", asked)
    llm_log.Log().append(path, "Hi", _answer("Hi", "Hello", replayed=Replayed(1_795_000_000.0, "openai:gpt-4o-mini")))
    rows = _logs(path)
    (logged,) = rows[0]["tool_calls"]
    assert (logged["name"], logged["arguments"], logged["tool_call_id"]) == ("weather", {"city": "Lyon"}, "call_1")
    assert json.loads(str(rows[1]["token_details"])) == {"cached_tokens": 100, "replayed": True}


def test_thinking_is_logged_as_llm_s_reasoning_parts(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    block = Reasoning("Two and two make four.", signature="sig-1")
    usage = Usage.of(120, 30, reasoning_tokens=21)
    thought = _answer("What is 2+2?", "4.", usage=usage, exchange=(Message("assistant", "4.", reasoning=(block,)),))
    llm_log.Log().append(path, "What is 2+2?", thought)
    llm_log.Log().append(path, "Hi", _answer("Hi", "Hello", usage=Usage.of(5, 40, reasoning_tokens=38)))
    rows = _logs(path)
    assert json.loads(str(rows[0]["token_details"])) == {"reasoning_tokens": 21}
    db = sqlite_utils.Database(path)
    parts = list(db.query("select type, text, payload from parts where type = 'reasoning' order by id"))
    assert parts[0]["text"] == "Two and two make four."
    assert json.loads(parts[0]["payload"]) == {"provider_metadata": {"llmring_jupyter": {"signature": "sig-1"}}}
    assert (parts[1]["text"], json.loads(parts[1]["payload"])) == ("", {"redacted": True}), "billed, not shown"
    assert LogStore(db).verify() == [], "every message hashes as llm hashes it"


def test_tool_arguments_are_logged_all_but_their_secrets(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    arguments = {"keyword": "monads", "key_points": 3, "password": "hunter2", "query": SENTINEL}
    call = ToolCall("call_1", "search", json.dumps(arguments))
    asked = _answer("Search?", "", finish_reason="tool_calls", tool_calls=(ToolRun(call, step=1, at=0),))
    llm_log.Log().append(path, "Search?", asked)
    (logged,) = _logs(path)[0]["tool_calls"]
    assert logged["arguments"] == {
        "keyword": "monads",
        "key_points": 3,
        "password": "<redacted>",
        "query": "<redacted key>",
    }


def test_a_request_that_failed_before_any_answer_is_not_logged(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    failed = _answer("Hello", "", finish_reason="error", error="No API key for openai", usage=None)
    assert llm_log.Log().append(path, "Hello", failed) is None
    llm_log.Log().append(path, "Hello", _answer("Hello", "Hi, cut", finish_reason="cancelled", usage=None))
    assert [(r["response"], r["input_tokens"]) for r in _logs(path)] == [("Hi, cut", None)], "a stopped one is"


def test_appends_to_a_log_the_real_llm_made(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    migrate(sqlite_utils.Database(path))
    llm_log.Log().append(path, "hello", _answer("hello", "world"))
    assert [r["response"] for r in _logs(path)] == ["world"]


def test_a_file_that_is_not_an_up_to_date_llm_log_is_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table notes (x)").connection.commit()
    with pytest.raises(UsageError, match=r"is not an llm logs database; choose another %config LLMMagics.log_path"):
        llm_log.Log().append(other, "hello", _answer("hello", "world"))
    old = tmp_path / "old.db"
    db = sqlite_utils.Database(old)
    migrate(db)
    db.execute("delete from _llm_migrations where name = 'm027_turns_response_json'")
    db.conn.commit()
    with pytest.raises(UsageError, match=r"written by an older llm: upgrade it with `llm logs list -d "):
        llm_log.Log().append(old, "hello", _answer("hello", "world"))
    assert sqlite3.connect(old).execute("select count(*) from turns").fetchone() == (0,)
