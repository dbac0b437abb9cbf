"""What every SQL repository shares: its unit of work, and chunked IN queries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import ColumnElement, bindparam

if TYPE_CHECKING:
    from walletguard.storage.uow import SqlUnitOfWork

T = TypeVar("T")
CHUNK = 500
_MISSING: Any = object()


def among(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """`column IN (...)` with the values bound at execution as `values`, for statements
    built once at import: a statement with the list written into it is built, coerced value
    by value and keyed for the compiled cache at every call, per batch."""
    return column.in_(bindparam("values", expanding=True))


def cached_lookup(cache: dict[Any, Any], key: Any, load: Callable[[], T | None]) -> T | None:
    """`cache[key]`, loading it (and remembering a miss as None) the first time."""
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = cache[key] = load()
    return cast("T | None", found)


class SqlRepository:
    cache_name = ""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    @property
    def cached(self) -> dict[Any, Any]:
        return self.uow.cache.map(self.cache_name)


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
