"""Per-request access to the services held by the app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import TypeVar

from fastapi import Request
from sqlalchemy.exc import IntegrityError

from walletguard.kernel.errors import Conflict
from walletguard.ledger.settings import LedgerSettings
from walletguard.storage.database import Database
from walletguard.storage.ledger_session import LedgerSession
from walletguard.storage.uow import SqlUnitOfWork

U = TypeVar("U", bound=SqlUnitOfWork)


def unit_of_work(request: Request) -> AbstractContextManager[SqlUnitOfWork]:
    """A shared-mode unit of work, committed if the block succeeds, rolled back if not.

    A uniqueness the database enforces, broken because another request did the same thing
    at the same moment (e.g. redeemed the same freeze link), is a `Conflict`."""
    return _scope(request, SqlUnitOfWork)


def ledger_session(request: Request) -> AbstractContextManager[LedgerSession]:
    """`unit_of_work` that also answers the ledger's report queries (`.queries`)."""
    return _scope(request, LedgerSession)


def database(request: Request) -> Database:
    found: Database = request.app.state.database
    return found


@contextmanager
def _scope(request: Request, make: Callable[[Database], U]) -> Iterator[U]:
    uow = make(database(request))
    try:
        yield uow
        uow.commit()
    except IntegrityError:
        uow.rollback()
        raise Conflict(
            "another request changed the same thing at the same moment: nothing was done; "
            "read the current state and try again"
        ) from None
    except BaseException:
        uow.rollback()
        raise
    finally:
        uow.close()


def ledger_settings(request: Request) -> LedgerSettings:
    settings: LedgerSettings = request.app.state.ledger_settings
    return settings


def now() -> datetime:
    return datetime.now(UTC)
