"""The rules the static answer shares with the live view, read from ``rules.json``.

One file, read by this package and bundled into the live view (``js/``), so a
safety rule, a style or a math setting cannot differ between the two.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RULES: dict[str, Any] = json.loads(Path(__file__).with_name("rules.json").read_text(encoding="utf-8"))
STYLES: dict[str, str] = RULES["styles"]
