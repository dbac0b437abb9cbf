"""Roles and what each may do (least privilege).

A permission names one kind of operation; an endpoint asks for exactly one. A role
is the set of permissions its holders need and nothing more.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    INTEGRATOR = "integrator"
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(StrEnum):
    EVENTS_SUBMIT = "events:submit"
    DECISIONS_READ = "decisions:read"
    ACCOUNTS_READ = "accounts:read"
    ACCOUNTS_ACT = "accounts:act"
    LEDGER_READ = "ledger:read"
    LEDGER_ACT = "ledger:act"
    RECONCILE = "ledger:reconcile"
    CASES_READ = "cases:read"
    CASES_WORK = "cases:work"
    LISTS_READ = "lists:read"
    LISTS_WRITE = "lists:write"
    RULES_READ = "rules:read"
    RULES_UPLOAD = "rules:upload"
    RULES_PROMOTE = "rules:promote"
    APPROVE = "approvals:decide"
    AUDIT_READ = "audit:read"
    AUDIT_CHECKPOINT = "audit:checkpoint"
    EVIDENCE_EXPORT = "evidence:export"
    KEYS_ADMIN = "keys:admin"


_READ_ALL = {
    Permission.DECISIONS_READ,
    Permission.ACCOUNTS_READ,
    Permission.LEDGER_READ,
    Permission.CASES_READ,
    Permission.LISTS_READ,
    Permission.RULES_READ,
    Permission.AUDIT_READ,
}

_ANALYST = _READ_ALL | {
    Permission.ACCOUNTS_ACT,
    Permission.LEDGER_ACT,
    Permission.RECONCILE,
    Permission.CASES_WORK,
    Permission.LISTS_WRITE,
    Permission.RULES_UPLOAD,
}

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.INTEGRATOR: frozenset({Permission.EVENTS_SUBMIT, Permission.DECISIONS_READ}),
    Role.ANALYST: frozenset(_ANALYST),
    Role.SUPERVISOR: frozenset(
        _ANALYST | {Permission.APPROVE, Permission.RULES_PROMOTE, Permission.AUDIT_CHECKPOINT}
    ),
    Role.AUDITOR: frozenset(_READ_ALL | {Permission.EVIDENCE_EXPORT}),
    Role.ADMIN: frozenset(set(Permission)),
}
"""What each role may do. Only integrators (and admins) submit events; only supervisors
(and admins) approve, promote and sign audit checkpoints; auditors read and export,
nothing else."""


def allows(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]
