"""A conversation as people and files see it: the history view, JSON and Markdown.

JSON round-trips (``%llm export`` then ``%llm load``), so a chat can survive a
kernel restart when the user wants it to; Markdown is for reading and sharing.
Images and documents are written once each, by SHA-256, under ``attachments``
(turns name them by hash), so an image sent with ten turns is stored once; the
history view and Markdown only name them. An export is scrubbed of keys as the
cache and the log are (:mod:`._redact`); the attachments' bytes are left whole.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
from pathlib import Path
from typing import Any

from .. import render
from ..context.conversation import Conversation, Turn
from ..exceptions import UsageError
from ..providers.redact import public
from ..providers.types import Attachment, Message, Usage
from ..render import blocks
from ..render.rules import STYLES
from ..result import Result, Thought, Timings

FORMAT = "llmring_jupyter.conversation"
VERSION = 1


def to_json(chat: Conversation) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": chat.name,
        "system": chat.system,
        "turns": [_turn_json(t) for t in chat.turns],
        "attachments": {a.digest: _attachment_json(a) for t in chat.turns for a in t.attachments},
    }


def _attachment_json(a: Attachment) -> dict[str, Any]:
    size = {"width": a.width, "height": a.height} if a.width else {}
    return {
        "kind": a.kind,
        "media_type": a.media_type,
        "name": a.name,
        **size,
        "base64": base64.b64encode(a.data).decode(),
    }


def _attachment(data: dict[str, Any]) -> Attachment:
    raw = base64.b64decode(data["base64"])
    return Attachment(data["kind"], data["media_type"], raw, data.get("name"), data.get("width"), data.get("height"))


def _named(turn: Turn) -> str:
    """How the history view and Markdown mention a turn's images and documents (never their bytes)."""
    return "; ".join(f"{a.name or a.kind}: {a.describe()}, sha256 {a.digest[:12]}" for a in turn.attachments)


def _turn_json(turn: Turn) -> dict[str, Any]:
    r = turn.result
    return {
        "key": turn.key,
        "prompt": turn.prompt,
        "attachments": [a.digest for a in turn.attachments],
        "answer": r.text,
        "requested": r.requested,
        "model": r.model,
        "finish_reason": r.finish_reason,
        "interrupted": r.interrupted,  # a cancelled answer: interrupted, or stopped with the button
        "usage": r.usage.to_dict() if r.usage else None,
        "timings": r.timings.to_dict(),
        "parameters": render.provenance(r)["parameters"],
        "cost_usd": r.cost,
        "error": r.error,
        **({"exchange": [m.to_dict() for m in r.exchange], "steps": r.steps} if r.exchange else {}),
        **(
            {"thoughts": [dataclasses.asdict(t) for t in r.thoughts], "show_thinking": r.show_thinking}
            if r.thoughts
            else {}
        ),
    }


def from_json(data: dict[str, Any], name: str | None = None) -> Conversation:
    if data.get("format") != FORMAT:
        raise UsageError("That file is not a conversation exported by %llm export (no format marker).")
    chat = Conversation(name or data["name"], data.get("system"))
    stored = {digest: _attachment(a) for digest, a in (data.get("attachments") or {}).items()}
    for t in data.get("turns", []):
        timings = t.get("timings") or {}
        result = Result(
            text=t["answer"],
            requested=t.get("requested") or "",
            model=t.get("model"),
            finish_reason=t.get("finish_reason") or "stop",
            usage=Usage.coerce(t.get("usage")),
            timings=Timings(
                timings.get("started_at") or 0.0, timings.get("first_token_s"), timings.get("total_s") or 0.0
            ),
            messages=(),
            parameters=t.get("parameters") or {},
            error=t.get("error"),
            interrupted=bool(t.get("interrupted")),
            cost=t.get("cost_usd"),
            chat=chat.name,
            steps=t.get("steps") or 1,
            exchange=tuple(Message.from_dict(m) for m in t.get("exchange") or ()),
            thoughts=tuple(Thought(**th) for th in t.get("thoughts") or ()),
            show_thinking=t.get("show_thinking", True),
        )
        parts = tuple(stored[d] for d in t.get("attachments") or () if d in stored)
        chat.turns.append(Turn(t["key"], t["prompt"], result, parts))
    return chat


