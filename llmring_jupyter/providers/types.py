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


#: How hard a reasoning model thinks: one knob, mapped to each provider's own parameter.
ThinkLevel = Literal["off", "low", "medium", "high", "max"]
THINK_LEVELS: tuple[ThinkLevel, ...] = get_args(ThinkLevel)


@dataclass(frozen=True)
class Reasoning:
    """One block of a model's thinking: what it showed, and what must go back exactly as received.

    Providers bill thinking and several require it back in the next request of a tool
    loop: Anthropic's ``thinking`` blocks with their ``signature`` and its
    ``redacted_thinking`` blocks (``redacted``), Gemini's thought signatures, OpenAI's
    reasoning items (``id`` and ``encrypted`` content, since nothing is stored on
    OpenAI's side). In a chunk without ``finish_reason`` it is a *piece* of block
    ``index`` (``text`` the words that just arrived); the final chunk carries whole blocks.
    """

    text: str = ""  # the thinking (or its summary) as shown to the user
    index: int = 0  # the block's position in its step; pieces of one block share it
    signature: str | None = None  # Anthropic's block signature, or Gemini's thoughtSignature
    redacted: str | None = None  # Anthropic's redacted_thinking data: opaque, sent back unchanged
    encrypted: str | None = None  # OpenAI's reasoning.encrypted_content
    id: str | None = None  # OpenAI's reasoning item id

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "") and k != "index"}

    @classmethod
    def from_dict(cls, data: dict[str, Any], index: int = 0) -> Reasoning:
        return cls(
            data.get("text") or "",
            index,
            data.get("signature"),
            data.get("redacted"),
            data.get("encrypted"),
            data.get("id"),
        )


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
    reasoning: tuple[Reasoning, ...] = ()  # an assistant turn's thinking, in order, to send back as received

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.reasoning:
            out["reasoning"] = [r.to_dict() for r in self.reasoning]
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
        reasoning = tuple(Reasoning.from_dict(r, n) for n, r in enumerate(data.get("reasoning") or ()))
        return cls(
            data["role"],
            data.get("content") or "",
            calls,
            data.get("tool_call_id"),
            name=data.get("name"),
            reasoning=reasoning,
        )


@dataclass(frozen=True)
class Usage:
    """What the provider counted. ``completion_tokens`` includes the thinking (billed as output by
    every provider), of which ``reasoning_tokens`` says how much where the provider tells."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int | None = None  # prompt tokens read from the provider's cache
    cache_creation_tokens: int | None = None  # prompt tokens written to it (Anthropic)
    reasoning_tokens: int | None = None  # of completion_tokens, those spent thinking; None: not said
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
            value.get("reasoning_tokens"),
            bool(value.get("estimated")),
        )

    def to_dict(self) -> dict[str, int | bool]:
        return {k: v for k, v in asdict(self).items() if v is not None and v is not False}


@dataclass(frozen=True)
class Notice:
    """Something the provider layer decided for an answer that the user should be able to read.

    ``kind`` says what it is about: ``wire`` (which API served it, e.g. OpenAI's Chat
    Completions for a server without the Responses API), ``thinking`` (why no thinking is
    shown although it was asked for). ``text`` is one sentence, for a footer's details.
    """

    kind: Literal["wire", "thinking"]
    text: str


@dataclass(frozen=True)
class StreamChunk:
    """A piece of a streamed answer.

    Text chunks carry only ``delta``; thinking chunks only ``reasoning`` (pieces, see
    :class:`Reasoning`). Exactly one final chunk carries ``finish_reason``, ``usage``,
    the ``model`` the provider served, and the whole ``reasoning`` blocks. A chunk
    with ``usage`` alone is what the provider counted before the end (Anthropic's
    input count, in its first event): the final chunk's usage supersedes it, and a
    stream that fails before its end keeps it.
    """

    delta: str = ""
    model: str | None = None
    finish_reason: StreamFinish | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] | None = None
    reasoning: tuple[Reasoning, ...] | None = None
    notices: tuple[Notice, ...] | None = None


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
    think: ThinkLevel | None = None  # None: the model's default effort (its thinking still shown)
    show_thinking: bool = True  # ask for the thinking text or summaries where the provider offers them

    def parameters(self) -> dict[str, Any]:
        """The sampling parameters that were set, for provenance records."""
        out: dict[str, Any] = {}
        if self.temperature is not None:
            out["temperature"] = self.temperature
        if self.max_tokens is not None:
            out["max_tokens"] = self.max_tokens
        if self.response_format is not None:  # the type's name: which schema the answer was asked to fit
            out["response_format"] = self.response_format.name
        if self.think is not None:
            out["think"] = self.think
        return out | self.options


@dataclass(frozen=True)
class ModelRef:
    """A concrete ``provider:model`` that a name resolved to, with the options its binding sets."""

    provider: str
    model: str
    options: tuple[tuple[str, str], ...] = ()  # from the lockfile (wire = ...); a cell's -o wins

    @classmethod
    def parse(cls, name: str) -> ModelRef:
        provider, _, model = name.partition(":")  # first colon: ollama:llama3.2:3b
        return cls(provider.strip().lower(), model.strip())

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}" if self.model else self.provider
