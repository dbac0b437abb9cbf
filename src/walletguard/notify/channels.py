"""The delivery channels: a signed webhook to the wallet's push service, and e-mail and
SMS through Apprise (any Apprise URL: SMTP `mailto://`, SMS gateways, or a generic
`json://` / `form://` endpoint)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import apprise
import httpx

from walletguard.kernel.canonical import canonical_json
from walletguard.notify import webhook
from walletguard.notify.model import DeliveryError, Message, OutboxEntry


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookChannel:
    """POSTs the message as JSON, signed (see `notify.webhook`), to the push service."""

    name = "push"

    def __init__(
        self,
        url: str,
        keys: Sequence[tuple[str, bytes]],
        *,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.url = url
        self.keys = list(keys)
        self.timeout = timeout
        self.clock = clock

    def recipient(self, entry: OutboxEntry) -> str | None:
        return entry.notification.account_id

    def send(
        self, message: Message, recipient: str, *, dedupe_key: str, entry: OutboxEntry
    ) -> None:
        note = entry.notification
        body = canonical_json(
            {
                "dedupe_key": dedupe_key,
                "account_id": recipient,
                "template": note.template,
                "language": message.language,
                "subject": message.subject,
                "body": message.body,
                "freeze_url": message.freeze_url,
                "event_id": note.params.get("event_id"),
                "occurred_at": note.params.get("occurred_at"),
            }
        )
        headers = {
            "Content-Type": "application/json",
            webhook.IDEMPOTENCY_HEADER: dedupe_key,
            **webhook.sign(body, self.keys, at=self.clock()),
        }
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"push service unreachable: {exc}") from None
        if response.status_code >= 300:
            raise DeliveryError(f"push service answered {response.status_code}")


class AppriseChannel:
    """E-mail or SMS through an Apprise URL naming the user's address with `{email}` or
    `{phone}`, e.g. `mailtos://user:pass@smtp.example.com?from=alerts@example.com&to={email}`
    or `json://sms-gateway.internal/send?:to={phone}`. Sent as plain text: e-mail is one
    text/plain part with the message's lines, and nothing in it is rendered as markup."""

    def __init__(self, name: str, url_template: str) -> None:
        if name not in ("email", "sms"):
            raise ValueError(f"unknown Apprise channel {name}")
        self.name = name
        self.url_template = url_template
        self._field = "email" if name == "email" else "phone"

    def recipient(self, entry: OutboxEntry) -> str | None:
        contacts = entry.contacts
        return contacts.email if self.name == "email" else contacts.phone

    def send(
        self, message: Message, recipient: str, *, dedupe_key: str, entry: OutboxEntry
    ) -> None:
        url = self.url_template.replace("{" + self._field + "}", quote(recipient, safe="@"))
        if self.name == "email":
            url += (
                ("&" if "?" in url else "?") + "+X-Walletguard-Dedupe=" + quote(dedupe_key, safe="")
            )
        sender = apprise.Apprise()
        if not sender.add(url):
            raise DeliveryError(f"the {self.name} URL is not a valid Apprise URL")
        with apprise.LogCapture(level=apprise.logging.WARNING) as captured:  # type: ignore[no-untyped-call]
            # Plain text: the body quotes client-supplied facts (a device model may be
            # `<a href=...>`), and Apprise's default for e-mail is HTML, which also
            # loses the line breaks.
            text = apprise.NotifyFormat.TEXT
            if self.name == "email":
                ok = sender.notify(title=message.subject, body=message.body, body_format=text)
            else:
                ok = sender.notify(title="", body=message.short, body_format=text)
            log = captured.getvalue().strip()
        if not ok:
            last = log.splitlines()[-1] if log else "no detail"
            raise DeliveryError(f"{self.name} delivery failed: {last}")
