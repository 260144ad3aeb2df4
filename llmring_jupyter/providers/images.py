"""Image bytes: what they are, how big, and how to fit them to a provider's limits.

A PNG, JPEG or GIF is measured from its header and sent as it is when it fits;
Pillow is needed only to convert another format or to shrink an image, and is
imported only then, so loading the extension stays instant and a user who sends
ordinary images (or none) never needs it.
Each adapter declares its :class:`ImageLimits`; :func:`fit` shrinks an image that
exceeds them (keeping its aspect ratio) just before it goes on the wire, so a
notebook figure of any size is accepted rather than refused by the provider.
"""

from __future__ import annotations

import io
import math
import re
import struct
from dataclasses import dataclass, replace
from typing import Any

from .types import Attachment

#: The formats every provider here accepts as they are; anything else is converted to PNG.
SENT_AS_IS = ("image/png", "image/jpeg", "image/gif", "image/webp")
INSTALL = "needs Pillow: run pip install 'llmring-jupyter[images]' and restart the kernel"


@dataclass(frozen=True)
class ImageLimits:
    """The largest image a provider takes without refusing or silently shrinking it."""

    max_side: int  # pixels, the longer side
    max_pixels: int  # width × height
    max_bytes: int  # of the encoded image


#: A neutral bound, used where no provider is known yet (thumbnails, token estimates).
DEFAULT_LIMITS = ImageLimits(max_side=1568, max_pixels=1568 * 1568, max_bytes=5 * 1024 * 1024)


def _pil(what: str) -> Any:
    """Pillow's ``Image``; ImportError saying ``what`` needs it, where it is not installed."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{what} {INSTALL}") from None
    return Image


def measure(data: bytes) -> tuple[str, int, int] | None:
    """Media type, width and height of a PNG, JPEG or GIF, read from its header; None for others."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return "image/png", width, height
        if data[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", data[6:10])
            return "image/gif", width, height
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
    except struct.error:  # cut short
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[str, int, int] | None:
    """The size in a JPEG's start-of-frame segment, found by walking the segments before it."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if 0xD0 <= marker <= 0xD9 or marker == 0x01:  # no length: restart markers, start, end
            i += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return "image/jpeg", width, height
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


def image(data: bytes, name: str | None = None) -> Attachment:
    """An image attachment from encoded bytes, in a format providers take (PNG if it was not)."""
    measured = measure(data)
    if measured is not None and measured[1] and measured[2]:
        media_type, width, height = measured
        return Attachment("image", media_type, data, name, width, height)
    pil = _pil(f"Sending {name or 'this image'} in a format providers take")
    try:
        with pil.open(io.BytesIO(data)) as img:
            img.load()
            media_type = pil.MIME.get(img.format or "", "")
            if media_type not in SENT_AS_IS:
                data, media_type = _encode(img, "PNG"), "image/png"
            return Attachment("image", media_type, data, name, img.width, img.height)
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's "cannot identify image file" and kin
        raise ValueError(f"{name or 'the image'} is not an image Pillow can read ({exc})") from None


def fit(att: Attachment, limits: ImageLimits) -> Attachment:
    """``att`` unchanged when within ``limits``, else scaled down (and re-encoded) to fit."""
    if att.kind != "image" or att.width is None or att.height is None:
        return att
    scale = min(
        1.0, limits.max_side / max(att.width, att.height), math.sqrt(limits.max_pixels / (att.width * att.height))
    )
    if scale >= 1.0 and len(att.data) <= limits.max_bytes:
        return att
    pil = _pil(f"Scaling {att.name or 'an image'} ({att.describe()}) down to what the model takes")
    with pil.open(io.BytesIO(att.data)) as img:
        size = (max(1, int(att.width * scale)), max(1, int(att.height * scale)))
        small = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB").resize(size, pil.Resampling.LANCZOS)
    data, media_type = _encode(small, "PNG"), "image/png"
    if len(data) > limits.max_bytes:  # photos compress far better as JPEG
        data, media_type = _encode(small.convert("RGB"), "JPEG", quality=85), "image/jpeg"
    return replace(att, media_type=media_type, data=data, width=small.width, height=small.height)


def thumbnail(att: Attachment, side: int = 96) -> bytes:
    """A small PNG of the image, for the dry run's preview."""
    pil = _pil("A preview of the image")
    with pil.open(io.BytesIO(att.data)) as img:
        img.thumbnail((side, side))
        return _encode(img, "PNG")


def part_tokens(att: Attachment) -> int:
    """About what one image or document costs in prompt tokens (providers differ; this is the
    middle of them): an image ~ its pixels / 750 once fitted to the neutral bound, a PDF
    ~ 1,500 tokens a page."""
    if att.kind == "image" and att.width and att.height:
        w, h = att.width, att.height
        scale = min(1.0, DEFAULT_LIMITS.max_side / max(w, h))
        return max(1, math.ceil(w * scale * h * scale / 750))
    return 1_500 * pdf_pages(att.data)


def pdf_pages(data: bytes) -> int:
    """Pages of a PDF, counted from its page objects (good enough for an estimate)."""
    return max(1, len(re.findall(rb"/Type\s*/Page(?![s\w])", data)))


def _encode(img: Any, fmt: str, **how: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **how)
    return out.getvalue()
