"""The providers' batch APIs: the same requests as live answers, run within a day at half the price.

:mod:`.jobs` is what every provider shares (the job, its one set of statuses, the limits and
how rows are split into as few batches as they allow); one module per provider speaks its
batch API through the official SDK; :mod:`.demo` simulates one offline. :func:`api` finds the
module of a provider, importing its SDK only then.
"""

from __future__ import annotations

import importlib

from ..errors import ConfigurationError
from .jobs import BatchAPI

#: Providers with a batch API, by the module that speaks it.
_MODULES = {"openai": "openai", "anthropic": "anthropic", "google": "google", "demo": "demo"}


def api(provider: str) -> BatchAPI:
    """The batch client of ``provider``; one line when it has no batch API (Ollama, a backend)."""
    module = _MODULES.get(provider)
    if module is None:
        raise ConfigurationError(
            f"{provider} has no batch API: run the rows live (leave out --batch); "
            "--batch works with openai, anthropic, google and demo."
        )
    client: BatchAPI = importlib.import_module(f"{__name__}.{module}").API()
    return client
