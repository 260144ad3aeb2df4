"""The outcome of one answer: what ``_llm`` holds after a cell.

A ``--map`` or ``--batch`` holds one of these per row: those many-rows results are in
:mod:`.map_result`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .exceptions import Interrupted, advise
from .providers.errors import LLMError
from .providers.retry import Retry
from .providers.types import Attachment, FinishReason, Message, ToolCall, Usage


class Shape(Protocol):
    """What a result keeps of the type its data was checked against (``answer.schema.Shape``):
    its name, and how its value turns back into plain JSON data for display and the logs."""

    @property
    def name(self) -> str: ...

    @property
    def dump(self) -> Callable[[Any], Any]: ...


@dataclass(frozen=True)
class Timings:
    started_at: float  # wall clock (epoch seconds) when the question was asked
    first_token: float | None  # seconds from sending the (last) request to the first text
    total: float  # seconds from the question to the end of the stream
    waited: float = 0.0  # seconds before the request went out: SDK import, retry waits
    import_s: float = 0.0  # of which importing the provider's SDK

    def tokens_per_second(self, completion_tokens: int) -> float | None:
        """Generation speed: completion tokens over the time after the first one."""
        if self.first_token is None or completion_tokens <= 1:
            return None
        span = self.total - self.waited - self.first_token
        return completion_tokens / span if span > 0 else None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "started_at": round(self.started_at, 3),
            "first_token_s": None if self.first_token is None else round(self.first_token, 4),
            "total_s": round(self.total, 4),
            "waited_s": round(self.waited, 4),
            "import_s": round(self.import_s, 4),
        }


ToolStatus = Literal["streaming", "approve", "running", "done", "error", "skipped", "cancelled"]


@dataclass(frozen=True)
class ToolRun:
    """One tool call the model made and what came of it: ``_llm.tool_calls`` lists them.

    ``status`` is ``done`` (the function returned ``result``), ``error`` (it raised,
    or its arguments did not fit: ``error`` says which), ``skipped`` (the user
    declined at the approval prompt) or ``cancelled`` (Stop or an interrupt came
    first, or the step limit); ``streaming``/``approve``/``running`` while it happens.
    """

    call: ToolCall
    step: int  # which request of the exchange asked for it (1 = the first)
    at: int  # offset in the answer's text where the call was made, so it shows in order
    status: ToolStatus = "streaming"
    arguments: dict[str, Any] | None = None  # validated keyword arguments, once they are
    result: Any = None
    error: str | None = None
    seconds: float | None = None  # how long the function ran
    attachments: tuple[Attachment, ...] = ()  # images the tool gave beside its text (an MCP tool's), sent with it

    @property
    def name(self) -> str:
        return self.call.name

    @property
    def key(self) -> str:
        """Names the call's block in the view: unique within one answer, known from its first piece."""
        return f"s{self.step}c{self.call.index}"

    def shown(self) -> str:
        """The result as the user and the model read it (text, or the error line)."""
        if self.error is not None:
            return self.error
        return self.result if isinstance(self.result, str) else _as_json(self.result)


