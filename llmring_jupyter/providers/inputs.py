"""What a provider's models take beside text, checked before anything is sent.

Each adapter declares its :class:`Inputs`: whether it takes images (and the
largest it takes), whether it takes PDF documents, and which of its models take
text alone. Routing calls :func:`prepare` on every request before the adapter
sees it, so a model that cannot see an image fails with one line and no request
(a lockfile alias then falls back to its next model), and images too large for
the provider are scaled down first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import images
from .errors import ProviderError, UnsupportedInputError
from .types import Attachment, Message, ModelRef, Request


@dataclass(frozen=True)
class Inputs:
    images: images.ImageLimits | None = None  # None: no images at all
    documents: bool = False  # PDFs
    text_only: re.Pattern[str] | None = None  # model names (matched from the start) known to take text alone
    vision_example: str = ""  # a model that does take images, for the error message

    def takes(self, model: str, kind: str) -> bool:
        if self.text_only is not None and self.text_only.match(model):
            return False
        return self.images is not None if kind == "image" else self.documents


TEXT_ONLY = Inputs()


def prepare(inputs: Inputs, ref: ModelRef, request: Request) -> Request:
    """``request`` with its images fitted to the provider's limits; raises if ``ref`` cannot take a part.

    A tool's images (an MCP tool's) are left out for a model that cannot take them: the
    tool's text says they came, and the answer goes on."""
    if not any(m.attachments for m in request.messages):
        return request
    request = replace(request, messages=tuple(_takeable(inputs, ref, m) for m in request.messages))
    if not any(m.attachments for m in request.messages):
        return request
    for message in request.messages:
        for part in message.attachments:
            if not inputs.takes(ref.model, part.kind):
                raise refusal(inputs, ref, part)
    limits = inputs.images
    if limits is None:
        return request
    try:
        return replace(request, messages=tuple(_fitted(m, limits) for m in request.messages))
    except ImportError as exc:  # an image too large to send as it is, and no Pillow to shrink it
        raise UnsupportedInputError(f"{exc}; nothing was sent to {ref}.") from None


def _takeable(inputs: Inputs, ref: ModelRef, message: Message) -> Message:
    if message.role != "tool" or not message.attachments:
        return message
    return replace(message, attachments=tuple(a for a in message.attachments if inputs.takes(ref.model, a.kind)))


def without_tool_images(request: Request) -> Request:
    """``request`` without the images tools gave, for a model found not to see (Ollama says so per model)."""
    messages = tuple(replace(m, attachments=()) if m.role == "tool" else m for m in request.messages)
    return replace(request, messages=messages)


def refusal(inputs: Inputs, ref: ModelRef, part: Attachment) -> UnsupportedInputError:
    """The one line for a part ``ref`` cannot take, naming a model that does."""
    kind = "images" if part.kind == "image" else "PDF documents"
    return UnsupportedInputError(f"{ref} cannot take {kind}, so {_what(part)} was not sent{_instead(inputs)}.")


def refused(inputs: Inputs, ref: ModelRef, request: Request, error: ProviderError) -> UnsupportedInputError | None:
    """The one line for a provider's refusal of the images of a model we did not know (HTTP 400
    naming images): sent rather than refused on a guess, the provider decided. None for others."""
    parts = [a for m in request.messages for a in m.attachments if a.kind == "image"]
    if not parts or error.status != 400 or "image" not in error.said.lower():
        return None
    said = error.said.rstrip(".")
    return UnsupportedInputError(f"{ref} refused {_what(parts[0])}: {said} (HTTP 400){_instead(inputs)}.")


def _what(part: Attachment) -> str:
    return f"{part.name} ({part.describe()})" if part.name else part.describe()


def _instead(inputs: Inputs) -> str:
    return f"; use a model that does, e.g. {inputs.vision_example}" if inputs.vision_example else ""


def _fitted(message: Message, limits: images.ImageLimits) -> Message:
    if not message.attachments:
        return message
    return replace(message, attachments=tuple(images.fit(a, limits) for a in message.attachments))
