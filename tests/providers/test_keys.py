"""Keys: one order per provider, read alike by the adapters and the commands; never shown."""

from __future__ import annotations

import pytest
from providers.dialects import NAMES, load
from providers.streams import collect
from wire_server import WireServer

from llmring_jupyter.providers import Message, Request
from llmring_jupyter.providers.keys import KEY_VARIABLES, PROVIDER_KEYS, find, scrub


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in KEY_VARIABLES:
        monkeypatch.delenv(var, raising=False)


def test_google_reads_gemini_api_key_before_google_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # %llm key google writes the first variable: it must win over an older GOOGLE_API_KEY
    assert PROVIDER_KEYS["google"] == ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    monkeypatch.setenv("GOOGLE_API_KEY", "older-key-0000")
    assert find("google") == ("GOOGLE_API_KEY", "older-key-0000")
    monkeypatch.setenv("GEMINI_API_KEY", "  typed-key-1111 ")
    assert find("google") == ("GEMINI_API_KEY", "typed-key-1111")
    assert find("ollama") is None, "a provider without key variables needs no key"


@pytest.mark.parametrize("name", [n for n in NAMES if len(PROVIDER_KEYS.get(n, ())) > 1])
async def test_the_adapter_sends_the_key_of_the_first_variable(
    name: str, wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = load(name)
    for k, v in d.base_url_env(wire.url).items():
        monkeypatch.setenv(k, v)
    values = {var: f"key-from-{var}-{n}" for n, var in enumerate(PROVIDER_KEYS[name])}
    for var, value in values.items():
        monkeypatch.setenv(var, value)
    wire.queue(d.answer(["Hi"]))
    _chunks, error = await collect(Request(f"{name}:{d.model}", (Message("user", "Hi"),)))
    assert error is None
    sent = " ".join(wire.last().headers.values())
    first, *others = values.values()
    assert first in sent and not any(v in sent for v in others)


def test_scrub_removes_configured_keys_and_key_shaped_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "plain-secret-value")
    text = scrub(
        "echo: plain-secret-value; openai sk-proj-AbCdEf0123456789xyz; "
        "google AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY; fine: AIza short"
    )
    assert "<ANTHROPIC_API_KEY>" in text and "plain-secret-value" not in text
    assert "sk-proj" not in text and "AIzaSyD" not in text
    assert text.count("<redacted key>") == 2
    assert text.endswith("fine: AIza short"), "words that merely start like a key stay"


def test_scrub_knows_the_shapes_of_other_keys_and_bearer_tokens() -> None:
    text = scrub(
        "anthropic sk-ant-api03-AbCdEf0123456789; hf hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789; "
        "aws AKIAIOSFODNN7EXAMPLE; header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig1; "
        "docs: Bearer YOUR_API_KEY_GOES_HERE, a task-oriented sk-8 plan"
    )
    assert text.count("<redacted key>") == 4 and "sk-ant" not in text and "eyJ" not in text
    assert text.endswith("docs: Bearer YOUR_API_KEY_GOES_HERE, a task-oriented sk-8 plan"), "placeholders stay"
