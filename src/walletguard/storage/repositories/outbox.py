"""The notification outbox table."""

from __future__ import annotations

from walletguard.kernel.canonical import canonical_json
from walletguard.notify.model import Notification
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository


class SqlOutbox(SqlRepository):
    def add(self, notification: Notification) -> None:
        self.uow.staging.insert_ignoring_duplicates(
            t.outbox,
            {
                "dedupe_key": notification.dedupe_key,
                "account_id": notification.account_id,
                "template": notification.template,
                "params": canonical_json(notification.params).decode(),
                "channels": ",".join(notification.channels),
                "created_at": notification.created_at,
                "status": notification.status.value,
                "attempts": notification.attempts,
                "next_attempt_at": notification.created_at,
                "last_error": None,
                "sent_at": None,
            },
        )
