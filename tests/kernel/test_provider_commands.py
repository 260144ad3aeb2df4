"""``%llm models`` and ``%llm key`` in a real kernel, answered as a frontend answers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from kernel_providers import one_line_error, set_env, value
from kernel_session import Kernel

SENTINEL = "sk-wire-test-SENTINEL-0123456789"
LOCK = """\
version = "1.0"
default_profile = "default"

[[profiles.default.bindings]]
alias = "chatbot"
models = ["anthropic:claude-3-5-haiku-20241022", "openai:gpt-4o-mini"]

[[profiles.dev.bindings]]
alias = "local"
models = ["ollama:llama3.2:3b"]
"""


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """A kernel whose working directory holds an ``llmring.lock``."""
    cwd = tmp_path_factory.mktemp("project")
    (cwd / "llmring.lock").write_text(LOCK)
    k = Kernel(cwd=cwd)
    assert k.run("%load_ext llmring_jupyter").ok
    yield k
    k.close()


@pytest.fixture(autouse=True)
def _only_openai_key(kernel: Kernel) -> None:
    set_env(kernel, {"OPENAI_API_KEY": SENTINEL})


def test_models_lists_aliases_profile_and_key_status(kernel: Kernel) -> None:
    run = kernel.run("%llm models")
    assert run.ok, run.error
    out = run.stdout
    assert "llmring.lock (profile default)" in out
    assert "chatbot" in out and "anthropic:claude-3-5-haiku-20241022 → openai:gpt-4o-mini" in out
    assert "local" not in out, "only the active profile's aliases"
    lines = {line.split()[0]: line for line in out.splitlines()[out.splitlines().index("Providers:") + 1 :]}
    assert "key set (OPENAI_API_KEY)" in lines["openai"]
    assert "no key" in lines["anthropic"] and "ANTHROPIC_API_KEY" in lines["anthropic"]
    assert "GEMINI_API_KEY" in lines["google"]
    assert "no key needed" in lines["ollama"]
    assert SENTINEL not in json.dumps(run.messages, default=str), "a key's value is never shown"


def test_models_follows_llmring_profile(kernel: Kernel) -> None:
    set_env(kernel, {"LLMRING_PROFILE": "dev"})
    run = kernel.run("%llm models")
    assert run.ok, run.error
    assert "(profile dev)" in run.stdout and "local" in run.stdout and "chatbot" not in run.stdout


def test_key_asks_with_a_hidden_prompt_and_keeps_it_for_the_session(kernel: Kernel) -> None:
    secret = "sk-typed-by-the-user-9876543210fedcba"
    run, requests = kernel.run_answering("%llm key openai", lambda _msg: secret)
    assert run.ok, run.error
    (request,) = requests
    assert request["content"]["password"] is True, "the key must not echo on screen"
    assert "OPENAI_API_KEY" in request["content"]["prompt"]
    # compare inside the kernel without the key ever appearing in a cell's source
    assert value(kernel, f"os.environ['OPENAI_API_KEY'] == {secret[::-1]!r}[::-1]") is True
    models = kernel.run("%llm models")
    history = value(kernel, f"any({secret[::-1]!r}[::-1] in cell for cell in In)")
    shown = json.dumps([m["content"] for m in run.messages + models.messages], default=str)
    assert secret not in shown and history is False


def test_empty_key_changes_nothing(kernel: Kernel) -> None:
    run, _ = kernel.run_answering("%llm key openai", lambda _msg: "  ")
    assert "No key entered" in one_line_error(run)
    assert value(kernel, f"os.environ['OPENAI_API_KEY'] == {SENTINEL!r}") is True


@pytest.mark.parametrize("line", ["%llm key nosuch", "%llm key", "%llm key openai anthropic"])
def test_key_with_a_bad_provider_is_a_usage_line(kernel: Kernel, line: str) -> None:
    error = one_line_error(kernel.run(line))
    assert error.startswith("UsageError: Usage: %llm key PROVIDER")
    assert "openai, anthropic, google" in error
