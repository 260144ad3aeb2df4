"""Make a ``%%llm`` cell awaitable, so the kernel keeps serving while it streams.

IPython would call a cell magic synchronously, blocking the kernel's event
loop for the whole answer: no Stop click could be handled and nested-loop
patches lose messages on ipykernel 7. Rewritten into a top-level ``await``,
the cell runs as a coroutine on the kernel's loop: widget messages are handled
while it streams (ipykernel >= 7.4), an interrupt cancels it cleanly, and it
still blocks Run All, nbclient and papermill like any other cell.
"""

from __future__ import annotations

import re

MAGIC = "%%llm"
_FIX = re.compile(r"%llm\s+fix(?:\s(.*)|)$")  # a line of its own, not indented: it streams too


def awaitable_cell(lines: list[str]) -> list[str]:
    """An ``input_transformers_cleanup`` hook: ``%%llm line\\nbody`` → one awaited call,
    and each top-level ``%llm fix ...`` line → an awaited call of the line magic."""
    if not lines or not lines[0].startswith(MAGIC):
        return [_awaitable_fix(line) for line in lines]
    rest = lines[0][len(MAGIC) :]
    if rest and not rest[0].isspace():
        return lines  # another magic whose name starts with "llm"
    body = "".join(lines[1:])
    # find_cell_magic, not run_cell_magic: the magic gives its own message for an empty cell
    return [f"await get_ipython().find_cell_magic('llm')({rest.strip()!r}, {body!r})\n"]


def _awaitable_fix(line: str) -> str:
    found = _FIX.match(line.rstrip("\r\n"))
    if found is None:
        return line
    command = f"fix {found.group(1) or ''}".strip()
    return f"await get_ipython().find_line_magic('llm')({command!r})\n"
