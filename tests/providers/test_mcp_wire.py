"""An MCP server's tool on every provider: the model's call runs it, and its result goes back natively.

The official reference server mcp-server-time runs over stdio (started once for the module);
each provider's real SDK talks to its wire format on 127.0.0.1. The tool goes out under its
qualified, provider-safe name with the server's own description and input schema.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator

import pytest
from providers.dialects import Dialect
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
    server = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}
    running = Servers(lambda: config.servers_of({"time": server}, "test"))
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
