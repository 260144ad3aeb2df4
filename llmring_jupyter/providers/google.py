"""Google Gemini on the ``google-genai`` SDK, through its native async client.

Why it is built this way:

- ``client.aio`` streams on the event loop itself. llmring crossed a thread and a
  100-slot queue, and lost chunks whenever the loop was busy.
- Retries and automatic continuation are off: one HTTP request per call, so an
  error reaches the user at once and fallback stays in :mod:`.routing`'s hands.
- The SDK's stream is several nested generators that close their HTTP response
  only when garbage-collected; the responses it opens are recorded (an httpx2
  event hook) and closed here the moment the stream stops, so Google stops
  generating (and billing) at once.
- The SDK ends silently when the body ends without a ``finishReason``; that is
  reported as ``incomplete``.
- Thinking: parts with ``thought=True`` (summaries, asked for with ``include_thoughts``)
  become thinking blocks, one per run of them, each with its ``thought_signature``; a call's
  signature stays on the call; a text part's (on Gemini 3 the last, on a chunk with empty
  text) becomes a block of its own and goes back on an empty text part after the text.
  How ``--think`` is asked: :mod:`.thinking`.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import re
from collections.abc import AsyncGenerator
from typing import Any

import httpx2
import pydantic
from google import genai
from google.genai import errors, types

from . import keys, thinking
from ._common import ClientCache, http_error, malformed, mid_answer, track_response
from .adapter import Answer, Piece, WireAdapter
from .errors import AuthenticationError, ConfigurationError, LLMError, ProviderError, sentences
from .images import ImageLimits
from .inputs import Inputs
from .types import Message, Reasoning, Request, StreamFinish, ToolCall, Usage

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API_VERSION_VARIABLE = "GOOGLE_GENAI_API_VERSION"  # google-genai's own: "v1" unless set
_FINISH: dict[str, StreamFinish] = {"STOP": "stop", "MAX_TOKENS": "length"}
_FILTERED = ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED", "SPII", "MODEL_ARMOR")


def _new_client(key: str | None, base_url: str | None, api_version: str | None) -> genai.Client:
    http_args: dict[str, Any] = {"event_hooks": {"response": [track_response]}}
    if importlib.util.find_spec("aiohttp"):
        # With aiohttp installed the SDK would stream through it instead: no event hook,
        # and its own hidden retry on connection errors. A transport keeps it on httpx2.
        http_args["transport"] = httpx2.AsyncHTTPTransport()
    options = types.HttpOptions(
        base_url=base_url,
        api_version=api_version,  # None: the SDK's own default, or its GOOGLE_GENAI_API_VERSION
        async_client_args=http_args,
        retry_options=types.HttpRetryOptions(attempts=1),  # also disables the implicit retry
    )
    return genai.Client(api_key=key, vertexai=False, http_options=options)


_clients: ClientCache[genai.Client] = ClientCache(_new_client)


def _as_object(text: str) -> dict[str, Any]:
    """A tool result as the object Gemini's functionResponse wants."""
    with contextlib.suppress(ValueError):
        value = json.loads(text)
        if isinstance(value, dict):
            return value
    return {"result": text}


#: Images and PDFs travel as inline data (20 MB a request); Gemini scales images past 3072 px.
INPUTS = Inputs(
    images=ImageLimits(max_side=3072, max_pixels=3072 * 3072, max_bytes=7 * 2**20),
    documents=True,
    text_only=re.compile(r"gemini-(1\.0-pro|pro$)"),
    vision_example="google:gemini-2.0-flash",
)