def _as_json(value: Any) -> str:
    import json

    from pydantic_core import to_jsonable_python

    try:
        return json.dumps(to_jsonable_python(value), ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


@dataclass(frozen=True)
class Thought:
    """One thinking phase of a reasoning model, as shown: ``_llm.thoughts`` lists them.

    A phase runs from the model's first thought until its text or a tool call
    begins; a tool loop thinks again in each step. ``at`` is where in the answer's
    text it came, so it shows in order between text and tool calls. A phase made
    when its step ended (``at_end``) is thinking the provider billed but did not
    stream: its ``text`` is empty when it showed none, and it follows the step's calls.
    """

    index: int  # its place among the answer's phases: names its section in the view
    step: int  # which request of the exchange thought it (1 = the first)
    at: int  # offset in the answer's text where it came
    text: str = ""
    seconds: float | None = None  # how long it thought; None while it still does, or when not known
    tokens: int | None = None  # reasoning tokens, when the provider's count is this phase's alone
    at_end: bool = False
    why: str | None = None  # why it shows no thinking, when the provider said (summaries refused)

    @property
    def key(self) -> str:
        return f"t{self.index}"

    def label(self) -> str:
        """Its one-line summary: "Thought for 14 s · 2,310 reasoning tokens"."""
        if self.seconds is None and not self.at_end:
            return "Thinking…"
        s = self.seconds
        parts = ["Thought" if s is None else f"Thought for {s:.1f} s" if s < 10 else f"Thought for {round(s):,} s"]
        if self.tokens is not None:
            parts.append(f"{self.tokens:,} reasoning token{'s' if self.tokens != 1 else ''}")
        if not self.text:
            parts.append(self.why or "the provider does not show its thinking")
        return " · ".join(parts)


@dataclass(frozen=True)
class Replayed:
    """Where a replayed answer came from: when, and which model, first answered it."""

    answered_at: float  # epoch seconds
    model: str | None


@dataclass(frozen=True)
class Result:
    """One answer. ``finish_reason`` says how it ended; ``error`` why, if it failed.

    ``stop`` normal end; ``length`` cut by max tokens; ``content_filter`` blocked
    by the provider; ``tool_calls`` the model wants a tool; ``incomplete`` the
    stream ended without its end marker; ``cancelled`` stopped by the user
    (Stop button or interrupt) or, when ``error`` says so, by the budget;
    ``error`` failed (see ``error``).
    """

    text: str
    requested: str  # the name the user asked for: alias or provider:model
    model: str | None  # the provider:model actually served, when known
    finish_reason: FinishReason
    usage: Usage | None
    timings: Timings
    messages: tuple[Message, ...]  # exactly what was sent
    parameters: dict[str, Any] = field(default_factory=dict)
    tool_calls: tuple[ToolRun, ...] = ()  # the calls of every step, in order
    error: str | None = None
    interrupted: bool = False  # cancelled by a kernel interrupt rather than the Stop button
    cost: float | None = None  # US dollars, when the price table knows the model
    chat: str | None = None  # the conversation it belongs to; None with --no-history
    dropped_turns: int = 0  # earlier turns the history limit left out of the request
    replayed: Replayed | None = None  # from the replay cache, not from the model
    retries: tuple[Retry, ...] = ()  # failed attempts made again, in order (see providers.retry)
    steps: int = 1  # requests made: one, plus one after each round of tool calls
    exchange: tuple[Message, ...] = ()  # what the turn adds after the prompt: calls, results, answer
    thoughts: tuple[Thought, ...] = ()  # the thinking phases of every step, in order (reasoning models)
    notices: tuple[str, ...] = ()  # what the provider layer said of how it answered (the footer shows them)
    show_thinking: bool = True  # False: the thinking is kept here but not shown (%config LLMMagics.show_thinking)
    #: what failed: one of our typed errors, or a bug (raised with its own traceback)
    exception: Exception | None = field(default=None, repr=False, compare=False)
    #: with --schema / --json: the validated value (a model instance, dataclass, list, dict);
    #: ``text`` keeps the raw JSON
    data: Any = field(default=None, compare=False)
    shape: Shape | None = field(default=None, repr=False, compare=False)  # the type ``data`` was checked against

    @classmethod
    def unasked(cls, requested: str, finish_reason: FinishReason, **fields: Any) -> Result:
        """The result of a question that ended before anything was sent (interrupted while it
        waited, or refused by the budget)."""
        return cls("", requested, None, finish_reason, None, Timings(time.time(), None, 0.0), (), **fields)

    @property
    def attempts(self) -> int:
        """How many requests this answer took: 1, plus one per retry."""
        return 1 + len(self.retries)

    @property
    def reasoning(self) -> str:
        """The model's thinking as it was shown (every phase, in order); "" if it showed none."""
        return "\n\n".join(t.text for t in self.thoughts if t.text)

    @property
    def ok(self) -> bool:
        return self.finish_reason in ("stop", "tool_calls")

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        usage = f", tokens={self.usage.total_tokens}" if self.usage else ""
        preview = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return (
            f"<Result {self.model or self.requested} finish_reason={self.finish_reason!r}"
            f"{usage}, {self.timings.total:.2f}s: {preview!r}>"
        )

    def _repr_markdown_(self) -> str:
        return self.text

    def raise_for_error(self) -> None:
        """Raise if the answer failed or the kernel was interrupted; the text is kept either way."""
        if self.interrupted:
            model, n = self.model or self.requested, len(self.text)
            if n:
                raise Interrupted(
                    f"The kernel was interrupted while {model} answered, after {n:,} characters; "
                    "the partial answer is kept in _llm."
                )
            raise Interrupted(f"The kernel was interrupted before {model} answered; nothing had arrived.")
        if isinstance(self.exception, LLMError):
            raise advise(self.exception)
        if self.exception is not None:
            raise self.exception  # a bug: its real traceback, from where it happened


def answer_text(result: Result) -> str:
    """The text an answer's value is read from: its last step's, after any tool calls.

    With ``--tools`` the model may write before calling a tool; ``text`` holds every
    step's text, the structured answer is the final step's alone.
    """
    if not result.exchange:
        return result.text
    last = result.exchange[-1]
    return last.content if last.role == "assistant" and not last.tool_calls else ""
