from datetime import UTC, datetime

import pytest

from walletguard.approvals.model import ApprovalRequest, ApprovalStatus, person_of
from walletguard.approvals.service import approve, reject, request_approval
from walletguard.kernel.errors import Conflict, Refused

NOW = datetime(2026, 3, 1, tzinfo=UTC)


class MemoryApprovals:
    def __init__(self) -> None:
        self.rows: dict[str, ApprovalRequest] = {}

    def get(self, approval_id: str) -> ApprovalRequest | None:
        return self.rows.get(approval_id)

    def save(self, request: ApprovalRequest) -> None:
        self.rows[request.id] = request

    def for_subject(self, subject: str) -> list[ApprovalRequest]:
        return [r for r in self.rows.values() if r.subject == subject]


def ask(repo: MemoryApprovals, required: int = 2) -> ApprovalRequest:
    return request_approval(
        repo,
        action="account.unfreeze",
        subject="account:alice",
        requested_by="ann",
        reason="customer verified at branch",
        required=required,
        at=NOW,
    )


def test_needs_distinct_people_other_than_the_maker() -> None:
    repo = MemoryApprovals()
    request = ask(repo)
    with pytest.raises(Refused, match="maker-checker"):
        approve(repo, request.id, approver="ann", at=NOW)
    once = approve(repo, request.id, approver="bob", at=NOW)
    assert once.status is ApprovalStatus.PENDING
    assert once.missing == 1
    with pytest.raises(Refused, match="already approved"):
        approve(repo, request.id, approver="bob", at=NOW)
    done = approve(repo, request.id, approver="cy", at=NOW)
    assert done.status is ApprovalStatus.APPROVED
    assert repo.get(request.id) == done


def test_decided_at_most_once() -> None:
    repo = MemoryApprovals()
    request = ask(repo, required=1)
    reject(repo, request.id, by="bob", at=NOW)
    with pytest.raises(Conflict):
        approve(repo, request.id, approver="cy", at=NOW)
    stored = repo.get(request.id)
    assert stored is not None
    assert stored.status is ApprovalStatus.REJECTED


def test_asking_again_while_pending_returns_the_same_request() -> None:
    repo = MemoryApprovals()
    first = ask(repo)
    assert ask(repo) == first
    assert len(repo.rows) == 1
    reject(repo, first.id, by="bob", at=NOW)
    again = ask(repo)  # decided: a new question
    assert again.id != first.id
    assert len(repo.rows) == 2


def test_a_request_needs_a_reason_and_an_approver() -> None:
    repo = MemoryApprovals()
    with pytest.raises(Refused):
        request_approval(
            repo, action="x", subject="y", requested_by="a", reason=" ", required=1, at=NOW
        )
    with pytest.raises(Refused):
        request_approval(
            repo, action="x", subject="y", requested_by="a", reason="r", required=0, at=NOW
        )


def test_an_api_key_acts_for_its_owner_and_a_role_prefix_names_no_other_person() -> None:
    """Two keys of one owner are one person, and `operator:ann` (the command line's default
    actor for the OS user ann), `analyst:ann` and `ann` are ann: none approves what another
    asked for."""
    assert person_of("key:a1b2c3:ann") == "ann"
    assert person_of("key:a1b2c3:team:ann") == "ann"
    assert person_of("operator:ann") == "ann"
    assert person_of("ann") == "ann"
    assert person_of("key:") == "key:"
    repo = MemoryApprovals()
    request = ask(repo)  # asked by "ann"
    for alias in ("operator:ann", "key:k1:ops:ann"):
        with pytest.raises(Refused, match="maker-checker"):
            approve(repo, request.id, approver=alias, at=NOW)
    repo = MemoryApprovals()
    request = request_approval(
        repo,
        action="account.unfreeze",
        subject="account:alice",
        requested_by="key:k1:ann",
        reason="verified",
        required=2,
        at=NOW,
    )
    with pytest.raises(Refused, match="ann asked for this"):
        approve(repo, request.id, approver="key:k2:ann", at=NOW)
    approve(repo, request.id, approver="key:k3:bob", at=NOW)
    with pytest.raises(Refused, match="bob has already approved"):
        approve(repo, request.id, approver="key:k4:bob", at=NOW)
