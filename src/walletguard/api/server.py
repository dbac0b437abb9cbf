"""Building the service from settings (command-line options passed through the environment,
so every uvicorn worker process builds the same service)."""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from walletguard.api.app import ApiSettings, create_app, writer_thread
from walletguard.api.decision_process import (
    Checkpoints,
    DeciderSpec,
    DecisionProcess,
    InlineCheckpoints,
)
from walletguard.api.environment import (
    ENV_DB,
    ENV_DECIDER,
    ENV_RATE,
    ENV_REDIS,
    ENV_REDIS_PREFIX,
    DecideIn,
)
from walletguard.composition import Runtime, build_runtime, tune_gc_for_latency
from walletguard.decisions.engine import Engine
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.store import FeatureStore
from walletguard.kernel.errors import ConfigurationError
from walletguard.storage.database import open_database
from walletguard.storage.forked_checkpoints import ForkedCheckpoints


def app_from_env() -> FastAPI:
    """The app for one worker: database from $WALLETGUARD_DB (default: embedded); with
    $WALLETGUARD_REDIS, feature state and rate limits shared in Redis (so several workers
    decide on the same state; feature keys under $WALLETGUARD_REDIS_PREFIX), else features
    in this process (one worker); deciding where $WALLETGUARD_DECIDER says (`DecideIn`,
    default: a process of its own)."""
    db_url = os.environ.get(ENV_DB) or None
    redis_url = os.environ.get(ENV_REDIS) or None
    redis_prefix = os.environ.get(ENV_REDIS_PREFIX) or None
    try:
        decide_in = DecideIn(os.environ.get(ENV_DECIDER) or DecideIn.PROCESS.value)
    except ValueError:
        choices = ", ".join(d.value for d in DecideIn)
        raise ConfigurationError(f"{ENV_DECIDER} must be one of {choices}") from None
    settings = ApiSettings(
        rate_per_second=int(os.environ.get(ENV_RATE, ApiSettings.rate_per_second))
    )
    redis: Any = None
    if redis_url:
        from redis.asyncio import Redis as AsyncRedis

        redis = AsyncRedis.from_url(redis_url)  # rate limits and readiness, on the event loop
    if decide_in is DecideIn.THREAD:
        runtime = decision_runtime(db_url, redis_url, redis_prefix)
        decider = writer_thread(runtime, settings)
        app = create_app(runtime.database, settings, redis, decider=decider)
    else:
        # This process serves HTTP and reads and acts on stored state; the engine, with
        # the IP data, rulesets, models and feature state it loads, lives in the deciding
        # process only.
        spec = DeciderSpec(
            build=decision_engine,
            options={
                "db_url": db_url,
                "redis_url": redis_url,
                "redis_prefix": redis_prefix,
                "refresh_seconds": settings.refresh_seconds,
            },
            max_batch=settings.max_batch,
            checkpoint_seconds=settings.checkpoint_seconds,
        )
        app = create_app(open_database(db_url), settings, redis, decider=DecisionProcess(spec))
    # With the default settings, full collections over the restored feature state paused
    # every request for ~250 ms, ten times in 20 s under load: that was the latency p99.
    tune_gc_for_latency()
    return app


def decision_runtime(
    db_url: str | None, redis_url: str | None, redis_prefix: str | None
) -> Runtime:
    """The runtime that decides the service's events: the stored, promoted ruleset; features
    in Redis when `redis_url` is given, else in this process (restored from the database)."""
    features: FeatureStore | None = None
    if redis_url:
        from walletguard.features.redis_store import DEFAULT_PREFIX, RedisFeatureStore

        features = RedisFeatureStore(redis_url, prefix=redis_prefix or DEFAULT_PREFIX)
    return build_runtime(db_url, exclusive=False, follow_stored_rulesets=True, features=features)


def decision_engine(
    db_url: str | None, redis_url: str | None, redis_prefix: str | None, refresh_seconds: float
) -> tuple[Engine, Checkpoints]:
    """Run in the deciding process: its engine, and how to checkpoint its features
    (in-process ones by a forked copy, so that deciding does not stop meanwhile)."""
    runtime = decision_runtime(db_url, redis_url, redis_prefix)
    runtime.engine.refresh_seconds = refresh_seconds
    tune_gc_for_latency()
    if isinstance(runtime.features, MemoryFeatureStore) and hasattr(os, "fork"):
        return runtime.engine, ForkedCheckpoints(runtime.checkpointer, runtime.features)
    return runtime.engine, InlineCheckpoints(runtime.save_features)
