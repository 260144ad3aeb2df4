"""What produced an output, recorded in the notebook's metadata: never a key."""

from __future__ import annotations

from typing import Any

from ..providers.keys import scrub
from ..result import Result

_SECRET_WORDS = ("key", "secret", "password", "authorization", "credential")


def provenance(result: Result) -> dict[str, Any]:
    """Model, parameters (minus anything secret-looking), ending, usage, timings, cost and error."""
    params = {k: v for k, v in result.parameters.items() if not any(word in k.lower() for word in _SECRET_WORDS)}
    record: dict[str, Any] = {
        "requested": result.requested,
        "model": result.model,
        "parameters": {k: scrub(v) if isinstance(v, str) else v for k, v in params.items()},
        "finish_reason": result.finish_reason,
        "usage": result.usage.to_dict() if result.usage else None,
        "timings": result.timings.to_dict(),
    }
    if result.cost is not None:
        record["cost_usd"] = round(result.cost, 6)
    if result.error:
        record["error"] = result.error
    return record
