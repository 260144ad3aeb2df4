"""What ``--dry-run`` shows instead of an answer."""

from __future__ import annotations

import html

from ..providers.tokens import estimate_prompt
from ..providers.types import Request


def dry_run_bundle(request: Request, dropped: int) -> dict[str, str]:
    """The exact messages that would be sent, and their size, as HTML and plain text."""
    tokens = estimate_prompt(request.messages)
    head = f"Dry run: {len(request.messages)} messages to {request.model}, about {tokens:,} tokens; nothing sent."
    if dropped:
        head += f" {dropped} earlier turn{'s' if dropped > 1 else ''} left out (history limit)."
    if params := request.parameters():
        head += f" Parameters: {params}."
    blocks = [
        f'<b>{html.escape(m.role)}</b><pre style="white-space:pre-wrap">{html.escape(m.content)}</pre>'
        for m in request.messages
    ]
    plain = "\n\n".join(f"[{m.role}]\n{m.content}" for m in request.messages)
    return {"text/html": f"<p>{html.escape(head)}</p>{''.join(blocks)}", "text/plain": f"{head}\n\n{plain}"}
