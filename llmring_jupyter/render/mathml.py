"""``$…$`` and ``$$…$$`` in answers, typeset as MathML in the static answer.

MathML is typeset by the browser itself (Chromium, Firefox, Safari), so the
saved answer shows its formulas in JupyterLab, Notebook 7, VS Code and
nbconvert's HTML with no script, no CDN and no frontend typesetter; the live
view emits MathML too (KaTeX's MathML output), so the switch changes nothing.
The TeX stays in the plain-text output, and in each formula's annotation.
A formula that does not convert shows as its TeX source.

The TeX is the model's, and latex2mathml copies ``\\text{…}`` into its markup
unescaped and ``\\style``, ``\\href``, ``\\class`` into attributes, so its
element tree is rebuilt here: only the elements and attributes of the shared
allow-list (``rules.json``, which the live view applies to KaTeX's output too),
attribute values without ``url(…)`` or a scheme, and all text escaped.
"""

from __future__ import annotations

import html
import re
from typing import Any
from xml.etree.ElementTree import Element

from .rules import RULES, STYLES

_ELEMENTS = frozenset(RULES["mathml"]["elements"])
_ATTRIBUTES = frozenset(RULES["mathml"]["attributes"])
_VALUE = re.compile(RULES["mathml"]["value"])


def tex_to_mathml(tex: str, options: dict[str, Any]) -> str:
    """One formula as a ``<math>`` element (``options["display_mode"]``: a block)."""
    from latex2mathml.converter import convert_to_element

    display = "block" if options.get("display_mode") else "inline"
    try:
        body = "".join(_safe(child) for child in convert_to_element(tex, display=display))
    except Exception:  # noqa: BLE001 - latex2mathml raises many types on TeX it cannot read
        return html.escape(tex)
    annotation = f'<annotation encoding="application/x-tex">{html.escape(tex)}</annotation>'
    math = (
        f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{display}">'
        f"<semantics>{body}{annotation}</semantics></math>"
    )
    return f'<span style="{STYLES["math_block"]}">{math}</span>' if options.get("display_mode") else math


def _safe(element: Element) -> str:
    """``element`` rebuilt from the allow-list: an element not on it is dropped, its content kept."""
    inner = _text(element.text) + "".join(_safe(child) + _text(child.tail) for child in element)
    if element.tag not in _ELEMENTS:
        return inner
    attributes = "".join(
        f' {name}="{html.escape(value)}"'
        for name, value in element.attrib.items()
        if name in _ATTRIBUTES and _VALUE.match(value)
    )
    return f"<{element.tag}{attributes}>{inner}</{element.tag}>"


def _text(text: str | None) -> str:
    """Text escaped; latex2mathml writes symbols as character references (``&#x0003C;``), read first."""
    return html.escape(html.unescape(text or ""), quote=False)
