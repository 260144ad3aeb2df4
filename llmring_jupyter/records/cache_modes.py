"""The replay cache's modes and default place: what ``LLMMagics.cache`` and ``cache_path`` name.

Apart from :mod:`.replay`, so the settings can be declared at ``%load_ext`` without SQLite.
"""

from __future__ import annotations

from pathlib import Path

#: Where the cache lives unless ``LLMMagics.cache_path`` says otherwise: beside the
#: notebook (the kernel's working directory), in the folder llmring uses.
DEFAULT_PATH = Path(".llmring") / "cache.sqlite"
MODES = ("off", "replay", "refresh")
