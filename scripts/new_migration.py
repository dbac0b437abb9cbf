"""Write a new Alembic migration from the difference between the tables and the schema.

    python scripts/new_migration.py "add holds expiry index"

Autogenerates against a scratch SQLite database brought to the current head, then
opens the file for review: check it (especially server defaults and triggers) before committing.
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from walletguard.storage.database import Database, _alembic_config


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as scratch:
        database = Database(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        database.migrate()
        with database.engine.begin() as conn:
            config = _alembic_config()
            config.attributes["connection"] = conn
            command.revision(config, message=sys.argv[1], autogenerate=True)


if __name__ == "__main__":
    main()
