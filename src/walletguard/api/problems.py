"""Errors as RFC 9457 problem details (`application/problem+json`), with field paths."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from walletguard.kernel.errors import (
    ConfigurationError,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    Refused,
    WalletguardError,
)

PROBLEM = "application/problem+json"

_STATUS: list[tuple[type[WalletguardError], int]] = [
    (InvalidInput, 422),
    (ConfigurationError, 422),
    (NotFound, 404),
    (Conflict, 409),
    (IllegalTransition, 409),
    (Refused, 422),
]


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def problem_for(exc: WalletguardError) -> JSONResponse:
    status = next((s for kind, s in _STATUS if isinstance(exc, kind)), 400)
    extra: dict[str, Any] = {"code": exc.code}
    if isinstance(exc, InvalidInput):
        extra["errors"] = [{"path": p.path, "message": p.message} for p in exc.problems]
    if isinstance(exc, Refused):
        extra["reason_code"] = exc.reason_code
    return problem(status, type(exc).__name__, exc.message, **extra)


def install(app: FastAPI) -> None:
    """Every error the API returns is a problem document."""

    @app.exception_handler(WalletguardError)
    async def _domain(_: Request, exc: WalletguardError) -> JSONResponse:
        return problem_for(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_problem(e) for e in exc.errors()]
        return problem(
            422,
            "InvalidInput",
            "; ".join(f"{e['path']}: {e['message']}" for e in errors),
            code="invalid_input",
            errors=errors,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Starlette logs the exception, with its traceback, after this answer is sent.
        return problem(
            500,
            "Internal error",
            "the request met an internal error (logged)",
            code="internal_error",
        )

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        phrase = HTTPStatus(exc.status_code).phrase
        return problem(
            exc.status_code,
            phrase,
            str(exc.detail),
            headers=dict(exc.headers or {}),
            code=phrase.lower().replace(" ", "_"),
        )


def _field_problem(error: Any) -> dict[str, str]:
    """A request validation error as a field path (`$.a[0].b`) and what is wrong there."""
    loc = error["loc"]
    if error.get("type") == "json_invalid":
        # loc is ("body", character offset): a place in the text, not a field
        where = f" at character {loc[1]}" if len(loc) > 1 else ""
        reason = error.get("ctx", {}).get("error", "")
        return {"path": "$", "message": f"not valid JSON{where}: {reason}".rstrip(": ")}
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
    return {"path": path, "message": error["msg"]}
