"""The notification outbox: queued in the decision's unit of work, claimed and recorded by
the dispatcher, read by the doors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import and_, or_, select, update

from walletguard.kernel.canonical import canonical_json
from walletguard.notify.model import (
    Contacts,
    Delivery,
    DeliveryStatus,
    Notification,
    OutboxEntry,
)
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository


class SqlOutbox(SqlRepository):
    """Implements `notify.model.Outbox` and `notify.dispatcher.DispatchOutbox`."""

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
                "claimed_by": None,
                "lease_until": None,
            },
        )

    # -- the dispatcher ----------------------------------------------------------------

    def claim(
        self, *, worker: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[OutboxEntry]:
        o = t.outbox.c
        stmt = (
            select(o.id)
            .where(
                o.status == DeliveryStatus.PENDING.value,
                o.next_attempt_at <= now,
                or_(o.lease_until.is_(None), o.lease_until < now),
            )
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        )
        if not self.uow.database.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        conn = self.uow.conn
        ids = list(conn.execute(stmt).scalars())
        if not ids:
            return []
        conn.execute(
            update(t.outbox).where(o.id.in_(ids)).values(claimed_by=worker, lease_until=lease_until)
        )
        return self.entries(ids)

    def record_attempt(self, entry: OutboxEntry, *, worker: str) -> bool:
        o = t.outbox.c
        conn = self.uow.conn
        stored = conn.execute(
            update(t.outbox)
            .where(and_(o.id == entry.id, o.claimed_by == worker))
            .values(
                status=entry.status.value,
                attempts=entry.attempts,
                next_attempt_at=entry.next_attempt_at,
                last_error=entry.last_error,
                sent_at=entry.sent_at,
                claimed_by=None,
                lease_until=None,
            )
        )
        if not stored.rowcount:
            return False
        for delivery in entry.deliveries.values():
            self.uow.staging.upsert(
                t.notification_deliveries,
                (entry.id, delivery.channel),
                {
                    "outbox_id": entry.id,
                    "channel": delivery.channel,
                    "status": delivery.status.value,
                    "attempts": delivery.attempts,
                    "recipient": delivery.recipient,
                    "last_error": delivery.last_error,
                    "updated_at": delivery.updated_at or entry.notification.created_at,
                    "sent_at": delivery.sent_at,
                },
            )
        return True

    # -- reading -----------------------------------------------------------------------

    def entries(self, ids: list[int]) -> list[OutboxEntry]:
        """The entries with these ids, with their deliveries, language and contacts."""
        if not ids:
            return []
        conn = self.uow.conn
        o = t.outbox.c
        rows = conn.execute(
            select(
                t.outbox,
                t.accounts.c.language,
                t.notify_contacts.c.email,
                t.notify_contacts.c.phone,
            )
            .select_from(
                t.outbox.outerjoin(t.accounts, t.accounts.c.account_id == o.account_id).outerjoin(
                    t.notify_contacts, t.notify_contacts.c.account_id == o.account_id
                )
            )
            .where(o.id.in_(ids))
            .order_by(o.id)
        ).all()
        deliveries: dict[int, dict[str, Delivery]] = {}
        d = t.notification_deliveries.c
        for row in conn.execute(select(t.notification_deliveries).where(d.outbox_id.in_(ids))):
            deliveries.setdefault(row.outbox_id, {})[row.channel] = Delivery(
                row.channel,
                DeliveryStatus(row.status),
                row.attempts,
                row.recipient,
                row.last_error,
                row.updated_at,
                row.sent_at,
            )
        return [_entry(row, deliveries.get(row.id, {})) for row in rows]

    def find(
        self,
        *,
        account_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[OutboxEntry]:
        """Newest first."""
        self.uow.flush()
        o = t.outbox.c
        stmt = select(o.id).order_by(o.id.desc()).limit(limit)
        if account_id is not None:
            stmt = stmt.where(o.account_id == account_id)
        if status is not None:
            stmt = stmt.where(o.status == status)
        ids = list(self.uow.conn.execute(stmt).scalars())
        return sorted(self.entries(ids), key=lambda e: -e.id)

    def set_contacts(self, account_id: str, contacts: Contacts, *, at: datetime) -> None:
        self.uow.staging.upsert(
            t.notify_contacts,
            (account_id,),
            {
                "account_id": account_id,
                "email": contacts.email,
                "phone": contacts.phone,
                "updated_at": at,
            },
        )

    def contacts(self, account_id: str) -> Contacts:
        row = self.uow.conn.execute(
            select(t.notify_contacts).where(t.notify_contacts.c.account_id == account_id)
        ).first()
        return Contacts() if row is None else Contacts(row.email, row.phone)


def _entry(row: Any, deliveries: dict[str, Delivery]) -> OutboxEntry:
    notification = Notification(
        dedupe_key=row.dedupe_key,
        account_id=row.account_id,
        template=row.template,
        params=msgspec.json.decode(row.params),
        created_at=row.created_at,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        channels=tuple(c for c in row.channels.split(",") if c),
    )
    return OutboxEntry(
        id=row.id,
        notification=notification,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        sent_at=row.sent_at,
        deliveries=deliveries,
        language=row.language or "en",
        contacts=Contacts(row.email, row.phone),
        claimed_by=row.claimed_by,
        lease_until=row.lease_until,
    )
