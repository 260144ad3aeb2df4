"""Files and images made into message parts: what each kind of file becomes, and how images are fitted."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from llmring_jupyter.answer.options import Options, parse
from llmring_jupyter.context import attachments
from llmring_jupyter.exceptions import UsageError
from llmring_jupyter.providers import images
from llmring_jupyter.providers.types import Attachment


def _save(path: Path, size: tuple[int, int], fmt: str, **how: Any) -> Path:
    Image.new("RGB", size, (10, 120, 200)).save(path, fmt, **how)
    return path


def test_each_kind_of_file_becomes_its_part(tmp_path: Path) -> None:
    png = _save(tmp_path / "plot.png", (3, 2), "PNG")
    jpg = _save(tmp_path / "photo.jpg", (40, 30), "JPEG")
    bmp = _save(tmp_path / "old.bmp", (5, 4), "BMP")
    pdf = _save(tmp_path / "paper.pdf", (20, 20), "PDF")
    code = tmp_path / "train.py"
    code.write_text("print('hi')\n```\n")
    text, parts = attachments.load_files([png, jpg, str(bmp), pdf, code])
    assert [(p.kind, p.media_type, p.name, p.width, p.height) for p in parts] == [
        ("image", "image/png", "plot.png", 3, 2),
        ("image", "image/jpeg", "photo.jpg", 40, 30),
        ("image", "image/png", "old.bmp", 5, 4),  # converted: no provider takes BMP
        ("document", "application/pdf", "paper.pdf", None, None),
    ]
    assert parts[0].data == png.read_bytes() and parts[3].data == pdf.read_bytes()
    assert parts[0].describe() == "a 3×2 PNG"
    assert text == "File train.py:\n````py\nprint('hi')\n```\n````", "a fence the file's own backticks cannot close"


def test_a_long_text_file_is_cut_with_a_marker(tmp_path: Path) -> None:
    big = tmp_path / "log.txt"
    big.write_text("x" * (attachments.MAX_FILE_CHARS + 10))
    text, _ = attachments.load_files([big])
    assert text.endswith("… [truncated: 10 more characters]\n```")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("missing.png", None, "--attach {path}: no such file"),
        ("blob.bin", b"\x00\x01\x02binary", "--attach {path}: not an image, a PDF or a UTF-8 text file, so"),
        ("fake.png", b"not a png at all", "fake.png is not an image Pillow can read"),
    ],
)
def test_a_file_that_cannot_be_sent_is_one_line(tmp_path: Path, name: str, content: bytes | None, says: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError) as caught:
        attachments.load_files([path])
    assert says.format(path=path) in caught.value.message and "\n" not in caught.value.message


def test_large_images_are_fitted_keeping_their_shape() -> None:
    big = images.image(_encoded((4000, 3000), "PNG"), "big")
    limits = images.ImageLimits(max_side=1568, max_pixels=1_150_000, max_bytes=5 * 2**20)
    fitted = images.fit(big, limits)
    assert fitted.width is not None and fitted.height is not None
    assert max(fitted.width, fitted.height) <= 1568 and fitted.width * fitted.height <= 1_150_000
    assert abs(fitted.width / fitted.height - 4 / 3) < 0.01
    assert Image.open(io.BytesIO(fitted.data)).size == (fitted.width, fitted.height)
    small = images.image(_encoded((30, 20), "PNG"), "small")
    assert images.fit(small, limits) is small, "an image within the limits is sent as it is"


def test_an_image_over_the_byte_limit_is_sent_as_jpeg() -> None:
    noisy = Image.effect_noise((600, 600), 80).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    att = images.image(out.getvalue(), "noise")
    fitted = images.fit(att, images.ImageLimits(max_side=600, max_pixels=600 * 600, max_bytes=len(att.data) // 2))
    assert fitted.media_type == "image/jpeg" and len(fitted.data) < len(att.data) // 2


def test_token_estimates_grow_with_pixels_and_pages() -> None:
    assert images.part_tokens(images.image(_encoded((750, 100), "PNG"))) == 100
    three_pages = io.BytesIO()
    first, *rest = [Image.new("RGB", (10, 10)) for _ in range(3)]
    first.save(three_pages, "PDF", save_all=True, append_images=rest)
    pdf = Attachment("document", "application/pdf", three_pages.getvalue())
    assert images.pdf_pages(pdf.data) == 3 and images.part_tokens(pdf) == 4_500


def test_attach_is_repeatable_on_the_line_and_a_keyword_of_chat() -> None:
    opts = parse("demo --attach a.png --attach 'my notes.txt'")
    assert opts is not None and opts.attach == ("a.png", "my notes.txt")
    assert Options.of(None, {"attach": "one.pdf"}).attach == ("one.pdf",)
    assert Options.of(None, {"attach": [Path("a.png"), "b.png"]}).attach == (Path("a.png"), "b.png")


def _encoded(size: tuple[int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def test_the_replay_cache_tells_images_apart_by_hash_without_storing_them() -> None:
    from llmring_jupyter.providers.types import Message, Request
    from llmring_jupyter.records import replay

    def asking(colour: tuple[int, int, int]) -> Request:
        out = io.BytesIO()
        Image.new("RGB", (3, 2), colour).save(out, "PNG")
        part = images.image(out.getvalue(), "fig")
        return Request("demo", (Message("user", "What colour?", attachments=(part,)),))

    red, blue = asking((255, 0, 0)), asking((0, 0, 255))
    assert replay.key_of(red, "demo:chat") != replay.key_of(blue, "demo:chat")
    stored = replay.canonical(red, "demo:chat")
    assert f'"data":"sha256:{red.messages[0].attachments[0].digest}"' in stored and "\\x89" not in stored
