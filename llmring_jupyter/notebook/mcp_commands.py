"""``%llm mcp``: the MCP servers a cell may use, their state and tools; add one, stop one."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from ..answer.mcp import config
from ..answer.mcp.tools import wire_name
from ..exceptions import UsageError
from ..providers.keys import scrub

if TYPE_CHECKING:
    from ..answer.mcp.servers import Servers
    from .host import Host

USAGE = "Usage: %llm mcp [NAME] | %llm mcp add NAME -- COMMAND ARGS… | %llm mcp add NAME URL | %llm mcp stop NAME"


def run(magics: Host, args: list[str]) -> None:
    servers = magics.session.mcp
    if not args:
        _list(servers, None)
    elif args[0] == "add":
        _add(servers, args[1:])
    elif args[0] == "stop":
        if len(args) != 2:
            raise UsageError(USAGE)
        servers.server(args[1])  # an unknown name is an error, not "was not running"
        stopped = servers.stop(args[1])
        print(f"Stopped the MCP server {args[1]}." if stopped else f"The MCP server {args[1]} was not running.")
    elif len(args) == 1:
        servers.tools(args[0])  # starts it, so its tools can be listed
        _list(servers, args[0])
    else:
        raise UsageError(USAGE)


def _add(servers: Servers, args: list[str]) -> None:
    if len(args) >= 3 and args[1] == "--":
        command = args[2:]
    elif len(args) == 2 and args[1].startswith(("http://", "https://")):
        command = args[1:]
    else:
        raise UsageError(USAGE)
    server = config.command_server(args[0], command)
    servers.added[server.name] = server
    print(f"Added the MCP server {server.name} for this session: {server.where()}. It starts when a cell uses it.")


def _list(servers: Servers, only: str | None) -> None:
    known = servers.known()
    if not known:
        print(
            "No MCP servers: add them to .mcp.json beside the notebook, to %config LLMMagics.mcp_servers, "
            "or with %llm mcp add NAME -- COMMAND ARGS…"
        )
        return
    lines = []
    for name, server in known.items():
        if only is not None and name != only:
            continue
        cfg = servers.configs()[name]
        asks = "asks before each call" if cfg.approve else "runs calls without asking"
        state = server.state if server is not None else "not started"
        lines.append(f"{name}  ({cfg.transport}: {cfg.where()}; from {cfg.source}; {asks})  {state}")
        if server is not None and server.state == "running":
            for tool in server.tools:
                about = " ".join((tool.description or tool.title or "").split())
                lines.append(f"  mcp:{name}/{tool.name}  (the model calls it {wire_name(name, tool.name)})")
                lines += textwrap.wrap(about, 100, initial_indent="      ", subsequent_indent="      ")
        elif only is None:
            lines.append(f"  its tools: %llm mcp {name} starts it and lists them")
    print(scrub("\n".join(lines)))  # a key written into a command or URL is not shown either
