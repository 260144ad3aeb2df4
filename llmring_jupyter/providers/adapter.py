"""The skeleton every HTTP adapter shares, written once.

An adapter is its provider's wire mapping and little else: it subclasses
:class:`WireAdapter`, sends the request in :meth:`~WireAdapter.answer`, yields
text, thinking, tool-call pieces and counts as they arrive, records everything else on an :class:`Answer`, and maps
its SDK's exceptions in :meth:`~WireAdapter.error`. The skeleton does the rest,
alike for every provider:

- the key, from :mod:`.keys` (nothing is sent without one);
- start detection (``Answer.started``: a failure after it is "mid-answer");
- errors: the adapter's mapping first, then transport failures and malformed JSON;
  anything else is a bug of ours and keeps its traceback;
- the end marker: a body that ends without it is reported as ``incomplete``
  (the SDKs end silently);
- close on stop: ``aclose()`` closes the adapter's generator and every HTTP
  response it opened, so the provider stops generating (and billing) at once.
"""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from . import keys
from ._common import (
    ReasoningAssembler,
    ToolCallAssembler,
    close_responses,
    is_transport_error,
    malformed,
    step,
    unreachable,
)
from .errors import LLMError, MissingKeyError
from .inputs import TEXT_ONLY, Inputs
from .types import Notice, Reasoning, Request, StreamChunk, StreamFinish, ToolCall, Usage

T = TypeVar("T")
#: What an adapter yields: text, a piece of a thinking block (from ``Answer.thinking.add``), a piece
#: of a tool call (from ``Answer.calls.add``), or the usage counted so far, as soon as the provider
#: sends it (an input count at the start: a stream cut before its end keeps it).
Piece = str | Reasoning | ToolCall | Usage


class Adapter(Protocol):
    """What :mod:`.routing` needs of an adapter: one async generator per request."""

    name: str  # and optionally ``inputs``, an :class:`~.inputs.Inputs`: what its models take beside text

    def stream(self, model: str, request: Request) -> AsyncGenerator[StreamChunk, None]: ...


@dataclass
class Answer:
    """What the wire has said about one answer, besides its text."""

    model: str  # the model served, once the provider names it
    key_variable: str | None = None  # where the key sent came from (named in errors)
    started: bool = False  # the provider began answering: a failure now is mid-answer
    ended: bool = False  # the provider's end marker arrived
    finish: StreamFinish | None = None  # our normalised finish reason, when the provider gave one
    usage: Usage | None = None
    calls: ToolCallAssembler = field(default_factory=ToolCallAssembler)
    thinking: ReasoningAssembler = field(default_factory=ReasoningAssembler)
    notices: list[Notice] = field(default_factory=list)  # what the user should be told with the answer
    opened: list[Any] = field(default_factory=list)  # HTTP responses to close when the stream stops

    async def next(self, iterator: AsyncIterator[T]) -> T:
        """``anext(iterator)``, recording the HTTP responses it opens (see ``_common.step``)."""
        return await step(iterator, self.opened)

    def final(self) -> StreamChunk:
        tool_calls = self.calls.calls()
        finish: StreamFinish = (self.finish or "stop") if self.ended else "incomplete"
        if tool_calls and finish == "stop":
            finish = "tool_calls"
        return StreamChunk(
            model=self.model,
            finish_reason=finish,
            usage=self.usage,
            tool_calls=tool_calls or None,
            reasoning=self.thinking.blocks() or None,
            notices=tuple(self.notices) or None,
        )


class WireAdapter(ABC):
    """Base of the HTTP adapters: subclasses implement :meth:`answer` and :meth:`error`."""

    name: ClassVar[str]
    inputs: ClassVar[Inputs] = TEXT_ONLY

    @abstractmethod
    def address(self) -> str:
        """The base URL requests go to, for "cannot reach" messages."""

    @abstractmethod
    def answer(self, model: str, request: Request, key: keys.Key | None, answer: Answer) -> AsyncGenerator[Piece, None]:
        """Send ``request`` and yield its text, the pieces of its thinking (from
        ``answer.thinking.add``) and of its tool calls (from ``answer.calls.add``) and any count
        sent before the end, as they arrive; record the rest on ``answer``."""

    def error(self, exc: Exception, model: str, answer: Answer) -> LLMError | None:
        """This SDK's exception as a typed error, or None when it is not the SDK's."""
        return None

    async def stream(self, model: str, request: Request) -> AsyncGenerator[StreamChunk, None]:
        key = keys.find(self.name)
        if key is None and self.name in keys.PROVIDER_KEYS:
            raise MissingKeyError(self.name, keys.PROVIDER_KEYS[self.name])
        answer = Answer(model, key.variable if key else None)
        try:
            async with contextlib.aclosing(self.answer(model, request, key, answer)) as pieces:
                async for piece in pieces:
                    yield _chunk(piece)
        except LLMError:
            raise
        except Exception as exc:
            mapped = self.error(exc, model, answer) or self._common_error(exc, answer)
            if mapped is None:
                raise  # a bug of ours (or an SDK's): the real traceback
            raise mapped from None  # one line; its message says what the SDK said
        finally:
            await close_responses(answer.opened)
        yield answer.final()

    def _common_error(self, exc: Exception, answer: Answer) -> LLMError | None:
        if is_transport_error(exc):
            return unreachable(self.name, self.address(), exc, started=answer.started)
        if isinstance(exc, json.JSONDecodeError):
            return malformed(self.name, exc)
        return None


def _chunk(piece: Piece) -> StreamChunk:
    if isinstance(piece, str):
        return StreamChunk(delta=piece)
    if isinstance(piece, Usage):
        return StreamChunk(usage=piece)
    if isinstance(piece, Reasoning):
        return StreamChunk(reasoning=(piece,))
    return StreamChunk(tool_calls=(piece,))
