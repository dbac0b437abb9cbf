"""`walletguard keys`: API keys for the HTTP service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from walletguard.access.keys import issue_key, revoke_key
from walletguard.access.roles import GRANTS, Role
from walletguard.cli.common import (
    ActorOption,
    DbOption,
    NewDbOption,
    err,
    failing_cleanly,
    markup,
    out,
    plain,
)
from walletguard.storage.database import open_database
from walletguard.storage.uow import SqlUnitOfWork

app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)


@app.command("create")
def create(
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    actor: ActorOption,
    owner: Annotated[
        str, typer.Option(help="Who or what uses the key (recorded as the actor).")
    ] = "",
    db: NewDbOption = None,
) -> None:
    """Create a key. The key alone goes to standard output, once; it is stored only hashed."""
    with failing_cleanly():
        database = open_database(db)
        uow = SqlUnitOfWork(database)
        at = datetime.now(UTC)
        key, plaintext = issue_key(
            uow.keys, owner=owner or role.value, role=role, at=at, created_by=actor
        )
        uow.audit.append(
            at=at,
            actor=actor,
            action="key.created",
            subject=f"key:{key.id}",
            payload={"role": role.value, "owner": key.owner},
        )
        uow.commit()
        uow.close()
    print(plaintext)
    err.print(
        markup(
            "key {} for {} with role {}: {}. It will not be shown again.",
            key.id,
            key.owner,
            role.value,
            ", ".join(sorted(p.value for p in GRANTS[role])),
        )
    )


@app.command("list")
def list_keys(db: DbOption = None) -> None:
    """Every key (never its secret)."""
    with failing_cleanly():
        uow = SqlUnitOfWork(open_database(db))
        keys = uow.keys.all()
        uow.close()
    table = Table(title="API keys", title_justify="left")
    for column in ("id", "owner", "role", "created", "by", "status"):
        table.add_column(column)
    for key in keys:
        status = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
        table.add_row(
            plain(key.id),
            plain(key.owner),
            key.role.value,
            f"{key.created_at:%Y-%m-%d %H:%M}",
            plain(key.created_by),
            status,
        )
    out.print(table)


@app.command("revoke")
def revoke(key_id: str, actor: ActorOption, db: DbOption = None) -> None:
    """Revoke a key (the service stops accepting it within seconds)."""
    with failing_cleanly():
        uow = SqlUnitOfWork(open_database(db))
        at = datetime.now(UTC)
        key = revoke_key(uow.keys, key_id, at=at)
        revoked_now = key.revoked_at == at
        if revoked_now:
            uow.audit.append(
                at=at, actor=actor, action="key.revoked", subject=f"key:{key.id}", payload={}
            )
        uow.commit()
        uow.close()
    if revoked_now:
        err.print(markup("key {} revoked", key_id))
    else:
        err.print(
            markup("key {} was already revoked at {:%Y-%m-%d %H:%M:%S} UTC", key_id, key.revoked_at)
        )
