"""The cost of an answer, from the price table the ``genai-prices`` package bundles.

Never hand-written prices and never a fetch at run time: a model the table
does not know (or a local model, such as Ollama's) has no cost rather than a
guess. ``genai-prices`` is imported on the first priced answer, not at load.
"""

from __future__ import annotations

from .types import Usage

# Our provider names → the table's provider ids. Local providers are absent: they bill nothing.
_PROVIDER_IDS = {"openai": "openai", "anthropic": "anthropic", "google": "google"}


def price(model: str | None, usage: Usage | None) -> float | None:
    """US dollars for ``usage`` on ``model`` (``provider:model``), or None if unknown."""
    if not model or usage is None:
        return None
    provider, _, name = model.partition(":")
    provider_id = _PROVIDER_IDS.get(provider)
    if provider_id is None or not name:
        return None
    try:
        from genai_prices import Usage as PricedUsage
        from genai_prices import calc_price
    except ImportError:  # the [cost] extra is not installed
        return None
    priced = PricedUsage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=usage.cached_tokens,
        cache_write_tokens=usage.cache_creation_tokens,
    )
    try:
        return float(calc_price(priced, model_ref=name, provider_id=provider_id).total_price)
    except LookupError:
        return None


def batch_price(model: str | None, usage: Usage | None) -> tuple[float | None, bool]:
    """US dollars for ``usage`` run in a provider's batch, and whether that is an estimate: the
    table's batch price where it has one, else half the live price (what every batch API charges)."""
    live = price(model, usage)
    if live is None or model is None or usage is None:
        return live, True
    from genai_prices import Usage as PricedUsage
    from genai_prices import calc_price

    provider, _, name = model.partition(":")
    priced = PricedUsage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=usage.cached_tokens,
        cache_write_tokens=usage.cache_creation_tokens,
    )
    batch = float(
        calc_price(
            priced, model_ref=name, provider_id=_PROVIDER_IDS[provider], price_context={"processing": "batch"}
        ).total_price
    )
    if batch < live:  # the table knows this model's batch price
        return batch, False
    return live / 2, True