def _contents(messages: tuple[Message, ...]) -> tuple[str | None, list[dict[str, Any]]]:
    """(system instruction, contents): Gemini has no system role and calls the assistant "model".

    A call goes back with its ``thought_signature``, as Gemini requires of thinking models;
    the results of one step's calls go back together, in one content.
    """
    names = {c.id: c.name for m in messages for c in m.tool_calls}
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            system.append(m.content)
        elif m.role == "tool":
            name = m.name or names.get(m.tool_call_id or "", m.tool_call_id or "tool")
            response: dict[str, Any] = {"name": name, "response": _as_object(m.content)}
            if m.attachments:  # a tool's images, as parts of its response
                response["parts"] = [
                    {"inline_data": {"mime_type": a.media_type, "data": a.data}} for a in m.attachments
                ]
            part = {"function_response": response}
            last = contents[-1] if contents else None
            if last and last["role"] == "user" and all("function_response" in p for p in last["parts"]):
                last["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
        else:
            parts = _thought_parts(m.reasoning, m.content)
            parts += [_call_part(c) for c in m.tool_calls]
            parts += [{"inline_data": {"mime_type": a.media_type, "data": a.data}} for a in m.attachments]
            contents.append({"role": "model" if m.role == "assistant" else "user", "parts": parts})
    return ("\n\n".join(system) or None), contents


def _thought_parts(reasoning: tuple[Reasoning, ...], text: str) -> list[dict[str, Any]]:
    """The thoughts with their signatures, then the text, then each signature that came without
    thought text (a text part's) on an empty text part: as Gemini 3 sends its last one."""
    thoughts = [{"text": r.text, "thought": True} | _signed(r.signature) for r in reasoning if r.text]
    signed = [{"text": ""} | _signed(r.signature) for r in reasoning if r.signature and not r.text]
    return thoughts + ([{"text": text}] if text else []) + signed


def _signed(signature: str | None) -> dict[str, Any]:
    return {"thought_signature": base64.b64decode(signature)} if signature else {}


def _signature(part: types.Part) -> str | None:
    """A part's ``thought_signature`` (bytes in the SDK) as text, for our types."""
    return base64.b64encode(part.thought_signature).decode() if part.thought_signature else None


def _call_part(call: ToolCall) -> dict[str, Any]:
    return {"function_call": {"name": call.name, "args": json.loads(call.arguments or "{}")}} | _signed(call.signature)


def _config(model: str, request: Request, system: str | None) -> types.GenerateContentConfig:
    config: dict[str, Any] = {
        "automatic_continuation": False,  # a continuation is another request, behind our back
        "automatic_function_calling": {"disable": True},  # tool calls go back to the caller
    }
    if system:
        config["system_instruction"] = system
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.max_tokens is not None:
        config["max_output_tokens"] = request.max_tokens
    if request.response_format is not None:  # structured output: JSON, of the schema when there is one
        config["response_mime_type"] = "application/json"
        if request.response_format.schema is not None:
            config["response_json_schema"] = request.response_format.schema
    if (shown := thinking.gemini(model, request.think, request.show_thinking, request.max_tokens)) is not None:
        config["thinking_config"] = shown
    if request.tools:  # the schema as JSON Schema, not Gemini's OpenAPI subset
        declarations = [
            {"name": t.name, "parameters_json_schema": t.parameters}
            | ({"description": t.description} if t.description else {})
            for t in request.tools
        ]
        config["tools"] = [{"function_declarations": declarations}]
    try:
        return types.GenerateContentConfig(**(config | request.options))
    except pydantic.ValidationError as exc:
        bad = ", ".join(str(e["loc"][0]) for e in exc.errors() if e.get("loc"))
        raise ConfigurationError(
            f"Gemini does not accept the option(s) {bad}: see google.genai.types.GenerateContentConfig."
        ) from None


def body(model: str, request: Request) -> tuple[list[dict[str, Any]], types.GenerateContentConfig]:
    """The contents and configuration of ``request``: a live answer streams them, a batch row holds them."""
    system, contents = _contents(request.messages)
    return contents, _config(model, request, system)


def finish_of(reason: Any) -> StreamFinish:
    """Our finish reason for Gemini's (a live chunk's, and a batch row's)."""
    name = str(getattr(reason, "value", reason)).upper()
    if name in _FINISH:
        return _FINISH[name]
    return "content_filter" if any(word in name for word in _FILTERED) else "stop"


def usage_of(meta: types.GenerateContentResponseUsageMetadata | None) -> Usage | None:
    """The usage Gemini counted (a live chunk's, and a batch row's); None before the answer's count."""
    if meta is None or meta.candidates_token_count is None:  # a prompt count alone is no answer's count
        return None
    completion = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
    return Usage.of(
        _prompt(meta),
        completion,  # thoughts included: billed as output, as every adapter counts them
        cached_tokens=meta.cached_content_token_count,
        reasoning_tokens=meta.thoughts_token_count,
    )


def _input_count(meta: types.GenerateContentResponseUsageMetadata | None) -> Usage | None:
    """The input count every chunk carries, the output not yet counted: passed on with the
    first chunk, so an answer cut before its last keeps it."""
    if meta is None or meta.prompt_token_count is None:
        return None
    return Usage.of(_prompt(meta), None, cached_tokens=meta.cached_content_token_count, estimated=True)


def _prompt(meta: types.GenerateContentResponseUsageMetadata) -> int:
    return (meta.prompt_token_count or 0) + (meta.tool_use_prompt_token_count or 0)


def _retry_delay(body: Any) -> str | None:
    """Seconds from google.rpc.RetryInfo ``retryDelay`` ("7s") in an error body, if any."""
    error = body.get("error", body) if isinstance(body, dict) else {}
    for detail in error.get("details") or () if isinstance(error, dict) else ():
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            return delay[:-1]
    return None


def _api_error(exc: errors.APIError, model: str, answer: Answer) -> ProviderError:
    status, message = int(exc.code or 0), (exc.message or exc.status or "").strip()
    if answer.started:
        return mid_answer("google", answer.model, f"{message} ({status} {exc.status})")
    if status == 400 and ("API_KEY_INVALID" in str(exc.details) or "API key not valid" in message):
        return AuthenticationError(
            sentences(f"google rejected the API key in {answer.key_variable} (HTTP 400): {message}", "Check the key"),
            provider="google",
            status=status,
            key_variable=answer.key_variable,
        )
    raw = getattr(exc.response, "headers", None) or {}
    headers = {str(k).lower(): str(v) for k, v in dict(raw).items()}
    if "retry-after" not in headers and (delay := _retry_delay(exc.details)):
        headers["retry-after"] = delay
    request = getattr(exc.response, "request", None)
    return http_error(
        "google",
        status,
        message,
        model=model,
        key_variable=answer.key_variable,
        headers=headers,
        url=str(request.url) if request is not None else None,
        route_hint=f"Check the base URL, or the API version the server serves: set {API_VERSION_VARIABLE} "
        f"(now {_api_version() or 'the SDK default, v1'}; e.g. v1beta)",
    )


class GoogleProvider(WireAdapter):
    name = "google"
    inputs = INPUTS

    def address(self) -> str:
        return _base_url() or DEFAULT_BASE_URL

    def client(self, key: keys.Key | None) -> genai.Client:
        """The SDK client for ``key`` at the base URL and API version set now: a live answer's, and a batch's."""
        return _clients.get(key.value if key else None, _base_url(), _api_version())

    async def answer(
        self, model: str, request: Request, key: keys.Key | None, answer: Answer
    ) -> AsyncGenerator[Piece, None]:
        contents, config = body(model, request)
        client = self.client(key)
        n_calls = blocks = 0  # the calls and thinking blocks so far
        thought: int | None = None  # the thinking block being streamed, while thought parts follow each other
        counted: Usage | None = None  # the input count, once passed on
        sdk_stream = await client.aio.models.generate_content_stream(model=model, contents=contents, config=config)
        async with contextlib.aclosing(sdk_stream):
            while True:
                try:
                    chunk = await answer.next(sdk_stream)
                except StopAsyncIteration:
                    break
                answer.started = True
                answer.model = chunk.model_version or answer.model
                answer.usage = usage_of(chunk.usage_metadata) or answer.usage
                if not counted and (counted := _input_count(chunk.usage_metadata)) is not None:
                    yield counted
                if chunk.prompt_feedback and chunk.prompt_feedback.block_reason:
                    answer.finish, answer.ended = "content_filter", True  # the prompt was blocked: no candidates
                candidate = chunk.candidates[0] if chunk.candidates else None
                if candidate is None:
                    continue
                for part in (candidate.content.parts or []) if candidate.content else []:
                    if part.thought:
                        if thought is None:
                            thought, blocks = blocks, blocks + 1
                        yield answer.thinking.add(thought, text=part.text or "", signature=_signature(part))
                        continue
                    thought = None
                    if part.function_call:
                        call = part.function_call  # whole: Gemini does not stream args
                        arguments = json.dumps(call.args or {})
                        yield answer.calls.add(
                            n_calls, id=call.id, name=call.name, arguments=arguments, signature=_signature(part)
                        )
                        n_calls += 1
                        continue
                    if part.text:
                        yield part.text
                    if part.thought_signature:  # a text part's: on Gemini 3 the last comes alone, with empty text
                        yield answer.thinking.add(blocks, signature=_signature(part))
                        blocks += 1
                if candidate.finish_reason:
                    answer.finish, answer.ended = finish_of(candidate.finish_reason), True

    def error(self, exc: Exception, model: str, answer: Answer) -> LLMError | None:
        if isinstance(exc, errors.APIError):
            return _api_error(exc, model, answer)
        if isinstance(exc, errors.UnknownApiResponseError | pydantic.ValidationError):
            return malformed(self.name, exc)
        return None


def _base_url() -> str | None:
    return os.environ.get("GOOGLE_GEMINI_BASE_URL", "").strip() or None


def _api_version() -> str | None:
    """The SDK's own setting, read here too so a change in the session makes a new client."""
    version = os.environ.get(API_VERSION_VARIABLE, "").strip()
    return "v1beta" if version == "beta" else version or None  # "beta" as the SDK reads it
