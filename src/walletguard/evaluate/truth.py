"""Ground truth for an evaluation: which events were malicious, in which campaign, and who
took part (the simulator's `labels.jsonl`, `campaigns.jsonl` and `population.json`, or any
files in the same layout).

Events not in the labels are legit. Roles say whose account an event is on: a campaign's
`attacker` and `mule` accounts belong to fraudsters; `victim` and `target` accounts
belong to customers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from walletguard.events.timeparse import TimestampError, parse_rfc3339
from walletguard.kernel.errors import FieldProblem, InvalidInput
from walletguard.kernel.money import AmountError, parse_amount, to_units

FRAUDSTER_ROLES = frozenset({"attacker", "mule"})

VICTIM_STAGES = frozenset(
    {"victim_login", "victim_topup", "victim_topup_confirmation", "victim_payment"}
)
"""Stages in which the deceived customer acts, on their own phone (scams, mule rings)."""

_decode = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class EventLabel:
    """Why an event is malicious: its campaign, the campaign's typology and the step."""

    campaign_id: str
    typology: str
    stage: str


@dataclass(frozen=True, slots=True)
class Campaign:
    """One attack campaign as recorded when it started."""

    campaign_id: str
    typology: str
    started_at: datetime
    accounts: tuple[str, ...]
    roles: dict[str, tuple[str, ...]]
    money_at_risk: int
    """What the attackers set out to take, in units of 1/10,000."""
    currency: str

    def role_of(self, account_id: str) -> str | None:
        for role, members in self.roles.items():
            if account_id in members:
                return role
        return None


@dataclass
class GroundTruth:
    """Labels by event id, campaigns by id, and the simulated population's facts."""

    labels: dict[str, EventLabel] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    window: tuple[datetime, datetime] | None = None
    """The simulated window (events before it are account history)."""
    agents: tuple[str, ...] = ()
    """Accounts of cash-in/cash-out agents: legit businesses that look like mules."""
    population: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._fraudsters: frozenset[str] | None = None
        self._campaign_accounts: frozenset[str] | None = None

    @property
    def fraudster_accounts(self) -> frozenset[str]:
        """Accounts operated by fraudsters (attackers' and mules' wallets)."""
        if self._fraudsters is None:
            self._fraudsters = frozenset(
                a
                for c in self.campaigns.values()
                for role, members in c.roles.items()
                if role in FRAUDSTER_ROLES
                for a in members
            )
        return self._fraudsters

    @property
    def campaign_accounts(self) -> frozenset[str]:
        """Every account any campaign touched, customers included."""
        if self._campaign_accounts is None:
            self._campaign_accounts = frozenset(
                a for c in self.campaigns.values() for a in c.accounts
            )
        return self._campaign_accounts

    def in_window(self, at: datetime) -> bool:
        return self.window is None or self.window[0] <= at < self.window[1]

    @property
    def typologies(self) -> list[str]:
        seen: dict[str, None] = {}
        for campaign in self.campaigns.values():
            seen.setdefault(campaign.typology, None)
        for label in self.labels.values():
            seen.setdefault(label.typology, None)
        return list(seen)


def load_truth(
    labels: Path, campaigns: Path | None = None, population: Path | None = None
) -> GroundTruth:
    """Read ground truth files. Without `campaigns`/`population`, looks beside `labels` for
    `campaigns.jsonl` and `population.json` (both optional). A malformed line is refused
    with its file and line number."""
    truth = GroundTruth()
    for where, doc in _json_lines(labels):
        try:
            truth.labels[doc["event_id"]] = EventLabel(
                str(doc["campaign_id"]), str(doc["typology"]), str(doc.get("stage", ""))
            )
        except (KeyError, TypeError):
            raise _bad(where, "needs event_id, campaign_id and typology") from None
    campaigns = campaigns or _beside(labels, "campaigns.jsonl")
    if campaigns is not None:
        for where, doc in _json_lines(campaigns):
            record = _campaign(where, doc)
            truth.campaigns[record.campaign_id] = record
    population = population or _beside(labels, "population.json")
    if population is not None:
        _read_population(truth, population)
    return truth


def _beside(path: Path, name: str) -> Path | None:
    candidate = path.parent / name
    return candidate if candidate.is_file() else None


def _json_lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InvalidInput([FieldProblem(str(path), f"cannot read: {exc.strerror}")]) from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                doc = _decode.decode(line)
            except msgspec.DecodeError:
                raise _bad(where, "is not JSON") from None
            if not isinstance(doc, dict):
                raise _bad(where, "is not a JSON object")
            yield where, doc


def _campaign(where: str, doc: dict[str, Any]) -> Campaign:
    try:
        roles = {str(k): tuple(str(a) for a in v) for k, v in (doc.get("roles") or {}).items()}
        accounts = tuple(str(a) for a in doc.get("accounts") or ())
        return Campaign(
            campaign_id=str(doc["campaign_id"]),
            typology=str(doc["typology"]),
            started_at=parse_rfc3339(str(doc["started_at"])),
            accounts=accounts,
            roles=roles,
            money_at_risk=to_units(parse_amount(str(doc.get("money_at_risk", "0")))),
            currency=str(doc.get("currency", "CNY")),
        )
    except (KeyError, TypeError, AttributeError):
        raise _bad(where, "needs campaign_id, typology and started_at") from None
    except (TimestampError, ValueError, AmountError) as exc:
        raise _bad(where, str(exc)) from None


def _read_population(truth: GroundTruth, path: Path) -> None:
    try:
        doc = _decode.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError):
        raise _bad(path.name, "is not a readable JSON document") from None
    if not isinstance(doc, dict):
        raise _bad(path.name, "is not a JSON object")
    truth.population = doc
    window = doc.get("window")
    if isinstance(window, dict):
        try:
            truth.window = (parse_rfc3339(window["start"]), parse_rfc3339(window["end"]))
        except (KeyError, TypeError, TimestampError, ValueError):
            raise _bad(path.name, "window needs RFC 3339 start and end") from None
    agents = doc.get("agents")
    if isinstance(agents, list):
        truth.agents = tuple(str(a) for a in agents)


def _bad(where: str, problem: str) -> InvalidInput:
    return InvalidInput([FieldProblem(where, problem)])
