"""Images and files from the notebook, made into the parts a message carries.

``{{fig}}`` turns a figure or an image object into an image part; ``--attach PATH``
(``chat(..., attach=[...])``) sends an image file as an image, a PDF as a document
and inlines a text file into the prompt. The provider-neutral
:class:`~.providers.types.Attachment` is all that leaves here: each adapter maps it
to its own wire shape and fits images to its limits.
"""

from __future__ import annotations

import base64
import io
import mimetypes
from collections.abc import Iterable
from os import PathLike
from pathlib import Path
from typing import Any

from ..exceptions import UsageError
from ..providers import images
from ..providers.types import Attachment
from .values import fenced, truncate

MAX_FILE_CHARS = 100_000  # of an inlined text file
MAX_FILE_BYTES = 32 * 1024 * 1024  # the most any provider here takes in one request


def from_value(value: Any, name: str) -> Attachment | None:
    """The image ``value`` shows, or None when it is not an image (then it is sent as text)."""
    if isinstance(value, type):
        return None
    kind = type(value)
    if kind.__module__.startswith("matplotlib") and hasattr(value, "savefig"):
        out = io.BytesIO()
        value.savefig(out, format="png", bbox_inches="tight")  # as the inline backend shows it
        return _image(out.getvalue(), name)
    for method in ("_repr_png_", "_repr_jpeg_"):
        represent = getattr(value, method, None)
        if not callable(represent):
            continue
        data = represent()
        if isinstance(data, tuple):  # (data, metadata), as IPython's Image returns with width/height
            data = data[0]
        if isinstance(data, str):  # base64 text, as some objects give it
            data = base64.b64decode(data)
        if data:
            return _image(data, name)
    if kind.__module__.startswith("IPython") and kind.__name__ == "Image":  # by URL, not embedded
        raise UsageError(f"{{{{{name}}}}} is an image by URL, which is not fetched: save it and use --attach PATH.")
    return None


def load_files(paths: Iterable[str | PathLike[str]]) -> tuple[str, tuple[Attachment, ...]]:
    """``--attach`` files: the text to add to the prompt (inlined text files) and the parts."""
    texts: list[str] = []
    parts: list[Attachment] = []
    for given in paths:
        path = Path(given).expanduser()
        if not path.is_file():
            raise UsageError(f"--attach {given}: no such file (paths are relative to {Path.cwd()}).")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(f"--attach {given}: {size / 2**20:.0f} MB is more than any provider takes in a request.")
        data = path.read_bytes()
        media_type = mimetypes.guess_type(path.name)[0] or ""
        if media_type == "application/pdf" or data.startswith(b"%PDF-"):
            parts.append(Attachment("document", "application/pdf", data, path.name))
        elif media_type.startswith("image/"):
            parts.append(_image(data, path.name))
        else:
            texts.append(_text_file(given, path.name, data))
    return "\n\n".join(texts), tuple(parts)


def _text_file(given: Any, name: str, data: bytes) -> str:
    text = None
    if b"\0" not in data[:8192]:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is None:
        raise UsageError(f"--attach {given}: not an image, a PDF or a UTF-8 text file, so it cannot be sent.")
    language = Path(name).suffix.lstrip(".")
    return f"File {name}:\n{fenced(truncate(text, MAX_FILE_CHARS), language)}"


def _image(data: bytes, name: str) -> Attachment:
    try:
        return images.image(data, name)
    except (ImportError, ValueError) as exc:
        raise UsageError(f"{exc}.") from None
