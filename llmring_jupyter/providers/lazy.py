"""A package's public names, each imported from its module when first used (PEP 562).

``import llmring_jupyter`` and ``%load_ext`` must stay instant, so a package's
``__init__`` does not import the modules behind its names: it hands them here,
and a name's module is imported the first time the name is asked for. The
package imports the same names under ``TYPE_CHECKING``, for type checkers and IDEs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def exports(package: str, homes: Mapping[str, Iterable[str]]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose names ``homes[M]`` live in module ``M``
    (relative to ``package``)."""
    where = {name: module for module, names in homes.items() for name in names}

    def __getattr__(name: str) -> Any:
        home = where.get(name)
        if home is None:  # also how ``from package import submodule`` learns to import it
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home, package), name)
        setattr(sys.modules[package], name, value)  # asked once: later lookups are plain attributes
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
