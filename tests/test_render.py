"""The static rendering: untrusted markdown becomes inert HTML; footers say how it ended."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from llmring_jupyter import render
from llmring_jupyter.providers.types import Message, Usage
from llmring_jupyter.render import answer_html, bundle, code_of, footer_text
from llmring_jupyter.render.copy_button import COPY_JS
from llmring_jupyter.result import Result, Thought, Timings

HOSTILE = """<script>alert(1)</script>
<img src=x onerror=alert(2)>
<iframe src="javascript:alert(3)"></iframe>
<svg onload=alert(4)>
[a](javascript:alert(5)) [b](data:text/html;base64,PHNjcmlwdD4=) [c](vbscript:msgbox)
![pixel](https://tracker.example/p.png)
```html
<script>alert(6)</script>
```
"""
#: The link policy the static answer and the live view (js/markdown.js) both read.
BLOCKED_SCHEMES = json.loads((Path(render.__file__).parent / "rules.json").read_text())["blocked_schemes"]
#: A code answer that would run script were it pasted into the page as HTML.
HOSTILE_CODE = """Here:
```python
x = "</script><script>alert(1)</script>"
y = '<img src=x onerror=alert(2)>'  # `z` &amp; <!-- -->
```
</script><script>alert(3)</script>
"""


def _result(text: str = "hi", **kw: Any) -> Result:
    fields: dict[str, Any] = {
        "text": text,
        "requested": "chatbot",
        "model": "openai:gpt-4o-mini",
        "finish_reason": "stop",
        "usage": Usage.of(10, 20),
        "timings": Timings(0.0, 0.5, 1.5),
        "messages": (Message("user", "q"),),
    }
    return Result(**(fields | kw))


class _Elements(HTMLParser):
    """Each element's tag and attributes; the text of each <script> and of each <code>."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, list[str]] = {"script": [], "code": []}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))
        if tag in self.text:
            self.text[tag].append("")
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for tag in set(self._open):
            self.text[tag][-1] += data


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def test_hostile_markdown_is_inert() -> None:
    html = answer_html(HOSTILE)
    parser = _parse(html)
    tags = {tag for tag, _ in parser.found}
    assert tags <= {"p", "br", "a", "pre", "code", "span"}, tags
    for tag, attrs in parser.found:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs
        href = (attrs.get("href") or "").lower()
        assert not href.startswith(("javascript:", "data:", "vbscript:")), href
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "[image: pixel]" in html


@pytest.mark.parametrize("scheme", BLOCKED_SCHEMES)
def test_every_scheme_the_shared_link_policy_blocks_is_dropped(scheme: str) -> None:
    html = answer_html(f"[a]({scheme.upper()}:x) ![b]({scheme}:y) [ok](https://example.org/)")
    hrefs = [attrs.get("href") or "" for _, attrs in _parse(html).found]
    assert "https://example.org/" in hrefs
    assert not [h for h in hrefs if h.lower().startswith(f"{scheme}:")], hrefs


@pytest.mark.parametrize("answer", ["```\n<script>x</script>\n```", HOSTILE, HOSTILE_CODE])
@pytest.mark.parametrize("fmt", ["markdown", "text", "code"])
def test_the_only_script_is_the_constant_copy_button_of_code(fmt: str, answer: str) -> None:
    html = answer_html(answer, fmt)
    ours = 1 if fmt == "code" else 0
    assert _parse(html).text["script"] == [COPY_JS] * ours
    assert html.lower().count("<script") == html.lower().count("</script") == ours


@pytest.mark.parametrize("fmt", ["markdown", "text", "code"])
def test_hostile_thinking_is_inert_and_collapsed_in_the_saved_answer(fmt: str) -> None:
    thought = Thought(0, 1, 0, HOSTILE, seconds=14.2, tokens=2310)
    html = bundle(_result("Fine.", thoughts=(thought,)), fmt=fmt)[0]["text/html"]
    parser = _parse(html)
    ours = 1 if fmt == "code" else 0  # the Copy button of the answer's code, as without thinking
    assert parser.text["script"] == [COPY_JS] * ours and html.lower().count("<script") == ours
    for tag, attrs in parser.found:
        assert tag not in ("img", "iframe", "svg") and not any(name.startswith("on") for name in attrs), tag
        assert not (attrs.get("href") or "").lower().startswith(("javascript:", "data:", "vbscript:"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "the thinking is rendered as the answer's markdown"
    assert [attrs for tag, attrs in parser.found if tag == "details"] == [
        {"class": "llmring-think", "style": attrs["style"]} for tag, attrs in parser.found if tag == "details"
    ], "collapsed: no open attribute"
    assert "Thought for 14 s · 2,310 reasoning tokens" in html
    hidden = bundle(_result("Fine.", thoughts=(thought,), show_thinking=False), fmt=fmt)[0]
    assert "llmring-think" not in hidden["text/html"] and "alert" not in hidden["text/plain"]


def test_code_bundle_shows_exactly_the_code_as_text_next_to_the_copy_script() -> None:
    data, metadata = bundle(_result(HOSTILE_CODE), fmt="code")
    parser = _parse(data["text/html"])
    assert parser.text["code"] == [code_of(HOSTILE_CODE)], "the button copies this text: it must be the code"
    assert parser.text["script"] == [COPY_JS]
    assert {tag for tag, _ in parser.found} == {"div", "pre", "code", "span", "script"}
    assert not any(name.startswith("on") or name == "src" for _, attrs in parser.found for name in attrs)
    assert "<" not in COPY_JS, "the script holds no markup: it cannot end early or open a comment"
    assert data["text/plain"] == f"{HOSTILE_CODE}\n\n— {footer_text(_result(HOSTILE_CODE))}", "no script of ours"
    assert metadata == bundle(_result(HOSTILE_CODE))[1], "provenance does not depend on the format"


def test_footer_names_model_tokens_timing_and_ending() -> None:
    assert footer_text(_result()) == (
        "openai:gpt-4o-mini · stop · 10 in · 20 out · 30 tokens · first token 0.50 s · 1.50 s · 20 tok/s"
    )
    assert footer_text(_result(finish_reason="length")).endswith("⚠ truncated: max tokens reached")
    assert footer_text(_result(finish_reason="cancelled")).endswith("■ stopped")
    assert footer_text(_result(finish_reason="cancelled", interrupted=True)).endswith("■ interrupted")
    assert "$0.0012" in footer_text(_result(cost=0.00123))


def test_bundle_metadata_keeps_no_secrets() -> None:
    data, metadata = bundle(
        _result(parameters={"temperature": 0.1, "api_key": "sk-live-123456789012", "user": "sk-abcdefghijklmnop"})
    )
    record = metadata["llmring"]
    assert record["parameters"] == {"temperature": 0.1, "api_key": "<redacted>", "user": "<redacted key>"}
    assert record["model"] == "openai:gpt-4o-mini" and record["usage"]["total_tokens"] == 30
    assert "sk-" not in str(data) + str(metadata)


def test_code_of_joins_fenced_blocks() -> None:
    assert code_of("Here:\n```python\na = 1\n```\nand\n```\nb = 2\n```") == "a = 1\nb = 2"
    assert code_of("x = 1\n") == "x = 1"


def test_math_is_mathml_in_the_static_answer_and_dollars_for_money_stay_text() -> None:
    html = answer_html("Cost $5 and $6, and $x^2$ too.\n\n$$\\frac{a}{b}$$\n")
    parser = _parse(html)
    assert [tag for tag, _ in parser.found].count("math") == 2
    assert "Cost $5 and $6" in html  # currency is not math (rules.json: no digits next to $)
    assert '<annotation encoding="application/x-tex">x^2</annotation>' in html
    assert 'display="block"' in html and "<mfrac>" in html


def test_unreadable_tex_shows_as_its_source() -> None:
    assert "\\frac{" in answer_html("$$\\frac{$$")


def test_table_cells_align_left_unless_asked() -> None:
    html = answer_html("| a | b |\n|---|--:|\n| 1 | 2 |\n")
    aligns = [attrs.get("style") for tag, attrs in _parse(html).found if tag in ("td", "th")]
    assert aligns == ["text-align:left", "text-align:right"] * 2


def test_code_colours_are_the_frontends_own_mixed_towards_its_text() -> None:
    html = answer_html('```python\ns = "x"  # note\n```')
    assert "var(--jp-mirror-editor-string-color" in html and "var(--jp-mirror-editor-comment-color" in html
    assert "var(--jp-content-font-color0" in html  # the mix that keeps AA in both themes
    assert "background:var(--jp-cell-editor-background" in html


def test_code_of_takes_an_unclosed_last_fence_too() -> None:
    assert code_of("Here:\n```python\na = 1\n```\nand\n```python\nb = 2\n") == "a = 1\nb = 2"
