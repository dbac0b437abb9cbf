"""Shapes of request and response bodies, for validation and the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from walletguard.approvals.model import ApprovalRequest, ApprovalStatus
from walletguard.kernel.money import format_amount, from_units

NO_NUL = r"^[^\x00]*$"
"""Text that PostgreSQL can store: anything but NUL."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00]+$")]
"""An id given in a body (account, device, token...): as long as the event contract's."""

Reason = Annotated[
    str, StringConstraints(min_length=1, max_length=2000, pattern=r"^[^\x00]*[^\s\x00][^\x00]*$")
]
"""Why a person acts: required (more than blanks), kept in the audit log."""

Money = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2,4}$", examples=["1250.00"])]
"""An amount as a decimal string in major units (never a float)."""

AmountIn = Annotated[str, Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,4})?$", examples=["1250.00"])]
"""An amount given: a non-negative decimal string with at most four places."""


def money(units: int) -> str:
    return format_amount(from_units(units))


class Strict(BaseModel):
    """A request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class ReasonIn(Strict):
    reason: Reason


class ApprovalOut(BaseModel):
    """A maker-checker request: what waits for whom."""

    id: str
    action: str
    subject: str
    requested_by: str
    reason: str
    required: int
    approvers: list[str]
    missing: int
    status: ApprovalStatus
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, request: ApprovalRequest) -> ApprovalOut:
        return cls(
            id=request.id,
            action=request.action,
            subject=request.subject,
            requested_by=request.requested_by,
            reason=request.reason,
            required=request.required,
            approvers=list(request.approvers),
            missing=request.missing,
            status=request.status,
            created_at=request.created_at,
            decided_at=request.decided_at,
            decided_by=request.decided_by,
            payload=request.payload,
        )


class ReasonOut(BaseModel):
    code: str
    message: str
    score: int


class DecisionOut(BaseModel):
    """The contract's decision."""

    model_config = ConfigDict(extra="forbid")

    event_id: str
    decision: Literal["allow", "challenge", "review", "block"]
    risk_level: Literal["none", "low", "medium", "high", "critical"]
    score: int = Field(ge=0, le=1000)
    reasons: list[ReasonOut]
    actions: list[str]
    account_state: Literal["active", "restricted", "frozen", "locked", "closed"]
    ruleset_version: str
    model_version: str | None
    challenge_id: str | None = None
    locked_until: str | None = None
    hold_id: str | None = None
    case_id: str | None = None


class FieldError(BaseModel):
    path: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    code: str | None = None
    errors: list[FieldError] | None = None
    reason_code: str | None = None


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 once in UTC") from None


UtcTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A time with its UTC offset (RFC 3339), in UTC; a time without one is refused."""


class ListEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["block", "allow", "watch"]
    entity: Literal["account", "device", "ip", "ip_range", "token", "counterparty"]
    value: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    reason: str = Field(min_length=1, max_length=1000, pattern=NO_NUL)
    expires_at: UtcTime | None = None


class ListEntryOut(BaseModel):
    id: int
    kind: str
    entity: str
    value: str
    reason: str
    expires_at: datetime | None
    created_by: str


class RulesetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(
        min_length=1, max_length=1_000_000, description="The ruleset YAML document"
    )


class RulesetOut(BaseModel):
    version: str
    name: str
    mode: Literal["active", "shadow", "retired"]
    created_at: datetime
    created_by: str
    promoted_at: datetime | None
    rules: int | None = None


class RulesetCheck(BaseModel):
    valid: bool
    version: str | None = None
    rules: int | None = None
    problem: str | None = None


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = {}
