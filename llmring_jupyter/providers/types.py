"""The plain data that flows through the provider layer.

The names follow llmring (`Message`, `StreamChunk` with `delta`, `model`,
`finish_reason`, `usage`, `tool_calls`) so its users recognise them, but these
are small frozen dataclasses: nothing here imports an SDK or Jupyter.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

Role = Literal["system", "user", "assistant", "tool"]

#: How a provider stream ended, normalised across providers. ``incomplete``: the
#: body ended without the provider's end marker (the SDKs end silently; we say so).
StreamFinish = Literal["stop", "length", "tool_calls", "content_filter", "incomplete"]
STREAM_FINISHES: tuple[StreamFinish, ...] = get_args(StreamFinish)

#: How an answer ended: a stream's finish, or what the consumer adds (the user
#: stopped it, or it failed).
FinishReason = StreamFinish | Literal["cancelled", "error"]


@dataclass(frozen=True)
class Tool:
    """A function a model may call: its name, what it does, and its parameters as JSON Schema.

    Provider-neutral; each adapter turns it into its native shape (OpenAI's function
    spec, Anthropic's ``input_schema``, Gemini's function declaration, Ollama's tools).
    """

    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of an object, every $ref inlined


@dataclass(frozen=True)
class ToolCall:
    """One tool call, assembled from its streamed pieces.

    In a chunk without ``finish_reason`` it is a *piece* of the call at ``index``:
    ``id`` and ``name`` where the model first sent them (else empty), ``arguments``
    the JSON text that just arrived. The final chunk carries the whole calls.
    """

    id: str
    name: str
    arguments: str  # JSON text, exactly as the model produced it
    index: int = 0  # the call's position in its step; pieces of one call share it
    signature: str | None = None  # Gemini's thoughtSignature: sent back with the call, as Gemini asks

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "arguments": self.arguments}
        if self.signature:
            out["signature"] = self.signature
        return out


@dataclass(frozen=True)
class Attachment:
    """An image or a document sent beside a message's text; each adapter maps it to its wire shape."""

    kind: Literal["image", "document"]
    media_type: str  # image/png, image/jpeg, application/pdf, ...
    data: bytes = field(repr=False)
    name: str | None = None  # what the user called it: a variable or a file name
    width: int | None = None  # pixels, for images
    height: int | None = None

    @property
    def digest(self) -> str:
        """The SHA-256 of the bytes: how exports store an image once however often it is sent."""
        return hashlib.sha256(self.data).hexdigest()

    def describe(self) -> str:
        """A few words for people and models: "a 3×2 PNG", "a PDF of 12 KB"."""
        fmt = self.media_type.split("/")[-1].upper()
        if self.width and self.height:
            return f"a {self.width}×{self.height} {fmt}"
        return f"a {fmt} of {max(1, round(len(self.data) / 1024)):,} KB"


@dataclass(frozen=True)
class Message:
    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    attachments: tuple[Attachment, ...] = ()  # images and documents, after the text
    name: str | None = None  # a tool result's function name (Gemini's functionResponse needs it)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.tool_call_id:
            out["tool_call_id"] = self.tool_call_id
        if self.name:
            out["name"] = self.name
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        calls = tuple(
            ToolCall(c["id"], c["name"], c.get("arguments") or "{}", n, c.get("signature"))
            for n, c in enumerate(data.get("tool_calls") or ())
        )
        return cls(data["role"], data.get("content") or "", calls, data.get("tool_call_id"), name=data.get("name"))


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int | None = None  # prompt tokens read from the provider's cache
    cache_creation_tokens: int | None = None  # prompt tokens written to it (Anthropic)
    estimated: bool = False  # the provider sent no counts: ours, from the text (see tokens.py)

    @classmethod
    def of(cls, prompt: int | None, completion: int | None, **extra: Any) -> Usage:
        """Build a usage whose total is the sum, as every provider means it."""
        p, c = prompt or 0, completion or 0
        return cls(p, c, p + c, **extra)

    @classmethod
    def coerce(cls, value: Usage | dict[str, Any] | None) -> Usage | None:
        """Accept llmring-style usage dicts from user-supplied backends."""
        if value is None or isinstance(value, Usage):
            return value
        p = int(value.get("prompt_tokens") or 0)
        c = int(value.get("completion_tokens") or 0)
        return cls(
            p,
            c,
            int(value.get("total_tokens") or p + c),
            value.get("cached_tokens"),
            value.get("cache_creation_tokens"),
            bool(value.get("estimated")),
        )

    def to_dict(self) -> dict[str, int | bool]:
        return {k: v for k, v in asdict(self).items() if v is not None and v is not False}


@dataclass(frozen=True)
class StreamChunk:
    """A piece of a streamed answer.

    Text chunks carry only ``delta``. Exactly one final chunk carries
    ``finish_reason``, ``usage`` and the ``model`` the provider served. A chunk
    with ``usage`` alone is what the provider counted before the end (Anthropic's
    input count, in its first event): the final chunk's usage supersedes it, and a
    stream that fails before its end keeps it.
    """

    delta: str = ""
    model: str | None = None
    finish_reason: StreamFinish | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] | None = None


@dataclass(frozen=True)
class ResponseFormat:
    """The answer must be JSON: an instance of ``schema``, or any JSON object when it is None.

    ``schema`` is plain JSON Schema with its refs inlined and an object at its root
    (every provider's structured mode accepts that); each adapter maps it to its
    native parameter.
    """

    name: str  # what the user called it (``Paper``, ``list[Paper]``), for messages
    schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Request:
    """What to ask: the model name (alias or ``provider:model``) and messages."""

    model: str
    messages: tuple[Message, ...]
    temperature: float | None = None
    max_tokens: int | None = None
    tools: tuple[Tool, ...] = ()
    response_format: ResponseFormat | None = None
    options: dict[str, Any] = field(default_factory=dict)  # passed through to the SDK call

    def parameters(self) -> dict[str, Any]:
        """The sampling parameters that were set, for provenance records."""
        out: dict[str, Any] = {}
        if self.temperature is not None:
            out["temperature"] = self.temperature
        if self.max_tokens is not None:
            out["max_tokens"] = self.max_tokens
        if self.response_format is not None:  # the type's name: which schema the answer was asked to fit
            out["response_format"] = self.response_format.name
        return out | self.options


@dataclass(frozen=True)
class ModelRef:
    """A concrete ``provider:model`` that a name resolved to."""

    provider: str
    model: str

    @classmethod
    def parse(cls, name: str) -> ModelRef:
        provider, _, model = name.partition(":")  # first colon: ollama:llama3.2:3b
        return cls(provider.strip().lower(), model.strip())

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}" if self.model else self.provider
