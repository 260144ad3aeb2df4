"""Readying a kernel for live views at ``%load_ext``, without importing them.

Apart from :mod:`.outputs`, whose rendering loading must not import.
"""

from __future__ import annotations

from typing import Any


def prepare_views(ip: Any) -> None:
    """Open the kernel's view anchor (:class:`.widget.ViewAnchor`) at the end of the cell that loads us.

    Not in ``%load_ext`` itself, which stays instant: the widget libraries take
    longer to import than loading may. Still inside that cell, so the anchor
    exists before any answer.
    """

    def open_anchor(_result: Any = None) -> None:
        ip.events.unregister("post_run_cell", open_anchor)
        from .widget import anchor

        anchor()

    ip.events.register("post_run_cell", open_anchor)
