"""An answer's text with its blocks where they happened: tool calls and thinking phases.

A tool loop thinks, writes, calls, and thinks again: each block has its offset in
the text, and blocks at one offset keep the order they came in (a step's thinking,
then its calls, then a line of thinking its provider billed but did not stream).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..result import Result, Thought, ToolRun
from . import thinking, tool_calls

Block = ToolRun | Thought


def of(result: Result) -> list[Block]:
    """The blocks an answer shows: its calls, and its thinking unless it is not to be shown."""
    return [*result.tool_calls, *(result.thoughts if result.show_thinking else ())]


def _order(block: Block) -> tuple[int, int, int, int]:
    if isinstance(block, Thought):
        return (block.at, block.step, 2 if block.at_end else 0, block.index)
    return (block.at, block.step, 1, block.call.index)


def segments(text: str, blocks: Sequence[Block]) -> list[str | Block]:
    """The answer's text cut where each block came, with the blocks between the pieces."""
    out: list[str | Block] = []
    start = 0
    for block in sorted(blocks, key=_order):
        at = min(max(block.at, start), len(text))
        if text[start:at]:
            out.append(text[start:at])
        out.append(block)
        start = at
    if text[start:]:
        out.append(text[start:])
    return out


def answer_html(text: str, blocks: Sequence[Block], render_text: Callable[[str], str]) -> str:
    return "".join(_html(p, render_text) for p in segments(text, blocks))


def answer_text(text: str, blocks: Sequence[Block]) -> str:
    pieces = (_text(p) for p in segments(text, blocks))
    return "\n\n".join(p for p in pieces if p)


def _html(part: str | Block, render_text: Callable[[str], str]) -> str:
    if isinstance(part, ToolRun):
        return tool_calls.block_html(part)
    if isinstance(part, Thought):
        return thinking.block_html(part)
    return render_text(part)


def _text(part: str | Block) -> str:
    if isinstance(part, ToolRun):
        return tool_calls.block_text(part)
    if isinstance(part, Thought):
        return thinking.block_text(part)
    return part.strip("\n")
