"""Starting MCP servers that fail: one line each, and a secret from the environment never in it."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from llmring_jupyter import MCPServerError, UsageError
from llmring_jupyter.answer.mcp import config, tools
from llmring_jupyter.answer.mcp.servers import Servers

SAYS_SECRET = "import sys; print('cannot log in with', sys.argv[1], file=sys.stderr); sys.exit(2)"
CONFIG = {
    "dies": {"command": sys.executable, "args": ["-c", SAYS_SECRET, "${MCP_SECRET}"]},
    "missing": {"command": "no-such-mcp-server-xyz"},
    "unset": {"command": sys.executable, "args": ["${MCP_NOT_SET}"]},
}


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    monkeypatch.setenv("MCP_SECRET", "hunter2-secret")
    monkeypatch.delenv("MCP_NOT_SET", raising=False)
    running = Servers(lambda: config.servers_of(CONFIG, ".mcp.json"))
    yield running
    running.close()


def test_a_server_that_exits_while_starting_says_why_with_its_secret_hidden(servers: Servers) -> None:
    with pytest.raises(MCPServerError) as failed:
        tools.resolve("mcp:dies", servers)
    message = failed.value.message
    assert "MCP server dies" in message and "exited while starting: cannot log in with ${MCP_SECRET}" in message
    assert "hunter2" not in message
    server = servers.known()["dies"]
    assert server is not None and server.state.startswith("failed: "), "%llm mcp shows it failed"


def test_a_missing_command_or_variable_is_one_line(servers: Servers) -> None:
    with pytest.raises(MCPServerError, match=r"the command 'no-such-mcp-server-xyz' was not found \(\.mcp\.json\)"):
        tools.resolve("mcp:missing", servers)
    with pytest.raises(UsageError, match=r"MCP server unset \(\.mcp\.json\) uses \$\{MCP_NOT_SET\}, which is not set"):
        tools.resolve("mcp:unset", servers)
