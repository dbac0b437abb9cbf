"""The FastAPI application, built by `create_app` over a database and a decider (see
`api.server` for how `walletguard serve` composes them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

import walletguard
from walletguard.api import problems
from walletguard.api.batcher import Decider, DecisionBatcher
from walletguard.api.limits import BodyLimit
from walletguard.api.metrics import ApiMetrics
from walletguard.api.problems import PROBLEM
from walletguard.api.routes import (
    accounts,
    appeals,
    approvals,
    audit,
    case_actions,
    cases,
    events,
    health,
    ledger,
    lists,
    reconciliations,
    rules,
    self_service,
)
from walletguard.api.schemas import Problem
from walletguard.api.security import AuthFailures, KeyCache, RateLimiter
from walletguard.composition import Runtime, key_store
from walletguard.events.decode import EventDecoder
from walletguard.keys import KeyStore
from walletguard.ledger.settings import LedgerSettings, load_ledger_settings
from walletguard.storage import tables as t
from walletguard.storage.database import Database

ROUTERS = (
    events.router,
    accounts.router,
    self_service.router,
    ledger.router,
    reconciliations.router,
    cases.router,
    case_actions.router,
    appeals.router,
    approvals.router,
    audit.router,
    lists.router,
    rules.router,
    health.router,
)
"""Every router the service serves, in order."""


@dataclass(frozen=True)
class ApiSettings:
    max_body_bytes: int = 64 * 1024
    max_statement_bytes: int = reconciliations.MAX_STATEMENT_BYTES
    """The body limit of a channel statement upload (`POST /v1/reconciliations/...`)."""
    rate_per_second: int = 5000
    """Requests a second allowed per API key."""
    self_service_per_second: int = 5
    """Requests a second allowed per client address to the key-less self-service freeze."""
    auth_failures: int = 20
    """Failed authentications (401) allowed per client address, and per key id presented,
    in `auth_failure_window_seconds`; beyond, failing requests and those that would need a
    key's argon2 check get 429 until the window ends (keys already verified go through)."""
    auth_failure_window_seconds: int = 60
    rate_limit_namespace: str = "wg:rl"
    """Prefix of the rate limits' counters in Redis (one per deployment)."""
    max_batch: int = 256
    decision_timeout_seconds: float = 30.0
    """How long a request waits for its decision (a database stuck on a lock, a deciding
    process hung) before it is answered 503 with Retry-After; the event may still be
    decided, and sending it again then returns that decision."""
    key_refresh_seconds: float = 5.0
    refresh_seconds: float = 1.0
    """How soon a list change or a promoted ruleset reaches the engine."""
    checkpoint_seconds: float = 60.0
    """How often in-process feature state is checkpointed to the database (a restart
    re-applies the events stored since the last checkpoint). Measured at 1,000 events/s:
    every 15 s made the latency p99 worse than every 60 s — each checkpoint holds the
    database's write lock and forks, and many short stalls delayed more requests than
    fewer longer ones."""
    opentelemetry: bool = False
    """FastAPI's own OpenTelemetry spans, metrics and logs (off: the service exports
    Prometheus metrics, and the per-request provider look-ups cost ~4 % of its CPU)."""


def writer_thread(runtime: Runtime, settings: ApiSettings) -> DecisionBatcher:
    """Deciding in a writer thread on `runtime`'s engine (`serve --decide-in thread`, and
    the tests' services), which also checkpoints its in-process features."""
    runtime.engine.refresh_seconds = settings.refresh_seconds
    return DecisionBatcher(
        runtime.engine,
        max_batch=settings.max_batch,
        checkpoint=runtime.save_features,
        checkpoint_seconds=settings.checkpoint_seconds,
    )


def create_app(
    database: Database,
    settings: ApiSettings | None = None,
    redis: object | None = None,
    *,
    decider: Decider,
    keys: KeyStore | None = None,
    ledger_settings: LedgerSettings | None = None,
) -> FastAPI:
    """The HTTP service over `database`, where `decider` decides submitted events (and is
    closed when the service stops): a deciding process of its own (`DecisionProcess`), or
    a writer thread on an engine here (`writer_thread`).

    `redis`: a `redis.asyncio` client for rate limits shared by every worker (and the
    readiness check), used on the service's event loop only; `keys`: where the
    freeze-link secret and the audit signing key are (default: the installation's key
    store); `ledger_settings`: limits, approvals and statement formats (default:
    `$WALLETGUARD_LEDGER_CONFIG` or the bundled configuration)."""
    settings = settings or ApiSettings()

    def queue_depth() -> float:
        with database.reading() as conn:
            return float(
                conn.execute(
                    select(func.count()).select_from(t.cases).where(t.cases.c.status != "resolved")
                ).scalar()
                or 0
            )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.decider.close()  # in-process features are checkpointed: they survive a restart
        if redis is not None:
            await redis.aclose()  # type: ignore[attr-defined]

    app = FastAPI(
        title="walletguard",
        version=walletguard.__version__,
        summary="Real-time risk decisions for digital wallets",
        lifespan=lifespan,
        telemetry=None
        if settings.opentelemetry
        else {"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.database = database
    app.state.decoder = EventDecoder()
    app.state.decider = decider
    app.state.decision_timeout = settings.decision_timeout_seconds
    app.state.keys = KeyCache(
        database,
        refresh_seconds=settings.key_refresh_seconds,
        failures=AuthFailures(
            settings.auth_failures,
            settings.auth_failure_window_seconds,
            redis,
            namespace=f"{settings.rate_limit_namespace}:authfail",
        ),
    )
    app.state.limiter = RateLimiter(
        settings.rate_per_second, redis, namespace=settings.rate_limit_namespace
    )
    app.state.address_limiter = RateLimiter(
        settings.self_service_per_second,
        redis,
        namespace=f"{settings.rate_limit_namespace}:addr",
        what="from this address",
    )
    app.state.key_store = keys if keys is not None else key_store()
    app.state.ledger_settings = ledger_settings or load_ledger_settings()
    app.state.metrics = ApiMetrics(queue_depth)
    app.state.redis = redis
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        larger={"/v1/reconciliations/": settings.max_statement_bytes},
    )
    _document_problems(app)
    return app


def _document_problems(app: FastAPI) -> None:
    """Every error response is `application/problem+json` (see api/problems.py): say so in the
    OpenAPI document, for every operation and every 4xx/5xx it can answer, including the 401,
    403, 413 and 429 that authentication and limits add to every protected operation."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = original()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components.update(components["Problem"].pop("$defs", {}))
        content = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, item in document["paths"].items():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                if path.startswith("/v1/"):
                    for status in ("401", "403", "413", "422", "429"):
                        responses.setdefault(status, {"description": "Problem"})
                if "requestBody" in operation:
                    responses.setdefault("400", {"description": "The body is not parseable JSON"})
                for status, response in responses.items():
                    if status[0] in "45":
                        response["content"] = content
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
