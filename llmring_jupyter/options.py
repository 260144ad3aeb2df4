"""Parsing the ``%%llm`` line into :class:`CellOptions`, or a one-line usage error."""

from __future__ import annotations

import argparse
import json
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
%llm help                    this text
%llm models                  the lockfile's aliases and which providers have keys
%llm key PROVIDER            enter an API key for this session (hidden prompt)
Stop an answer with the ■ Stop button in its output, or by interrupting the kernel."""


@dataclass(frozen=True)
class CellOptions:
    model: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    format: str = "markdown"
    provider_options: tuple[tuple[str, Any], ...] = ()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}. Usage: %%llm [MODEL] [--system TEXT] [--temperature F] "
                         "[--max-tokens N] [--format markdown|text|code] [-o NAME=VALUE]; see %llm help.")


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


_option.__name__ = "option (NAME=VALUE)"


def _parser() -> _Parser:
    p = _Parser(prog="%%llm", add_help=False, exit_on_error=False, allow_abbrev=False)
    p.add_argument("model", nargs="?")
    p.add_argument("--system")
    p.add_argument("--temperature", type=_temperature)
    p.add_argument("--max-tokens", type=_positive)
    p.add_argument("--format", choices=FORMATS, default="markdown")
    p.add_argument("-o", "--option", type=_option, action="append", default=[])
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
    return CellOptions(args.model, args.system, args.temperature, args.max_tokens, args.format,
                       tuple(args.option))
