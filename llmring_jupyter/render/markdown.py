"""Untrusted markdown to safe HTML, for the static answer.

Safe although the text is untrusted: markdown-it-py runs with raw HTML off
(tags show as text); links and images keep no URL whose scheme
``link_policy.json`` blocks (the live view in ``js/`` reads the same file);
images become links (no request leaves the browser unasked); and code is
highlighted by Pygments with inline styles, since sanitisers strip
``<style>`` blocks. The markdown dialect is markdown-it's default (tables,
strikethrough; no linkify, no typographer), the same in the live view, so
the switch from live to static changes nothing.
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from typing import Any

from .code import code_of
from .copy_button import COPY_SCRIPT

CODE_STYLE = "overflow-x:auto;padding:8px 10px;border-radius:4px;background:rgba(127,127,127,.08)"

_POLICY = json.loads((Path(__file__).with_name("link_policy.json")).read_text(encoding="utf-8"))
_BLOCKED = tuple(f"{scheme}:" for scheme in _POLICY["blocked_schemes"])


def answer_html(text: str, fmt: str = "markdown") -> str:
    """The answer as safe HTML: markdown rendered, or plain text, or just its code (``fmt``)."""
    if fmt == "text":
        return f'<pre style="white-space:pre-wrap">{html.escape(text)}</pre>'
    if fmt == "code":
        # exact: the code element's text is the code itself, which the Copy button copies;
        # the formatter ends even the last line with a newline the code does not have
        spans = _highlight(code_of(text), "python", stripnl=False, ensurenl=False).removesuffix("\n")
        return f'<div class="llmring-code"><pre style="{CODE_STYLE}"><code>{spans}</code></pre>{COPY_SCRIPT}</div>'
    # fenced blocks get the same box as --format code: without it, code runs into the next paragraph
    return _markdown().render(text).replace("<pre><code", f'<pre style="{CODE_STYLE}"><code')


@cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("js-default", {"html": False, "highlight": _highlight})
    md.validateLink = _safe_link  # type: ignore[method-assign]  # its own check lets data:image/... through
    md.add_render_rule("image", _image_as_link)
    md.add_render_rule("link_open", _link_open)
    return md


def _safe_link(url: str) -> bool:
    return not url.strip().lower().startswith(_BLOCKED)


def _image_as_link(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = html.escape(str(token.attrGet("src") or ""))
    alt = html.escape(token.content or "image")
    return f'<a href="{src}" target="_blank" rel="noopener noreferrer nofollow">[image: {alt}]</a>'


def _link_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return self.renderToken(tokens, idx, options, env)


def _highlight(code: str, lang: str, _attrs: str = "", **lexer_options: bool) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang or "text", **lexer_options)
    except ClassNotFound:
        lexer = get_lexer_by_name("text", **lexer_options)
    # nowrap: markdown-it wraps the spans in <pre><code> itself
    return highlight(code, lexer, HtmlFormatter(noclasses=True, nowrap=True, style="default"))
