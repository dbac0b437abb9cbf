"""The SQL tables, one module per domain. Alembic migrations (storage/migrations) create
and evolve them.

Money is integer units of 1/10,000 (BIGINT); times are UTC; documents (events,
decisions, audit payloads) are stored as the exact JSON text that was hashed.
"""

from walletguard.storage.tables.access import *  # noqa: F403
from walletguard.storage.tables.accounts import *  # noqa: F403
from walletguard.storage.tables.approvals import *  # noqa: F403
from walletguard.storage.tables.audit import *  # noqa: F403
from walletguard.storage.tables.base import ID as ID
from walletguard.storage.tables.base import metadata as metadata
from walletguard.storage.tables.cases import *  # noqa: F403
from walletguard.storage.tables.core import *  # noqa: F403
from walletguard.storage.tables.graph import *  # noqa: F403
from walletguard.storage.tables.ledger import *  # noqa: F403
from walletguard.storage.tables.notify import *  # noqa: F403
from walletguard.storage.tables.scoring import *  # noqa: F403
