"""The static, safe rendering that replaces the live view when a stream ends.

It must read well with no widget JavaScript (saved notebooks, GitHub,
nbconvert, a restarted kernel) and be safe although the text is untrusted:
markdown-it-py runs with raw HTML off (tags show as text), its link check
drops ``javascript:``/``vbscript:``/``data:`` URLs, images become links (no
request leaves the browser unasked), and code is highlighted by Pygments with
inline styles, since sanitisers strip ``<style>`` blocks. The one script is
:data:`COPY_SCRIPT`, a constant: model text only ever reaches the page escaped.
"""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any

from .providers.keys import scrub
from .providers.tokens import estimate_tokens
from .providers.types import Request
from .result import Result

CODE_STYLE = "overflow-x:auto;padding:8px 10px;border-radius:4px;background:rgba(127,127,127,.08)"
FOOTER_STYLE = "margin-top:6px;font-size:12px;color:#656d76;font-family:system-ui,sans-serif"

_ENDINGS = {
    "stop": "",
    "tool_calls": "asked for a tool",
    "length": "⚠ truncated: max tokens reached",
    "content_filter": "⚠ blocked by the provider's content filter",
    "incomplete": "⚠ incomplete: the stream ended without its end marker",
    "error": "✗ failed",
}
_SECRET_WORDS = ("key", "secret", "password", "authorization", "credential")
_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)

#: The Copy button of ``--format code``, for frontends that ignore ``set_next_input`` (VS Code,
#: Colab). A constant, never built from model text. It runs only where trusted outputs run
#: scripts (JupyterLab, Notebook 7, VS Code, Colab); elsewhere (GitHub, nbviewer, an untrusted
#: notebook) it is dropped or inert, and as the button exists only once it has run, no dead
#: button is ever shown. It finds its code block from its own element, not a page-wide selector:
#: JupyterLab runs it in place, inside the block's wrapper; VS Code runs a copy appended to the
#: element that holds just this output. It copies the code's text (never HTML) with the Clipboard
#: API, or, where that is missing or refused (plain http off localhost), by selecting the code.
COPY_JS = """(() => {
  const code = document.currentScript?.parentElement?.querySelector(".llmring-code > pre > code");
  if (!code) return;
  const button = document.createElement("button");
  const show = (text, name) => { button.textContent = text; button.setAttribute("aria-label", name); };
  let timer;
  const say = (text) => {
    show(text, text);
    clearTimeout(timer);
    timer = setTimeout(() => show("Copy", "Copy the code"), 2000);
  };
  const bySelection = () => {
    const range = document.createRange();
    range.selectNodeContents(code);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    let copied = false;
    try { copied = document.execCommand("copy"); } catch {}
    say(copied ? "Copied" : "Copy failed — select the code");
  };
  button.type = "button";
  button.setAttribute("aria-live", "polite");
  button.style.cssText = "display:block;margin:0 0 4px auto;padding:2px 10px;font:12px system-ui,sans-serif;"
    + "color:inherit;background:rgba(127,127,127,.12);border:1px solid rgba(127,127,127,.45);"
    + "border-radius:4px;cursor:pointer";
  show("Copy", "Copy the code");
  button.addEventListener("click", () => {
    if (!navigator.clipboard) return bySelection();
    navigator.clipboard.writeText(code.textContent).then(() => say("Copied"), bySelection);
  });
  code.parentElement.before(button);
})();"""
COPY_SCRIPT = f"<script>{COPY_JS}</script>"


def code_of(text: str) -> str:
    """The code in an answer: its fenced blocks joined, or the whole text if it has none."""
    blocks = _FENCE.findall(text)
    return "\n".join(b.rstrip("\n") for b in blocks) if blocks else text.strip()


def ending(result: Result) -> str:
    """How the answer ended, in words a user reads at a glance."""
    if result.finish_reason == "cancelled":
        return "■ interrupted" if result.interrupted else "■ stopped"
    return _ENDINGS.get(result.finish_reason, result.finish_reason)


