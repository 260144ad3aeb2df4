"""The notebook's functions a model may call: tool specs from them, and running a call safely.

Safety, in one place: a model can call only the functions the user named (a name
it invents is answered with an error, never looked up); its arguments are JSON,
validated against the function's schema before the call (a bad one goes back to
the model as an error); nothing it says is evaluated as code. A tool that raises
does not fail the cell: its exception, type and message, is the tool's result.
Tools the notebook did not define (an MCP server's, ``mcp:NAME``) come from a
``remote`` resolver and are checked and called the same way; their calls are
asked about (Run / Skip) by default.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..exceptions import UsageError
from ..providers.types import Attachment, Tool
from ..result import ToolRun
from .schema import Mismatch, signature_of

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


class Described(Protocol):
    """What the model is told of a tool, and how its arguments are checked: a function's
    :class:`~.schema.Signature`, or a remote tool (which is its own)."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def parameters(self) -> dict[str, Any]: ...
    def arguments(self, text: str) -> dict[str, Any]: ...  # raises Mismatch


class Remote(Described, Protocol):
    """A tool the notebook did not define, run elsewhere: called with its checked arguments."""

    @property
    def approve(self) -> bool: ...  # whether its calls are asked about unless the cell says otherwise
    async def __call__(self, **arguments: Any) -> Any: ...


@dataclass(frozen=True)
class WithImages:
    """A tool's result with images beside its text (an MCP tool's image content): the model gets both."""

    text: str
    images: tuple[Attachment, ...]


#: Remote tools by the name a cell gives them (``mcp:git``): one name may stand for several.
Resolver = Callable[[str], Iterable[Remote]]


@dataclass(frozen=True)
class Toolbox:
    """The functions of one question, by name, with their signatures."""

    functions: Mapping[str, Callable[..., Any]]
    signatures: Mapping[str, Described]
    asking: frozenset[str] = frozenset()  # the tools whose calls are asked about by default

    @classmethod
    def of(
        cls,
        specs: Iterable[str | Callable[..., Any]],
        namespace: Mapping[str, Any],
        remote: Resolver | None = None,
    ) -> Toolbox:
        """Names (looked up in ``namespace``, the notebook's; ``remote`` resolves an ``mcp:`` one)
        or functions; fails before anything is sent."""
        functions: dict[str, Callable[..., Any]] = {}
        signatures: dict[str, Described] = {}
        asking: set[str] = set()
        remotes: set[str] = set()
        for spec in specs:
            if isinstance(spec, str) and remote is not None and spec.strip().startswith("mcp:"):
                for tool in remote(spec.strip()):  # named twice (mcp:time, mcp:time/x): one tool
                    if tool.name in functions and tool.name not in remotes:
                        raise UsageError(f"Two tools are named {tool.name}: a model tells them apart by name only.")
                    functions[tool.name], signatures[tool.name] = tool, tool
                    remotes.add(tool.name)
                    if tool.approve:
                        asking.add(tool.name)
                continue
            fn = _lookup(spec, namespace) if isinstance(spec, str) else spec
            if not callable(fn):
                raise UsageError(f"Tools must be functions; got {type(fn).__name__} {fn!r}.")
            sig = signature_of(fn)
            if not _NAME.fullmatch(sig.name):  # every provider's rule for a function's name
                raise UsageError(
                    f"A tool needs a name of letters, digits and _ (at most 64), not {sig.name!r}: use def."
                )
            if sig.name in functions and functions[sig.name] is not fn:
                raise UsageError(f"Two tools are named {sig.name}: a model tells them apart by name only; rename one.")
            functions[sig.name], signatures[sig.name] = fn, sig
        return cls(functions, signatures, frozenset(asking))

    def __bool__(self) -> bool:
        return bool(self.functions)

    @property
    def tools(self) -> tuple[Tool, ...]:
        """What the model is told: each function's name, docstring and parameter schema."""
        return tuple(Tool(s.name, s.description, s.parameters) for s in self.signatures.values())

    def check(self, run: ToolRun) -> ToolRun:
        """``run`` with its arguments validated, or as an error the model is told about."""
        name = run.call.name
        if name not in self.functions:
            known = ", ".join(self.functions) or "none"
            return replace(
                run, status="error", error=f"Error: there is no tool named {name!r}; the tools are: {known}."
            )
        try:
            arguments = self.signatures[name].arguments(run.call.arguments)
        except Mismatch as exc:
            return replace(
                run,
                status="error",
                error=f"Error: invalid arguments for {name}: {exc}. Call it again with arguments that fit its schema.",
            )
        return replace(run, status="running", arguments=arguments)

    async def call(self, run: ToolRun) -> ToolRun:
        """Run a checked call. A sync function runs in a worker thread, so Stop and interrupts
        end the wait at once (the thread finishes on its own; its result is then dropped)."""
        fn = self.functions[run.call.name]
        started = time.perf_counter()
        try:
            if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None)):  # noqa: B004
                value = await fn(**(run.arguments or {}))
            else:
                value = await asyncio.to_thread(fn, **(run.arguments or {}))
                if inspect.isawaitable(value):
                    value = await value
        except Exception as exc:  # noqa: BLE001 - the tool's failure is the model's to handle
            return replace(
                run, status="error", error=f"Error: {type(exc).__name__}: {exc}", seconds=time.perf_counter() - started
            )
        seconds = time.perf_counter() - started
        if isinstance(value, WithImages):
            return replace(run, status="done", result=value.text, attachments=value.images, seconds=seconds)
        return replace(run, status="done", result=value, seconds=seconds)


def _lookup(name: str, namespace: Mapping[str, Any]) -> Any:
    name = name.strip()
    if not name.isidentifier():
        raise UsageError(f"--tools takes function names separated by commas, not {name!r}.")
    if name not in namespace:
        raise UsageError(f"There is no function {name} in the notebook: define it (def {name}(...)) or check --tools.")
    return namespace[name]
