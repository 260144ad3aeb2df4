"""Consume a ``chat_stream`` the way a caller does, keeping what arrived before an error."""

from __future__ import annotations

from typing import Any

from llmring_jupyter.providers import LLMError, Request, StreamChunk, chat_stream


async def collect(request: Request, **kw: Any) -> tuple[list[StreamChunk], LLMError | None]:
    chunks: list[StreamChunk] = []
    try:
        async for chunk in chat_stream(request, **kw):
            chunks.append(chunk)
    except LLMError as exc:
        return chunks, exc
    return chunks, None


def text(chunks: list[StreamChunk]) -> str:
    return "".join(c.delta for c in chunks)
