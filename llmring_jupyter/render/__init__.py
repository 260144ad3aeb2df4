"""Everything an answer is shown as once it is no longer live, one concern per module.

- :mod:`.bundle` — the static HTML + text answer that replaces the live view
- :mod:`.markdown` — untrusted markdown to safe HTML, code highlighted
- :mod:`.data` — a JSON answer's value (``--schema``) as a table or a tree
- :mod:`.code` — the code of an answer (``--format code``)
- :mod:`.copy_button` — the Copy button's script, a constant
- :mod:`.footer` — the footer line
- :mod:`.provenance` — the notebook metadata of an answer
- :mod:`.dry_run` — what ``--dry-run`` shows
- :mod:`.tool_calls` — a tool call's block (live messages, static blocks)
- :mod:`.thinking` — a thinking phase's section (live messages, static blocks)
- :mod:`.blocks` — the text with its tool calls and thinking where they happened
"""

from .bundle import bundle
from .code import code_of
from .copy_button import COPY_SCRIPT
from .dry_run import dry_run_bundle
from .footer import FOOTER_STYLE, footer_text
from .markdown import answer_html
from .provenance import provenance

__all__ = [
    "COPY_SCRIPT",
    "FOOTER_STYLE",
    "answer_html",
    "bundle",
    "code_of",
    "dry_run_bundle",
    "footer_text",
    "provenance",
]
