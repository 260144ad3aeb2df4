"""Make the llm magic's streaming calls awaitable, so the kernel keeps serving while they stream.

IPython would call a magic synchronously, blocking the kernel's event loop for
the whole answer: no Stop click could be handled and nested-loop patches lose
messages on ipykernel 7. Rewritten into a top-level ``await``, the call runs as a
coroutine on the kernel's loop: widget messages are handled while it streams
(ipykernel >= 7.4), an interrupt cancels it cleanly, and it still blocks Run All,
nbclient and papermill like any other cell.

IPython turns a ``%%llm`` cell and every ``%llm`` line, at any indentation, into
``get_ipython().run_cell_magic(...)`` / ``run_line_magic(...)`` calls, and a user
may write those calls too; :func:`awaited_magics` rewrites the ones that stream (a
cell, and ``%llm fix``) wherever an ``await`` may stand: anywhere but inside a
function, a class, a lambda or a comprehension. Elsewhere the magic says, in one
line, where to put it (:meth:`.magics.LLMMagics.llm`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

#: Where a top-level ``await`` may not stand.
_SCOPES: tuple[type[ast.AST], ...] = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_SCOPES += (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def awaited_magics(lines: list[str]) -> list[str]:
    """An ``input_transformers_post`` hook: each streaming call of the llm magic where an ``await``
    may stand → ``(await get_ipython().find_cell_magic('llm')(line, body, awaited=True))``
    (``find_line_magic`` for ``%llm fix``); everything else is left as written."""
    cell = "".join(lines)
    if "'llm'" not in cell and '"llm"' not in cell:
        return lines
    try:
        tree = ast.parse(cell)
    except SyntaxError:
        return lines  # IPython reports it
    calls = [(kind, n) for n in _outside_scopes(tree) if isinstance(n, ast.Call) and (kind := _streaming(n))]
    if not calls:
        return lines
    starts = [0]
    for line in cell.split("\n"):
        starts.append(starts[-1] + len(line) + 1)

    def at(lineno: int, col: int) -> int:  # ast counts columns in UTF-8 bytes
        line = cell[starts[lineno - 1] : starts[lineno] - 1]
        return starts[lineno - 1] + len(line.encode()[:col].decode())

    for kind, node in sorted(calls, key=lambda c: (c[1].lineno, c[1].col_offset), reverse=True):
        args = ", ".join(ast.get_source_segment(cell, a) or "" for a in node.args[1:])
        awaited = f"(await get_ipython().find_{kind}_magic('llm')({args}, awaited=True))"
        start, end = at(node.lineno, node.col_offset), at(node.end_lineno or node.lineno, node.end_col_offset or 0)
        cell = cell[:start] + awaited + cell[end:]
    return [cell]


def _outside_scopes(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``node`` where a top-level ``await`` may stand (not inside a def, a class...)."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, _SCOPES):
            yield child
            yield from _outside_scopes(child)


def _streaming(node: ast.Call) -> str | None:
    """ "cell" or "line" for ``get_ipython().run_cell_magic('llm', ...)`` or
    ``get_ipython().run_line_magic('llm', 'fix ...')`` (the calls that stream); else None."""
    if not isinstance(node.func, ast.Attribute) or node.keywords:
        return None
    owner, name, args = node.func.value, node.func.attr, node.args
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "get_ipython"):
        return None
    if not args or not (isinstance(args[0], ast.Constant) and args[0].value == "llm"):
        return None
    if name == "run_cell_magic" and len(args) == 3:
        return "cell"
    command = args[1] if name == "run_line_magic" and len(args) == 2 else None
    if isinstance(command, ast.Constant) and isinstance(command.value, str) and command.value.split()[:1] == ["fix"]:
        return "line"
    return None
