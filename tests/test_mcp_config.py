"""MCP server configuration: the mcpServers format, where it is read from, ${VAR}, and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmring_jupyter import UsageError
from llmring_jupyter.answer.mcp import config

GIT = {"command": "uvx", "args": ["mcp-server-git", "--repository", "."], "env": {"TOKEN": "${GIT_TOKEN}"}}
DOCS = {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ${DOCS_KEY:-none}"}, "approve": False}


def test_the_de_facto_format_gives_stdio_and_http_servers() -> None:
    servers = config.servers_of({"mcpServers": {"git": GIT, "docs": DOCS}}, ".mcp.json")
    git, docs = servers["git"], servers["docs"]
    assert (git.transport, git.command, git.approve) == ("stdio", "uvx", True)
    assert git.args == ("mcp-server-git", "--repository", ".")
    assert (docs.transport, docs.url, docs.approve) == ("http", "https://example.com/mcp", False)
    assert docs.where() == "https://example.com/mcp (headers: Authorization)", "header values are never shown"


def test_variables_are_read_when_a_server_starts_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    git = config.servers_of({"git": GIT}, "%config LLMMagics.mcp_servers")["git"]
    monkeypatch.delenv("GIT_TOKEN", raising=False)
    with pytest.raises(UsageError, match=r"uses \$\{GIT_TOKEN\}, which is not set"):
        git.expanded()
    monkeypatch.setenv("GIT_TOKEN", "s3cret-token")
    assert git.expanded().env == {"TOKEN": "s3cret-token"}
    assert git.env == {"TOKEN": "${GIT_TOKEN}"}, "the config keeps the placeholder"
    assert git.secrets() == (("s3cret-token", "${GIT_TOKEN}"),)
    docs = config.servers_of({"docs": DOCS}, "x")["docs"]
    assert docs.expanded().headers == {"Authorization": "Bearer none"}, "${VAR:-default}"


def test_the_nearest_file_is_found_and_the_setting_wins_by_name(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text('{"mcpServers": {"git": {"command": "a"}, "time": {"command": "b"}}}')
    notebooks = tmp_path / "work" / "notebooks"
    notebooks.mkdir(parents=True)
    servers = config.configured(notebooks, {"mcpServers": {"time": {"command": "c"}}})
    assert {n: s.command for n, s in servers.items()} == {"git": "a", "time": "c"}
    assert servers["git"].source == str(tmp_path / ".mcp.json")


def test_a_file_that_does_not_parse_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / ".mcp.json"
    path.write_text('{\n  "mcpServers": {\n    "git": {"command": "uvx",}\n  }\n}\n')
    with pytest.raises(UsageError, match=rf"{path}, line 3: Expecting property name"):
        config.configured(tmp_path, {})


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"args": ["x"]}, 'give either "command"'),
        ({"command": "a", "url": "http://b"}, 'give either "command"'),
        ({"command": "a", "approve": "no"}, "approve is true or false"),
        ({"command": "a", "timeout": 0}, "timeout is seconds"),
        ({"command": "a", "args": "x y"}, "args must be a list of strings"),
        ({"command": "a", "comand": "b"}, "unknown key 'comand'"),
        ({"url": "http://a", "type": "sse"}, "transport 'sse' is not supported"),
    ],
)
def test_a_bad_server_is_one_line_naming_it(spec: dict[str, object], says: str) -> None:
    with pytest.raises(UsageError, match=f"x.json: MCP server 'git': .*{says}"):
        config.servers_of({"mcpServers": {"git": spec}}, "x.json")


def test_added_servers_are_a_command_or_a_url() -> None:
    assert config.command_server("t", ["python", "-m", "mcp_server_time"]).args == ("-m", "mcp_server_time")
    assert config.command_server("d", ["http://127.0.0.1:1/mcp"]).transport == "http"
    with pytest.raises(UsageError, match="a server's name is letters"):
        config.command_server("a b", ["x"])
