"""Answers appended to a SQLite log in the schema of Simon Willison's ``llm`` CLI.

So ``llm logs list -d logs.db`` and Datasette browse notebook conversations
beside everything else a user logged. The schema is the one llm 0.36's
migrations build (``llm_log_schema.sql``, checked against the real CLI by the
tests), with every migration marked applied, so ``llm`` reads the file as its
own. Answers are written the way llm writes them: the messages sent and the
answer as a content-addressed chain (``messages``, ``parts``), one ``turns`` row
per answer with its model, options, usage and duration, its ``threads`` row (one
per notebook conversation in this kernel) and its search row. ``llm`` is not
needed at run time: this module writes the rows itself.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from contextlib import closing
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..exceptions import UsageError
from ..providers.redact import public
from ..providers.types import Message, Reasoning
from ..result import Result

#: The migrations of llm 0.36, in its order: recorded as applied in a new log.
MIGRATIONS = (
    "m001_initial",
    "m002_id_primary_key",
    "m003_chat_id_foreign_key",
    "m004_column_order",
    "m004_drop_provider",
    "m005_debug",
    "m006_new_logs_table",
    "m007_finish_logs_table",
    "m008_reply_to_id_foreign_key",
    "m008_fix_column_order_in_logs",
    "m009_delete_logs_table_if_empty",
    "m010_create_new_log_tables",
    "m011_fts_for_responses",
    "m012_attachments_tables",
    "m013_usage",
    "m014_schemas",
    "m015_fragments_tables",
    "m016_fragments_table_pks",
    "m017_tools_tables",
    "m017_tools_plugin",
    "m018_tool_instances",
    "m019_resolved_model",
    "m020_tool_results_attachments",
    "m021_tool_results_exception",
    "m022_response_reasoning",
    "m023_message_store",
    "m024_tool_instance_references",
    "m025_turn_tools_instance_backfill",
    "m026_message_tree_view",
    "m027_turns_response_json",
)
_NAME_LENGTH = 32  # llm's conversation names: the first prompt, whitespace collapsed, cut with …


def schema() -> str:
    return files(__package__).joinpath("llm_log_schema.sql").read_text(encoding="utf-8")


# -- llm's identities: content hashes and ULIDs -------------------------------


def content_hash(obj: Any) -> str:
    """llm's tagged hash: blake2b-128 of the canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "b2:" + hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).hexdigest()


_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_ulid_lock = threading.Lock()
_last_ulid = 0


def ulid() -> str:
    """A lowercase ULID, strictly increasing in this process, as llm's ids are (rows sort by id)."""
    global _last_ulid
    with _ulid_lock:
        value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
        if value <= _last_ulid:
            value = _last_ulid + 1
        _last_ulid = value
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _parts(message: Message, billed: bool = False) -> list[dict[str, Any]]:
    """A message as llm's parts: reasoning first (as llm orders it), text, tool calls, tool results.

    A reasoning part keeps what goes back to the provider (signatures, opaque blocks) in its
    ``provider_metadata``; ``billed``: the model thought but showed nothing, which llm marks as
    one redacted reasoning part with no text.
    """
    if message.role == "tool":
        part: dict[str, Any] = {"type": "tool_result", "name": message.name or "", "output": message.content}
        if message.tool_call_id:
            part["tool_call_id"] = message.tool_call_id
        return [part]
    parts: list[dict[str, Any]] = [_reasoning(r) for r in message.reasoning]
    if billed and not parts:
        parts.append({"type": "reasoning", "text": "", "redacted": True})
    parts += [{"type": "text", "text": message.content}] if message.content else []
    for call in message.tool_calls:
        try:
            arguments = json.loads(call.arguments) if call.arguments else {}
        except ValueError:
            arguments = {"_raw": call.arguments}
        parts.append({"type": "tool_call", "name": call.name, "arguments": arguments, "tool_call_id": call.id})
    return parts


def _reasoning(block: Reasoning) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "reasoning", "text": block.text}
    if block.redacted is not None:
        part["redacted"] = True
    kept = {k: v for k, v in block.to_dict().items() if k != "text"}
    if kept:
        part["provider_metadata"] = {"llmring_jupyter": kept}
    return part


# -- writing -----------------------------------------------------------------


