"""Which adapter serves which provider, imported only when first used.

Importing the four SDKs costs seconds, so ``%load_ext`` must not: an adapter
module (and its SDK) is imported the first time a request names its provider.
A new provider is an adapter module, an entry here and, if it needs a key, its
variables in :data:`.keys.PROVIDER_KEYS`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from .errors import UnknownModelError

if TYPE_CHECKING:
    from .adapter import Adapter


class Entry(NamedTuple):
    adapter: str  # "module:Class"
    example: str  # a model to name in messages: "write openai:MODEL, e.g. openai:gpt-4o-mini"


_ADAPTERS: dict[str, Entry] = {
    "demo": Entry("llmring_jupyter.providers.demo:DemoProvider", "chat"),
    "openai": Entry("llmring_jupyter.providers.openai:OpenAIProvider", "gpt-4o-mini"),
    "anthropic": Entry("llmring_jupyter.providers.anthropic:AnthropicProvider", "claude-haiku-4-5"),
    "google": Entry("llmring_jupyter.providers.google:GoogleProvider", "gemini-2.5-flash"),
    "ollama": Entry("llmring_jupyter.providers.ollama:OllamaProvider", "llama3.2"),
}
_ALIASES = {"gemini": "google"}
_instances: dict[str, Adapter] = {}


def providers() -> tuple[str, ...]:
    return tuple(_ADAPTERS)


def example(provider: str) -> str:
    entry = _ADAPTERS.get(canonical(provider))
    return entry.example if entry else "MODEL"


def canonical(provider: str) -> str:
    return _ALIASES.get(provider, provider)


def preload(names: Callable[[], Iterable[str]]) -> threading.Thread:
    """Import the adapters (and SDKs) of the providers ``names()`` returns, in the background.

    So the first answer does not wait seconds for an SDK import, while loading the
    extension stays instant: ``names`` (which may read the lockfile) runs in the thread
    too. An import the thread has not finished is waited for by the request that needs it.
    """

    def run() -> None:
        try:
            wanted = {canonical(n) for n in names()}
        except Exception:  # noqa: BLE001 - a bad name or lockfile fails the cell that uses it, not this
            return
        for provider in sorted(wanted & set(_ADAPTERS) - {"demo"}):
            try:
                importlib.import_module(_ADAPTERS[provider].adapter.partition(":")[0])
            except Exception:  # noqa: BLE001 - a missing SDK is reported by the request that needs it
                continue

    thread = threading.Thread(target=run, name="llmring-preload", daemon=True)
    thread.start()
    return thread


def get(provider: str) -> Adapter:
    provider = canonical(provider)
    if provider not in _instances:
        entry = _ADAPTERS.get(provider)
        if entry is None:
            raise UnknownModelError(f"No provider {provider!r}: use one of {', '.join(_ADAPTERS)} as provider:model.")
        module, _, cls = entry.adapter.partition(":")
        try:
            _instances[provider] = getattr(importlib.import_module(module), cls)()
        except ModuleNotFoundError as exc:
            raise UnknownModelError(
                f"The {provider} provider needs the {exc.name!r} package: pip install 'llmring-jupyter[{provider}]'."
            ) from None
    return _instances[provider]
