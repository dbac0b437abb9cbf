"""The default model: which events it scores and which catalogue names it reads.

Override with `walletguard train --features FILE` (one name a line; `#` comments).
"""

from __future__ import annotations

from pathlib import Path

from walletguard.kernel.errors import ConfigurationError

DEFAULT_EVENT_TYPES: tuple[str, ...] = ("transfer", "payment", "withdrawal")

DEFAULT_FEATURES: tuple[str, ...] = (
    # the event
    "event.amount",
    "event.local_hour",
    "event.is_night",
    "event.is_weekend",
    "model.anomaly_score",
    # the account and its habits
    "profile.account_age_days",
    "profile.amount_vs_mean",
    "profile.device_count",
    "profile.hours_since_new_device",
    "profile.hours_since_reset",
    "profile.hours_since_sim_change",
    "profile.minutes_since_money_in",
    "device.is_new",
    "device.is_emulator",
    "geo.country_is_new",
    "net.is_datacenter",
    "balance.drain_ratio",
    "money_out_count_by_account_24h",
    "money_out_amount_sum_by_account_24h",
    "money_out_count_by_account_7d",
    "money_out_amount_sum_by_account_30d",
    "money_out_counterparty_distinct_by_account_24h",
    "login_failed_count_by_account_24h",
    "transfer_received_amount_sum_by_account_24h",
    "transfer_received_sender_distinct_by_account_24h",
    "reported_count_by_account_30d",
    # the payee
    "counterparty.is_new",
    "counterparty.fraud_reports",
    "counterparty.account_age_days",
    "money_out_count_by_counterparty_24h",
    "money_out_count_by_counterparty_7d",
    "reported_count_by_counterparty_7d",
    "reported_count_by_counterparty_30d",
    # the graph
    "graph.counterparty_hops_to_fraud",
    "graph.account_hops_to_fraud",
    "graph.device_cluster_size",
    "graph.device_accounts",
    "graph.fan_in_24h",
    "graph.fan_out_24h",
    "graph.payee_fan_in_24h",
    "graph.pass_through_ratio",
    "graph.payee_in_ring",
    "graph.account_in_ring",
)


def read_feature_list(path: Path) -> tuple[str, ...]:
    """Feature names from a file, one a line; blank lines and `#` comments ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the feature list: {exc.strerror}") from None
    names = tuple(
        line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()
    )
    if not names:
        raise ConfigurationError(f"{path}: names no features")
    return names
