"""Options and output helpers shared by the commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from walletguard.kernel.errors import WalletguardError

err = Console(stderr=True)
out = Console()

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLAlchemy URL (sqlite:///path or postgresql://...). "
        "Default: the embedded database in the data directory.",
        envvar="WALLETGUARD_DB",
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def failing_cleanly() -> Iterator[None]:
    """Turn walletguard's own errors into one red line and exit status 1."""
    try:
        yield
    except WalletguardError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        sys.exit(1)


ActorOption = Annotated[
    str,
    typer.Option(
        "--as",
        help="Who is acting (for the audit log). Default: $WALLETGUARD_ACTOR or the OS user.",
        envvar="WALLETGUARD_ACTOR",
        default_factory=lambda: "operator:" + (os.environ.get("USER") or "unknown"),
    ),
]
"""Who acts. Declare it without a default value (it has a default factory)."""
