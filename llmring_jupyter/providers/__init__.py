"""The provider layer: one async streaming contract over OpenAI, Anthropic,
Google Gemini, Ollama and the offline demo model.

It knows nothing of Jupyter. ``chat_stream(request)`` is the whole interface::

    from llmring_jupyter.providers import Message, Request, chat_stream

    request = Request("demo", (Message("user", "Hello"),))
    async for chunk in chat_stream(request):
        print(chunk.delta, end="")

Its errors are imported with it (every layer raises them); its other names when first used
(see :mod:`.lazy`), so the errors alone bring no routing, lockfiles or adapters with them.
"""

from typing import TYPE_CHECKING

from .errors import (
    DEFAULT_IDLE_TIMEOUT,
    AuthenticationError,
    BatchError,
    ConfigurationError,
    LLMError,
    MissingKeyError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    RouteNotFoundError,
    StreamTimeoutError,
    UnknownModelError,
)
from .lazy import exports

if TYPE_CHECKING:
    from .routing import chat_stream, resolve
    from .types import (
        Message,
        ModelRef,
        Notice,
        Reasoning,
        Request,
        ResponseFormat,
        StreamChunk,
        Tool,
        ToolCall,
        Usage,
    )

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "AuthenticationError",
    "BatchError",
    "ConfigurationError",
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
__getattr__, __dir__ = exports(
    __name__,
    {
        ".routing": ("chat_stream", "resolve"),
        ".types": (
            "Message",
            "ModelRef",
            "Notice",
            "Reasoning",
            "Request",
            "ResponseFormat",
            "StreamChunk",
            "Tool",
            "ToolCall",
            "Usage",
        ),
    },
)
