"""`walletguard serve`: the HTTP service."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Annotated

import typer

from walletguard.api.environment import (
    ENV_DB,
    ENV_DECIDER,
    ENV_REDIS,
    ENV_REDIS_PREFIX,
    DecideIn,
)
from walletguard.cli.common import NewDbOption, err, failing_cleanly, markup
from walletguard.kernel.errors import ConfigurationError
from walletguard.storage.database import default_url, normalise_url, open_database


def serve_command(
    db: NewDbOption = None,
    redis: Annotated[
        str | None,
        typer.Option(
            help="Redis URL: feature state and rate limits shared by workers.", envvar=ENV_REDIS
        ),
    ] = None,
    redis_prefix: Annotated[
        str | None,
        typer.Option(
            help="Prefix of the feature keys in Redis (default wg:f:): two deployments can "
            "share one Redis under different prefixes.",
            envvar=ENV_REDIS_PREFIX,
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (needs PostgreSQL).", min=1)] = 1,
    decide_in: Annotated[
        DecideIn,
        typer.Option(
            help="Where each worker decides: in a process of its own (HTTP and deciding on "
            "two cores) or in a thread of the worker.",
            envvar=ENV_DECIDER,
        ),
    ] = DecideIn.PROCESS,
) -> None:
    """Run the HTTP API (OpenAPI document at /docs and /openapi.json).

    With no options: the embedded database, features in memory (checkpointed to the
    database every minute and at shutdown), one worker, which decides in a process of its
    own. With a PostgreSQL URL and a Redis URL it runs several workers deciding on the
    same state.
    """
    import uvicorn

    with failing_cleanly():
        url = normalise_url(default_url() if db is None else db)
        if workers > 1 and url.startswith("sqlite"):
            raise ConfigurationError(
                "several workers need a shared database: pass --db postgresql://..."
            )
        if workers > 1 and not redis:
            raise ConfigurationError(
                "several workers need shared feature state: pass --redis redis://..."
            )
        open_database(url).dispose()  # migrate once, before workers start
    os.environ[ENV_DB] = url
    os.environ[ENV_DECIDER] = decide_in.value
    if redis:
        os.environ[ENV_REDIS] = redis
    if redis_prefix:
        os.environ[ENV_REDIS_PREFIX] = redis_prefix
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # metrics from every worker, summed when scraped; the files go when the service stops
        metrics_dir = tempfile.mkdtemp(prefix="walletguard-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    err.print(
        markup(
            "walletguard serving on http://{}:{}  (database {}, {} worker{}) — API keys: "
            "`walletguard keys create`",
            host,
            port,
            url.split("@")[-1],
            workers,
            "s" if workers > 1 else "",
        )
    )
    try:
        uvicorn.run(
            "walletguard.api.server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
