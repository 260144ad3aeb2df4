"""Error lines: one sentence or two, no doubled punctuation, and the notebook's next step
added by the magic layer (the provider layer names no magic)."""

from __future__ import annotations

import pytest

from llmring_jupyter.exceptions import advise, one_line
from llmring_jupyter.providers._common import http_error
from llmring_jupyter.providers.errors import (
    AuthenticationError,
    LLMError,
    MissingKeyError,
    ProviderError,
    StreamTimeoutError,
    sentences,
)


def test_sentences_end_once_and_skip_empty_parts() -> None:
    assert sentences("It failed.", "", "Check the key") == "It failed. Check the key."
    assert sentences("Why?", "Retry;") == "Why? Retry."


@pytest.mark.parametrize("status", [401, 404, 429, 500])
def test_http_errors_have_no_doubled_punctuation(status: int) -> None:
    error = http_error("openai", status, "Invalid credentials.", model="m", key_variable="OPENAI_API_KEY")
    assert ".." not in error.message and ".;" not in error.message and ".:" not in error.message
    assert "Invalid credentials" in error.message and error.message.endswith(".")


def test_provider_messages_name_no_magic_and_the_magic_layer_adds_it() -> None:
    missing = MissingKeyError("openai", ("OPENAI_API_KEY",))
    refused = http_error("anthropic", 401, "invalid x-api-key", model="m", key_variable="ANTHROPIC_API_KEY")
    silent = StreamTimeoutError("openai:gpt-4o-mini sent nothing for 2 s, so the stream was closed; try again.")
    for error in (missing, refused, silent):
        assert "%" not in error.message, error.message
    assert advise(missing).message == (
        "No API key for openai: set OPENAI_API_KEY in the environment. "
        "Or run `%llm key openai` to enter it for this session only."
    )
    assert isinstance(refused, AuthenticationError) and "`%llm key anthropic`" in advise(refused).message
    assert "%config LLMMagics.idle_timeout" in advise(silent).message
    advise(missing)
    assert advise(missing).message.count("%llm key") == 1, "advised once, however often it is raised"


def test_errors_without_a_notebook_step_are_unchanged() -> None:
    ollama = AuthenticationError("Ollama refused the request (HTTP 401).", provider="ollama")
    other = ProviderError("openai returned HTTP 500.", provider="openai")
    assert advise(ollama).message == "Ollama refused the request (HTTP 401)."
    assert advise(other).message == "openai returned HTTP 500."


def test_one_line_rendering_is_the_type_and_message() -> None:
    assert one_line(LLMError("Something\n  went   wrong.")) == ["\x1b[31mLLMError\x1b[0m: Something went wrong."]
