"""Write a new Alembic migration from the difference between the tables and the schema.

    python scripts/new_migration.py "add holds expiry index"

Autogenerates against a scratch SQLite database brought to the current head, then
opens the file for review: check it (especially server defaults and triggers) before committing.
"""

import subprocess
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
            script = command.revision(config, message=sys.argv[1], autogenerate=True)
    # Tidy what Alembic wrote so it passes the project's lint and format checks.
    if script is not None and not isinstance(script, list):
        subprocess.run(["ruff", "check", "--fix", "-q", script.path], check=False)
        subprocess.run(["ruff", "format", "-q", script.path], check=False)


if __name__ == "__main__":
    main()
