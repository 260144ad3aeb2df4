"""An MCP server's tool on every provider: the model's call runs it, and its result goes back natively.

The official reference server mcp-server-time runs over stdio (started once for the module), and
a server made with the SDK (tests/mcp_server.py) for a tool that returns an image;
each provider's real SDK talks to its wire format on 127.0.0.1. The tool goes out under its
qualified, provider-safe name with the server's own description and input schema.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_server import PNG
from providers.dialects import Dialect, load
from recorder import Recorder, open_stream
from wire_server import WireServer

from llmring_jupyter.answer import agent
from llmring_jupyter.answer.mcp import config, tools
from llmring_jupyter.answer.mcp.servers import Servers
from llmring_jupyter.answer.tools import Toolbox
from llmring_jupyter.providers import Message, Request

BY_NAME = ("google", "ollama")  # results name their function; the others name the call's id
NAME = "time__get_current_time"


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    time = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}
    sdk = {"command": sys.executable, "args": [str(Path(__file__).parent.parent / "mcp_server.py"), "stdio"]}
    running = Servers(lambda: config.servers_of({"time": time, "sdk": sdk}, "test"))
    yield running
    running.close()


def test_a_call_of_an_mcp_tool_runs_it_and_the_result_goes_back(
    dialect: Dialect, wire: WireServer, servers: Servers
) -> None:
    d = dialect
    box = Toolbox.of(["mcp:time/get_current_time"], {}, lambda spec: tools.resolve(spec, servers))
    assert box.asking == {NAME}, "asked about by default"
    wire.queue(d.tool_calls([("call_1", NAME, ['{"timezone": ', '"Asia/Tokyo"}'])]), d.answer(["Evening."]))
    request = Request(f"{d.provider}:{d.model}", (Message("user", "Time in Tokyo?"),), tools=box.tools)
    result = asyncio.run(agent.run(request, open_stream, Recorder(None), box, approve=False))
    assert result.error is None and result.text == "Evening.", result.error
    (run,) = result.tool_calls
    assert run.status == "done", run.error
    assert json.loads(run.result)["timezone"] == "Asia/Tokyo" and "+09:00" in json.loads(run.result)["datetime"]
    ((name, description, schema),) = d.sent_tools(wire.seen[-2])
    assert (name, description) == (NAME, "Get current time in a specific timezone")
    assert schema["required"] == ["timezone"] and "IANA timezone" in schema["properties"]["timezone"]["description"]
    call, back = d.sent_exchange(wire.seen[-1])
    assert call[:3] == ("call", NAME, {"timezone": "Asia/Tokyo"})
    assert back[:2] == ("result", NAME if d.provider in BY_NAME else "call_1")
    sent = back[2] if isinstance(back[2], dict) else json.loads(back[2])  # Gemini's functionResponse is an object
    assert sent == json.loads(run.result), "the server's result, whole"


def test_an_image_a_tool_returns_goes_back_as_an_image(dialect: Dialect, wire: WireServer, servers: Servers) -> None:
    d = dialect
    box = Toolbox.of(["mcp:sdk/chart"], {}, lambda spec: tools.resolve(spec, servers))
    wire.queue(d.tool_calls([("call_1", "sdk__chart", ['{"title": "Sales"}'])]), d.answer(["A dot."]))
    model = "mistral-small3.1" if d.provider == "ollama" else d.model  # an Ollama model that sees (and calls tools)
    request = Request(f"{d.provider}:{model}", (Message("user", "Chart the sales"),), tools=box.tools)
    result = asyncio.run(agent.run(request, open_stream, Recorder(None), box, approve=False))
    assert result.error is None and result.tool_calls[0].status == "done", result.tool_calls[0].error
    assert result.tool_calls[0].result == f"[image image/png, {len(PNG)} bytes]", "the user sees that an image came"
    assert d.sent_parts(wire.seen[-1]) == [("image", "image/png", PNG)], "the model gets the image itself"
    assert d.sent_parts(wire.seen[-2]) == [], "nothing before the call"


def test_a_model_that_cannot_see_gets_the_text_alone(wire: WireServer, servers: Servers) -> None:
    """Ollama says per model whether it sees; a tool's image is then left out, not the answer."""
    d = load("ollama")
    with pytest.MonkeyPatch.context() as env:
        for k, v in {**d.key_env, **d.base_url_env(wire.url)}.items():
            env.setenv(k, v)
        box = Toolbox.of(["mcp:sdk/chart"], {}, lambda spec: tools.resolve(spec, servers))
        wire.queue(d.tool_calls([("call_1", "sdk__chart", ['{"title": "Sales"}'])]), d.answer(["No picture."]))
        request = Request(f"ollama:{d.model}", (Message("user", "Chart the sales"),), tools=box.tools)
        result = asyncio.run(agent.run(request, open_stream, Recorder(None), box, approve=False))
    assert result.error is None and result.text == "No picture.", result.error
    assert d.sent_parts(wire.seen[-1]) == []
    assert ("tool", f"[image image/png, {len(PNG)} bytes]") in d.sent_messages(wire.seen[-1])
