"""Integration fixtures: an engine over a real database, fresh for every test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Harness
from walletguard.storage.database import open_database


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
