"""The kernel's view anchor (widget.py), in process: what it sends pages that attach late."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from llmring_jupyter.view import widget


class Anchor(widget.ViewAnchor):
    """The anchor with its custom messages caught where they would reach the comm."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []

    def send(self, content: Any, buffers: Any = None) -> None:
        self.sent.append(content)


def _attach(anchor: Anchor) -> dict[str, str]:
    """A page makes the anchor's model: what it is sent."""
    anchor.sent.clear()
    anchor._receive(anchor, {"kind": "initialized"}, [])
    return {k: v for m in anchor.sent if m.get("kind") == "final" for k, v in m["answers"].items()}


@pytest.fixture
def anchor() -> Iterator[Anchor]:
    made = Anchor()
    yield made
    made.close()


def test_the_first_page_is_sent_nothing_later_ones_every_answer_kept(anchor: Anchor) -> None:
    anchor.ended("a1", "<p>one</p>")
    assert _attach(anchor) == {}, "the page that ran the cells has its answers"
    anchor.ended("a2", "")
    assert anchor.sent == []
    assert _attach(anchor) == {"a1": "<p>one</p>", "a2": ""}
    anchor.ended("a3", "<p>three</p>")  # two pages now: each end goes out as it happens
    assert anchor.sent[-1] == {"kind": "final", "answers": {"a3": "<p>three</p>"}}


def test_only_the_most_recent_answers_are_kept(anchor: Anchor, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(widget.KEPT_FINALS + 5):
        anchor.ended(f"a{n}", "<p>x</p>")
    _attach(anchor)
    kept = _attach(anchor)
    assert len(kept) == widget.KEPT_FINALS and "a4" not in kept and f"a{widget.KEPT_FINALS + 4}" in kept

    monkeypatch.setattr(widget, "KEPT_FINALS_CHARS", 25)
    for n in range(3):
        anchor.ended(f"big{n}", "<p>" + "y" * 10 + "</p>")  # 17 characters each
    assert set(_attach(anchor)) == {"big2"}, "about KEPT_FINALS_CHARS in all, the newest always"
