"""A user's own ``chat_stream`` backend serving ``%%llm`` in a real kernel.

The backend is what a user would write in a notebook (llmring-shaped chunks:
attributes ``delta``, ``model``, ``finish_reason``, a usage dict), installed
with ``llmring_jupyter.use_backend``.
"""

from __future__ import annotations

from kernel_providers import footer, one_line_error, set_env, value
from kernel_session import Kernel

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
