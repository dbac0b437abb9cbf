"""Per-request access to the services held by the app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from fastapi import Request

from walletguard.storage.uow import SqlUnitOfWork


@contextmanager
def unit_of_work(request: Request) -> Iterator[SqlUnitOfWork]:
    """A shared-mode unit of work, committed if the block succeeds, rolled back if not."""
    uow = SqlUnitOfWork(request.app.state.runtime.database)
    try:
        yield uow
        uow.commit()
    except BaseException:
        uow.rollback()
        raise
    finally:
        uow.close()


def now() -> datetime:
    return datetime.now(UTC)
