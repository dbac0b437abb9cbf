"""The dispatcher: deliver due outbox entries, retry with backoff, alert on final failure.

One pass (`dispatch_once`) handles up to `limit` due entries, one at a time:
1. claim the next due entry in a short transaction (a lease; on PostgreSQL
   `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take different entries). One entry
   per claim: the lease then covers that entry's sends only, not a whole batch waiting
   behind a slow channel (with no channel configured nothing is sent, and entries are
   claimed in bulk to be marked skipped);
2. outside any transaction, render the message and deliver every channel not yet sent,
   checking before each send that the claim is still ours with at least half the lease
   left: a dispatcher whose lease ran out (another may have taken the entry) sends nothing
   more and records nothing;
3. record the attempt in a second transaction, only if the claim is still ours: per
   channel status, the entry's status, the next attempt time, an audit record, and after
   the last failed attempt an alert filed under the account's case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from walletguard.audit.chain import AuditLog
from walletguard.cases.model import Alert, AlertKind, CaseRepository
from walletguard.cases.service import raise_alert
from walletguard.notify.model import (
    Channel,
    Delivery,
    DeliveryError,
    DeliveryStatus,
    Message,
    OutboxEntry,
    RetryPolicy,
)


class DispatchOutbox(Protocol):
    def claim(
        self, *, worker: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[OutboxEntry]:
        """Take up to `limit` due entries nobody else holds a live claim on."""

    def record_attempt(self, entry: OutboxEntry, *, worker: str) -> bool:
        """Store the entry's new state and deliveries and release the claim; False (nothing
        stored) when the claim is no longer `worker`'s."""

    def entries(self, ids: list[int]) -> list[OutboxEntry]:
        """The entries with these ids as stored now (with their claim)."""


class DispatchUnitOfWork(Protocol):
    @property
    def outbox(self) -> DispatchOutbox: ...

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


Renderer = Callable[[OutboxEntry, datetime], Message]


class ClaimLost(Exception):
    """The entry's lease ran out or another dispatcher holds it: stop working on it."""


@dataclass
class DispatchSummary:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    """Entries with no channel to send on (none configured, or no address)."""
    retrying: int = 0
    failed: int = 0
    lost_claims: int = 0
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, channel: str, status: DeliveryStatus) -> None:
        per = self.by_channel.setdefault(channel, {})
        per[status.value] = per.get(status.value, 0) + 1


