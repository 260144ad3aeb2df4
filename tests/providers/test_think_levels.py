"""``--think``: each level as each provider's own parameter on the wire, through its real SDK.

A level the model cannot take is refused before anything is sent, in one line naming the
levels it takes; unset sends no level, but still asks to see the thinking where the
provider hides it otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest
from providers.dialects import load
from providers.streams import collect
from wire_server import WireServer

from llmring_jupyter import UnsupportedThinkingError
from llmring_jupyter.providers import Message, Request, ResponseFormat

ABSENT = "absent"
POINT = ResponseFormat("Point", {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]})
ANY_OBJECT = ResponseFormat("a JSON object")


def _sent(provider: str, wire: WireServer, monkeypatch: pytest.MonkeyPatch, request: Request) -> Any:
    d = load(provider)
    for k, v in {**d.key_env, **d.base_url_env(wire.url)}.items():
        monkeypatch.setenv(k, v)
    wire.queue(d.answer(["Hi."]))
    return collect(request)


def _request(model: str, think: Any, **kw: Any) -> Request:
    return Request(model, (Message("user", "Hi"),), think=think, **kw)


ANTHROPIC = [
    # budget models: a budget, and room for it beside the default 4096 answer tokens
    ("claude-haiku-4-5", None, True, {}, (ABSENT, ABSENT, 4096)),
    ("claude-haiku-4-5", "off", True, {}, ({"type": "disabled"}, ABSENT, 4096)),
    ("claude-haiku-4-5", "low", True, {}, ({"type": "enabled", "budget_tokens": 2048}, ABSENT, 6144)),
    ("claude-sonnet-4-5", "medium", True, {}, ({"type": "enabled", "budget_tokens": 8192}, ABSENT, 12288)),
    ("claude-3-7-sonnet-latest", "high", True, {}, ({"type": "enabled", "budget_tokens": 16384}, ABSENT, 20480)),
    ("claude-sonnet-4-0", "max", True, {}, ({"type": "enabled", "budget_tokens": 32000}, ABSENT, 36096)),
    ("claude-opus-4-1", "max", True, {}, ({"type": "enabled", "budget_tokens": 27904}, ABSENT, 32000)),
    (
        "claude-haiku-4-5",
        "high",
        True,
        {"max_tokens": 20000},
        ({"type": "enabled", "budget_tokens": 16384}, ABSENT, 20000),
    ),
    # adaptive models: an effort
    ("claude-opus-4-6", None, True, {}, (ABSENT, ABSENT, 4096)),
    ("claude-opus-4-6", "off", True, {}, ({"type": "disabled"}, ABSENT, 4096)),
    ("claude-opus-4-6", "low", True, {}, ({"type": "adaptive"}, {"effort": "low"}, 6144)),
    ("claude-opus-4-6", "max", True, {}, ({"type": "adaptive"}, {"effort": "max"}, 36096)),
    ("claude-sonnet-4-6", "high", True, {}, ({"type": "adaptive"}, {"effort": "high"}, 20480)),
    # adaptive only, its thinking hidden unless asked to be summarised
    ("claude-opus-4-7", None, True, {}, ({"type": "adaptive", "display": "summarized"}, ABSENT, 4096)),
    ("claude-opus-4-7", None, False, {}, (ABSENT, ABSENT, 4096)),
    (
        "claude-opus-4-7",
        "medium",
        True,
        {},
        ({"type": "adaptive", "display": "summarized"}, {"effort": "medium"}, 12288),
    ),
    ("claude-opus-4-7", "high", False, {"max_tokens": 900}, ({"type": "adaptive"}, {"effort": "high"}, 900)),
    # any JSON object is a forced tool call, which Anthropic refuses with thinking: not asked to show it
    ("claude-opus-4-7", None, True, {"response_format": ANY_OBJECT}, (ABSENT, ABSENT, 4096)),
    ("claude-sonnet-4-0", "off", True, {"response_format": POINT}, ({"type": "disabled"}, ABSENT, 4096)),
]


@pytest.mark.parametrize(("model", "think", "show", "kw", "expected"), ANTHROPIC)
async def test_anthropic_levels_on_the_wire(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, model: str, think: Any, show: bool, kw: Any, expected: Any
) -> None:
    _chunks, error = await _sent(
        "anthropic", wire, monkeypatch, _request(f"anthropic:{model}", think, show_thinking=show, **kw)
    )
    assert error is None, error
    body = wire.last().json
    assert tuple(body.get(k, ABSENT) for k in ("thinking", "output_config", "max_tokens")) == expected


async def test_anthropic_effort_goes_beside_a_structured_output_format(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = _request("anthropic:claude-opus-4-6", "low", response_format=POINT)
    _chunks, error = await _sent("anthropic", wire, monkeypatch, request)
    assert error is None
    config = wire.last().json["output_config"]
    assert config["effort"] == "low" and config["format"]["type"] == "json_schema"


# google-genai writes the thinking config under its proto field names (the API reads either spelling)
GEMINI = [
    ("gemini-2.5-flash", None, True, {}, {"include_thoughts": True}),
    ("gemini-2.5-flash", None, False, {}, ABSENT),
    ("gemini-2.5-flash", "off", True, {}, {"thinking_budget": 0}),
    ("gemini-2.5-flash", "low", True, {}, {"thinking_budget": 2048, "include_thoughts": True}),
    ("gemini-2.5-flash", "max", False, {}, {"thinking_budget": 24576}),
    ("gemini-2.5-flash-lite", "medium", True, {}, {"thinking_budget": 8192, "include_thoughts": True}),
    ("gemini-2.5-pro", "max", True, {}, {"thinking_budget": 32768, "include_thoughts": True}),
    ("gemini-2.5-pro", "high", True, {"max_tokens": 20000}, {"thinking_budget": 16384, "include_thoughts": True}),
    ("gemini-3-flash-preview", "low", True, {}, {"thinking_level": "LOW", "include_thoughts": True}),
    ("gemini-3-flash-preview", "medium", True, {}, {"thinking_level": "MEDIUM", "include_thoughts": True}),
    ("gemini-3-pro-preview", "max", False, {}, {"thinking_level": "HIGH"}),
    ("gemini-3-pro-preview", None, True, {}, {"include_thoughts": True}),
    ("gemini-2.0-flash", None, True, {}, ABSENT),
]


@pytest.mark.parametrize(("model", "think", "show", "kw", "expected"), GEMINI)
async def test_gemini_levels_on_the_wire(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, model: str, think: Any, show: bool, kw: Any, expected: Any
) -> None:
    _chunks, error = await _sent(
        "google", wire, monkeypatch, _request(f"google:{model}", think, show_thinking=show, **kw)
    )
    assert error is None, error
    assert (wire.last().json.get("generationConfig") or {}).get("thinkingConfig", ABSENT) == expected


OLLAMA = [
    ("qwen3:8b", None, ABSENT),
    ("qwen3:8b", "off", False),
    ("qwen3:8b", "low", True),
    ("qwen3:8b", "max", True),
    ("gpt-oss:20b", "low", "low"),
    ("gpt-oss:20b", "medium", "medium"),
    ("gpt-oss:20b", "max", "high"),
]


@pytest.mark.parametrize(("model", "think", "expected"), OLLAMA)
async def test_ollama_levels_on_the_wire(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, model: str, think: Any, expected: Any
) -> None:
    _chunks, error = await _sent("ollama", wire, monkeypatch, _request(f"ollama:{model}", think))
    assert error is None, error
    assert wire.last().json.get("think", ABSENT) == expected


REFUSED = [
    ("anthropic:claude-3-5-haiku-latest", "low", {}, "takes no --think level (it does not think)"),
    ("anthropic:claude-3-5-haiku-latest", "off", {}, "takes no --think level (it does not think)"),
    ("anthropic:claude-opus-4-7", "off", {}, "takes --think low|medium|high|max (it always thinks)"),
    ("anthropic:claude-sonnet-4-6", "max", {}, "takes --think off|low|medium|high (its effort stops at high)"),
    ("anthropic:claude-haiku-4-5", "high", {"max_tokens": 8000}, "raise --max-tokens above 16384, or lower --think"),
    ("anthropic:claude-sonnet-4-0", "low", {"response_format": POINT}, "cannot think while it answers Point as a"),
    ("anthropic:claude-opus-4-6", "high", {"response_format": ANY_OBJECT}, "leave out --think, or ask a model with"),
    ("google:gemini-2.5-pro", "off", {}, "takes --think low|medium|high|max (it always thinks)"),
    ("google:gemini-3-flash-preview", "off", {}, "it always thinks"),
    ("google:gemini-3-pro-preview", "medium", {}, "takes --think low|high|max"),
    ("google:gemini-2.0-flash", "high", {}, "it does not think"),
    ("google:gemini-2.5-flash", "medium", {"max_tokens": 4000}, "raise --max-tokens above 8192"),
    ("ollama:gpt-oss:20b", "off", {}, "takes --think low|medium|high|max (it always thinks)"),
    ("ollama:llama3.2:3b", "low", {}, "takes no --think level (it does not think)"),
]


@pytest.mark.parametrize(("model", "think", "kw", "says"), REFUSED)
async def test_a_level_the_model_cannot_take_is_refused_before_sending(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, model: str, think: Any, kw: Any, says: str
) -> None:
    _chunks, error = await _sent(model.partition(":")[0], wire, monkeypatch, _request(model, think, **kw))
    assert isinstance(error, UnsupportedThinkingError), error
    assert says in str(error) and model in str(error) and "\n" not in str(error)
    assert wire.seen == [], "nothing was sent"
