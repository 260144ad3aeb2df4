"""Reference tables generated from the declarations the code runs on, so the site cannot drift.

``{llm-options}`` lists every ``%%llm`` option from :class:`Options`' fields, ``{llm-commands}`` every
``%llm`` command from the table ``%llm help`` prints, ``{llm-settings}`` every ``%config`` setting from
``LLMMagics``' traitlets and ``{llm-errors}`` every exported error class with its docstring. A new
option, command, setting or error appears here by being declared, and only then.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], widths: Sequence[int]) -> nodes.table:
    """A plain docutils table whose cells are literal code or text (first column code)."""
    table = nodes.table(classes=["llm-reference"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    group += [nodes.colspec(colwidth=w) for w in widths]
    head = nodes.thead()
    group += head
    head += _row(headers, code_first=False)
    body = nodes.tbody()
    group += body
    for row in rows:
        body += _row(row, code_first=True)
    return table


def _row(cells: Sequence[str], *, code_first: bool) -> nodes.row:
    row = nodes.row()
    for i, text in enumerate(cells):
        entry = nodes.entry()
        para = nodes.paragraph()
        para += nodes.literal(text, text) if (code_first and i == 0 and text) else nodes.Text(text)
        entry += para
        row += entry
    return row


class _Reference(Directive):
    """A table of one declaration: ``headers``, ``widths`` and the ``rows()`` the code declares."""

    headers: tuple[str, ...] = ()
    widths: tuple[int, ...] = ()

    @classmethod
    def rows(cls) -> list[tuple[str, ...]]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        return [_table(self.headers, self.rows(), self.widths)]


class Options(_Reference):
    """Every option of the ``%%llm`` line, and its ``chat()`` keyword."""

    headers = ("on the %%llm line", "chat() keyword", "meaning")
    widths = (30, 16, 54)

    @classmethod
    def rows(cls) -> list[tuple[str, ...]]:
        from llmring_jupyter.answer import options

        rows = [("MODEL …", "models=", "an llmring.lock alias or provider:model; two or more answer side by side")]
        for name, flag, _default in options._flags():
            spelling = " | ".join(flag.names) + (f" {flag.metavar}" if flag.metavar else "")
            if flag.opposite:
                spelling += f" | {flag.opposite}"
            rows.append((spelling, "" if flag.line_only else f"{name}=", flag.help))
        return rows


class Commands(_Reference):
    """Every ``%llm`` command, from the table ``%llm help`` prints."""

    headers = ("command", "what it does")
    widths = (35, 65)

    @classmethod
    def rows(cls) -> list[tuple[str, ...]]:
        from llmring_jupyter.notebook import commands

        return [tuple(row) for row in commands._HELP]


class Settings(_Reference):
    """Every ``%config LLMMagics.…`` setting, with its type, default and help, from the traitlets."""

    headers = ("setting", "type", "default", "meaning")
    widths = (28, 10, 14, 48)

    @classmethod
    def rows(cls) -> list[tuple[str, ...]]:
        from llmring_jupyter.notebook.magics import LLMMagics

        return [
            (f"LLMMagics.{name}", type(trait).__name__, trait.default_value_repr(), trait.help)
            for name, trait in sorted(LLMMagics.class_traits(config=True).items())
        ]


class Errors(_Reference):
    """Every error class the package exports, its parent and what to do about it (its docstring)."""

    headers = ("error", "is a", "when, and what to do")
    widths = (26, 18, 56)

    @classmethod
    def rows(cls) -> list[tuple[str, ...]]:
        return [(c.__name__, c.__mro__[1].__name__, inspect.getdoc(c) or "") for c in _error_classes()]


def _error_classes() -> list[type[BaseException]]:
    """The error classes ``llmring_jupyter`` exports, parents before children."""
    import llmring_jupyter

    found = [getattr(llmring_jupyter, name) for name in llmring_jupyter.__all__]
    errors = [c for c in found if isinstance(c, type) and issubclass(c, BaseException)]
    return sorted(errors, key=lambda c: (len(c.__mro__), c.__name__))


#: The directives by name: the site's pages use them, and llms-full.txt writes the same tables.
TABLES: dict[str, type[_Reference]] = {
    "llm-options": Options,
    "llm-commands": Commands,
    "llm-settings": Settings,
    "llm-errors": Errors,
}


def markdown(name: str) -> str:
    """The table of directive ``name`` as markdown, for readers of plain text."""
    table = TABLES[name]
    lines = ["| " + " | ".join(table.headers) + " |", "|" + "---|" * len(table.headers)]
    lines += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in table.rows()]
    return "\n".join(lines)


def setup(app: Sphinx) -> dict[str, Any]:
    for name, directive in TABLES.items():
        app.add_directive(name, directive)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
