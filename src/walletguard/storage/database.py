"""Opening a database by URL, with the same behaviour on SQLite and PostgreSQL.

SQLite (the embedded default) runs in WAL mode with foreign keys on; write
transactions begin IMMEDIATE so two writers queue instead of deadlocking.
`postgresql://` URLs use psycopg 3. The schema is brought up to date with the
Alembic migrations on open.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from walletguard.kernel.errors import ConfigurationError

MIGRATIONS = Path(__file__).with_name("migrations")


def data_dir() -> Path:
    """Where the embedded default keeps its files: `$WALLETGUARD_HOME`, else
    `$XDG_DATA_HOME/walletguard`, else `~/.local/share/walletguard`."""
    if home := os.environ.get("WALLETGUARD_HOME"):
        return Path(home)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "walletguard"


def default_url() -> str:
    """The embedded database in the data directory."""
    return f"sqlite:///{data_dir() / 'walletguard.db'}"


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and mean psycopg 3 by them."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"{url!r} is not a database URL (sqlite:///path or postgresql://...)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(f"{url!r}: walletguard runs on SQLite or PostgreSQL")
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        # each connection would get its own empty database, gone when the command ends
        raise ConfigurationError(f"{url!r} is in memory: give a file (sqlite:///path)")
    if parsed.get_backend_name() == "postgresql" and not parsed.database:
        # libpq would pick a server and a database by itself: never where the user meant
        raise ConfigurationError(f"{url!r} names no database (postgresql://host/database)")
    return parsed.render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for any other URL (or one that does not parse)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


class Database:
    """An opened database: a SQLAlchemy engine plus walletguard's conventions."""

    def __init__(self, url: str, *, synchronous: str = "FULL", pool_size: int = 5) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            kwargs["pool_size"] = pool_size
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, synchronous)

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to the newest migration (creating it on a new database), or to
        `revision` (an older one: what an installation of that version holds)."""
        try:
            with self.engine.begin() as conn:
                target = self._head_revision() if revision == "head" else revision
                if self._current_revision(conn) == target:
                    return
                config = _alembic_config()
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
        except OperationalError as exc:
            raise ConfigurationError(
                f"cannot open the database {self.safe_url}: {exc.orig}"
            ) from None

    @staticmethod
    def _current_revision(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def _head_revision() -> str | None:
        return ScriptDirectory.from_config(_alembic_config()).get_current_head()

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection in a write transaction (IMMEDIATE on SQLite), committed on success."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(walletguard_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads; its transaction is rolled back at the end."""
        with self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("walletguard_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def open_database(url: str | None = None, *, migrate: bool = True, **kwargs: Any) -> Database:
    """Open (and by default migrate) the database at `url`, or the embedded default."""
    database = Database(default_url() if url is None else url, **kwargs)
    if migrate:
        database.migrate()
    return database
