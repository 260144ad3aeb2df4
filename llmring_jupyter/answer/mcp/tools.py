"""An MCP server's tools as tools of a question: named safely, checked, called, their results read.

``--tools mcp:git`` gives the model every tool of the server ``git``; ``mcp:git/git_log``
one of them. Each goes to the model as ``SERVER__TOOL`` (providers allow letters,
digits, ``_`` and ``-`` in a name), so two servers' tools of one name stay two tools,
and a name means the same in the conversation, the replay cache and the log.
A tool's result is untrusted text, shown and sent like a notebook function's; its images
go to the model beside the text, in each provider's shape.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...exceptions import MCPServerError, UsageError
from ...providers.types import Attachment
from ..schema import Mismatch, Shape, inline_refs, shape_of
from ..tools import WithImages

if TYPE_CHECKING:
    from mcp.types import CallToolResult

    from .servers import Servers

PREFIX = "mcp:"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def wire_name(server: str, tool: str) -> str:
    """The name the model calls ``tool`` of ``server`` by: ``time__get_current_time`` (at most 64 characters)."""
    name = f"{server}__{_UNSAFE.sub('_', tool)}"
    if len(name) > 64:
        name = f"{name[:55]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    return name


@dataclass(frozen=True)
class McpTool:
    """One server tool, as the toolbox keeps a function: a signature to check calls by, and a call."""

    servers: Servers
    server: str
    tool: str  # its name on the server
    name: str  # its name on the wire (:func:`wire_name`)
    description: str
    parameters: dict[str, Any]
    approve: bool  # asked about unless the cell or the server's config says otherwise
    shape: Shape

    def arguments(self, text: str) -> dict[str, Any]:
        """The call's arguments from the model's JSON, checked against the tool's input schema."""
        value = self.shape.validate_json(text or "{}")
        if not isinstance(value, dict):
            raise Mismatch("", f"expected an object of arguments, got {type(value).__name__}")
        return value

    async def __call__(self, **arguments: Any) -> str | WithImages:
        result = await self.servers.call(self.server, self.tool, arguments)
        text = result_text(result)
        if result.is_error:
            raise MCPServerError(f"{self.server}/{self.tool}: {text or 'the tool failed'}")
        images = result_images(result, f"{self.server}/{self.tool}")
        return WithImages(text, images) if images else text


def resolve(spec: str, servers: Servers) -> list[McpTool]:
    """The tools ``mcp:NAME`` or ``mcp:NAME/TOOL`` names; the server starts here if it is not running."""
    server, _, only = spec.removeprefix(PREFIX).partition("/")
    config, tools = servers.tools(server)
    if only and not any(t.name == only for t in tools):
        known = ", ".join(t.name for t in tools) or "none"
        raise UsageError(f"The MCP server {server} has no tool {only!r}; its tools are: {known}.")
    out = []
    for t in tools:
        if only and t.name != only:
            continue
        name = wire_name(server, t.name)
        schema = inline_refs(dict(t.input_schema or {"type": "object", "properties": {}}))
        description = t.description or t.title or ""
        shape = shape_of(schema, name)
        out.append(McpTool(servers, server, t.name, name, description, schema, config.approve, shape))
    return out


def result_images(result: CallToolResult, name: str) -> tuple[Attachment, ...]:
    """The images of a result, for the model; one whose data is not base64 is left out (its text says it came)."""
    from mcp.types import ImageContent

    out = []
    for item in result.content:
        if isinstance(item, ImageContent):
            try:
                data = base64.b64decode(item.data, validate=True)
            except (binascii.Error, ValueError):
                continue
            out.append(Attachment("image", item.mime_type, data, name=name))
    return tuple(out)


def _decoded_size(data: str) -> int:
    return len(data) * 3 // 4 - data[-2:].count("=")


def result_text(result: CallToolResult) -> str:
    """What the model and the user read of a result: its text, else its structured content as JSON.

    Other content (an image, audio, a binary resource) is named with its type and size, so the
    user sees it came; an image itself goes to the model too (:func:`result_images`).
    """
    from mcp.types import EmbeddedResource, ImageContent, ResourceLink, TextContent, TextResourceContents

    parts: list[str] = []
    for item in result.content:
        if isinstance(item, TextContent):
            parts.append(item.text)
        elif isinstance(item, EmbeddedResource) and isinstance(item.resource, TextResourceContents):
            parts.append(item.resource.text)
        elif isinstance(item, ResourceLink):
            parts.append(f"[resource {item.name}: {item.uri}]")
        elif isinstance(item, ImageContent):
            parts.append(f"[image {item.mime_type}, {_decoded_size(item.data):,} bytes]")
        else:
            parts.append(f"[{item.type} content]")
    if not any(p.strip() for p in parts) and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False)
    return "\n".join(parts)
