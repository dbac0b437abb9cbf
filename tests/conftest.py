"""Shared fixtures: real databases (SQLite and PostgreSQL), event builders.

PostgreSQL is used for real: each test session (each xdist worker) gets its own fresh
database on the server named by WALLETGUARD_TEST_PG_URL, dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support import EventFactory

PG_ADMIN_URL = os.environ.get(
    "WALLETGUARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def fresh_pg_database() -> str:
    """Create an empty PostgreSQL database and return its URL (dropped at session end)."""
    from sqlalchemy.engine import make_url

    admin_url = make_url(PG_ADMIN_URL)
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"wg_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _created_pg.append(name)
    return admin_url.set(database=name).render_as_string(hide_password=False)


_created_pg: list[str] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _created_pg:
        return
    from sqlalchemy.engine import make_url

    admin_url = make_url(PG_ADMIN_URL)
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in _created_pg:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: the same test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'walletguard.db'}"
    return fresh_pg_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'walletguard.db'}"


@pytest.fixture
def pg_url() -> str:
    return fresh_pg_database()


@pytest.fixture
def events() -> EventFactory:
    """Events with ids unique to the test, so tests can share a database."""
    return EventFactory(prefix=f"ev{uuid.uuid4().hex[:8]}")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands never touch the real data directory during tests."""
    monkeypatch.setenv("WALLETGUARD_HOME", str(tmp_path / "home"))
