"""The FastAPI application. Built by `create_app` from a runtime (see composition)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import func, select

import walletguard
from walletguard.api import problems
from walletguard.api.batcher import DecisionBatcher
from walletguard.api.limits import BodyLimit
from walletguard.api.metrics import ApiMetrics
from walletguard.api.routes import events, health, lists, rules
from walletguard.api.security import KeyCache, RateLimiter
from walletguard.composition import Runtime
from walletguard.events.decode import EventDecoder
from walletguard.storage import tables as t


@dataclass(frozen=True)
class ApiSettings:
    max_body_bytes: int = 64 * 1024
    rate_per_second: int = 5000
    """Requests a second allowed per API key."""
    max_batch: int = 256
    key_refresh_seconds: float = 5.0


def create_app(
    runtime: Runtime, settings: ApiSettings | None = None, redis: object | None = None
) -> FastAPI:
    """The HTTP service over `runtime` (whose engine decides in shared mode)."""
    settings = settings or ApiSettings()

    def queue_depth() -> float:
        with runtime.database.reading() as conn:
            return float(
                conn.execute(
                    select(func.count()).select_from(t.cases).where(t.cases.c.status != "resolved")
                ).scalar()
                or 0
            )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.batcher.close()

    app = FastAPI(
        title="walletguard",
        version=walletguard.__version__,
        summary="Real-time risk decisions for digital wallets",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.decoder = EventDecoder()
    app.state.batcher = DecisionBatcher(runtime.engine, max_batch=settings.max_batch)
    app.state.keys = KeyCache(runtime.database, refresh_seconds=settings.key_refresh_seconds)
    app.state.limiter = RateLimiter(settings.rate_per_second, redis)
    app.state.metrics = ApiMetrics(queue_depth)
    app.state.redis = redis
    problems.install(app)
    for router in (events.router, lists.router, rules.router, health.router):
        app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
