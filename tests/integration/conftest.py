"""Integration fixtures: an engine over a real database, fresh for every test; feature stores
on the real Redis named by WALLETGUARD_TEST_REDIS_URL, each test under its own key prefix."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Harness
from walletguard.features.redis_store import RedisFeatureStore
from walletguard.storage.database import Database, open_database

REDIS_URL = os.environ.get("WALLETGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An open, migrated, empty database (each test runs on SQLite and on PostgreSQL;
    a module that overrides `db_url` with `pg_url` runs on PostgreSQL only)."""
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, fully migrated SQLite database to copy (migrating costs ~0.3 s)."""
    path = tmp_path_factory.mktemp("template") / "walletguard.db"
    open_database(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def harness(migrated_sqlite_template: Path, tmp_path: Path) -> Iterator[Harness]:
    """The default engine on its own embedded database."""
    path = tmp_path / "engine.db"
    shutil.copy(migrated_sqlite_template, path)
    h = Harness(f"sqlite:///{path}")
    yield h
    h.close()


RedisStores = Callable[..., RedisFeatureStore]


@pytest.fixture
def redis_stores() -> Iterator[RedisStores]:
    """Makes `RedisFeatureStore`s on the test Redis, all sharing one fresh key prefix (as the
    workers of one deployment would); every key under it is deleted afterwards."""
    prefix = f"wg:test:{uuid.uuid4().hex[:12]}:"
    made: list[RedisFeatureStore] = []

    def make(**options: Any) -> RedisFeatureStore:
        store = RedisFeatureStore(REDIS_URL, prefix=prefix, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()
    janitor = RedisFeatureStore(REDIS_URL, prefix=prefix)
    janitor.clear()
    janitor.close()
