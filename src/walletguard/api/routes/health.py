"""Liveness, readiness and metrics (unauthenticated: for load balancers and Prometheus)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from walletguard.api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=Health, summary="The process is up")
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Health,
    summary="The database (and Redis, when used) answer, and events are being decided",
    responses={503: {"model": Health}},
)
async def ready(request: Request) -> Response:
    checks: dict[str, str] = {}

    def query_database() -> None:
        with request.app.state.database.reading() as conn:
            conn.execute(text("select 1"))

    try:
        await anyio.to_thread.run_sync(query_database)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"unavailable: {type(exc).__name__}"
    down = request.app.state.decider.ready()
    checks["decider"] = "ok" if down is None else f"unavailable: {down}"
    redis = request.app.state.redis
    if redis is not None:
        try:
            await redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unavailable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    body = Health(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4")
