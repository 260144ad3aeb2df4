"""What this kernel has spent, by model, and the budget that caps it.

Every answer is added to a :class:`Ledger`; ``%llm usage`` shows it. A budget in
dollars and/or tokens is checked twice: before a request is sent (its input is
estimated; a question that would pass the budget is refused and nothing is
sent) and while it streams (the answer is stopped like Stop once the estimate
passes it, keeping its text). Replayed answers cost nothing and count for
neither.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from .errors import UsageError
from .providers import pricing
from .providers.tokens import estimate_prompt, estimate_tokens
from .providers.types import Request, StreamChunk, Usage
from .result import Result


class BudgetError(UsageError):
    """A question would pass the budget; nothing was sent."""


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


def dollars(amount: float) -> str:
    """US dollars as the footer, the usage table and the budget write them: cents and below to 1/100 ¢."""
    return f"${amount:.4f}" if amount < 1 else f"${amount:.2f}"


def input_tokens(request: Request) -> int:
    """The estimate ``--dry-run`` shows: about four characters a token, plus each message's framing."""
    return estimate_prompt(request.messages)


class Ledger:
    """This kernel's answers, by the model that gave them."""

    def __init__(self) -> None:
        self.models: dict[str, Totals] = {}

    def add(self, result: Result) -> None:
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

    @property
    def tokens(self) -> int:
        return sum(t.tokens_in + t.tokens_out for t in self.models.values())

    @property
    def usd(self) -> float:
        return sum(t.cost or 0.0 for t in self.models.values())

    def check(self, request: Request, model: str | None, budget: Budget) -> None:
        """Refuse, before anything is sent, a question whose input alone would pass the budget."""
        if not budget:
            return
        needed = input_tokens(request)
        if over := self._over(budget, needed, 0, model, "needs"):
            raise BudgetError(f"{over[0]}; nothing was sent. {_raise_it(over[1])}")

    def watch(
        self,
        chunks: AsyncIterator[StreamChunk],
        request: Request,
        model: str | None,
        budget: Budget,
        stop: Callable[[str], None],
    ) -> AsyncIterator[StreamChunk]:
        """``chunks``; ``stop(why)`` is called (it presses Stop) once the answer's estimate passes the budget."""
        if not budget:
            return chunks
        needed = input_tokens(request)
        return _watched(chunks, lambda tokens_out: self._over(budget, needed, tokens_out, model, "has used"), stop)

    def _over(
        self, budget: Budget, tokens_in: int, tokens_out: int, model: str | None, verb: str
    ) -> tuple[str, str] | None:
        """Why spending this much more passes the budget, and the setting that raises it; or None."""
        if budget.tokens and self.tokens + tokens_in + tokens_out > budget.tokens:
            return (
                f"Token budget reached: {self.tokens:,} of {budget.tokens:,} tokens spent, "
                f"and this answer {verb} about {tokens_in + tokens_out:,}",
                "budget_tokens",
            )
        cost = pricing.price(model, Usage.of(tokens_in, tokens_out)) if budget.usd else None
        if budget.usd and cost is not None and self.usd + cost > budget.usd:
            return (
                f"Budget reached: {dollars(self.usd)} of {dollars(budget.usd)} spent, "
                f"and this answer {verb} about {dollars(cost)}",
                "budget_usd",
            )
        return None

    def bundle(self) -> dict[str, str]:
        """``%llm usage``: a small table, HTML and plain text alike."""
        if not self.models:
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
            for model, t in self.models.items()
        ]
        known = [t.cost for t in self.models.values() if t.cost is not None]
        total = (
            "total",
            f"{sum(t.answers for t in self.models.values()):,}",
            f"{sum(t.replayed for t in self.models.values()):,}",
            f"{sum(t.tokens_in for t in self.models.values()):,}",
            f"{sum(t.tokens_out for t in self.models.values()):,}",
            dollars(sum(known)) if known else "—",
            f"{sum(t.seconds for t in self.models.values()):.1f} s",
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
    chunks: AsyncIterator[StreamChunk],
    over: Callable[[int], tuple[str, str] | None],
    stop: Callable[[str], None],
) -> AsyncIterator[StreamChunk]:
    chars, stopped = 0, False
    async for chunk in chunks:  # Stop cancels this loop at its next wait, closing the stream
        yield chunk
        chars += len(chunk.delta)
        if stopped or chunk.finish_reason is not None:
            continue
        if why := over((chars + 3) // 4):
            stop(f"{why[0]}; the answer was stopped there. {_raise_it(why[1])}")
            stopped = True


def _raise_it(setting: str) -> str:
    return f"Raise it with %config LLMMagics.{setting} = … (0: no budget)."


def footer_note(result: Result) -> str | None:
    """Why the budget stopped this answer, for its footer; None if it did not."""
    stopped = result.finish_reason == "cancelled" and not result.interrupted
    return result.error.split(";", 1)[0] if stopped and result.error else None
