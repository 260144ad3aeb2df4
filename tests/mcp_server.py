"""An MCP server made with the official SDK (MCPServer, formerly FastMCP), for the tests of faults.

``python mcp_server.py stdio`` serves over stdin/stdout; ``python mcp_server.py http PORT TOKEN``
serves Streamable HTTP on 127.0.0.1:PORT/mcp and refuses (401) a request without
``Authorization: Bearer TOKEN``. Its tools: ``add`` (a structured result), ``pause`` (to time
out), ``chart`` (an image) and ``crash`` (the process dies mid-call).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.utilities.types import Image

server = MCPServer("llmring-test")

#: A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2213b4a0000000049454e44ae426082"
)


@server.tool()
def add(a: int, b: int) -> dict[str, int]:
    """Add two whole numbers."""
    return {"sum": a + b}


@server.tool()
async def pause(seconds: float) -> str:
    """Wait, then say so."""
    await asyncio.sleep(seconds)
    return f"waited {seconds} s"


@server.tool()
def chart(title: str) -> Image:
    """A chart, as a PNG image."""
    return Image(data=PNG, format="png")


@server.tool()
def crash(why: str) -> str:
    """End this server's process at once."""
    print(f"crashing: {why}", file=sys.stderr, flush=True)
    os._exit(3)


def _guarded(app: Any, token: str) -> Any:
    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != f"Bearer {token}".encode():
            await send({"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await app(scope, receive, send)

    return guarded


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        import uvicorn

        port, token = int(sys.argv[2]), sys.argv[3]
        uvicorn.run(_guarded(server.streamable_http_app(), token), host="127.0.0.1", port=port, log_level="warning")
