"""What a model takes beside text, decided before the question is sent: refusals, fallbacks, the demo model."""

from __future__ import annotations

from pathlib import Path

import pytest
from providers.streams import collect, text
from wire_server import WireServer

from llmring_jupyter.providers import Message, Request, registry
from llmring_jupyter.providers.adapter import WireAdapter
from llmring_jupyter.providers.errors import UnsupportedInputError
from llmring_jupyter.providers.types import Attachment

IMAGE = Attachment("image", "image/png", b"\x89PNG...", "fig", 3, 2)
PDF = Attachment("document", "application/pdf", b"%PDF-1.4 ...", "paper.pdf")


def _asking(model: str, *parts: Attachment) -> Request:
    return Request(model, (Message("user", "What is [image 1: fig]?", attachments=parts),), options={"delay": 0})


def test_no_ollama_model_reads_pdfs_and_its_server_says_which_see_images() -> None:
    adapter = registry.get("ollama")
    assert isinstance(adapter, WireAdapter)
    inputs = adapter.inputs
    assert not inputs.takes("llava", "document")
    assert inputs.takes("house-eyes:7b", "image"), "not refused on a guess: the server is asked when it is sent"


async def test_a_refusal_names_the_part_and_a_model_that_takes_it() -> None:
    chunks, error = await collect(_asking("ollama:llava", IMAGE, PDF))
    assert chunks == [] and isinstance(error, UnsupportedInputError)
    assert error.message == (
        "ollama:llava cannot take PDF documents, so paper.pdf (a PDF of 1 KB) was not sent; "
        "use a model that does, e.g. ollama:llama3.2-vision."
    )


async def test_an_alias_falls_back_to_a_model_that_takes_the_image(
    tmp_path: Path, wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", wire.url)  # it says llama3.2:3b takes text alone
    lock = tmp_path / "llmring.lock"
    lock.write_text(
        'version = "1.0"\ndefault_profile = "default"\n[profiles.default]\nname = "default"\n'
        '[[profiles.default.bindings]]\nalias = "looker"\nmodels = ["ollama:llama3.2:3b", "demo:echo"]\n'
    )
    chunks, error = await collect(_asking("looker", IMAGE), lockfile_path=lock)
    assert error is None
    assert text(chunks) == "What is [image 1: fig]?\n[fig (a 3×2 PNG)]", "demo answered, having seen the image"
    assert chunks[-1].model == "demo:echo"
    assert wire.seen == [], "nothing was sent to the model that cannot see it"


async def test_the_demo_model_says_what_it_was_sent() -> None:
    chunks, error = await collect(_asking("demo", IMAGE, PDF))
    assert error is None
    assert "You sent me 2 files: fig (a 3×2 PNG), paper.pdf (a PDF of 1 KB)." in text(chunks)
