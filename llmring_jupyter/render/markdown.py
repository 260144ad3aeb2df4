"""Untrusted markdown to safe HTML, for the static answer.

Safe although the text is untrusted: markdown-it-py runs with raw HTML off
(tags show as text); links and images keep no URL whose scheme ``rules.json``
blocks; images become links (no request leaves the browser unasked); code is
highlighted with inline styles (sanitisers strip ``<style>``). Math becomes
MathML (:mod:`.mathml`). The dialect is markdown-it's default (tables,
strikethrough; no linkify, no typographer) plus ``$``-math, and a line break
is kept as one (``breaks``: models write for chat windows that keep them, and
``demo:echo`` shows a prompt as it was sent), with the options,
styles and link rule the live view reads from the same ``rules.json``, so
the switch from live to static changes nothing.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from .code import code_of
from .copy_button import COPY_SCRIPT
from .highlight import highlight
from .mathml import tex_to_mathml
from .rules import RULES, STYLES

if TYPE_CHECKING:  # markdown-it itself is imported on first render (see _markdown)
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

_BLOCKED = tuple(f"{scheme}:" for scheme in RULES["blocked_schemes"])
_PRE = f'<pre style="{STYLES["pre"]}"><code style="{STYLES["code_in_pre"]}">'


def answer_html(text: str, fmt: str = "markdown") -> str:
    """The answer as safe HTML: markdown rendered, or plain text, or just its code (``fmt``)."""
    if fmt == "text":
        return f'<pre style="{STYLES["text"]}">{html.escape(text)}</pre>'
    if fmt == "code":
        # exact: the code element's text is the code itself, which the Copy button copies
        spans = highlight(code_of(text), "python", stripnl=False, ensurenl=False)
        return f'<div class="llmring-code">{_PRE}{spans}</code></pre>{COPY_SCRIPT}</div>'
    # fenced blocks get the same box as --format code: without it, code runs into the next paragraph
    rendered: str = _markdown().render(text)  # markdown-it declares Any; it renders to str
    return rendered.replace("<pre><code", _PRE.removesuffix(">"), -1)


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("js-default", {"html": False, **RULES["markdown"], "highlight": _highlight})
    md.use(dollarmath_plugin, **RULES["math"], renderer=tex_to_mathml)
    md.validateLink = _safe_link  # type: ignore[method-assign]  # its own check lets data:image/... through
    md.add_render_rule("image", _image_as_link)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("th_open", _table_cell)
    md.add_render_rule("td_open", _table_cell)
    return md


def _highlight(code: str, lang: str, _attrs: str = "") -> str:
    # only languages asked for are highlighted, as in the live view; nowrap: markdown-it adds <pre><code>
    return highlight(code, lang) if lang else html.escape(code)


def _safe_link(url: str) -> bool:
    return not url.strip().lower().startswith(_BLOCKED)


def _image_as_link(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    src = html.escape(str(token.attrGet("src") or ""))
    alt = html.escape(token.content or "image")
    return f'<a href="{src}" target="_blank" rel="noopener noreferrer nofollow">[image: {alt}]</a>'


def _link_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return self.renderToken(tokens, idx, options, env)


def _table_cell(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    """Cells align left unless the table asks otherwise (frontends right-align output tables)."""
    if not tokens[idx].attrGet("style"):
        tokens[idx].attrSet("style", STYLES["table_cell"])
    return self.renderToken(tokens, idx, options, env)
