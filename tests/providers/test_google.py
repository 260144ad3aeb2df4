"""Gemini's API version: google-genai's own setting is respected, and a server that serves
another version gets an error that says the route, not the model, was not found."""

from __future__ import annotations

import pytest
from providers.dialects import load
from providers.streams import collect, text
from wire_server import Reply, WireServer

from llmring_jupyter.providers import Message, ModelNotFoundError, Request, RouteNotFoundError

GOOGLE = load("google")
REQUEST = Request(f"google:{GOOGLE.model}", (Message("user", "Hi"),))


@pytest.fixture(autouse=True)
def server(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {**GOOGLE.key_env, **GOOGLE.base_url_env(wire.url)}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("GOOGLE_GENAI_API_VERSION", raising=False)


@pytest.mark.parametrize(("setting", "version"), [(None, "v1"), ("v1beta", "v1beta"), ("beta", "v1beta")])
async def test_the_sdk_api_version_setting_picks_the_route(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, setting: str | None, version: str
) -> None:
    if setting:
        monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", setting)
    wire.queue(GOOGLE.answer(["Hi"]))
    chunks, error = await collect(REQUEST)
    assert error is None and text(chunks) == "Hi"
    assert wire.last().path.startswith(f"/{version}/models/{GOOGLE.model}:streamGenerateContent")


async def test_a_route_404_says_the_route_and_the_setting(wire: WireServer) -> None:
    wire.queue(Reply(404, {}, ["404 page not found"], "text/plain"))
    _chunks, error = await collect(REQUEST)
    assert isinstance(error, RouteNotFoundError), error
    message = str(error)
    assert f"/v1/models/{GOOGLE.model}:streamGenerateContent" in message
    assert "GOOGLE_GENAI_API_VERSION" in message and "v1beta" in message and "has no model" not in message


async def test_a_missing_model_is_still_a_missing_model(wire: WireServer) -> None:
    wire.queue(GOOGLE.http_error(404, f"models/{GOOGLE.model} is not found for API version v1"))
    _chunks, error = await collect(REQUEST)
    assert isinstance(error, ModelNotFoundError) and "Check the model name" in str(error), error
