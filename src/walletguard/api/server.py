"""Building the service from settings (command-line options passed through the environment,
so every uvicorn worker process builds the same service)."""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from walletguard.api.app import ApiSettings, create_app
from walletguard.api.environment import ENV_DB, ENV_RATE, ENV_REDIS, ENV_REDIS_PREFIX
from walletguard.composition import build_runtime, tune_gc_for_latency
from walletguard.features.store import FeatureStore


def app_from_env() -> FastAPI:
    """The app for one worker: database from $WALLETGUARD_DB (default: embedded); with
    $WALLETGUARD_REDIS, feature state and rate limits shared in Redis (so several workers
    decide on the same state; feature keys under $WALLETGUARD_REDIS_PREFIX), else features
    in this process (one worker)."""
    redis_url = os.environ.get(ENV_REDIS) or None
    redis: Any = None
    features: FeatureStore | None = None
    if redis_url:
        from redis.asyncio import Redis as AsyncRedis

        from walletguard.features.redis_store import DEFAULT_PREFIX, RedisFeatureStore

        redis = AsyncRedis.from_url(redis_url)  # rate limits and readiness, on the event loop
        features = RedisFeatureStore(
            redis_url, prefix=os.environ.get(ENV_REDIS_PREFIX) or DEFAULT_PREFIX
        )
    runtime = build_runtime(
        os.environ.get(ENV_DB) or None,
        exclusive=False,
        follow_stored_rulesets=True,
        features=features,
    )
    settings = ApiSettings(
        rate_per_second=int(os.environ.get(ENV_RATE, ApiSettings.rate_per_second))
    )
    app = create_app(runtime, settings, redis)
    # With the default settings, full collections over the restored feature state paused
    # every request for ~250 ms, ten times in 20 s under load: that was the latency p99.
    tune_gc_for_latency()
    return app
