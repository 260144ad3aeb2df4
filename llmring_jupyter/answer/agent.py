"""The tool loop: ask, run the calls the model makes, send their results, ask again.

Each step is one request and one stream (the provider layer never loops), so a
step boundary is clean: the request, the chunks it streamed, and the results by
call — by its step and place (:attr:`~.result.ToolRun.key`), since providers such
as Ollama give calls no id. All steps stream into one live view; Stop or an
interrupt ends the loop wherever it is — streaming, waiting for approval, or inside
a tool — and what happened so far is kept, with every call answered so the
conversation stays valid.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Protocol

from ..exceptions import StepLimitError
from ..providers.errors import LLMError
from ..providers.retry import AttemptLog
from ..providers.types import Message, Request, StreamChunk, ToolCall
from ..result import Result, ToolRun
from .sinks import Output
from .stream import DEFAULT_INTERVAL, Live, Pricer, Step
from .tools import Toolbox

#: Requests one answer may make before the loop gives up (``--max-steps``).
DEFAULT_MAX_STEPS = 5

DECLINED = "The user declined to run this tool call."
NOT_RUN = "Not run: the user stopped the answer."


#: One step's chunks: ``open_stream(request, step, log)`` (step 0 is the first request; its
#: stream reports its attempts to ``log``).
Opener = Callable[[Request, int, AttemptLog], AsyncIterator[StreamChunk]]


class ToolReplay(Protocol):
    """The replay cache's side of a tool exchange (:class:`~.replay.Question`)."""

    def tool_result(self, call: str) -> str | None:
        """When replaying, what the tool returned the first time for the call whose
        :attr:`~.result.ToolRun.key` is ``call``; else None."""

    def record_tool_result(self, call: str, output: str) -> None:
        """A result that went back to the model, stored with the exchange under its call's key."""


async def run(
    request: Request,
    open_stream: Opener,
    output: Output,
    toolbox: Toolbox | None = None,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    approve: bool | None = None,
    replay: ToolReplay | None = None,
    interval: float = DEFAULT_INTERVAL,
    price: Pricer | None = None,
    chat: str | None = None,
    dropped_turns: int = 0,
) -> Result:
    """Answer ``request``, running the model's calls of ``toolbox`` functions between its requests.

    ``approve``: ask before every call (True), none (False), or as each tool says (None:
    an MCP server's, unless its config says otherwise).
    With ``replay``, a replayed exchange gives each call its stored result (the function is
    not called, nothing is asked), and a new one records the results it sends back.
    """
    live = Live(request, output, interval)
    steps: list[Step] = []
    runs: list[ToolRun] = []
    exchange: list[Message] = []
    error: LLMError | None = None
    while True:
        pieces = _Pieces(live, len(steps) + 1, interval)
        log = AttemptLog()
        step = await live.collect(request, open_stream(request, len(steps), log), pieces.add, log)
        steps.append(step)
        calls = step.tool_calls if step.finish_reason == "tool_calls" and step.error is None else ()
        if step.text or calls or step.reasoning:  # its thinking goes back as received, with its calls
            exchange.append(Message("assistant", step.text, calls, reasoning=step.reasoning))
        if not calls:
            break
        if not toolbox:
            done = pieces.close(calls, "Not run: no tools were given (--tools).")
        elif live.ended:
            done = pieces.close(calls, NOT_RUN)
        elif len(steps) >= max_steps:
            done = pieces.close(calls, f"Not run: the step limit ({max_steps}) was reached.")
            wanted = ", ".join(dict.fromkeys(c.name for c in calls))
            error = StepLimitError(
                f"Stopped after {max_steps} steps (--max-steps {max_steps}) while the model still wanted "
                f"to call {wanted}; the exchange so far is kept in _llm. Raise --max-steps to let it finish."
            )
        else:
            done = [await _execute(live, toolbox, run, approve, replay) for run in pieces.close(calls)]
        answers = [_answer(r) for r in done]
        exchange += answers
        runs += done
        if live.ended or any(r.status == "cancelled" for r in done):
            break
        request = replace(request, messages=(*request.messages, exchange[-1 - len(answers)], *answers))
    return live.finish(
        request,
        steps,
        price=price,
        chat=chat,
        dropped_turns=dropped_turns,
        tool_calls=tuple(runs),
        exchange=tuple(exchange),
        error=error,
    )


async def _execute(
    live: Live, toolbox: Toolbox, run: ToolRun, approve: bool | None, replay: ToolReplay | None
) -> ToolRun:
    """Check, maybe ask, run and show one call; an ended answer leaves it not run."""
    stored = replay.tool_result(run.key) if replay is not None else None
    if stored is not None:  # a replayed exchange: what the tool said the first time
        run = replace(run, status="done", result=stored)
        live.output.tool(run)
        return run
    run = toolbox.check(run)
    if run.status == "running" and (approve if approve is not None else run.name in toolbox.asking):
        asking = replace(run, status="approve")
        live.output.tool(asking)
        decision = await live.guard(live.output.approve(asking))
        if decision is False:
            run = replace(run, status="skipped", error=DECLINED)
    if run.status == "running" and not live.ended:
        live.output.tool(run)
        run = await live.guard(toolbox.call(run)) or run
    if live.ended and run.status in ("running", "approve"):
        run = replace(run, status="cancelled", error=NOT_RUN)
    elif replay is not None:
        replay.record_tool_result(run.key, run.shown())
    live.output.tool(run)
    return run


def _answer(run: ToolRun) -> Message:
    """A call's result as the message the model reads next."""
    return Message("tool", run.shown(), tool_call_id=run.call.id, attachments=run.attachments, name=run.call.name)


class _Pieces:
    """A step's tool calls as they stream in: each shown when it starts, its arguments as they grow.

    Updates of one call go out at most once an interval (arguments stream token by
    token); the assembled calls of the final chunk are always shown.
    """

    def __init__(self, live: Live, step: int, interval: float) -> None:
        self._live = live
        self._step = step
        self._interval = interval
        self._runs: dict[int, ToolRun] = {}
        self._sent: dict[int, float] = {}

    def add(self, pieces: tuple[ToolCall, ...]) -> None:
        now = time.monotonic()
        for piece in pieces:
            run = self._runs.get(piece.index)
            if run is None:
                run = ToolRun(replace(piece, arguments=""), self._step, self._live.length)
            old = run.call
            call = replace(
                old, id=old.id or piece.id, name=old.name or piece.name, arguments=old.arguments + piece.arguments
            )
            self._runs[piece.index] = run = replace(run, call=call)
            if now - self._sent.get(piece.index, float("-inf")) >= self._interval:
                self._sent[piece.index] = now
                self._live.output.tool(run)

    def close(self, calls: tuple[ToolCall, ...], reason: str | None = None) -> list[ToolRun]:
        """The final calls as runs, each shown whole; with a ``reason``, as not run.

        The final calls come in the order their pieces did (a provider's piece index may
        count other blocks too): each takes the place, and the block, of its streamed run.
        """
        streamed = [self._runs[i] for i in sorted(self._runs)]
        out = []
        for n, call in enumerate(calls):
            run = streamed[n] if n < len(streamed) else ToolRun(replace(call, index=n), self._step, self._live.length)
            run = replace(run, call=replace(call, index=run.call.index))
            if reason is not None:
                run = replace(run, status="cancelled", error=reason)
                self._live.output.tool(run)
            out.append(run)
        return out
