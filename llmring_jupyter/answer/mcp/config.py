"""Which MCP servers a notebook may use, read from the de-facto ``mcpServers`` format.

The same shape Claude Code and VS Code projects keep in ``.mcp.json``::

    {"mcpServers": {"git": {"command": "uvx", "args": ["mcp-server-git"], "env": {"TOKEN": "${TOKEN}"}},
                    "docs": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ${KEY}"}}}}

A server is kept as written: ``${VAR}`` (or ``${VAR:-default}``) is read from the
environment only when the server starts (:meth:`ServerConfig.expanded`), so what is
listed, shown in an error or kept anywhere never holds a secret the environment gave.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ...exceptions import UsageError

#: The file a project keeps its servers in, looked for in the notebook's folder and its parents.
FILE_NAME = ".mcp.json"

#: Seconds a tool call may take before it fails (``"timeout"`` in a server's config).
DEFAULT_TIMEOUT = 120.0

_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_KEYS = frozenset({"command", "args", "env", "cwd", "url", "headers", "approve", "timeout", "type", "transport"})


@dataclass(frozen=True)
class ServerConfig:
    """One server as configured: a command to run (stdio) or a URL (Streamable HTTP)."""

    name: str
    source: str  # where it was configured: a file's path, "%config LLMMagics.mcp_servers" or "%llm mcp add"
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    approve: bool = True  # its tools' calls are asked about (Run / Skip) unless the cell says --approve off
    timeout: float = DEFAULT_TIMEOUT

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "http"

    def where(self) -> str:
        """What the server is, as the user wrote it (placeholders unexpanded, no header values)."""
        if self.command is not None:
            return " ".join([self.command, *self.args])
        return f"{self.url}" + (f" (headers: {', '.join(self.headers)})" if self.headers else "")

    def expanded(self) -> ServerConfig:
        """This server with every ``${VAR}`` read from the environment; a missing one is a one-line error."""

        def fill(text: str) -> str:
            def one(match: re.Match[str]) -> str:
                value = os.environ.get(match[1], match[2])
                if value is None:
                    raise UsageError(
                        f"MCP server {self.name} ({self.source}) uses ${{{match[1]}}}, which is not set in the "
                        f"environment: set it (os.environ[{match[1]!r}] = ...) or write ${{{match[1]}:-default}}."
                    )
                return value

            return _VARIABLE.sub(one, text)

        return replace(
            self,
            command=None if self.command is None else fill(self.command),
            args=tuple(fill(a) for a in self.args),
            env={k: fill(v) for k, v in self.env.items()},
            cwd=None if self.cwd is None else fill(self.cwd),
            url=None if self.url is None else fill(self.url),
            headers={k: fill(v) for k, v in self.headers.items()},
        )

    def secrets(self) -> tuple[tuple[str, str], ...]:
        """Each value an expansion put in, with what stands for it when shown: what a message must not hold."""
        out = []
        for text in (self.command or "", *self.args, *self.env.values(), self.url or "", *self.headers.values()):
            for match in _VARIABLE.finditer(text):
                value = os.environ.get(match[1], match[2])
                if value and len(value) >= 4:
                    out.append((value, match[0]))
        return tuple(out)


def servers_of(data: Any, source: str) -> dict[str, ServerConfig]:
    """The servers of a config (``{"mcpServers": {...}}``, or the inner mapping alone); a bad one fails here."""
    if isinstance(data, Mapping) and "mcpServers" in data:
        data = data["mcpServers"]
    if not isinstance(data, Mapping):
        raise UsageError(f'{source}: expected {{"mcpServers": {{NAME: {{...}}}}}}, not {type(data).__name__}.')
    return {str(name): _server(str(name), spec, source) for name, spec in data.items()}


def read_file(path: Path) -> dict[str, ServerConfig]:
    """The servers of a ``.mcp.json``; a file that does not parse names its line."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}, line {exc.lineno}: {exc.msg} (column {exc.colno}); fix the JSON.") from None
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return servers_of(data, str(path))


def find_file(start: Path) -> Path | None:
    """The nearest ``.mcp.json``: in ``start`` (the notebook's folder) or a parent."""
    for folder in (start, *start.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def configured(folder: Path, setting: Mapping[str, Any]) -> dict[str, ServerConfig]:
    """The servers of the nearest ``.mcp.json``, then of ``%config LLMMagics.mcp_servers`` (which win by name)."""
    found = find_file(folder)
    servers = read_file(found) if found is not None else {}
    return {**servers, **servers_of(setting, "%config LLMMagics.mcp_servers")}


def command_server(name: str, command: list[str]) -> ServerConfig:
    """``%llm mcp add NAME -- COMMAND ARGS…`` or ``%llm mcp add NAME URL``."""
    if len(command) == 1 and re.match(r"https?://", command[0]):
        return _server(name, {"url": command[0]}, "%llm mcp add")
    return _server(name, {"command": command[0], "args": command[1:]}, "%llm mcp add")


def _server(name: str, spec: Any, source: str) -> ServerConfig:
    where = f"{source}: MCP server {name!r}"
    if not _NAME.fullmatch(name):
        raise UsageError(f"{where}: a server's name is letters, digits, _ and - (at most 32).")
    if not isinstance(spec, Mapping):
        raise UsageError(f'{where}: expected {{"command": ..., "args": [...]}} or {{"url": ...}}.')
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))}).")
    if ("command" in spec) == ("url" in spec):
        raise UsageError(f'{where}: give either "command" (a program to run) or "url" (a Streamable HTTP server).')
    kind = spec.get("type", spec.get("transport"))
    if kind not in (None, "stdio", "http", "streamable-http", "streamableHttp"):
        raise UsageError(f"{where}: transport {kind!r} is not supported; use stdio (a command) or http (a url).")
    timeout = spec.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise UsageError(f"{where}: timeout is seconds (a positive number), not {timeout!r}.")
    if not isinstance(spec.get("approve", True), bool):
        raise UsageError(f"{where}: approve is true or false, not {spec['approve']!r}.")
    return ServerConfig(
        name,
        source,
        command=_text(spec, "command", where),
        args=_texts(spec.get("args", []), f"{where}: args"),
        env=_mapping(spec.get("env", {}), f"{where}: env"),
        cwd=_text(spec, "cwd", where),
        url=_text(spec, "url", where),
        headers=_mapping(spec.get("headers", {}), f"{where}: headers"),
        approve=spec.get("approve", True),
        timeout=float(timeout),
    )


def _text(spec: Mapping[str, Any], key: str, where: str) -> str | None:
    value = spec.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise UsageError(f"{where}: {key} must be text, not {value!r}.")
    return value


def _texts(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where} must be a list of strings.")
    return tuple(value)


def _mapping(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise UsageError(f"{where} must map names to strings.")
    return {str(k): v for k, v in value.items()}
