"""OpenAI, streamed through the official ``openai`` SDK: the Responses API, or Chat Completions.

OpenAI's models are asked through the Responses API (:mod:`.openai_responses`): it streams
their reasoning summaries and takes their reasoning items back. Compatible servers mostly
offer only Chat Completions (:mod:`.openai_chat`): a 404 for ``/responses`` (the route, not
the model) switches to it once, remembered for the base URL while the kernel lives, and the
answer says so in a :class:`~.types.Notice`. ``-o wire=responses|chat`` picks one instead.

Reasoning summaries are refused (400) to organisations OpenAI has not verified: the request
is made once more without them, that is remembered for the base URL and key, and each answer
says why it shows no thinking.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncGenerator, Callable
from typing import Any

import openai

from . import keys, openai_chat, openai_responses, thinking
from ._common import ClientCache, error_message, mid_answer, split_options, status_error, track_response, unreachable
from .adapter import Answer, Piece, WireAdapter
from .errors import ConfigurationError, LLMError
from .images import ImageLimits
from .inputs import Inputs
from .lockfile import WIRES
from .types import Notice, Request

DEFAULT_BASE_URL = "https://api.openai.com/v1"

#: Base URLs whose server has no Responses API → whether an answer has said so yet
_chat_only: dict[str, bool] = {}
#: (base URL, key) whose organisation is refused reasoning summaries → the provider's words
_no_summaries: dict[tuple[str, str | None], str] = {}


def _client(key: str | None, base_url: str | None) -> openai.AsyncOpenAI:
    # No retries: an error must reach the user now, not after a silent second attempt.
    return openai.AsyncOpenAI(
        api_key=key,
        base_url=base_url,
        max_retries=0,
        timeout=openai.Timeout(600.0, connect=10.0),
        http_client=openai.DefaultAsyncHttpxClient(event_hooks={"response": [track_response]}),  # rate-limit headers
    )


_clients: ClientCache[openai.AsyncOpenAI] = ClientCache(_client)


#: Images past 2048 px (or 768 px on the short side) are shrunk by the API anyway; PDFs as file parts.
INPUTS = Inputs(
    images=ImageLimits(max_side=2048, max_pixels=2048 * 768, max_bytes=20 * 2**20),
    documents=True,
    text_only=re.compile(r"(gpt-3\.5|o1-mini|o3-mini|gpt-4(-0314|-0613)?$|davinci|babbage)"),
    vision_example="openai:gpt-4o-mini",
)


def _wire(options: dict[str, Any]) -> str | None:
    """The ``wire`` option, taken out of what goes to the SDK."""
    wire = options.pop("wire", None)
    if wire is not None and wire not in WIRES:
        raise ConfigurationError(f"The wire option takes responses or chat, not {wire!r}.")
    return str(wire) if wire else None


def _no_route(exc: openai.NotFoundError, model: str) -> bool:
    """A 404 for the route itself (a server without it), not for the model."""
    return exc.code != "model_not_found" and model not in error_message(exc.body, exc.message)


def _summaries_refused(exc: openai.BadRequestError) -> bool:
    return exc.param == "reasoning.summary" or "reasoning summar" in exc.message.lower()


def body(model: str, request: Request) -> dict[str, Any]:
    """The Chat Completions call's arguments for ``request``, unstreamed: a live answer adds the
    streaming ones, a batch row sends them as they are (unknown options under ``extra_body``)."""
    options = dict(request.options)
    _wire(options)
    level = thinking.openai(model, request.think) if request.think else None  # a level it cannot take: not sent
    kwargs = split_options(openai.resources.chat.AsyncCompletions.create, options)
    return {"model": model, **kwargs, **openai_chat.params(model, request, level)}


class OpenAIProvider(WireAdapter):
    name = "openai"
    inputs = INPUTS

    def address(self) -> str:
        return os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL

    def client(self, key: keys.Key | None) -> openai.AsyncOpenAI:
        """The SDK client for ``key`` at the base URL set now: a live answer's, and a batch's."""
        return _clients.get(key.value if key else None, os.environ.get("OPENAI_BASE_URL") or None)

    async def answer(
        self, model: str, request: Request, key: keys.Key | None, answer: Answer
    ) -> AsyncGenerator[Piece, None]:
        client = self.client(key)
        base, options = self.address(), dict(request.options)
        wire = _wire(options)
        level = thinking.openai(model, request.think) if request.think else None  # a level it cannot take: not sent
        read: Callable[[Any, Answer], AsyncGenerator[Piece, None]] = openai_responses.read
        if wire == "chat" or (wire is None and base in _chat_only):
            stream, read = await self._chat(client, model, request), openai_chat.read
        else:
            try:
                stream = await self._responses(client, model, request, options, level, key, answer)
            except openai.NotFoundError as exc:
                if wire or not _no_route(exc, model):
                    raise
                _chat_only.setdefault(base, False)
                try:
                    stream, read = await self._chat(client, model, request), openai_chat.read
                except openai.NotFoundError as again:
                    if _no_route(again, model):  # no chat route either: a wrong base URL, nothing to remember
                        _chat_only.pop(base, None)
                    raise
        telling = _chat_only.get(base) is False and read is openai_chat.read
        if telling:
            answer.notices.append(
                Notice("wire", f"{base} has no Responses API (HTTP 404): Chat Completions is used for it from now on.")
            )
        answer.started = True
        async with stream:  # closes the HTTP response on cancel, aclose or error
            async for piece in read(stream, answer):
                yield piece
        if telling:
            _chat_only[base] = True  # said once, on an answer that arrived

    async def _chat(self, client: openai.AsyncOpenAI, model: str, request: Request) -> Any:
        stream_options = {"include_usage": True}
        return await client.chat.completions.create(**body(model, request), stream=True, stream_options=stream_options)

    async def _responses(
        self,
        client: openai.AsyncOpenAI,
        model: str,
        request: Request,
        options: dict[str, Any],
        level: str | None,
        key: keys.Key | None,
        answer: Answer,
    ) -> Any:
        create = client.responses.create
        refused = (self.address(), key.value if key else None)
        wanted = request.show_thinking and thinking.openai_reasons(model)
        summary = wanted and refused not in _no_summaries
        kwargs = split_options(create, options) | openai_responses.params(model, request, level, summary)
        try:
            stream = await create(model=model, stream=True, **kwargs)
        except openai.BadRequestError as exc:
            if not summary or not _summaries_refused(exc):
                raise
            _no_summaries[refused] = error_message(exc.body, exc.message).split(". ")[0].rstrip(".")
            kwargs = split_options(create, options) | openai_responses.params(model, request, level, False)
            stream = await create(model=model, stream=True, **kwargs)
        if wanted and refused in _no_summaries:
            why = f"No thinking is shown: OpenAI refused reasoning summaries ({_no_summaries[refused]})."
            answer.notices.append(Notice("thinking", why))
        return stream

    def error(self, exc: Exception, model: str, answer: Answer) -> LLMError | None:
        if isinstance(exc, openai.APIStatusError):
            return status_error(self.name, exc, model=model, key_variable=answer.key_variable)
        if isinstance(exc, openai.APIConnectionError):
            return unreachable(self.name, self.address(), exc, started=answer.started)
        if isinstance(exc, openai.APIError):  # an error event inside a 200 stream
            return mid_answer(self.name, answer.model, error_message(exc.body, exc.message))
        return None
