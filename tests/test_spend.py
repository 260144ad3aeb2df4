"""Spend: totals by model, and the budget that refuses before sending and stops mid-answer."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from llmring_jupyter.exceptions import BudgetError
from llmring_jupyter.providers import Message, Reasoning, Request, StreamChunk, Usage
from llmring_jupyter.providers.pricing import price
from llmring_jupyter.records.spend import Budget, Ledger, input_tokens
from llmring_jupyter.render.footer import budget_note
from llmring_jupyter.result import Replayed, Result, Timings

QUESTION = Request("openai:gpt-4o-mini", (Message("user", "x" * 400),))  # about 104 tokens in


def _result(model: str, usage: Usage | None, seconds: float = 1.0, **changes: Any) -> Result:
    result = Result(
        text="answer",
        requested=model,
        model=model,
        finish_reason="stop",
        usage=usage,
        timings=Timings(0.0, 0.1, seconds),
        messages=QUESTION.messages,
        cost=price(model, usage),
    )
    return dataclasses.replace(result, **changes)


def test_totals_by_model_with_replayed_answers_free() -> None:
    ledger = Ledger()
    ledger.add(_result("openai:gpt-4o-mini", Usage.of(1200, 340), 2.0))
    ledger.add(_result("openai:gpt-4o-mini", Usage.of(800, 60), 1.5))
    ledger.add(_result("demo:chat", Usage.of(50, 20), 0.5))
    ledger.add(_result("demo:chat", Usage.of(50, 20), 0.1, replayed=Replayed(0.0, "demo:chat"), cost=0.0))
    openai = ledger.models["openai:gpt-4o-mini"]
    assert (openai.answers, openai.replayed, openai.tokens_in, openai.tokens_out) == (2, 0, 2000, 400)
    assert openai.cost == pytest.approx(price("openai:gpt-4o-mini", Usage.of(2000, 400)))
    demo = ledger.models["demo:chat"]
    assert (demo.answers, demo.replayed, demo.tokens_in, demo.tokens_out, demo.cost) == (2, 1, 50, 20, None)
    assert ledger.tokens == 2470


def test_an_answer_stopped_before_its_usage_is_estimated_a_failed_request_costs_nothing() -> None:
    ledger = Ledger()
    ledger.add(_result("demo:chat", None, text="x" * 40, finish_reason="cancelled"))
    assert (ledger.models["demo:chat"].tokens_in, ledger.models["demo:chat"].tokens_out) == (input_tokens(QUESTION), 10)
    ledger.add(_result("openai:gpt-4o-mini", None, text="", finish_reason="error", error="No API key"))
    assert ledger.models["openai:gpt-4o-mini"].answers == 1 and ledger.tokens == input_tokens(QUESTION) + 10


def test_the_usage_table_in_text_and_html() -> None:
    ledger = Ledger()
    ledger.add(_result("openai:gpt-4o-mini", Usage.of(1200, 340), 2.0))
    ledger.add(_result("demo:chat", Usage.of(50, 20), 0.5))
    ledger.add(_result("demo:chat", None, 0.25, replayed=Replayed(0.0, "demo:chat"), cost=0.0))
    bundle = ledger.bundle()
    rows = [re.split(r"\s{2,}", line.strip()) for line in bundle["text/plain"].splitlines()]
    cost = f"${price('openai:gpt-4o-mini', Usage.of(1200, 340)):.4f}"
    assert rows[0] == ["model", "answers", "replayed", "tokens in", "tokens out", "cost", "time"]
    assert rows[1] == ["openai:gpt-4o-mini", "1", "0", "1,200", "340", cost, "2.0 s"]
    assert rows[2] == ["demo:chat", "2", "1", "50", "20", "—", "0.8 s"]
    assert rows[3] == ["total", "3", "1", "1,250", "360", cost, "2.8 s"]
    cells = [html.unescape(c) for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", bundle["text/html"])]
    assert cells == [c for row in rows[:4] for c in row]


def test_an_empty_ledger_says_so() -> None:
    assert Ledger().bundle()["text/plain"] == "No answers yet in this kernel."


def test_no_budget_never_refuses() -> None:
    ledger = Ledger()
    ledger.add(_result("openai:gpt-4o-mini", Usage.of(10**7, 10**6)))
    with ledger.flying("openai:gpt-4o-mini") as flight:
        for budget in (Budget(), Budget(0, 0), Budget(None, None)):
            ledger.check(QUESTION, flight, budget)


def test_a_token_budget_refuses_with_one_line_that_says_how_to_raise_it() -> None:
    ledger = Ledger()
    ledger.add(_result("demo:chat", Usage.of(900, 50)))
    with ledger.flying("demo:chat") as flight, pytest.raises(BudgetError) as caught:
        ledger.check(QUESTION, flight, Budget(tokens=1100))  # 950 spent + ~104 fits
        ledger.check(QUESTION, flight, Budget(tokens=1000))
    assert caught.value.message == (
        f"Token budget reached: 950 of 1,000 tokens spent, and this answer needs about {input_tokens(QUESTION)}; "
        "nothing was sent. Raise it with %config LLMMagics.budget_tokens = … (0: no budget)."
    )


def test_a_dollar_budget_uses_the_price_table() -> None:
    ledger = Ledger()
    ledger.add(_result("openai:gpt-4o-mini", Usage.of(100_000, 10_000)))
    spent = ledger.usd
    assert spent > 0
    with ledger.flying("openai:gpt-4o-mini") as flight:
        ledger.check(QUESTION, flight, Budget(usd=spent * 2))
        refused = r"^Budget reached: \$0\.\d{4} of \$0\.\d{4} spent.*LLMMagics\.budget_usd"
        with pytest.raises(BudgetError, match=refused):
            ledger.check(QUESTION, flight, Budget(usd=spent + 1e-9))
    with ledger.flying("ollama:llama3.2") as local:
        ledger.check(QUESTION, local, Budget(usd=spent + 1e-9))  # a local model bills nothing


async def _stream(n: int, thinking: bool = False) -> AsyncGenerator[StreamChunk, None]:
    for _ in range(n):  # one token each, by the estimate
        yield StreamChunk(reasoning=(Reasoning("word"),)) if thinking else StreamChunk("word")
    yield StreamChunk(model="demo:chat", finish_reason="stop", usage=Usage.of(104, n))


async def test_a_stream_past_the_budget_presses_stop_once() -> None:
    reasons: list[str] = []
    ledger = Ledger()
    with ledger.flying("demo:chat") as flight:
        seen = [
            c async for c in ledger.layer(lambda _: _stream(30), flight, Budget(tokens=120), reasons.append)(QUESTION)
        ]
    assert len(seen) == 31, "the watcher only stops; the stream's own Stop does the cancelling"
    assert reasons == [
        "Token budget reached: 0 of 120 tokens spent, and this answer has used about 121; the answer was stopped "
        "there. Raise it with %config LLMMagics.budget_tokens = … (0: no budget)."
    ]


async def test_thinking_counts_against_the_budget_as_it_streams() -> None:
    """A reasoning model bills its thinking as output: a long think passes the budget before any text."""
    reasons: list[str] = []
    ledger = Ledger()
    with ledger.flying("demo:chat") as flight:
        send = ledger.layer(lambda _: _stream(30, thinking=True), flight, Budget(tokens=120), reasons.append)
        seen = [c async for c in send(QUESTION)]
    assert len(seen) == 31 and len(reasons) == 1 and reasons[0].startswith("Token budget reached")


async def test_a_stream_within_the_budget_is_left_alone() -> None:
    reasons: list[str] = []
    ledger = Ledger()
    with ledger.flying("demo:chat") as flight:
        seen = [
            c async for c in ledger.layer(lambda _: _stream(10), flight, Budget(tokens=120), reasons.append)(QUESTION)
        ]
    assert len(seen) == 11 and reasons == []


def test_the_footer_names_a_budget_stop_but_not_a_click_on_stop() -> None:
    why = "Token budget reached: 0 of 120 tokens spent, and this answer has used about 121; the answer was stopped"
    stopped = _result("demo:chat", None, finish_reason="cancelled", error=why)
    assert budget_note(stopped) == "Token budget reached: 0 of 120 tokens spent, and this answer has used about 121"
    assert budget_note(_result("demo:chat", None, finish_reason="cancelled")) is None


async def test_answers_in_flight_share_the_budget() -> None:
    reasons: list[str] = []
    ledger = Ledger()
    with ledger.flying("demo:chat") as running:
        seen = [
            c async for c in ledger.layer(lambda _: _stream(60), running, Budget(tokens=1000), reasons.append)(QUESTION)
        ]
        assert len(seen) == 61 and reasons == [], "alone, it fits"
        with ledger.flying("demo:chat") as second, pytest.raises(BudgetError) as caught:
            ledger.check(QUESTION, second, Budget(tokens=input_tokens(QUESTION) * 2 + 59))
    assert caught.value.message.startswith(
        f"Token budget reached: 0 of {input_tokens(QUESTION) * 2 + 59:,} tokens spent, about "
        f"{input_tokens(QUESTION) + 60:,} more by answers still running, and this answer needs about "
    )


def test_an_answer_still_in_flight_counts_after_a_later_one_with_equal_counts_ends() -> None:
    ledger = Ledger()
    with ledger.flying("demo:chat") as running:
        with ledger.flying("demo:chat"):
            pass  # a later answer ends first, both having spent nothing yet: their counts are equal
        running.tokens_out = 500
        with ledger.flying("demo:chat") as third, pytest.raises(BudgetError):
            ledger.check(QUESTION, third, Budget(tokens=input_tokens(QUESTION) + 400))
