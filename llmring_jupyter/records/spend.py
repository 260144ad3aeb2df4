"""What this kernel has spent, by model, and the budget that caps it.

Every answer is added to a :class:`Ledger`; ``%llm usage`` shows it. A budget in
dollars and/or tokens is checked twice: before a request is sent (its input is
estimated; a question that would pass the budget is refused and nothing is
sent) and while it streams (the answer is stopped like Stop once the estimate
passes it, keeping its text). The ledger also knows every answer in flight
(background answers, side-by-side columns): what each is estimated to have
spent so far counts against the budget of all, so answers running at once
share one budget instead of each watching only itself. Replayed answers cost
nothing and count for neither.
"""

from __future__ import annotations

import html
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import dataclass

from ..exceptions import BudgetError
from ..providers import pricing
from ..providers.layers import Send
from ..providers.tokens import estimate_prompt, estimate_tokens
from ..providers.types import Request, StreamChunk, Usage
from ..render.footer import dollars
from ..result import Result


@dataclass(frozen=True)
class Budget:
    """``usd`` and ``tokens`` caps for this kernel; 0 or None: no cap."""

    usd: float | None = None
    tokens: int | None = None

    def __bool__(self) -> bool:
        return bool(self.usd) or bool(self.tokens)


@dataclass
class Totals:
    answers: int = 0
    replayed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None  # None: the price table knows none of this model's answers
    seconds: float = 0.0


@dataclass(eq=False)  # each answer is its own: two with the same counts are still two
class Flight:
    """One answer in flight: the tokens it is estimated to have spent so far, every request of it."""

    model: str | None  # what its price is looked up by
    tokens_in: int = 0
    tokens_out: int = 0

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    def usd(self, tokens_in: int = 0) -> float | None:
        """Its estimated cost so far, with ``tokens_in`` more input; None: the price table does not know it."""
        return pricing.price(self.model, Usage.of(self.tokens_in + tokens_in, self.tokens_out))


def input_tokens(request: Request) -> int:
    """The estimate ``--dry-run`` shows: about four characters a token, plus each message's framing."""
    return estimate_prompt(request.messages)


