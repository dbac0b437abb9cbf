"""Alembic environment: runs on the connection walletguard hands it (see Database.migrate)."""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from walletguard.storage.tables import metadata
from walletguard.storage.types import UtcDateTime


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write walletguard's column types as the plain SQL types they store."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("walletguard migrations run through walletguard.storage.database")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
