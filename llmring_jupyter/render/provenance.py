"""What produced an output, recorded in the notebook's metadata: never a key."""

from __future__ import annotations

from typing import Any

from ..providers.redact import public
from ..result import Result


def provenance(result: Result) -> dict[str, Any]:
    """Model, parameters (minus anything secret: see _redact), ending, usage, timings, cost and error."""
    record: dict[str, Any] = {
        "requested": result.requested,
        "model": result.model,
        "parameters": public(result.parameters),
        "finish_reason": result.finish_reason,
        "usage": result.usage.to_dict() if result.usage else None,
        "timings": result.timings.to_dict(),
    }
    if result.cost is not None:
        record["cost_usd"] = round(result.cost, 6)
    if result.tool_calls:
        record["steps"] = result.steps
        record["tool_calls"] = [{"name": r.name, "status": r.status, "seconds": r.seconds} for r in result.tool_calls]
    if result.error:
        record["error"] = result.error
    if result.retries:
        record["attempts"] = result.attempts
        record["retries"] = [r.to_dict() for r in result.retries]
    if result.replayed is not None:
        record["replayed"] = {"first_answered_at": round(result.replayed.answered_at), "model": result.replayed.model}
    return record
