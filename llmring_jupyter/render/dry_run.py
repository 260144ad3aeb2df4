"""What ``--dry-run`` shows instead of an answer."""

from __future__ import annotations

import base64
import contextlib
import html

from ..providers import images
from ..providers.redact import public
from ..providers.tokens import estimate_prompt
from ..providers.types import Attachment, Request
from .rules import STYLES

THUMBNAIL = 96  # pixels, the longer side of an image's preview


def dry_run_bundle(request: Request, dropped: int) -> dict[str, str]:
    """The exact messages that would be sent, and their size, as HTML and plain text.

    Each image or document is listed after its message's text with its estimated
    tokens, and an image with a small thumbnail (made here from the user's own bytes,
    never from model text), so what goes out is plain to see. Keys are hidden as
    everywhere else (:mod:`.._redact`), in the parameters and the messages.
    """
    tokens = estimate_prompt(request.messages)
    head = f"Dry run: {len(request.messages)} messages to {request.model}, about {tokens:,} tokens; nothing sent."
    if dropped:
        head += f" {dropped} earlier turn{'s' if dropped > 1 else ''} left out (history limit)."
    if params := request.parameters():
        head += f" Parameters: {public(params)}."
    if request.tools:
        head += f" Tools: {', '.join(t.name for t in request.tools)}."
    blocks = [
        f'<b>{html.escape(m.role)}</b><pre style="{STYLES["prose_pre"]}">{html.escape(public(m.content))}</pre>'
        + "".join(_part_html(a) for a in m.attachments)
        for m in request.messages
    ]
    plain = "\n\n".join(
        f"[{m.role}]\n{public(m.content)}" + "".join(f"\n[{_part_text(a)}]" for a in m.attachments)
        for m in request.messages
    )
    return {"text/html": f"<p>{html.escape(head)}</p>{''.join(blocks)}", "text/plain": f"{head}\n\n{plain}"}


def _part_text(a: Attachment) -> str:
    name = f" {a.name}" if a.name else ""
    n = images.part_tokens(a)
    return f"{a.kind}{name}: {a.describe()}, about {n:,} token{'s' if n != 1 else ''}"


def _part_html(a: Attachment) -> str:
    preview = ""
    with contextlib.suppress(ImportError):  # without Pillow, no preview: the line still says what it is
        preview = _preview(a)
    return f'<div class="llmring-part" style="margin:4px 0">{preview}{html.escape(_part_text(a))}</div>'


def _preview(a: Attachment) -> str:
    """A thumbnail of an image part (Pillow makes it); nothing for a document."""
    if a.kind != "image":
        return ""
    src = "data:image/png;base64," + base64.b64encode(images.thumbnail(a, THUMBNAIL)).decode()
    alt = html.escape(a.name or "image")
    style = f"vertical-align:middle;margin-right:8px;max-height:{THUMBNAIL}px"
    return f'<img src="{src}" alt="{alt}" style="{style}">'