class Dispatcher:
    def __init__(
        self,
        unit_of_work: Callable[[], DispatchUnitOfWork],
        channels: dict[str, Channel],
        renderer: Renderer,
        *,
        clock: Callable[[], datetime],
        retry: RetryPolicy | None = None,
        worker: str = "dispatcher",
    ) -> None:
        self.unit_of_work = unit_of_work
        self.channels = channels
        self.renderer = renderer
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.worker = worker

    def _in_uow(self, work: Callable[[DispatchUnitOfWork], object]) -> object:
        uow = self.unit_of_work()
        try:
            result = work(uow)
            uow.commit()
            return result
        except BaseException:
            uow.rollback()
            raise
        finally:
            uow.close()

    def claim(self, limit: int) -> list[OutboxEntry]:
        now = self.clock()
        claimed = self._in_uow(
            lambda uow: uow.outbox.claim(
                worker=self.worker, now=now, lease_until=now + self.retry.lease, limit=limit
            )
        )
        assert isinstance(claimed, list)
        return claimed

    def dispatch_once(self, limit: int = 100) -> DispatchSummary:
        """Claim, deliver and record up to `limit` due notifications, each claimed just
        before it is delivered; each entry at most once per pass."""
        summary = DispatchSummary()
        seen: set[int] = set()
        # With no channel nothing is sent, so nothing can go out twice: claim in bulk.
        size = 1 if self.channels else limit
        while summary.claimed < limit:
            claimed = self.claim(min(size, limit - summary.claimed))
            if not claimed:
                break
            again = [entry for entry in claimed if entry.id in seen]
            for entry in again:  # due again already (no backoff): leave it to the next pass
                self._in_uow(lambda uow, e=entry: uow.outbox.record_attempt(e, worker=self.worker))  # type: ignore[misc]
            for entry in claimed:
                if entry.id not in seen:
                    seen.add(entry.id)
                    summary.claimed += 1
                    self._dispatch(entry, summary)
            if again:
                break
        return summary

    def _dispatch(self, entry: OutboxEntry, summary: DispatchSummary) -> None:
        try:
            updated = self.deliver(entry, summary)
        except ClaimLost:
            summary.lost_claims += 1
            return
        stored = self._in_uow(lambda uow: self._record(uow, updated))
        if not stored:
            summary.lost_claims += 1
        elif updated.status is DeliveryStatus.SENT:
            summary.sent += 1
        elif updated.status is DeliveryStatus.SKIPPED:
            summary.skipped += 1
        elif updated.status is DeliveryStatus.FAILED:
            summary.failed += 1
        else:
            summary.retrying += 1

    def _check_claim(self, entry: OutboxEntry) -> None:
        """Raise `ClaimLost` unless the entry is still claimed by us with at least half the
        lease left: enough for one send to finish before anyone else may take it."""
        stored = self._in_uow(lambda uow: uow.outbox.entries([entry.id]))
        assert isinstance(stored, list)
        held = stored[0] if stored and stored[0].claimed_by == self.worker else None
        if held is None or held.lease_until is None:
            raise ClaimLost
        if held.lease_until - self.clock() < self.retry.lease / 2:
            raise ClaimLost

    def deliver(self, entry: OutboxEntry, summary: DispatchSummary | None = None) -> OutboxEntry:
        """Try every channel of `entry` not yet sent; returns the entry as it now stands.
        Raises `ClaimLost`, having sent nothing more, when the claim is no longer ours."""
        at = self.clock()
        note = entry.notification
        deliveries = dict(entry.deliveries)
        message: Message | None = None
        render_error = None
        try:
            message = self.renderer(entry, at)
        except Exception as exc:  # a broken template must not stop the other messages
            render_error = f"could not render {note.template}: {exc}"
        for name in note.channels:
            current = deliveries.get(name) or Delivery(name, DeliveryStatus.PENDING)
            if current.done:
                continue
            channel = self.channels.get(name)
            recipient = channel.recipient(entry) if channel is not None else None
            if channel is None or recipient is None:
                why = "channel not configured" if channel is None else "no address for this user"
                result = replace(
                    current, status=DeliveryStatus.SKIPPED, last_error=why, updated_at=at
                )
            elif message is None:
                result = replace(
                    current,
                    status=DeliveryStatus.FAILED,
                    attempts=current.attempts + 1,
                    last_error=render_error,
                    updated_at=at,
                )
            else:
                self._check_claim(entry)
                try:
                    channel.send(
                        message, recipient, dedupe_key=f"{note.dedupe_key}:{name}", entry=entry
                    )
                except DeliveryError as exc:
                    result = replace(
                        current,
                        status=DeliveryStatus.FAILED,
                        attempts=current.attempts + 1,
                        recipient=recipient,
                        last_error=str(exc),
                        updated_at=at,
                    )
                else:
                    result = replace(
                        current,
                        status=DeliveryStatus.SENT,
                        attempts=current.attempts + 1,
                        recipient=recipient,
                        last_error=None,
                        updated_at=at,
                        sent_at=at,
                    )
            deliveries[name] = result
            if summary is not None:
                summary.count(name, result.status)
        attempts = entry.attempts + 1
        errors = [
            f"{d.channel}: {d.last_error}"
            for d in deliveries.values()
            if d.status is DeliveryStatus.FAILED
        ]
        if not errors:
            sent = any(d.status is DeliveryStatus.SENT for d in deliveries.values())
            return replace(
                entry,
                status=DeliveryStatus.SENT if sent else DeliveryStatus.SKIPPED,
                attempts=attempts,
                deliveries=deliveries,
                sent_at=at if sent else None,
                last_error=None,
                next_attempt_at=None,
            )
        if attempts >= self.retry.max_attempts:
            return replace(
                entry,
                status=DeliveryStatus.FAILED,
                attempts=attempts,
                deliveries=deliveries,
                last_error="; ".join(errors),
                next_attempt_at=None,
            )
        return replace(
            entry,
            status=DeliveryStatus.PENDING,
            attempts=attempts,
            deliveries=deliveries,
            last_error="; ".join(errors),
            next_attempt_at=at + self.retry.delay(attempts),
        )

    def _record(self, uow: DispatchUnitOfWork, entry: OutboxEntry) -> bool:
        if not uow.outbox.record_attempt(entry, worker=self.worker):
            return False
        at = self.clock()
        note = entry.notification
        channels = {d.channel: d.status.value for d in entry.deliveries.values()}
        payload = {
            "outbox_id": entry.id,
            "dedupe_key": note.dedupe_key,
            "template": note.template,
            "attempt": entry.attempts,
            "channels": channels,
        }
        if entry.status is DeliveryStatus.SENT:
            action = "notification.sent"
        elif entry.status is DeliveryStatus.SKIPPED:
            action = "notification.skipped"
        elif entry.status is DeliveryStatus.FAILED:
            action = "notification.failed"
            payload["error"] = entry.last_error
        else:
            action = "notification.retry_scheduled"
            payload["error"] = entry.last_error
            payload["next_attempt_at"] = (
                entry.next_attempt_at.isoformat() if entry.next_attempt_at else None
            )
        uow.audit.append(
            at=at,
            actor=self.worker,
            action=action,
            subject=f"account:{note.account_id}",
            payload=payload,
        )
        if entry.status is DeliveryStatus.FAILED:
            alert = Alert(
                id=f"alert-notify-{entry.id}",
                account_id=note.account_id,
                kind=AlertKind.NOTIFICATION_FAILED,
                event_id=None,
                risk_level="medium",
                score=0,
                amount_units=0,
                currency=None,
                summary=f"notification {note.template} could not be delivered after "
                f"{entry.attempts} attempts: {entry.last_error}",
                created_at=at,
            )
            case, opened = raise_alert(uow.cases, alert)
            uow.audit.append(
                at=at,
                actor=self.worker,
                action="case.opened" if opened else "case.alert_added",
                subject=f"case:{case.id}",
                payload={"alert_id": alert.id, "kind": alert.kind.value, "outbox_id": entry.id},
            )
        return True
