"""Each provider's real streaming wire format, as scripts for the wire server.

A dialect knows how one provider's API answers on the wire (its SSE events or
NDJSON lines, its error bodies) and how to read back what its SDK sent. The
contract tests in ``tests/providers/test_contract.py`` run every scenario
against every dialect, through the real SDK, so all adapters are held to one
standard.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Protocol

from wire_server import Reply, Seen

from llmring_jupyter.providers import registry
from llmring_jupyter.providers.keys import PROVIDER_KEYS

Tokens = tuple[int, int]  # (prompt, completion)
Part = tuple[str, str, bytes]  # (image | document, media type, bytes) of an image or a document sent
Call = tuple[str, str, list[str]]  # (id, name, the JSON arguments in the pieces they stream in)
#: What went back to the provider about tools, read from its own shape:
#: ("call", name, arguments as an object, signature or None) and ("result", name or id, content)
Exchanged = tuple[Any, ...]


class Dialect(Protocol):
    provider: str  # "openai": the provider part of provider:model
    model: str  # the model name a test requests
    key_env: dict[str, str]  # environment that holds a (sentinel) key; {} when none is needed
    call_ids: bool  # the wire names each tool call with an id (else the adapter invents one)
    caches: bool  # the wire reports prompt tokens read from the provider's cache

    def base_url_env(self, url: str) -> dict[str, str]:
        """Environment that points the SDK at the wire server at ``url``."""

    def answer(
        self, parts: list[str], *, finish: str = "stop", served: str = "", usage: Tokens = (11, 7), cached: int = 0
    ) -> Reply:
        """A complete streamed answer. ``finish`` is our normalised name: stop, length or
        content_filter; the dialect sends the provider's own word for it. ``served`` is the
        model name the provider reports (defaults to ``self.model``). ``usage`` is (prompt,
        completion) as we count them: ``cached`` of the prompt tokens came from the cache,
        in the provider's own way of saying so."""

    def tool_call(self, name: str, argument_parts: list[str], call_id: str) -> Reply:
        """A streamed tool call whose JSON arguments arrive in ``argument_parts`` pieces."""

    def tool_calls(self, calls: list[Call], text: list[str] | None = None) -> Reply:
        """A step that streams ``text``, then ``calls`` (parallel), the provider's way: the
        arguments in pieces where its wire streams them (OpenAI, Anthropic), else each call whole."""

    def sent_tools(self, seen: Seen) -> list[tuple[str, str, dict[str, Any]]]:
        """The tools the SDK declared, read from the provider's shape: (name, description, JSON Schema)."""

    def sent_exchange(self, seen: Seen) -> list[Exchanged]:
        """The earlier calls and results the SDK sent, in order, read from the provider's own shape."""

    def in_stream_error(self, parts: list[str], message: str) -> Reply:
        """Some text, then the provider's in-stream error event carrying ``message``."""

    def without_end_marker(self, parts: list[str]) -> Reply:
        """Some text, then the body ends cleanly without the provider's end marker."""

    def malformed(self, parts: list[str]) -> Reply:
        """Some text, then a line that is not valid for the format."""

    def http_error(self, status: int, message: str, retry_after: float | None = None) -> Reply:
        """An error response before any streaming, in the provider's error body shape."""

    def sent_parts(self, seen: Seen) -> list[Part]:
        """The images and documents the SDK sent, in order: (image|document, media type, bytes)."""

    def sent_messages(self, seen: Seen) -> list[tuple[str, str]]:
        """The (role, text) pairs the SDK sent, system prompt first, in our role names."""

    def sent_options(self, seen: Seen) -> dict[str, Any]:
        """``temperature`` and ``max_tokens`` as sent, under our names (absent when not sent)."""

    def sent_format(self, seen: Seen) -> dict[str, Any]:
        """The structured-output parameters the SDK sent, under their wire names ({} when none)."""

    def json_request(self, name: str, schema: dict[str, Any] | None) -> dict[str, Any]:
        """What :meth:`sent_format` must find when JSON of ``schema`` (None: any object) named
        ``name`` is asked for in the provider's native structured mode."""


#: Every provider that talks HTTP: each must have a dialect module of its name.
NAMES = tuple(p for p in registry.providers() if p != "demo")


def key_env(provider: str, key: str) -> dict[str, str]:
    """The environment that holds ``key`` where the adapter reads it first ({} if it needs none)."""
    variables = PROVIDER_KEYS.get(provider)
    return {variables[0]: key} if variables else {}


def load(name: str) -> Dialect:
    dialect: Dialect = import_module(f"providers.dialects.{name}").DIALECT
    return dialect
