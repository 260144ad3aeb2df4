"""Image bytes: what they are, how big, and how to fit them to a provider's limits.

Pillow does the reading and resizing; it is imported only when an image is met,
so loading the extension stays instant and a text-only user never needs it.
Each adapter declares its :class:`ImageLimits`; :func:`fit` shrinks an image that
exceeds them (keeping its aspect ratio) just before it goes on the wire, so a
notebook figure of any size is accepted rather than refused by the provider.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, replace
from typing import Any

from .types import Attachment

#: The formats every provider here accepts as they are; anything else is converted to PNG.
SENT_AS_IS = ("image/png", "image/jpeg", "image/gif", "image/webp")
INSTALL = "Images need Pillow: pip install 'llmring-jupyter[images]'"


@dataclass(frozen=True)
class ImageLimits:
    """The largest image a provider takes without refusing or silently shrinking it."""

    max_side: int  # pixels, the longer side
    max_pixels: int  # width × height
    max_bytes: int  # of the encoded image


#: A neutral bound, used where no provider is known yet (thumbnails, token estimates).
DEFAULT_LIMITS = ImageLimits(max_side=1568, max_pixels=1568 * 1568, max_bytes=5 * 1024 * 1024)


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(INSTALL) from None
    return Image


def image(data: bytes, name: str | None = None) -> Attachment:
    """An image attachment from encoded bytes, in a format providers take (PNG if it was not)."""
    pil = _pil()
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
    pil = _pil()
    with pil.open(io.BytesIO(att.data)) as img:
        size = (max(1, int(att.width * scale)), max(1, int(att.height * scale)))
        small = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB").resize(size, pil.Resampling.LANCZOS)
    data, media_type = _encode(small, "PNG"), "image/png"
    if len(data) > limits.max_bytes:  # photos compress far better as JPEG
        data, media_type = _encode(small.convert("RGB"), "JPEG", quality=85), "image/jpeg"
    return replace(att, media_type=media_type, data=data, width=small.width, height=small.height)


def thumbnail(att: Attachment, side: int = 96) -> bytes:
    """A small PNG of the image, for the dry run's preview."""
    pil = _pil()
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
