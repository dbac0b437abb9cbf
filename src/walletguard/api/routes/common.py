"""What every router documents: the problems an operation can answer."""

from __future__ import annotations

from typing import Any

from walletguard.api.schemas import Problem

_WHY = {
    401: "No valid API key",
    403: "The key's role does not allow this",
    404: "Not found",
    409: "Conflicts with the current state (already done, changed meanwhile)",
    413: "The body is too large",
    422: "Invalid input (field paths in `errors`) or refused by a business rule (`reason_code`)",
    429: "Rate limit exceeded (see Retry-After)",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Documented problem responses: 401, 403 and 429 always, and `statuses`."""
    return {
        status: {"model": Problem, "description": _WHY[status]}
        for status in sorted({401, 403, 429, *statuses})
    }
