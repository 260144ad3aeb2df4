"""The static rendering: untrusted markdown becomes inert HTML; footers say how it ended."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from llmring_jupyter.providers.types import Message, Usage
from llmring_jupyter.render import answer_html, bundle, code_of, footer_text
from llmring_jupyter.result import Result, Timings

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


def _result(text: str = "hi", **kw) -> Result:
    fields = dict(text=text, requested="chatbot", model="openai:gpt-4o-mini", finish_reason="stop",
                  usage=Usage.of(10, 20), timings=Timings(0.0, 0.5, 1.5),
                  messages=(Message("user", "q"),))
    return Result(**(fields | kw))


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def test_hostile_markdown_is_inert() -> None:
    html = answer_html(HOSTILE)
    parser = _Elements()
    parser.feed(html)
    tags = {tag for tag, _ in parser.found}
    assert tags <= {"p", "a", "pre", "code", "span"}, tags
    for tag, attrs in parser.found:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs
        href = (attrs.get("href") or "").lower()
        assert not href.startswith(("javascript:", "data:", "vbscript:")), href
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "[image: pixel]" in html


@pytest.mark.parametrize("fmt", ["text", "code"])
def test_other_formats_escape_too(fmt: str) -> None:
    assert "<script" not in answer_html("```\n<script>x</script>\n```", fmt)


def test_footer_names_model_tokens_timing_and_ending() -> None:
    assert footer_text(_result()) == (
        "openai:gpt-4o-mini · stop · 10 in · 20 out · 30 tokens · first token 0.50 s · 1.50 s · 20 tok/s")
    assert footer_text(_result(finish_reason="length")).endswith("⚠ truncated: max tokens reached")
    assert footer_text(_result(finish_reason="cancelled")).endswith("■ stopped")
    assert footer_text(_result(finish_reason="cancelled", interrupted=True)).endswith("■ interrupted")
    assert "$0.0012" in footer_text(_result(cost=0.00123))


def test_bundle_metadata_keeps_no_secrets() -> None:
    data, metadata = bundle(_result(parameters={"temperature": 0.1, "api_key": "sk-live-123456789012",
                                                "user": "sk-abcdefghijklmnop"}))
    record = metadata["llmring"]
    assert record["parameters"] == {"temperature": 0.1, "user": "<redacted key>"}
    assert record["model"] == "openai:gpt-4o-mini" and record["usage"]["total_tokens"] == 30
    assert "sk-" not in str(data) + str(metadata)


def test_code_of_joins_fenced_blocks() -> None:
    assert code_of("Here:\n```python\na = 1\n```\nand\n```\nb = 2\n```") == "a = 1\nb = 2"
    assert code_of("x = 1\n") == "x = 1"
