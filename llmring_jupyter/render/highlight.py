"""Code highlighted with Pygments as spans with inline styles (sanitisers strip ``<style>``).

Each token gets the style of its role (keyword, string, ...) from
``rules.json``, the same the live view gives highlight.js's classes. The
colours are the frontend's own (JupyterLab's ``--jp-mirror-editor-*``) mixed
30% towards its text colour: JupyterLab's code colours alone fall below WCAG AA
on its code background, and the mix follows a theme change with no re-render.
"""

from __future__ import annotations

import html
from typing import Any

from .rules import RULES

# Pygments' token types → the roles of rules.json, as highlight.js's classes map in js/rules.js
# (operators are left plain: highlight.js marks none in Python).
_ROLES = {
    "Keyword": "keyword",
    "Operator.Word": "keyword",
    "Name.Tag": "keyword",
    "Name.Builtin": "builtin",
    "Name.Exception": "builtin",
    "Literal.String": "string",
    "Literal.Number": "number",
    "Literal": "number",
    "Comment": "comment",
    "Name.Function": "def",
    "Name.Class": "def",
    "Name.Decorator": "meta",
    "Comment.Preproc": "meta",
    "Name.Variable": "variable",
    "Name.Attribute": "variable",
}


def highlight(code: str, lang: str, **lexer_options: Any) -> str:
    """``code`` as escaped HTML with styled spans; unknown languages come back plain."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang or "text", **lexer_options)
    except ClassNotFound:
        lexer = get_lexer_by_name("text", **lexer_options)
    runs: list[tuple[str | None, str]] = []  # neighbouring tokens of one style share a span
    for ttype, value in lexer.get_tokens(code):
        style = _style_of(ttype) if value.strip() else (runs[-1][0] if runs else None)
        if runs and runs[-1][0] == style:
            runs[-1] = (style, runs[-1][1] + value)
        else:
            runs.append((style, value))
    return "".join(
        f'<span style="{style}">{html.escape(text, quote=False)}</span>' if style else html.escape(text, quote=False)
        for style, text in runs
    )


def _style_of(ttype: Any) -> str | None:
    while ttype is not None and ttype.parent is not None:
        role = _ROLES.get(str(ttype).removeprefix("Token."))
        if role:
            return str(RULES["token_styles"][role])
        ttype = ttype.parent
    return None
