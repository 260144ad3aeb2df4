"""``$…$`` and ``$$…$$`` in answers, typeset as MathML in the static answer.

MathML is typeset by the browser itself (Chromium, Firefox, Safari), so the
saved answer shows its formulas in JupyterLab, Notebook 7, VS Code and
nbconvert's HTML with no script, no CDN and no frontend typesetter; the live
view emits MathML too (KaTeX's MathML output), so the switch changes nothing.
The TeX stays in the plain-text output, and in each formula's annotation.
A formula that does not convert shows as its TeX source.
"""

from __future__ import annotations

import html
from typing import Any

from .rules import STYLES


def tex_to_mathml(tex: str, options: dict[str, Any]) -> str:
    """One formula as a ``<math>`` element (``options["display_mode"]``: a block)."""
    from latex2mathml.converter import convert

    display = "block" if options.get("display_mode") else "inline"
    try:
        mathml = convert(tex, display=display)
    except Exception:  # noqa: BLE001 - latex2mathml raises many types on TeX it cannot read
        return html.escape(tex)
    annotation = f'<annotation encoding="application/x-tex">{html.escape(tex)}</annotation>'
    head, _, rest = mathml.partition(">")
    body = rest.removesuffix("</math>")
    math = f"{head}><semantics>{body}{annotation}</semantics></math>"
    return f'<span style="{STYLES["math_block"]}">{math}</span>' if options.get("display_mode") else math
