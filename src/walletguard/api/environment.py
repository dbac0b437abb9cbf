"""The environment variables that carry `walletguard serve`'s options to every worker
process (kept apart from the server so the command line can name them without loading
the web stack)."""

from enum import StrEnum

ENV_DB = "WALLETGUARD_DB"
ENV_REDIS = "WALLETGUARD_REDIS"
ENV_RATE = "WALLETGUARD_RATE_PER_SECOND"
ENV_REDIS_PREFIX = "WALLETGUARD_REDIS_PREFIX"
ENV_DECIDER = "WALLETGUARD_DECIDER"


class DecideIn(StrEnum):
    """Where a worker decides events."""

    PROCESS = "process"
    """In a process of its own: HTTP and deciding run on two cores."""
    THREAD = "thread"
    """In a thread of the worker: one process, one interpreter lock."""