def footer_parts(result: Result) -> list[str]:
    parts = [result.model or result.requested, result.finish_reason]
    if result.usage:
        u = result.usage
        parts.append(f"{u.prompt_tokens:,} in · {u.completion_tokens:,} out · {u.total_tokens:,} tokens")
    t = result.timings
    if t.first_token is not None:
        parts.append(f"first token {t.first_token:.2f} s")
    parts.append(f"{t.total:.2f} s")
    speed = t.tokens_per_second(result.usage.completion_tokens if result.usage else 0)
    if speed:
        parts.append(f"{speed:.0f} tok/s")
    if result.cost is not None:
        parts.append(f"${result.cost:.4f}" if result.cost < 1 else f"${result.cost:.2f}")
    if result.dropped_turns:
        s = "s" if result.dropped_turns > 1 else ""
        parts.append(f"{result.dropped_turns} earlier turn{s} left out (history limit)")
    if note := ending(result):
        parts.append(note)
    return parts


def footer_text(result: Result) -> str:
    return " · ".join(footer_parts(result))


def bundle(result: Result, *, fmt: str = "markdown") -> tuple[dict[str, str], dict[str, Any]]:
    """The display data (HTML + plain text) and provenance metadata of an answer."""
    body = answer_html(result.text, fmt)
    foot = html.escape(" · ".join(footer_parts(result)))
    data = {
        "text/html": f'<div class="llmring-answer">{body}</div>'
        f'<div class="llmring-footer" style="{FOOTER_STYLE}">{foot}</div>',
        "text/plain": f"{result.text}\n\n— {footer_text(result)}",
    }
    return data, {"llmring": provenance(result)}


def dry_run_bundle(request: Request, dropped: int) -> dict[str, str]:
    """What ``--dry-run`` shows: the exact messages that would be sent, and their size."""
    tokens = sum(estimate_tokens(m.content) + 4 for m in request.messages)
    head = f"Dry run: {len(request.messages)} messages to {request.model}, about {tokens:,} tokens; nothing sent."
    if dropped:
        head += f" {dropped} earlier turn{'s' if dropped > 1 else ''} left out (history limit)."
    if params := request.parameters():
        head += f" Parameters: {params}."
    blocks = [
        f'<b>{html.escape(m.role)}</b><pre style="white-space:pre-wrap">{html.escape(m.content)}</pre>'
        for m in request.messages
    ]
    plain = "\n\n".join(f"[{m.role}]\n{m.content}" for m in request.messages)
    return {"text/html": f"<p>{html.escape(head)}</p>{''.join(blocks)}", "text/plain": f"{head}\n\n{plain}"}


def provenance(result: Result) -> dict[str, Any]:
    """What produced this output, for the notebook's metadata. Never a key."""
    params = {k: v for k, v in result.parameters.items() if not any(word in k.lower() for word in _SECRET_WORDS)}
    record: dict[str, Any] = {
        "requested": result.requested,
        "model": result.model,
        "parameters": {k: scrub(v) if isinstance(v, str) else v for k, v in params.items()},
        "finish_reason": result.finish_reason,
        "usage": result.usage.to_dict() if result.usage else None,
        "timings": result.timings.to_dict(),
    }
    if result.cost is not None:
        record["cost_usd"] = round(result.cost, 6)
    if result.error:
        record["error"] = result.error
    return record


def answer_html(text: str, fmt: str = "markdown") -> str:
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

    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight}).enable("table")
    md.validateLink = _safe_link  # markdown-it's own check lets data:image/... links through
    md.add_render_rule("image", _image_as_link)
    md.add_render_rule("link_open", _link_open)
    return md


_BAD_SCHEME = re.compile(r"^(javascript|vbscript|file|data):")


def _safe_link(url: str) -> bool:
    """Links and images keep only URLs that cannot run or embed content: no data: at all."""
    return not _BAD_SCHEME.match(url.strip().lower())


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
