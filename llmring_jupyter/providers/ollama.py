"""Ollama on the ``ollama`` SDK's ``AsyncClient`` (``/api/chat``, NDJSON lines).

Why it is built this way:

- ``await client.chat(..., stream=True)`` returns the stream: llmring forgot the
  ``await`` and every stream failed.
- The SDK's stream holds its HTTP response in ``async with``, so closing it inside
  ``contextlib.aclosing`` hangs up at once; an httpx event hook also records the
  response, to read ``retry-after`` (the SDK's ``ResponseError`` drops headers).
- Its stream path lets raw httpx and JSON errors through, and ends silently when the
  body ends without ``"done": true``; both are turned into what the user can act on.
- No key: a local Ollama needs none (the SDK itself sends ``OLLAMA_API_KEY`` if set).
- Which models see images is asked of the server (``/api/show`` capabilities), not
  guessed from names: custom and new vision models work, and a text model is refused
  an image it would ignore silently. Which think, likewise, when ``--think`` is set
  (:mod:`.thinking` maps the level to ``think``).
- Thinking streams in ``message.thinking`` beside ``message.content``: one block per run
  of it. It goes back as the assistant message's ``thinking``; Ollama reports no count of it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncGenerator
from typing import Any

import ollama
import pydantic

from . import keys, thinking
from ._common import (
    ClientCache,
    function_spec,
    http_error,
    is_connect_failure,
    is_transport_error,
    malformed,
    mid_answer,
    track_response,
    unreachable,
)
from .adapter import Answer, Piece, WireAdapter
from .errors import (
    AuthenticationError,
    LLMError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    sentences,
)
from .images import ImageLimits
from .inputs import Inputs, refusal, without_tool_images
from .types import Message, ModelRef, Request, StreamFinish, Usage

DEFAULT_HOST = "http://127.0.0.1:11434"
_TOP_LEVEL = ("think", "format", "keep_alive")  # chat() arguments, not model ``options``
_FINISH: dict[str, StreamFinish] = {"stop": "stop", "length": "length"}

try:  # the SDK's own normalisation ("localhost" -> "http://localhost:11434"), for messages
    from ollama._client import _parse_host
except ImportError:  # pragma: no cover - a future SDK without it

    def _parse_host(host: str | None) -> str:
        return host or DEFAULT_HOST


def _new_client(_key: str | None, host: str | None) -> ollama.AsyncClient:
    return ollama.AsyncClient(host, event_hooks={"response": [track_response]})


_clients: ClientCache[ollama.AsyncClient] = ClientCache(_new_client)


#: No model takes PDFs; which take images the server says (:func:`_capabilities`).
INPUTS = Inputs(
    images=ImageLimits(max_side=1568, max_pixels=1568 * 1568, max_bytes=5 * 2**20),
    vision_example="ollama:llama3.2-vision",
)

#: What each model can do ("vision", "tools", "thinking", ...), by host and model, as its server
#: said; None where the server is too old to say. Asked once: a model's abilities do not change.
_ABILITIES: dict[tuple[str, str], frozenset[str] | None] = {}


async def _capabilities(client: ollama.AsyncClient, host: str, model: str) -> frozenset[str] | None:
    """What ``model`` can do, from the server's ``/api/show``, asked once per host and model."""
    if (host, model) not in _ABILITIES:
        shown = await client.show(model)
        _ABILITIES[host, model] = None if shown.capabilities is None else frozenset(shown.capabilities)
    return _ABILITIES[host, model]


