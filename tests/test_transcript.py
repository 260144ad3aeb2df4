"""Exported conversations keep their images and documents, each stored once, by hash."""

from __future__ import annotations

import json
from pathlib import Path

from llmring_jupyter.context.conversation import Conversation
from llmring_jupyter.providers.types import Attachment
from llmring_jupyter.records import transcript
from llmring_jupyter.result import Result, Timings

FIG = Attachment("image", "image/png", b"\x89PNG fake bytes", "fig", 3, 2)
PDF = Attachment("document", "application/pdf", b"%PDF-1.4 fake", "paper.pdf")


def _chat() -> Conversation:
    chat = Conversation("review")
    for key, parts in (("a", (FIG,)), ("b", (FIG, PDF)), ("c", ())):
        chat.record(
            key,
            f"question {key}",
            Result(f"answer {key}", "demo", "demo:chat", "stop", None, Timings(0, 0, 0), ()),
            parts,
        )
    return chat


def test_json_stores_each_attachment_once_and_loads_them_back(tmp_path: Path) -> None:
    path = tmp_path / "review.json"
    transcript.save(_chat(), path)
    data = json.loads(path.read_text())
    assert sorted(data["attachments"]) == sorted([FIG.digest, PDF.digest])
    assert path.read_text().count('"base64"') == 2, "the image sent twice is stored once"
    assert [t["attachments"] for t in data["turns"]] == [[FIG.digest], [FIG.digest, PDF.digest], []]
    loaded = transcript.load(path)
    assert [t.attachments for t in loaded.turns] == [(FIG,), (FIG, PDF), ()]


def test_markdown_and_the_history_view_name_attachments_without_their_bytes() -> None:
    md = transcript.to_markdown(_chat())
    assert f"_Attached: fig: a 3×2 PNG, sha256 {FIG.digest[:12]}; paper.pdf: a PDF of 1 KB, sha256 " in md
    view = transcript.history_bundle(_chat())
    assert "Attached: fig: a 3×2 PNG" in view["text/html"]
    for shown in (md, view["text/html"], view["text/plain"]):
        assert "fake bytes" not in shown and "base64" not in shown
