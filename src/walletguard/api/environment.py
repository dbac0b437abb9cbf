"""The environment variables that carry `walletguard serve`'s options to every worker
process (kept apart from the server so the command line can name them without loading
the web stack)."""

ENV_DB = "WALLETGUARD_DB"
ENV_REDIS = "WALLETGUARD_REDIS"
ENV_RATE = "WALLETGUARD_RATE_PER_SECOND"
ENV_REDIS_PREFIX = "WALLETGUARD_REDIS_PREFIX"
