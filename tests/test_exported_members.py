"""The public surface, pinned: what ``llmring_jupyter`` and ``llmring_jupyter.providers`` export.

A name added or removed here is a change of the public API: say so in the README.
"""

from __future__ import annotations

import llmring_jupyter
from llmring_jupyter import providers

PUBLIC = [
    "AnswerMismatch",
    "AuthenticationError",
    "BatchError",
    "BatchMapResult",
    "BudgetError",
    "ConfigurationError",
    "Interrupted",
    "LLMError",
    "LLMMagics",
    "MCPServerError",
    "MapResult",
    "MissingKeyError",
    "ModelNotFoundError",
    "PendingResult",
    "ProviderError",
    "ProviderUnavailableError",
    "RateLimitError",
    "Result",
    "RouteNotFoundError",
    "SchemaError",
    "StepLimitError",
    "StreamTimeoutError",
    "Timings",
    "UnknownModelError",
    "UnsupportedInputError",
    "UnsupportedThinkingError",
    "UsageError",
    "chat",
    "chat_sync",
    "load_ipython_extension",
    "map",
    "unload_ipython_extension",
    "use_backend",
]
PROVIDERS = [
    "AuthenticationError",
    "BatchError",
    "ConfigurationError",
    "DEFAULT_IDLE_TIMEOUT",
    "LLMError",
    "Message",
    "MissingKeyError",
    "ModelNotFoundError",
    "ModelRef",
    "Notice",
    "ProviderError",
    "ProviderUnavailableError",
    "RateLimitError",
    "Reasoning",
    "Request",
    "ResponseFormat",
    "RouteNotFoundError",
    "StreamChunk",
    "StreamTimeoutError",
    "Tool",
    "ToolCall",
    "UnknownModelError",
    "Usage",
    "chat_stream",
    "resolve",
]


def test_the_package_exports_exactly_its_public_names() -> None:
    assert sorted(llmring_jupyter.__all__) == PUBLIC
    assert all(hasattr(llmring_jupyter, name) for name in PUBLIC)


def test_the_provider_layer_exports_exactly_its_public_names() -> None:
    assert sorted(providers.__all__) == PROVIDERS
    assert all(hasattr(providers, name) for name in PROVIDERS)


def test_every_error_class_is_exported_from_the_package() -> None:
    from llmring_jupyter import exceptions

    errors = {
        n
        for n in dir(exceptions)
        if isinstance(getattr(exceptions, n), type) and issubclass(getattr(exceptions, n), exceptions.LLMError)
    }
    assert errors <= set(llmring_jupyter.__all__)
    assert errors == set(exceptions.__all__)
