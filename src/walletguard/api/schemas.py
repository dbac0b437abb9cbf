"""Shapes of request and response bodies, for validation and the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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


class ListEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["block", "allow", "watch"]
    entity: Literal["account", "device", "ip", "ip_range", "token", "counterparty"]
    value: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=1000)
    expires_at: datetime | None = None


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
