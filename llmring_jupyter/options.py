"""Parsing the ``%%llm`` line into :class:`CellOptions`, or a one-line usage error."""

from __future__ import annotations

import argparse
import json
import keyword
import shlex
from dataclasses import dataclass
from typing import Any, NoReturn

from .providers.errors import UsageError

FORMATS = ("markdown", "text", "code")

USAGE = """\
%%llm [MODEL] [options]      ask MODEL; the cell's text is the prompt
  MODEL                      an alias from llmring.lock, or provider:model
                             (openai:gpt-4o-mini, anthropic:…, google:…, ollama:llama3.2, demo);
                             default: %config LLMMagics.default_model
  --system TEXT              system prompt for this answer
  --temperature F            sampling temperature, 0 to 2
  --max-tokens N             stop after N tokens (the footer then says truncated)
  --format markdown|text|code
                             how to show the answer; code also puts the code in a new cell
  -o, --option NAME=VALUE    a provider option, passed through (repeatable; VALUE is JSON or text)
  --chat NAME                continue the conversation NAME instead of the notebook's default one
  --new                      start that conversation afresh
  --no-history               send the prompt alone and record nothing
  --out NAME                 also bind the result to the variable NAME (it is always in _llm)
  --dry-run                  show the exact messages and their estimated tokens; send nothing
  In the prompt, {{name}} inserts a variable (DataFrames compactly); \\{{name}} is sent as written.
%llm help                    this text
%llm models                  the lockfile's aliases and which providers have keys
%llm key PROVIDER            enter an API key for this session (hidden prompt)
%llm chats                   the conversations, with their sizes
%llm history [NAME]          a conversation's transcript: who said what, models, tokens
%llm reset [NAME]            forget a conversation
%llm system [NAME] TEXT      set a conversation's system prompt
%llm export [NAME] FILE      save a conversation to FILE.json (to load again) or FILE.md
%llm load FILE [NAME]        load a conversation saved as JSON
Stop an answer with the ■ Stop button in its output, or by interrupting the kernel."""


@dataclass(frozen=True)
class CellOptions:
    model: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    format: str = "markdown"
    provider_options: tuple[tuple[str, Any], ...] = ()
    chat: str = "default"
    new: bool = False
    history: bool = True
    out: str | None = None
    dry_run: bool = False


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(
            f"{message}. Usage: %%llm [MODEL] [--system TEXT] [--temperature F] "
            "[--max-tokens N] [--format markdown|text|code] [-o NAME=VALUE] [--chat NAME] [--new] "
            "[--no-history] [--out NAME] [--dry-run]; see %llm help."
        )


def _temperature(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 2:
        raise ValueError(text)
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_temperature.__name__ = "temperature (a number from 0 to 2)"
_positive.__name__ = "count (a whole number of at least 1)"


def _option(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(text)
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def _identifier(text: str) -> str:
    if not text.isidentifier() or keyword.iskeyword(text):
        raise ValueError(text)
    return text


_option.__name__ = "option (NAME=VALUE)"
_identifier.__name__ = "variable name"


def _parser() -> _Parser:
    p = _Parser(prog="%%llm", add_help=False, exit_on_error=False, allow_abbrev=False)
    p.add_argument("model", nargs="?")
    p.add_argument("--system")
    p.add_argument("--temperature", type=_temperature)
    p.add_argument("--max-tokens", type=_positive)
    p.add_argument("--format", choices=FORMATS, default="markdown")
    p.add_argument("-o", "--option", type=_option, action="append", default=[])
    p.add_argument("--chat", default="default")
    p.add_argument("--new", action="store_true")
    p.add_argument("--no-history", action="store_true")
    p.add_argument("--out", type=_identifier)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("-h", "--help", action="store_true")
    return p


def parse(line: str) -> CellOptions | None:
    """The options of a ``%%llm`` line; ``None`` when the user asked for help."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"Cannot read the %%llm line ({exc}); check its quotes, or see %llm help.") from None
    try:
        args = _parser().parse_args(words)
    except argparse.ArgumentError as exc:
        _Parser.error(None, str(exc))  # type: ignore[arg-type]
    if args.help:
        return None
    if args.model is not None and args.model.startswith("-"):
        raise UsageError(f"Unknown option {args.model}; see %llm help.")
    if args.new and args.no_history:
        raise UsageError("--new and --no-history contradict each other: use one; see %llm help.")
    return CellOptions(
        args.model,
        args.system,
        args.temperature,
        args.max_tokens,
        args.format,
        tuple(args.option),
        args.chat,
        args.new,
        not args.no_history,
        args.out,
        args.dry_run,
    )
