"""Images in a kernel where Pillow is not installed: a PNG or JPEG a provider takes as it is
goes as it is; Pillow is asked for only to convert or downscale one.

The kernel hides Pillow (``import PIL`` fails, as it does where it was never installed);
the images themselves are made here, in the test process.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernel_providers import one_line_error, reads_well, wired_kernel
from kernel_session import Kernel
from PIL import Image
from providers.dialects import load
from wire_server import WireServer, serving

OPENAI = load("openai")


@pytest.fixture(scope="module")
def wire() -> Iterator[WireServer]:
    yield from serving()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-pillow")


@pytest.fixture(scope="module")
def kernel(wire: WireServer, folder: Path) -> Iterator[Kernel]:
    for k in wired_kernel(wire.url, folder, delay="0"):
        assert k.run("import sys\nsys.modules['PIL'] = None  # as if never installed").ok
        assert not k.run("import PIL").ok
        yield k


def _image(folder: Path, name: str, size: tuple[int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, fmt)
    (folder / name).write_bytes(out.getvalue())
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "fmt", "media_type"), [("plot.png", "PNG", "image/png"), ("photo.jpg", "JPEG", "image/jpeg")]
)
def test_an_image_within_the_limits_is_sent_as_it_is(
    kernel: Kernel, wire: WireServer, folder: Path, name: str, fmt: str, media_type: str
) -> None:
    data = _image(folder, name, (640, 480), fmt)
    wire.queue(OPENAI.answer(["A blue rectangle."]))
    run = kernel.run(f"%%llm openai:gpt-4o-mini --no-history --attach {name}\nWhat is this?")
    assert run.ok, run.error
    assert OPENAI.sent_parts(wire.last()) == [("image", media_type, data)]


def test_the_dry_run_shows_an_image_without_pillow(kernel: Kernel, folder: Path) -> None:
    _image(folder, "small.png", (64, 48), "PNG")
    run = kernel.run("%%llm openai:gpt-4o-mini --dry-run --no-history --attach small.png\nWhat is this?")
    assert run.ok, run.error
    (shown,) = [m["content"]["data"] for m in run.of("display_data")]
    assert shown["text/plain"].endswith("[image small.png: a 64×48 PNG, about 5 tokens]")


def test_an_image_too_large_to_send_as_it_is_asks_for_pillow(kernel: Kernel, wire: WireServer, folder: Path) -> None:
    _image(folder, "wide.png", (4000, 300), "PNG")  # wider than OpenAI's 2048 px: must be scaled down
    before = len(wire.seen)
    error = one_line_error(kernel.run("%%llm openai:gpt-4o-mini --attach wide.png\nWhat is this?"))
    assert "wide.png" in error and "4000×300" in error and "pip install 'llmring-jupyter[images]'" in error, error
    reads_well(error)
    assert len(wire.seen) == before, "nothing was sent"


def test_an_image_in_a_format_no_provider_takes_asks_for_pillow(kernel: Kernel, folder: Path) -> None:
    _image(folder, "old.bmp", (5, 4), "BMP")
    error = one_line_error(kernel.run("%%llm openai:gpt-4o-mini --attach old.bmp\nWhat is this?"))
    assert "pip install 'llmring-jupyter[images]'" in error, error
