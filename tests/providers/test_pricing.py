"""The footer's cost: genai-prices' maintained table, or nothing rather than a guess."""

from __future__ import annotations

import pytest
from genai_prices import Usage as PricedUsage
from genai_prices import calc_price

from llmring_jupyter.providers import Usage
from llmring_jupyter.providers.pricing import price


@pytest.mark.parametrize(
    ("model", "usage"),
    [
        ("openai:gpt-4o-mini", Usage.of(1200, 340)),
        ("openai:gpt-4o-mini", Usage.of(1200, 340, cached_tokens=1000)),  # cached input is cheaper
        ("anthropic:claude-haiku-4-5", Usage.of(2000, 80, cached_tokens=500, cache_creation_tokens=700)),
        ("google:gemini-2.5-flash", Usage.of(900, 450)),
    ],
)
def test_known_model_costs_what_the_table_says(model: str, usage: Usage) -> None:
    provider, _, name = model.partition(":")
    expected = calc_price(
        PricedUsage(
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens,
            cache_read_tokens=usage.cached_tokens,
            cache_write_tokens=usage.cache_creation_tokens,
        ),
        model_ref=name,
        provider_id=provider,
    ).total_price
    cost = price(model, usage)
    assert cost is not None and cost > 0
    assert cost == pytest.approx(float(expected))


def test_cached_prompt_tokens_cost_less() -> None:
    plain = price("openai:gpt-4o-mini", Usage.of(1200, 340))
    cached = price("openai:gpt-4o-mini", Usage.of(1200, 340, cached_tokens=1000))
    assert plain is not None and cached is not None and cached < plain


@pytest.mark.parametrize(
    "model",
    [
        "openai:no-such-model-xyz",  # not in the table: no guess
        "demo:chat",
        "ollama:llama3.2:3b",  # local: bills nothing, shows nothing
        "acme:some-model",  # a provider the table is not asked about
        None,
    ],
)
def test_unknown_or_local_model_has_no_cost(model: str | None) -> None:
    assert price(model, Usage.of(1000, 500)) is None


def test_no_usage_no_cost() -> None:
    assert price("openai:gpt-4o-mini", None) is None


def test_a_batch_costs_the_tables_batch_price_or_half_the_live_one_marked_estimated() -> None:
    from llmring_jupyter.providers.pricing import batch_price

    usage = Usage.of(1_000_000, 1_000_000)
    # the table has Anthropic's batch variant for this model: its price, not an estimate
    expected = calc_price(
        PricedUsage(input_tokens=1_000_000, output_tokens=1_000_000),
        model_ref="claude-haiku-4-5",
        provider_id="anthropic",
        price_context={"processing": "batch"},
    )
    assert batch_price("anthropic:claude-haiku-4-5", usage) == (float(expected.total_price), False)
    # a model without a batch price in the table: half its live price, said to be estimated
    live = price("google:gemini-2.0-flash", usage)
    assert live is not None and batch_price("google:gemini-2.0-flash", usage) == (live / 2, True)
    assert batch_price("demo:chat", usage) == (None, True)
