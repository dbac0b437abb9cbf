"""Options and output helpers shared by the commands."""

from __future__ import annotations

import math
import os
import string
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.exc import DatabaseError

from walletguard.kernel.errors import WalletguardError
from walletguard.storage.database import default_url, sqlite_file

err = Console(stderr=True)
out = Console()

# Markup lives only in the literal templates this package writes. Every stored or
# user-given value (ids, notes, reasons, messages, paths...) reaches the console through
# `plain` or `markup`, as the exact text it is: a `[/sms]` in a note must not end a style
# that is not there (MarkupError), a `[link=...][white on white]` in an account id must not
# hide what an analyst copies, a `:warning:` must not turn into an emoji.

_FIELD = "\ue000"  # a private-use character: where a value goes in a template


def plain(value: object, style: str = "") -> Text:
    """A value shown verbatim, never read as markup or emoji codes (a table cell, a title);
    `style` (written here, e.g. "red") styles all of it."""
    return Text(str(value), style=style)


def markup(template: str, *values: object) -> Text:
    """`template` is markup written here, with `{}` fields (format specs allowed: `{:,}`);
    each value fills its field as plain text, styled by the markup around the field.

    `out.print(markup("[bold]{}[/] is {}", account_id, state))`"""
    formatter = string.Formatter()
    parts: list[str] = []
    filled: list[str] = []
    for literal, field, spec, conversion in formatter.parse(template):
        parts.append(literal.replace(_FIELD, ""))
        if field is None:
            continue
        if field:
            raise ValueError(f"markup() takes only automatic fields {{}}, not {{{field}}}")
        value = values[len(filled)]
        if conversion:
            value = formatter.convert_field(value, conversion)
        filled.append(format(value, spec or ""))
        parts.append(_FIELD)
    if len(filled) != len(values):
        raise ValueError(f"{len(values)} values for {len(filled)} fields in {template!r}")
    text = Text.from_markup("".join(parts), emoji=False)
    if not filled:
        return text
    at = [i for i, char in enumerate(text.plain) if char == _FIELD]
    pieces = text.divide(cut for i in at for cut in (i, i + 1))
    result = Text(end=text.end)
    values_left = iter(filled)
    for piece in pieces:
        if piece.plain != _FIELD:
            result.append_text(piece)
            continue
        value_text = Text(next(values_left), style=piece.style)
        for span in piece.spans:  # a span over a field covers all of it
            value_text.stylize(span.style)
        result.append_text(value_text)
    return result


_DB_HELP = (
    "SQLAlchemy URL (sqlite:///path or postgresql://...). "
    "Default: the embedded database in the data directory."
)


def _existing_database(value: str | None) -> str | None:
    """Refuse a SQLite file that is not there: a mistyped path would otherwise become a new,
    empty database that answers "nothing found" (and a write would land in it)."""
    path = sqlite_file(default_url() if value is None else value)
    if path is not None and not path.exists():
        raise typer.BadParameter(
            f"no database at {path}: this command works on stored state (replay or serve"
            " start a new database)"
        )
    return value


DbOption = Annotated[
    str | None,
    typer.Option("--db", help=_DB_HELP, envvar="WALLETGUARD_DB", callback=_existing_database),
]
"""A database that must exist already (every command that works on stored state)."""

NewDbOption = Annotated[
    str | None,
    typer.Option("--db", help=f"{_DB_HELP} Created if it does not exist.", envvar="WALLETGUARD_DB"),
]
"""A database the command creates when it is not there yet: commands that record something
new (replay, evaluate, serve, keys create, train, ledger transfer / transfers)."""


def finite(value: float | None) -> float | None:
    """Option callback: refuse `nan` and `inf`, which pass any min/max bound unnoticed."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


F = TypeVar("F", bound=Callable[..., Any])


def _named(value: str, what: str) -> str:
    if not value.strip():
        raise typer.BadParameter(f"must not be empty: name {what}")
    return value.strip()


def writable_file(path: Path | None) -> Path | None:
    """Option callback for a file a command will write: refused before any work is done
    (and so before anything is recorded as written) if it could not be created there."""
    if path is None or str(path) == "-":
        return path
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a directory, not a file")
    if not path.parent.is_dir():
        raise typer.BadParameter(f"{path.parent} is not an existing directory")
    if not os.access(path.parent, os.W_OK):
        raise typer.BadParameter(f"{path.parent} is not writable")
    return path


@contextmanager
def failing_cleanly() -> Iterator[None]:
    """Turn walletguard's own errors, and a database that cannot be used, into one red line
    and exit status 1."""
    try:
        yield
    except WalletguardError as exc:
        err.print(markup("[bold red]error:[/] {}", exc.message))
        sys.exit(1)
    except DatabaseError as exc:  # not a database, unreachable, refused credentials...
        err.print(markup("[bold red]error:[/] the database could not be used: {}", exc.orig))
        sys.exit(1)


ActorOption = Annotated[
    str,
    typer.Option(
        "--as",
        help="Who is acting (for the audit log). Default: $WALLETGUARD_ACTOR or the OS user.",
        envvar="WALLETGUARD_ACTOR",
        default_factory=lambda: "operator:" + (os.environ.get("USER") or "unknown"),
        callback=lambda value: _named(value, "who acts, e.g. ops:lee"),
    ),
]
"""Who acts. Declare it without a default value (it has a default factory)."""
