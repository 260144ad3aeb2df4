"""The options of one question, declared once: the ``%%llm`` line and ``chat()``'s keywords.

Each field of :class:`Options` carries its flag, its help line and how its text is
read, so the parser, the usage text and the Python API all come from the same
declaration, and one set of rules (:meth:`Options.__post_init__`) checks a value
whether it came from a cell line or a keyword argument. A new option is one field
here, plus the code that uses it.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from os import PathLike
from typing import Any, NoReturn

from ..context.conversation import DEFAULT
from ..exceptions import UsageError
from ..providers.types import THINK_LEVELS
from .agent import DEFAULT_MAX_STEPS

FORMATS = ("markdown", "text", "code")


@dataclass(frozen=True)
class Flag:
    """How a field is written on the ``%%llm`` line."""

    names: tuple[str, ...]
    help: str
    metavar: str | None = None  # None: a switch, no value
    read: Callable[[str], Any] = str  # the value's text → the field's value (ValueError if bad)
    repeat: bool = False  # may be given several times; the field holds a tuple
    negate: bool = False  # a switch that sets the field False (--no-history)
    opposite: str | None = None  # a switch with its opposite: True, False or the default (--cache/--no-cache)
    line_only: bool = False  # not a keyword of chat(): it concerns the cell
    alone: str | None = None  # the value may be left out: then it is this text (--approve: on)


def _flag(default: Any, *names: str, help: str, **how: Any) -> Any:
    return field(default=default, metadata={"flag": Flag(names, help, **how)})


def _option(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(text)
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def _number(text: str) -> float:
    return float(text)


def _count(text: str) -> int:
    return int(text)


_MCP_TOOLS = re.compile(r"mcp:[A-Za-z0-9_-]+(/[^\s,/]+)?")


def _tool_names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(","))
    if not all(n.isidentifier() or _MCP_TOOLS.fullmatch(n) for n in names):
        raise ValueError(text)
    return names


def _on_off(text: str) -> bool:
    if text.lower() not in ("on", "off"):
        raise ValueError(text)
    return text.lower() == "on"


# argparse names the expected kind by the reader's __name__ ("invalid count value: 'x'")
_option.__name__ = "option (NAME=VALUE)"
_number.__name__ = "number"
_count.__name__ = "whole number"
_tool_names.__name__ = "list of function names or MCP servers (a,mcp:git)"
_on_off.__name__ = "on or off"


@dataclass(frozen=True)
class Options:
    """Everything a question asks for besides its prompt."""

    models: tuple[str, ...] = ()  # positional on the line: aliases or provider:model; two or more side by side
    system: str | None = _flag(None, "--system", metavar="TEXT", help="system prompt for this answer")
    temperature: float | None = _flag(
        None, "--temperature", metavar="F", read=_number, help="sampling temperature, 0 to 2"
    )
    max_tokens: int | None = _flag(
        None, "--max-tokens", metavar="N", read=_count, help="stop after N tokens (the footer then says truncated)"
    )
    format: str = _flag(
        "markdown",
        "--format",
        metavar="|".join(FORMATS),
        help="how to show the answer; code also puts the code in a new cell",
    )
    think: str | None = _flag(
        None,
        "--think",
        metavar="|".join(THINK_LEVELS),
        help="how hard a reasoning model thinks (off: not at all); default: %config LLMMagics.think, "
        "else the model's own",
    )
    retries: int | None = _flag(
        None,
        "--retries",
        metavar="N",
        read=_count,
        help="retry a request that failed before any text up to N times (0: never); default %config LLMMagics.retries",
    )
    provider_options: tuple[tuple[str, Any], ...] = _flag(
        (),
        "-o",
        "--option",
        metavar="NAME=VALUE",
        read=_option,
        repeat=True,
        help="a provider option, passed through (repeatable; VALUE is JSON or text)",
    )
    schema: object = _flag(
        None,
        "--schema",
        metavar="NAME",
        help="the answer must be JSON of this type (Paper, list[Paper], a JSON Schema dict); "
        "_llm.data holds it, validated",
    )
    json: bool = _flag(False, "--json", help="the answer must be a JSON object; _llm.data holds it")
    attach: tuple[str | PathLike[str], ...] = _flag(
        (),
        "--attach",
        metavar="PATH",
        repeat=True,
        help="send a file with the prompt: an image, a PDF (as a document) or a text file (inlined); repeatable",
    )
    conversation: str = _flag(
        DEFAULT, "--chat", metavar="NAME", help="continue the conversation NAME instead of the notebook's default one"
    )
    new: bool = _flag(False, "--new", help="start that conversation afresh")
    history: bool = _flag(True, "--no-history", negate=True, help="send the prompt alone and record nothing")
    tools: tuple[str | Callable[..., Any], ...] | None = _flag(
        None,
        "--tools",
        metavar="NAME[,NAME…]",
        read=_tool_names,
        help="let the model call these notebook functions (chat(): the functions) and MCP servers' tools "
        "(mcp:SERVER, mcp:SERVER/TOOL); default: %config LLMMagics.tools",
    )
    max_steps: int = _flag(
        DEFAULT_MAX_STEPS,
        "--max-steps",
        metavar="N",
        read=_count,
        help=f"with tools: at most N requests, one more after each round of calls (default {DEFAULT_MAX_STEPS})",
    )
    approve: bool | None = _flag(
        None,
        "--approve",
        metavar="[on|off]",
        read=_on_off,
        alone="on",
        help="ask before each tool call (Run / Skip); off: never; default: %config LLMMagics.approve_tools, "
        "and for MCP tools on unless their server's config says approve: false",
    )
    out: str | None = _flag(
        None,
        "--out",
        metavar="NAME",
        line_only=True,
        help="also bind the result to the variable NAME (it is always in _llm)",
    )
    cache: bool | None = _flag(
        None,
        "--cache",
        opposite="--no-cache",
        help="replay this exact request's stored answer, else ask and store it; --no-cache: neither",
    )
    dry_run: bool = _flag(
        False, "--dry-run", line_only=True, help="show the exact messages and their estimated tokens; send nothing"
    )
    background: bool = _flag(
        False,
        "--background",
        help="return at once; the answer streams into its own output while other cells run (_llm fills in)",
    )
    rows: str | None = _flag(
        None,
        "--map",
        metavar="NAME",
        line_only=True,
        help="ask once per item of the list, table or iterable NAME ({{row}}, {{row.col}} in the prompt); "
        "_llm is a MapResult",
    )
    batch: bool = _flag(
        False,
        "--batch",
        line_only=True,
        help="with --map: send the rows through the provider's batch API (half the price, within 24 h); "
        "returns at once, _llm fills in; re-running the cell re-attaches",
    )
    concurrency: int | None = _flag(
        None,
        "--concurrency",
        metavar="N",
        read=_count,
        line_only=True,
        help="with --map: at most N requests at once (default %config LLMMagics.map_concurrency; "
        "fewer while the provider's rate limits say so)",
    )

    @property
    def wants_json(self) -> bool:
        """Whether the answer must be JSON (``--schema`` or ``--json``)."""
        return self.schema is not None or self.json

    @property
    def shown_as(self) -> str:
        """How the answer is shown while it streams and once it ends."""
        return "json" if self.wants_json else self.format

    def __post_init__(self) -> None:
        """The rules every value meets, from the line or from ``chat()`` alike."""
        self._check_kinds()
        if self.temperature is not None and not (_is_number(self.temperature) and 0 <= self.temperature <= 2):
            shown = f"{self.temperature:g}" if _is_number(self.temperature) else repr(self.temperature)
            _bad(f"--temperature (temperature=) must be a number from 0 to 2, not {shown}")
        if self.max_tokens is not None and not (_is_whole(self.max_tokens) and self.max_tokens >= 1):
            _bad(f"--max-tokens (max_tokens=) must be a whole number of at least 1, not {self.max_tokens!r}")
        if self.retries is not None and not (_is_whole(self.retries) and 0 <= self.retries <= 10):
            _bad(f"--retries (retries=) must be a whole number from 0 to 10, not {self.retries!r}")
        if self.think is not None and self.think not in THINK_LEVELS:
            _bad(f"--think (think=) must be one of {', '.join(THINK_LEVELS)}, not {self.think!r}")
        if self.format not in FORMATS:
            _bad(f"--format (format=) must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if self.out is not None and (not self.out.isidentifier() or keyword.iskeyword(self.out)):
            _bad(f"--out needs a variable name, not {self.out!r}")
        if self.schema is not None and self.json:
            _bad("--schema already asks for JSON: give --schema or --json, not both")
        if (self.schema is not None or self.json) and self.format != "markdown":
            _bad(f"--format {self.format} is for text answers; a JSON answer is shown as its data")
        if self.new and not self.history:
            _bad("--new and --no-history contradict each other: use one")
        if any(name in ("tools", "functions") for name, _ in self.provider_options):
            _bad(
                "tools are the notebook's functions, named with --tools NAME[,NAME…] (chat(tools=[fn])), not -o tools="
            )
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1:
            _bad(f"max steps must be a whole number of at least 1, not {self.max_steps!r}")
        if self.tools is not None:
            given: Any = self.tools
            tools = (given,) if isinstance(given, str) or callable(given) else tuple(given)
            if not all(isinstance(t, str) or callable(t) for t in tools):
                _bad("tools must be functions (chat(tools=[get_weather])) or their names")
            object.__setattr__(self, "tools", tools)  # chat(tools=[...]) gives a list: keep one kind
        if self.background and len(self.models) > 1:
            _bad("--background asks one model; for several side by side, leave it out")
        if self.dry_run and len(self.models) > 1:
            _bad("--dry-run shows one request; name one model")
        if self.concurrency is not None and not (_is_whole(self.concurrency) and self.concurrency >= 1):
            _bad(f"--concurrency (concurrency=) must be a whole number of at least 1, not {self.concurrency!r}")
        if self.concurrency is not None and self.rows is None:
            _bad("--concurrency is for --map NAME: a single answer is one request")
        if self.batch and self.rows is None:
            _bad("--batch sends the rows of a --map NAME through a batch API: add --map NAME")
        if self.rows is not None:
            self._check_map()

    def _check_map(self) -> None:
        """What --map cannot be combined with."""
        if self.background:
            _bad("--map runs in its cell with one progress view; leave out --background")
        if len(self.models) > 1:
            _bad("--map asks one model; to compare models, run the cell once per model")
        if self.approve:
            _bad("--map cannot ask before each row's tool calls; leave out --approve")
        if self.new or self.conversation != DEFAULT:
            _bad("--map rows are independent and join no conversation; leave out --chat and --new")

    def _check_kinds(self) -> None:
        """The kind of each value a ``chat()`` keyword may give (the line's parser gives the right kinds)."""
        for name in ("json", "new", "history", "dry_run", "background"):
            if not isinstance(getattr(self, name), bool):
                _bad(f"{name}= must be True or False, not {getattr(self, name)!r}")
        for name in ("cache", "approve"):
            if not isinstance(getattr(self, name), bool | None):
                _bad(f"{name}= must be True, False or None, not {getattr(self, name)!r}")
        if self.system is not None and not isinstance(self.system, str):
            _bad(f"system= must be text, not {self.system!r}")
        if not isinstance(self.conversation, str) or not self.conversation:
            _bad(f"conversation= must be a name (text), not {self.conversation!r}")
        for model in self.models:
            if not isinstance(model, str) or not model:
                _bad(f"the model must be an alias or provider:model (text), not {model!r}")
        for path in self.attach:
            if not isinstance(path, str | PathLike):
                _bad(f"attach= must be a path or a list of paths, not {path!r}")
        for option in self.provider_options:
            if not (isinstance(option, tuple) and len(option) == 2 and isinstance(option[0], str)):
                _bad(f"provider_options= must be (name, value) pairs (or give them as keywords), not {option!r}")

    @property
    def model(self) -> str | None:
        """The model asked (the first, side by side); None: the configured default."""
        return self.models[0] if self.models else None

    @classmethod
    def of(cls, model: str | None, keywords: Mapping[str, Any]) -> Options:
        """The options of a ``chat()`` call: known keywords set fields, the rest are provider options."""
        known = {f.name: f for f in fields(cls) if f.name != "models"}
        settings: dict[str, Any] = {}
        passed: list[tuple[str, Any]] = []
        for name, value in keywords.items():
            spec = known.get(name)
            if spec is None:
                passed.append((name, value))
            elif spec.metadata["flag"].line_only:
                raise UsageError(f"{name}= is an option of the %%llm line, not of chat(); see %llm help.")
            elif spec.metadata["flag"].repeat:  # one value or several: attach="a.png" or attach=[...]
                many = not isinstance(value, str | PathLike) and isinstance(value, Iterable)
                settings[name] = tuple(value) if many else (value,)
            else:
                settings[name] = value
        settings["provider_options"] = tuple(settings.get("provider_options", ())) + tuple(passed)
        return cls(models=(model,) if model else (), **settings)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad(reason: str) -> NoReturn:
    raise UsageError(f"{reason}; see %llm help.")


def _flags() -> list[tuple[str, Flag, Any]]:
    out = []
    for f in fields(Options):
        if "flag" in f.metadata:
            out.append((f.name, f.metadata["flag"], f.default if f.default is not MISSING else None))
    return out


def usage() -> str:
    """The options part of ``%llm help``, written from the declarations above."""
    lines = [
        "%%llm [MODEL ...] [options]  ask MODEL; the cell's text is the prompt",
        "  MODEL                      an alias from llmring.lock, or provider:model",
        "                             (openai:gpt-4o-mini, anthropic:…, google:…, ollama:llama3.2, demo);",
        "                             default: %config LLMMagics.default_model. Two or more models answer",
        "                             side by side; the first one's answer joins the conversation",
        "                             (its Keep button or %llm keep N picks another)",
    ]
    for _, flag, _ in _flags():
        left = "  " + ", ".join(_spellings(flag)) + (f" {flag.metavar}" if flag.metavar else "")
        if len(left) > 28:
            lines += [left, " " * 29 + flag.help]
        else:
            lines.append(f"{left:<29}{flag.help}")
    lines += [
        "  In the prompt, {{name}} inserts a variable (DataFrames compactly), {{x.attr}} and {{d['key']}}",
        "  look inside one, {{In[3]}} {{Out[3]}} {{_}} are cells' code and output, {{Err}} {{Err[5]}} the",
        "  latest error or cell 5's, and an image ({{fig}}) is sent as an image; \\{{name}} is sent as written.",
    ]
    return "\n".join(lines)


def _spellings(flag: Flag) -> tuple[str, ...]:
    return flag.names + ((flag.opposite,) if flag.opposite else ())


def _summary() -> str:
    words = " ".join(
        f"[{'|'.join(_spellings(flag)[-2:] if flag.opposite else flag.names[-1:])}"
        f"{' ' + flag.metavar if flag.metavar else ''}]"
        for _, flag, _ in _flags()
    )
    return f"Usage: %%llm [MODEL ...] {words}; see %llm help."


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}. {_summary()}")


