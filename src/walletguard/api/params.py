"""Path and query parameters shared by the routers (ids are as long as the contract's)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

_ID = r"^[^\x00]+$"


def _id(description: str, max_length: int = 128) -> Any:
    return Path(min_length=1, max_length=max_length, pattern=_ID, description=description)


AccountId = Annotated[str, _id("The wallet account id")]
EventId = Annotated[str, _id("The event id (a '/' in it sent as %2F)")]
Token = Annotated[str, _id("The bound account's token, or the device id")]
HoldId = Annotated[str, _id("The hold id (e.g. `hold-<event id>`)", 200)]
CaseId = Annotated[str, _id("The case id", 160)]
ApprovalId = Annotated[str, _id("The approval request id (`apr-…`)", 64)]
AppealId = Annotated[str, _id("The appeal id (`apl-…`)", 32)]
Channel = Annotated[str, _id("The payment channel, e.g. `unionpay`", 64)]
Digest = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The statement's digest")]
