"""Which adapter serves which provider, imported only when first used.

Importing the four SDKs costs seconds, so ``%load_ext`` must not: an adapter
module (and its SDK) is imported the first time a request names its provider.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from typing import Protocol

from .errors import UnknownModelError
from .types import Request, StreamChunk

_ADAPTERS: dict[str, str] = {
    "demo": "llmring_jupyter.providers.demo:DemoProvider",
    "openai": "llmring_jupyter.providers.openai:OpenAIProvider",
    "anthropic": "llmring_jupyter.providers.anthropic:AnthropicProvider",
    "google": "llmring_jupyter.providers.google:GoogleProvider",
    "ollama": "llmring_jupyter.providers.ollama:OllamaProvider",
}
_ALIASES = {"gemini": "google"}
_instances: dict[str, Adapter] = {}


class Adapter(Protocol):
    """What a provider adapter is: one async generator per request."""

    name: str

    def stream(self, model: str, request: Request) -> AsyncIterator[StreamChunk]: ...


def providers() -> tuple[str, ...]:
    return tuple(_ADAPTERS)


def canonical(provider: str) -> str:
    return _ALIASES.get(provider, provider)


def get(provider: str) -> Adapter:
    provider = canonical(provider)
    if provider not in _instances:
        target = _ADAPTERS.get(provider)
        if target is None:
            raise UnknownModelError(f"No provider {provider!r}: use one of {', '.join(_ADAPTERS)} as provider:model.")
        module, _, cls = target.partition(":")
        try:
            _instances[provider] = getattr(importlib.import_module(module), cls)()
        except ModuleNotFoundError as exc:
            raise UnknownModelError(
                f"The {provider} provider needs the {exc.name!r} package: pip install 'llmring-jupyter[{provider}]'."
            ) from None
    return _instances[provider]