class Ledger:
    """This kernel's answers, by the model that gave them, and the answers still in flight.

    Background answers run on their own thread: the lock keeps a total from being read while
    another answer is added or takes off.
    """

    def __init__(self) -> None:
        self.models: dict[str, Totals] = {}
        self._flying: list[Flight] = []
        self._lock = threading.Lock()

    @contextmanager
    def flying(self, model: str | None) -> Iterator[Flight]:
        """An answer in flight, until it is added: its estimate counts against every answer's budget."""
        flight = Flight(model)
        with self._lock:
            self._flying.append(flight)
        try:
            yield flight
        finally:
            with self._lock:
                self._flying.remove(flight)

    def add(self, result: Result) -> None:
        with self._lock:
            self._add(result)

    def _add(self, result: Result) -> None:
        totals = self.models.setdefault(result.model or result.requested, Totals())
        totals.answers += 1
        totals.seconds += result.timings.total
        if result.replayed is not None:  # nothing was sent: no tokens, no cost
            totals.replayed += 1
            return
        if result.usage is None and not result.text:  # failed before an answer (no key, refused): nothing billed
            return
        # stopped before the provider counted: estimated, as the budget estimates
        usage = result.usage or Usage.of(input_tokens_of(result), estimate_tokens(result.text))
        totals.tokens_in += usage.prompt_tokens
        totals.tokens_out += usage.completion_tokens
        if result.cost is not None:
            totals.cost = (totals.cost or 0.0) + result.cost

    def _totals(self) -> list[Totals]:
        with self._lock:
            return list(self.models.values())

    @property
    def tokens(self) -> int:
        return sum(t.tokens_in + t.tokens_out for t in self._totals())

    @property
    def usd(self) -> float:
        return sum(t.cost or 0.0 for t in self._totals())

    def check(self, request: Request, flight: Flight, budget: Budget) -> None:
        """Refuse, before anything is sent, a question whose input alone would pass the budget
        (with what the answers in flight have spent so far)."""
        if not budget:
            return
        if over := self._over(budget, flight, input_tokens(request), "needs"):
            raise BudgetError(f"{over[0]}; nothing was sent. {_raise_it(over[1])}")

    def layer(self, send: Send, flight: Flight, budget: Budget, stop: Callable[[str], None]) -> Send:
        """The engine's budget layer: ``send``'s chunks, counted into ``flight``; ``stop(why)`` is
        called (it presses Stop) once the estimate of every answer in flight passes the budget."""

        def send_watched(request: Request) -> AsyncGenerator[StreamChunk, None]:
            flight.tokens_in += input_tokens(request)

            def over(tokens_out: int) -> tuple[str, str] | None:
                flight.tokens_out = tokens_out
                return self._over(budget, flight, 0, "has used") if budget else None

            return _watched(send(request), flight.tokens_out, over, stop)

        return send_watched

    def _over(self, budget: Budget, flight: Flight, tokens_in: int, verb: str) -> tuple[str, str] | None:
        """Why spending this much more passes the budget, and the setting that raises it; or None."""
        with self._lock:
            others = [f for f in self._flying if f is not flight]
        if budget.tokens:
            running = sum(f.tokens for f in others)
            this = flight.tokens + tokens_in
            if self.tokens + running + this > budget.tokens:
                return (
                    f"Token budget reached: {self.tokens:,} of {budget.tokens:,} tokens spent"
                    f"{_by_others(f'{running:,}' if running else '')}, "
                    f"and this answer {verb} about {this:,}",
                    "budget_tokens",
                )
        cost = flight.usd(tokens_in) if budget.usd else None
        if budget.usd and cost is not None:
            running_usd = sum(f.usd() or 0.0 for f in others)
            if self.usd + running_usd + cost > budget.usd:
                return (
                    f"Budget reached: {dollars(self.usd)} of {dollars(budget.usd)} spent"
                    f"{_by_others(dollars(running_usd) if running_usd else '')}, "
                    f"and this answer {verb} about {dollars(cost)}",
                    "budget_usd",
                )
        return None

    def bundle(self) -> dict[str, str]:
        """``%llm usage``: a small table, HTML and plain text alike."""
        with self._lock:
            models = dict(self.models)
        if not models:
            text = "No answers yet in this kernel."
            return {"text/plain": text, "text/html": f"<p>{text}</p>"}
        head = ("model", "answers", "replayed", "tokens in", "tokens out", "cost", "time")
        rows = [
            (
                model,
                f"{t.answers:,}",
                f"{t.replayed:,}",
                f"{t.tokens_in:,}",
                f"{t.tokens_out:,}",
                "—" if t.cost is None else dollars(t.cost),
                f"{t.seconds:.1f} s",
            )
            for model, t in models.items()
        ]
        known = [t.cost for t in models.values() if t.cost is not None]
        total = (
            "total",
            f"{sum(t.answers for t in models.values()):,}",
            f"{sum(t.replayed for t in models.values()):,}",
            f"{sum(t.tokens_in for t in models.values()):,}",
            f"{sum(t.tokens_out for t in models.values()):,}",
            dollars(sum(known)) if known else "—",
            f"{sum(t.seconds for t in models.values()):.1f} s",
        )
        table = [head, *rows, total] if len(rows) > 1 else [head, *rows]
        note = "Replayed answers cost nothing; — : the price table does not know the model."
        widths = [max(len(r[i]) for r in table) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
            for r in table
        ]
        cells = "".join(
            "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in r) + "</tr>"
            for r, tag in zip(table, ["th"] + ["td"] * (len(table) - 1), strict=True)
        )
        return {
            "text/plain": "\n".join([*lines, note]),
            "text/html": f'<table class="llmring-usage">{cells}</table><p style="font-size:12px">{note}</p>',
        }


def input_tokens_of(result: Result) -> int:
    return estimate_prompt(result.messages)


async def _watched(
    chunks: AsyncGenerator[StreamChunk, None],
    before: int,
    over: Callable[[int], tuple[str, str] | None],
    stop: Callable[[str], None],
) -> AsyncGenerator[StreamChunk, None]:
    """``over(tokens_out)`` after each chunk: the answer's output so far, ``before`` this request's.

    Thinking is billed as output too: its pieces count (not the final chunk's whole blocks again)."""
    chars, stopped = 0, False
    async with aclosing(chunks):  # Stop cancels this loop at its next wait, closing the stream
        async for chunk in chunks:
            yield chunk
            thought = sum(len(r.text) for r in chunk.reasoning) if chunk.reasoning and not chunk.finish_reason else 0
            chars += len(chunk.delta) + thought
            why = over(before + (chars + 3) // 4)
            if stopped or chunk.finish_reason is not None:
                continue
            if why:
                stop(f"{why[0]}; the answer was stopped there. {_raise_it(why[1])}")
                stopped = True


def _by_others(amount: str) -> str:
    """What answers still in flight have spent meanwhile, where any have."""
    return f", about {amount} more by answers still running" if amount else ""


def _raise_it(setting: str) -> str:
    return f"Raise it with %config LLMMagics.{setting} = … (0: no budget)."
