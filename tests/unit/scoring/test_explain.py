from decimal import Decimal
from types import SimpleNamespace

from walletguard.events.model import EventType
from walletguard.scoring.explain import explain, sentence

EVENT = SimpleNamespace(type=EventType.WITHDRAWAL)


def test_sentences_state_the_feature_value() -> None:
    assert sentence("profile.amount_vs_mean", 8.3, EVENT) == (
        "withdrawal 8.3× the account's usual amount"
    )
    assert sentence("reported_count_by_counterparty_7d", 4, EVENT) == (
        "4 fraud reports for this payee in the last 7d"
    )
    assert sentence("payment_amount_sum_by_account_24h", Decimal("120.5000"), EVENT) == (
        "120.50 in payments by this account in the last 24h"
    )
    assert sentence("graph.payee_in_ring", True, EVENT) == (
        "payee belongs to a suspected mule ring"
    )


def test_the_strongest_contributions_become_reasons_sharing_the_points() -> None:
    reasons = explain(
        ["event.amount", "profile.amount_vs_mean", "counterparty.is_new", "event.local_hour"],
        [0.4, 2.0, -0.3, 0.1],
        {
            "event.amount": Decimal("830.00"),
            "profile.amount_vs_mean": 8.3,
            "counterparty.is_new": True,
            "event.local_hour": 3,
        },
        EVENT,
        420,
        {},
        0.42,
    )
    assert [r.code for r in reasons] == [
        "MODEL_PROFILE_AMOUNT_VS_MEAN",
        "MODEL_EVENT_AMOUNT",
        "MODEL_EVENT_LOCAL_HOUR",
    ]
    assert sum(r.score for r in reasons) == 420
    assert reasons[0].message.startswith("withdrawal 8.3× the account's usual amount")
    assert "42%" in reasons[0].message


def test_expression_inputs_get_stable_codes_and_plain_sentences() -> None:
    from walletguard.scoring.explain import reason_code

    name = "event.amount / (payment_amount_sum_by_account_7d / payment_count_by_account_7d)"
    assert reason_code(name) == (
        "MODEL_EVENT_AMOUNT_PER_PAYMENT_AMOUNT_SUM_BY_ACCOUNT_7D_PER_PAYMENT_COUNT_BY_ACCOUNT_7D"
    )
    assert sentence(name, 4.25, EVENT, name) == f"{name}: 4.2"