def to_markdown(chat: Conversation) -> str:
    lines = [f"# Conversation: {chat.name}", ""]
    if chat.system:
        lines += [f"**System:** {chat.system}", ""]
    for number, turn in enumerate(chat.turns, 1):
        lines += [
            f"## {number}. You",
            "",
            turn.prompt,
            "",
            *([f"_Attached: {_named(turn)}_", ""] if turn.attachments else []),
            f"## {number}. {turn.result.model or turn.result.requested}",
            "",
            blocks.answer_text(turn.answer, blocks.of(turn.result)),
            "",
            f"_{render.footer_text(turn.result)}_",
            "",
        ]
    return "\n".join(lines)


def save(chat: Conversation, path: Path) -> None:
    if path.suffix.lower() == ".md":
        path.write_text(public(to_markdown(chat)), encoding="utf-8")
    elif path.suffix.lower() == ".json":
        data = to_json(chat)
        data = {k: v if k == "attachments" else public(v) for k, v in data.items()}
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    else:
        raise UsageError(f"Export to a .json file (to load it again) or a .md file, not {path.name!r}.")


def load(path: Path, name: str | None = None) -> Conversation:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"Cannot load {path}: {exc}") from None
    return from_json(data, name)


#: The latest turns the history shows whole; each earlier one is a line that opens (<details>).
OPEN_TURNS = 3
#: Who speaks, a little larger than the text; headings inside answers no larger than that.
_SPEAKER = "display:block;font-size:1.15em;font-weight:600;margin:0.6em 0 0.2em"
_HEADING = re.compile(r"<h([1-6])>")


def history_bundle(chat: Conversation) -> dict[str, str]:
    """The transcript as safe HTML and plain text: who said what, which model, tokens.

    Compact, however long the chat: turns before the last :data:`OPEN_TURNS` are one
    line each until opened, and an answer's own headings stay below the speakers' names.
    """
    parts, total = [], 0
    first_open = len(chat.turns) - OPEN_TURNS
    for number, turn in enumerate(chat.turns, 1):
        r = turn.result
        total += r.usage.total_tokens if r.usage else 0
        model = html.escape(r.model or r.requested)
        answer = blocks.answer_html(turn.answer, blocks.of(r), render.answer_html)
        body = (
            f'<pre style="{STYLES["prose_pre"]}">{html.escape(turn.prompt)}</pre>'
            + (
                f'<div style="{render.FOOTER_STYLE}">Attached: {html.escape(_named(turn))}</div>'
                if turn.attachments
                else ""
            )
            + f'<span style="{_SPEAKER}">{number}. {model}</span>'
            + _HEADING.sub(r'<h\1 style="font-size:1em;margin:0.8em 0 0.4em">', answer)
            + f'<div style="{render.FOOTER_STYLE}">{html.escape(render.footer_text(r))}</div>'
        )
        if number <= first_open:
            line = turn.prompt.strip().splitlines()[0] if turn.prompt.strip() else ""
            line = line if len(line) <= 80 else line[:79] + "…"
            summary = f"{number}. You: {html.escape(line)} → {model}"
            parts.append(f"<details><summary>{summary}</summary>{body}</details>")
        else:
            parts.append(f'<div><span style="{_SPEAKER}">{number}. You</span>{body}</div><hr>')
    head = f"Conversation {chat.name!r}: {len(chat.turns)} turns, {total:,} tokens used"
    if chat.system:
        head += f"; system prompt: {chat.system}"
    return {
        "text/html": f"<p><b>{html.escape(head)}</b></p>" + "".join(parts),
        "text/plain": head + "\n\n" + to_markdown(chat),
    }
