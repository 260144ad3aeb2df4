"""MCP servers for the kernel's life: started when a cell first needs one, stopped with the kernel.

The SDK is asyncio-based and a session belongs to the task that opened it, while
cells run on the kernel's loop and background answers on a loop of their own. So
every server lives on one loop, in a thread of its own (:class:`Servers`): a keeper
task per server holds its session open, and calls from any loop or thread are
bridged to it. A server's stderr goes to a log file (a real file: a kernel's
``sys.stderr`` has no ``fileno``, which is why the SDK's default fails in Jupyter).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import tempfile
import threading
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ...exceptions import MCPServerError, UsageError
from .config import ServerConfig

if TYPE_CHECKING:
    from mcp import Client
    from mcp.types import CallToolResult, Tool

T = TypeVar("T")

#: Seconds a server may take to start and list its tools.
START_TIMEOUT = 60.0
#: Seconds the liveness check before each call (listing the tools again) may take.
CHECK_TIMEOUT = 10.0


@dataclass
class _Running:
    client: Client
    tools: list[Tool]
    stop: asyncio.Event
    keeper: asyncio.Task[None]


class Server:
    """One configured server: its state, its log, and its session while it runs (on the servers' loop)."""

    def __init__(self, config: ServerConfig, log: Path) -> None:
        self.config = config
        self.log = log
        self.state = "not started"
        self.tools: list[Tool] = []
        self._running: _Running | None = None
        self._lock = asyncio.Lock()

    async def session(self) -> _Running:
        """The running session, started (or restarted, once, if it died) as needed."""
        async with self._lock:
            if self._running is not None and not self._running.keeper.done():
                try:  # a server that died since its last call is started again; one dying in a call is not
                    await asyncio.wait_for(self._running.client.list_tools(cache_mode="refresh"), CHECK_TIMEOUT)
                    return self._running
                except Exception:  # noqa: BLE001 - whatever the check met, the server is gone
                    await self.stop(state="exited")
            self._running = await self._start()
            return self._running

    async def _start(self) -> _Running:
        from mcp import Client

        config = self.config.expanded()
        self.state = "starting"
        started: asyncio.Future[_Running] = asyncio.get_running_loop().create_future()

        async def keep() -> None:
            try:
                async with AsyncExitStack() as stack:
                    transport = await _transport(config, stack, self.log)
                    client = await stack.enter_async_context(Client(transport, read_timeout_seconds=START_TIMEOUT))
                    tools = await _all_tools(client)
                    running = _Running(client, tools, asyncio.Event(), keeper)
                    started.set_result(running)
                    await running.stop.wait()
            except Exception as exc:  # noqa: BLE001 - why it did not start is the user's to read
                if not started.done():
                    started.set_exception(self._failed(exc))

        keeper = asyncio.get_running_loop().create_task(keep(), name=f"MCP server {config.name}")
        try:
            running = await asyncio.wait_for(asyncio.shield(started), START_TIMEOUT)
        except TimeoutError:
            keeper.cancel()
            self.state = "failed to start"
            raise MCPServerError(f"MCP server {self.config.name} did not start within {START_TIMEOUT:g} s") from None
        except MCPServerError as exc:
            self.state = f"failed: {exc.message}"
            raise
        self.state, self.tools = "running", running.tools
        return running

    async def stop(self, state: str = "stopped") -> None:
        running, self._running = self._running, None
        if running is not None:
            running.stop.set()
            await asyncio.gather(running.keeper, return_exceptions=True)
        self.state = state

    async def call(self, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        """Call ``tool``; a server that died, timed out or failed is one line (:class:`MCPServerError`)."""
        from mcp.shared.exceptions import MCPError
        from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        running = await self.session()
        timeout = self.config.timeout
        try:
            call = running.client.call_tool(tool, arguments, read_timeout_seconds=timeout)
            return await asyncio.wait_for(call, timeout)
        except (TimeoutError, MCPError) as exc:
            if isinstance(exc, TimeoutError) or exc.code == REQUEST_TIMEOUT:
                raise MCPServerError(f"{self.config.name}/{tool} did not answer within {timeout:g} s") from None
            if exc.code != CONNECTION_CLOSED:
                raise MCPServerError(self.hide(f"{self.config.name}/{tool}: {exc.message}")) from None
            await self.stop(state="exited")
            said = self.last_words()
            raise MCPServerError(
                f"MCP server {self.config.name} stopped during the call of {tool}"
                + (f" ({said})" if said else "")
                + "; it starts again for the next call"
            ) from None

    def _failed(self, exc: BaseException) -> MCPServerError:
        """Why a server did not start, in one line: the command, the URL, or its last words."""
        exc = _innermost(exc)
        c = self.config
        if isinstance(exc, FileNotFoundError | PermissionError) and c.command is not None:
            why = "was not found" if isinstance(exc, FileNotFoundError) else "cannot be run"
            return MCPServerError(
                f"MCP server {c.name}: the command {c.command!r} {why} ({c.source}); install it or fix its command"
            )
        if c.url is not None:
            return MCPServerError(self.hide(f"MCP server {c.name} at {c.url} refused: {_reason(exc)}"))
        said = self.last_words()
        return MCPServerError(
            self.hide(f"MCP server {c.name} ({c.where()}) exited while starting: {said or _reason(exc)}")
        )

    def last_words(self) -> str:
        """The last line the server wrote to its log, secrets hidden."""
        try:
            lines = [line.strip() for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return self.hide(lines[-1][:300]) if lines else ""

    def hide(self, text: str) -> str:
        for value, placeholder in self.config.secrets():
            text = text.replace(value, placeholder)
        return text


class Servers:
    """The servers one kernel may use, and the loop thread their sessions live on."""

    def __init__(self, configured: Callable[[], Mapping[str, ServerConfig]]) -> None:
        self._configured = configured  # read again each time: a changed .mcp.json or %config takes effect
        self.added: dict[str, ServerConfig] = {}  # %llm mcp add, for this session
        self._servers: dict[str, Server] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._logs: tempfile.TemporaryDirectory[str] | None = None
        self._guard = threading.Lock()
        self._making = threading.Lock()

    def configs(self) -> dict[str, ServerConfig]:
        """Every configured server by name: the files', then %config's, then those added this session."""
        return {**self._configured(), **self.added}

    def server(self, name: str) -> Server:
        """The server ``name``; an unknown name is one line that lists the known ones."""
        configs = self.configs()
        if name not in configs:
            known = ", ".join(configs) or "none (add one to .mcp.json, %config LLMMagics.mcp_servers or %llm mcp add)"
            raise UsageError(f"There is no MCP server {name!r}; the servers are: {known}.")
        with self._making:  # a cell and a background answer may ask at once: one Server each name
            server = self._servers.get(name)
            if server is None or server.config != configs[name]:
                if server is not None:  # its config changed: the old one stops, the new one starts when needed
                    self.run(server.stop())
                self._loop_running()
                assert self._logs is not None
                server = self._servers[name] = Server(configs[name], Path(self._logs.name) / f"{name}.log")
            return server

    def known(self) -> dict[str, Server | None]:
        """Each configured server, with its :class:`Server` once one was made."""
        return {name: self._servers.get(name) for name in self.configs()}

    def tools(self, name: str) -> tuple[ServerConfig, list[Tool]]:
        """Server ``name``'s config and its tools, starting it if needed (blocks this thread, not the servers')."""
        server = self.server(name)
        running = self.run(server.session())
        return server.config, running.tools

    async def call(self, name: str, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        """Call a tool from any loop; cancelling this cancels the call."""
        server = self.server(name)
        return await asyncio.wrap_future(self._submit(server.call(tool, arguments)))

    def stop(self, name: str) -> bool:
        """Stop server ``name``; False if it was not running."""
        server = self._servers.get(name)
        if server is None or server.state != "running":
            return False
        self.run(server.stop())
        return True

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the servers' loop and wait for it here (not on that loop's thread)."""
        return self._submit(coro).result()

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop_running())

    def _loop_running(self) -> asyncio.AbstractEventLoop:
        with self._guard:
            if self._loop is None:
                self._logs = tempfile.TemporaryDirectory(prefix="llmring-mcp-")
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="MCP servers", daemon=True)
                self._thread.start()
                atexit.register(self.close)  # the kernel is ending; closing twice does nothing
            return self._loop

    def close(self) -> None:
        """Stop every server and the loop (the kernel is ending, or the extension unloads)."""
        with self._guard:
            loop, thread, logs = self._loop, self._thread, self._logs
            self._loop = self._thread = self._logs = None
        if loop is None or thread is None:
            return
        servers, self._servers = list(self._servers.values()), {}

        async def stop_all() -> None:
            await asyncio.gather(*(s.stop() for s in servers), return_exceptions=True)
            await loop.shutdown_asyncgens()

        try:
            asyncio.run_coroutine_threadsafe(stop_all(), loop).result(timeout=START_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            if logs is not None:
                logs.cleanup()


async def _transport(config: ServerConfig, stack: AsyncExitStack, log: Path) -> Any:
    """The SDK transport for ``config`` (already expanded): a child process or an HTTP client."""
    if config.command is not None:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        errlog = stack.enter_context(log.open("a", encoding="utf-8"))  # a real file: the SDK passes its fileno on
        params = StdioServerParameters(
            command=config.command, args=list(config.args), env=dict(config.env) or None, cwd=config.cwd
        )
        return stdio_client(params, errlog=errlog)
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    assert config.url is not None
    http = await stack.enter_async_context(
        httpx2.AsyncClient(headers=dict(config.headers), timeout=httpx2.Timeout(30, read=300))
    )
    return streamable_http_client(config.url, http_client=http)


async def _all_tools(client: Client) -> list[Tool]:
    tools: list[Tool] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if cursor is None:
            return tools


def _innermost(exc: BaseException) -> BaseException:
    """The first real error inside the task groups' exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__
