"""A user's own ``chat_stream`` backend serving ``%%llm`` in a real kernel.

The backend is what a user would write in a notebook (llmring-shaped chunks:
attributes ``delta``, ``model``, ``finish_reason``, a usage dict), installed
with ``llmring_jupyter.use_backend``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kernel_providers import footer, one_line_error, reads_well, set_env, value
from kernel_session import Kernel
from providers.dialects import Dialect, load
from wire_server import WireServer

BACKEND = '''
import asyncio
from types import SimpleNamespace as Chunk
import llmring_jupyter

class HouseBackend:
    """Routes every name to the house model; records what it was asked."""
    def __init__(self, fail=False):
        self.requests, self.fail = [], fail

    async def chat_stream(self, request):
        self.requests.append(request)
        for word in ("Answer ", "from ", "the house"):
            await asyncio.sleep(0.001)
            yield Chunk(delta=word, model=None, finish_reason=None, usage=None, tool_calls=None)
        if self.fail:
            raise ConnectionResetError("house gateway went away")
        yield Chunk(delta="", model="house:model-7", finish_reason="stop",
                    usage={"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
                    tool_calls=None)
'''


def test_backend_answers_and_its_model_and_usage_show_in_the_footer(kernel: Kernel) -> None:
    set_env(kernel, {})  # no keys, no lockfile: only the backend can answer
    assert kernel.run(BACKEND + "house = HouseBackend()\nllmring_jupyter.use_backend(house)").ok
    run = kernel.run("%%llm team-alias\nWhat is on the menu?")
    assert run.ok, run.error
    assert run.final["data"]["text/plain"].startswith("Answer from the house\n\n— ")
    assert footer(run).startswith("house:model-7 · stop · 12 in · 3 out · 15 tokens")
    record = run.final["metadata"]["llmring"]
    assert record["requested"] == "team-alias" and record["model"] == "house:model-7"
    assert value(kernel, "house.requests[-1].model, house.requests[-1].messages[-1].content") == (
        "team-alias",
        "What is on the menu?",
    )


def test_backend_failure_keeps_the_text_and_is_one_line(kernel: Kernel) -> None:
    assert kernel.run(BACKEND + "llmring_jupyter.use_backend(HouseBackend(fail=True))").ok
    run = kernel.run("%%llm team-alias\nAnd dessert?")
    error = one_line_error(run)
    assert error == ("ProviderError: The backend HouseBackend failed: ConnectionResetError: house gateway went away")
    assert value(kernel, "_llm.text, _llm.finish_reason") == ("Answer from the house", "error")


def test_use_backend_none_restores_the_built_in_providers(kernel: Kernel) -> None:
    assert kernel.run(BACKEND + "llmring_jupyter.use_backend(HouseBackend())").ok
    assert kernel.run("llmring_jupyter.use_backend(None)").ok
    run = kernel.run("%%llm demo:echo\nstraight from the demo")
    assert run.ok, run.error
    assert value(kernel, "_llm.text, _llm.model") == ("straight from the demo", "demo:echo")


LLMRING = """
import llmring_jupyter
from llmring import LLMRing
llmring_jupyter.use_backend(LLMRing(registry_url={registry!r}))
"""

LOOKUP = '''
looked_up = []
def stock(item: str) -> str:
    """How many of an item are in stock."""
    looked_up.append(item)
    return f"12 {item}"
'''


@pytest.fixture
def llmring_backend(kernel: Kernel, wire: WireServer, tmp_path: Path) -> Iterator[Dialect]:
    """llmring's own ``LLMRing`` as the backend, its OpenAI provider at the wire server
    (its registry a local folder: nothing leaves 127.0.0.1)."""
    pytest.importorskip("llmring")
    d = load("openai_chat")  # llmring's OpenAI provider speaks chat completions
    set_env(kernel, {**d.key_env, **d.base_url_env(wire.url)})
    assert kernel.run(LLMRING.format(registry=(tmp_path / "registry").as_uri()) + LOOKUP).ok
    yield d
    assert kernel.run("llmring_jupyter.use_backend(None)").ok


def test_llmring_backend_calls_the_tools_and_answers_with_their_result(
    kernel: Kernel, llmring_backend: Dialect, wire: WireServer
) -> None:
    d = llmring_backend
    wire.queue(d.tool_call("stock", ['{"item": ', '"pears"}'], "call_p1"), d.answer(["12 pears are left."]))
    run = kernel.run(f"%%llm {d.provider}:{d.model} --tools stock\nHow many pears are left?")
    assert run.ok, run.error
    assert value(kernel, "looked_up, _llm.text") == (["pears"], "12 pears are left.")
    first, second = wire.seen
    assert [name for name, _, _ in d.sent_tools(first)] == ["stock"]
    assert d.sent_exchange(second) == [("call", "stock", {"item": "pears"}, None), ("result", "call_p1", "12 pears")]


def test_llmring_rate_limit_is_our_one_line_saying_when_to_retry(
    kernel: Kernel, llmring_backend: Dialect, wire: WireServer
) -> None:
    limited = llmring_backend.http_error(429, "Rate limit reached for requests", retry_after=30)
    limited.headers["x-should-retry"] = "false"  # the SDK inside llmring leaves it to us
    wire.queue(limited)
    error = one_line_error(kernel.run("%%llm openai:gpt-4o-mini\nHello?"))
    assert error.startswith("RateLimitError: ") and "retry after 30 s" in error, error
    reads_well(error)
    assert len(wire.seen) == 1, "a wait longer than we sit through is said, not waited for"


def test_llmring_rejected_key_names_the_variable_and_is_not_retried(
    kernel: Kernel, llmring_backend: Dialect, wire: WireServer
) -> None:
    refused = llmring_backend.http_error(401, "Incorrect API key provided")
    refused.headers["x-should-retry"] = "false"
    wire.queue(refused)
    error = one_line_error(kernel.run("%%llm openai:gpt-4o-mini\nHello?"))
    assert error.startswith("AuthenticationError: ") and "OPENAI_API_KEY" in error, error
    reads_well(error)
    assert len(wire.seen) == 1


def test_llmring_server_error_is_retried_by_us(kernel: Kernel, llmring_backend: Dialect, wire: WireServer) -> None:
    failed = llmring_backend.http_error(500, "The server had an error")
    failed.headers["x-should-retry"] = "false"
    wire.queue(failed, llmring_backend.answer(["Fine, thanks."]))
    run = kernel.run("%%llm openai:gpt-4o-mini\nHello?")
    assert run.ok, run.error
    assert value(kernel, "_llm.text") == "Fine, thanks."
    assert len(wire.seen) == 2
