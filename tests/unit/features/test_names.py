import pytest

from walletguard.features.names import Entity, FeatureNameError, parse_feature_name


@pytest.mark.parametrize(
    ("name", "subject", "measure", "entity", "window"),
    [
        ("withdrawal_amount_sum_by_account_24h", "withdrawal", "amount_sum", Entity.ACCOUNT, "24h"),
        (
            "login_failed_account_distinct_by_ip_1h",
            "login_failed",
            "account_distinct",
            Entity.IP,
            "1h",
        ),
        (
            "login_failed_account_distinct_by_ip24_1h",
            "login_failed",
            "account_distinct",
            Entity.IP24,
            "1h",
        ),
        (
            "transfer_received_sender_distinct_by_counterparty_24h",
            "transfer_received",
            "sender_distinct",
            Entity.COUNTERPARTY,
            "24h",
        ),
        ("register_count_by_device_7d", "register", "count", Entity.DEVICE, "7d"),
    ],
)
def test_names_parse_into_their_definition_and_back(
    name: str, subject: str, measure: str, entity: Entity, window: str
) -> None:
    feature = parse_feature_name(name)
    assert (feature.subject.name, feature.measure, feature.entity, feature.window) == (
        subject,
        measure,
        entity,
        window,
    )
    assert feature.name == name


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("withdrawl_count_by_account_24h", "unknown subject"),
        ("withdrawal_count_by_account_2h", "unsupported window"),
        ("withdrawal_colour_distinct_by_account_24h", "cannot count distinct"),
        ("transfer_received_count_by_device_24h", "per receiving wallet"),
        ("amount", "not a feature name"),
    ],
)
def test_malformed_names_say_what_is_wrong(name: str, complaint: str) -> None:
    with pytest.raises(FeatureNameError, match=complaint):
        parse_feature_name(name)


def test_receiver_views_share_one_state() -> None:
    by_account = parse_feature_name("transfer_received_amount_sum_by_account_24h")
    by_counterparty = parse_feature_name("transfer_received_amount_sum_by_counterparty_24h")
    assert by_account.state_id == by_counterparty.state_id
    sender_view = parse_feature_name("transfer_amount_sum_by_counterparty_24h")
    assert sender_view.state_id != parse_feature_name("transfer_amount_sum_by_account_24h").state_id