def _parser() -> _Parser:
    p = _Parser(prog="%%llm", add_help=False, exit_on_error=False, allow_abbrev=False)
    p.add_argument("models", nargs="*")
    for name, flag, default in _flags():
        if flag.opposite:
            p.add_argument(*flag.names, dest=name, action="store_const", const=True, default=default)
            p.add_argument(flag.opposite, dest=name, action="store_const", const=False, default=default)
        elif flag.negate:
            p.add_argument(*flag.names, dest=name, action="store_false")
        elif flag.metavar is None:
            p.add_argument(*flag.names, dest=name, action="store_true")
        elif flag.repeat:
            p.add_argument(*flag.names, dest=name, type=flag.read, action="append", default=list(default))
        else:
            p.add_argument(*flag.names, dest=name, type=flag.read, default=default)
    p.add_argument("-h", "--help", dest="help", action="store_true")
    return p


def _reads(flag: Flag, text: str) -> bool:
    try:
        flag.read(text)
    except ValueError:
        return False
    return True


def _values_given(words: list[str]) -> list[str]:
    """A flag whose value may be left out, written with one: ``--approve`` → ``--approve=on``, and
    ``--approve off`` → ``--approve=off``, so a model named after a bare flag is never taken for its value."""
    alone = {n: f for _, f, _ in _flags() if f.alone is not None for n in f.names}
    out: list[str] = []
    words = list(words)
    while words:
        word = words.pop(0)
        flag = alone.get(word)
        if flag is not None:
            value = words.pop(0) if words and _reads(flag, words[0]) else None
            word = f"{word}={value if value is not None else flag.alone}"
        out.append(word)
    return out


def parse(line: str) -> Options | None:
    """The options of a ``%%llm`` line; ``None`` when the user asked for help."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"Cannot read the %%llm line ({exc}); check its quotes, or see %llm help.") from None
    try:
        args = vars(_parser().parse_intermixed_args(_values_given(words)))
    except argparse.ArgumentError as exc:
        raise UsageError(f"{exc}. {_summary()}") from None
    if args.pop("help"):
        return None
    args["models"] = tuple(args["models"])
    for name in args["models"]:
        if name.startswith("-"):
            raise UsageError(f"Unknown option {name}; see %llm help.")
    for name, flag, _ in _flags():
        if flag.repeat:
            args[name] = tuple(args[name])
    return Options(**args)