class Log:
    """Appends this kernel's answers; remembers which thread each conversation writes to."""

    def __init__(self) -> None:
        self._threads: dict[tuple[Path, str], str] = {}

    def forget(self, chat: str) -> None:
        """The conversation starts afresh (``--new``): its next answer opens a new thread."""
        self._threads = {k: v for k, v in self._threads.items() if k[1] != chat}

    def check(self, path: str | os.PathLike[str]) -> None:
        """Fail now, before a question is sent, if the log cannot be written."""
        _open(Path(path).expanduser()).close()

    def append(self, path: str | os.PathLike[str], prompt: str, result: Result) -> str | None:
        """Log one answer; returns its turn id. A request that failed before any answer is not logged."""
        if not result.text and not result.tool_calls:
            return None
        target = Path(path).expanduser()
        with closing(_open(target)) as db, db:
            key = (target.resolve(), result.chat) if result.chat is not None else None
            thread = self._threads.get(key) if key else None
            if thread is None:
                thread = ulid()
                name = re.sub(r"\s+", " ", prompt)
                name = name if len(name) <= _NAME_LENGTH else name[: _NAME_LENGTH - 1] + "…"
                db.execute("insert into threads (id, name, datetime_utc) values (?, ?, ?)", (thread, name, _now()))
                if key:
                    self._threads[key] = thread
            return _turn(db, thread, prompt, result)


def _open(path: Path) -> sqlite3.Connection:
    """The log at ``path``, made with llm's schema if new; an older llm's log is not touched."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=10)
        tables = {r[0] for r in db.execute("select name from sqlite_master where type = 'table'")}
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"Cannot open the log {path} ({exc}); set %config LLMMagics.log_path to a writable file."
        ) from None
    if not tables:
        with db:
            db.executescript("begin;" + schema() + "commit;")
            now = str(datetime.datetime.now(datetime.UTC))
            db.executemany("insert into _llm_migrations values (?, ?)", [(m, now) for m in MIGRATIONS])
        return db
    applied = {r[0] for r in db.execute("select name from _llm_migrations")} if "_llm_migrations" in tables else set()
    if not applied:
        db.close()
        raise UsageError(f"{path} is not an llm logs database; choose another %config LLMMagics.log_path.")
    if not applied.issuperset(MIGRATIONS):
        db.close()
        raise UsageError(
            f"{path} was written by an older llm: upgrade it with `llm logs list -d {path}` (llm 0.36 or later), "
            "or choose another %config LLMMagics.log_path."
        )
    return db


def _message(db: sqlite3.Connection, message: Message, parent: str | None, billed: bool = False) -> str:
    """Store one message below ``parent`` (once: its hash covers the parent) and return its hash."""
    parts = [public(p) for p in _parts(message, billed)]
    digest = content_hash({"parent": parent, "message": {"role": message.role, "parts": parts}})
    inserted = db.execute(
        "insert or ignore into messages (hash, parent_hash, role) values (?, ?, ?)", (digest, parent, message.role)
    ).rowcount
    if inserted:
        for position, part in enumerate(parts):
            payload = {k: v for k, v in part.items() if k != "type"}
            text = payload.pop("text", None) if part["type"] in ("text", "reasoning") else None
            db.execute(
                "insert into parts (message_hash, position, type, tool_name, text, payload) values (?, ?, ?, ?, ?, ?)",
                (digest, position, part["type"], payload.get("name"), text, json.dumps(payload) if payload else None),
            )
    return digest


def _turn(db: sqlite3.Connection, thread: str, prompt: str, result: Result) -> str:
    parent: str | None = None
    for message in result.messages:
        parent = _message(db, message, parent)
    thinking = tuple(r for m in result.exchange if m.role == "assistant" for r in m.reasoning)
    answer = Message("assistant", result.text, tuple(run.call for run in result.tool_calls), reasoning=thinking)
    usage = result.usage
    tip = _message(db, answer, parent, billed=bool(usage and usage.reasoning_tokens))
    counted = usage.to_dict() if usage else {}
    kinds = ("cached_tokens", "cache_creation_tokens", "reasoning_tokens")
    details: dict[str, Any] = {k: counted[k] for k in kinds if k in counted}
    if result.replayed is not None:
        details["replayed"] = True
    options = public(result.parameters)
    turn = ulid()
    started = datetime.datetime.fromtimestamp(result.timings.started_at, datetime.UTC)
    db.execute(
        "insert into turns (id, thread_id, parent_message_hash, tip_message_hash, model, resolved_model, "
        "options_json, input_tokens, output_tokens, token_details, duration_ms, datetime_utc) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            turn,
            thread,
            parent,
            tip,
            result.requested,
            result.model,
            json.dumps(options) if options else None,
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
            json.dumps(details) if details else None,
            round(result.timings.total * 1000),
            str(started),
        ),
    )
    if prompt or result.text:
        db.execute("insert into turn_search (turn_id, prompt, response) values (?, ?, ?)", (turn, prompt, result.text))
    db.execute("update threads set tip_message_hash = ? where id = ?", (tip, thread))
    return turn


def _now() -> str:
    return str(datetime.datetime.now(datetime.UTC))
