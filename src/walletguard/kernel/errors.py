"""The error vocabulary shared by every domain.

Each error has a stable machine `code` and a sentence for people. Doors (HTTP,
command line) translate them; domain code raises them.
"""

from __future__ import annotations

from dataclasses import dataclass


class WalletguardError(Exception):
    """Base of every error walletguard raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with an input, at a JSON path such as `$.device.id`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InvalidInput(WalletguardError):
    """Input that does not satisfy its schema; names every field path that is wrong."""

    code = "invalid_input"

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class NotFound(WalletguardError):
    """The thing asked for does not exist."""

    code = "not_found"


class Conflict(WalletguardError):
    """The request contradicts what was already recorded (e.g. same id, different body)."""

    code = "conflict"


class IllegalTransition(WalletguardError):
    """A state change that the state machine does not allow."""

    code = "illegal_transition"


class Refused(WalletguardError):
    """A rule of the business refuses the operation (limits, funds, maker-checker...)."""

    code = "refused"

    def __init__(self, message: str, *, reason_code: str = "refused") -> None:
        super().__init__(message)
        self.reason_code = reason_code


class ConfigurationError(WalletguardError):
    """A configuration file (ruleset, policy, limits) is malformed; names where."""

    code = "configuration_error"