def _messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Ollama takes our roles as they are; tool results name their tool, calls carry objects."""
    names = {c.id: c.name for m in messages for c in m.tool_calls}
    out: list[dict[str, Any]] = []
    for m in messages:
        message: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.reasoning:
            message["thinking"] = "".join(r.text for r in m.reasoning)
        if m.tool_calls:
            message["tool_calls"] = [
                {"function": {"name": c.name, "arguments": json.loads(c.arguments or "{}")}} for c in m.tool_calls
            ]
        if m.attachments:
            message["images"] = [a.data for a in m.attachments]  # the SDK sends them base64-encoded
        if m.role == "tool" and (m.name or m.tool_call_id):
            message["tool_name"] = m.name or names.get(m.tool_call_id or "", m.tool_call_id)
        out.append(message)
    return out


def _response_error(exc: ollama.ResponseError, model: str, host: str, answer: Answer) -> ProviderError:
    status, message = exc.status_code, str(exc.error).strip()
    if status < 0 or answer.started:  # an {"error": ...} line inside a 200 stream
        return mid_answer("ollama", answer.model, message)
    if status in (401, 403):
        return AuthenticationError(
            sentences(
                f"Ollama at {host} refused the request (HTTP {status}): {message}",
                "For cloud models run `ollama signin`, or set OLLAMA_API_KEY to a valid key",
            ),
            provider="ollama",
            status=status,
        )
    if status == 404 and model in message:  # else the route is missing (http_error says so)
        return ModelNotFoundError(
            sentences(f"Ollama at {host} has no model {model!r} (HTTP 404): {message}", f"Run `ollama pull {model}`"),
            provider="ollama",
            status=status,
        )
    headers = answer.opened[-1].headers if answer.opened else None
    return http_error("ollama", status, message, model=model, headers=headers)


class OllamaProvider(WireAdapter):
    name = "ollama"
    inputs = INPUTS

    def address(self) -> str:
        return str(_parse_host(os.environ.get("OLLAMA_HOST", "").strip() or DEFAULT_HOST))

    async def answer(
        self, model: str, request: Request, key: keys.Key | None, answer: Answer
    ) -> AsyncGenerator[Piece, None]:
        client = _clients.get(None, self.address())
        images = [a for m in request.messages for a in m.attachments if a.kind == "image"]
        if images:  # a text model would ignore them silently: refused unless the server says it sees
            abilities = await _capabilities(client, self.address(), model)
            if abilities is not None and "vision" not in abilities:
                request = without_tool_images(request)  # a tool's text says they came; the answer goes on
                asked = [a for m in request.messages for a in m.attachments if a.kind == "image"]
                if asked:
                    raise refusal(INPUTS, ModelRef(self.name, model), asked[0])
        options = {k: v for k, v in request.options.items() if k not in _TOP_LEVEL}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        extra = {k: request.options[k] for k in _TOP_LEVEL if k in request.options}
        if request.response_format is not None:  # structured output: the schema itself, or any JSON
            extra.setdefault("format", request.response_format.schema or "json")
        if request.think is not None and "think" not in extra:
            thinks = None
            if not model.startswith("gpt-oss"):  # its levels are known; others: does the server say it thinks?
                abilities = await _capabilities(client, self.address(), model)
                thinks = None if abilities is None else "thinking" in abilities
            extra["think"] = thinking.ollama(model, request.think, thinks)
        n_calls = blocks = 0  # the calls and thinking blocks so far
        thought: int | None = None  # the thinking block being streamed, while thinking follows thinking
        sdk_stream = await client.chat(
            model=model,
            messages=_messages(request.messages),
            stream=True,
            tools=[function_spec(t) for t in request.tools] or None,
            options=options or None,
            **extra,
        )
        async with contextlib.aclosing(sdk_stream):
            while not answer.ended:
                try:
                    part = await answer.next(sdk_stream)
                except StopAsyncIteration:
                    break
                answer.started = True
                if part.message.thinking:
                    if thought is None:
                        thought, blocks = blocks, blocks + 1
                    yield answer.thinking.add(thought, text=part.message.thinking)
                if part.message.content or part.message.tool_calls:
                    thought = None
                if part.message.content:
                    yield part.message.content
                for call in part.message.tool_calls or ():  # whole: Ollama does not split them
                    arguments = json.dumps(dict(call.function.arguments or {}))
                    yield answer.calls.add(n_calls, name=call.function.name, arguments=arguments)
                    n_calls += 1
                if part.done:
                    answer.ended, answer.model = True, part.model or model
                    answer.finish = _FINISH.get(part.done_reason or "stop", "stop")
                    answer.usage = Usage.of(part.prompt_eval_count, part.eval_count)

    def error(self, exc: Exception, model: str, answer: Answer) -> LLMError | None:
        host = self.address()
        if isinstance(exc, ollama.ResponseError):
            return _response_error(exc, model, host, answer)
        if isinstance(exc, json.JSONDecodeError | pydantic.ValidationError):
            return malformed(self.name, exc)
        connection = is_transport_error(exc) or isinstance(exc, ConnectionError)
        if connection and not answer.started and is_connect_failure(exc):
            return ProviderUnavailableError(
                f"Ollama is not reachable at {host}: start it with `ollama serve` "
                f"or set OLLAMA_HOST ({exc or type(exc).__name__}).",
                provider="ollama",
            )
        if connection:
            return unreachable(self.name, host, exc, started=answer.started)
        return None
