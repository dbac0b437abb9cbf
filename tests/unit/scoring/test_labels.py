import pytest

from walletguard.scoring.labels import (
    InvalidLabels,
    Label,
    LabelBook,
    LabelSource,
    read_labels_file,
)


def test_a_label_counts_only_from_when_it_was_known() -> None:
    book = LabelBook([Label("e1", True, 100.0, LabelSource.CHARGEBACK)])
    assert not book.fraud_as_of("e1", 99.0)
    assert book.fraud_as_of("e1", 100.0)
    assert not book.fraud_as_of("e2", 1000.0)


def test_a_later_reviewer_verdict_overrides_an_earlier_report() -> None:
    book = LabelBook(
        [
            Label("e1", True, 100.0, LabelSource.FRAUD_REPORT),
            Label("e1", False, 200.0, LabelSource.CASE),
        ]
    )
    assert book.fraud_as_of("e1", 150.0)
    assert not book.fraud_as_of("e1", 250.0)


def test_labels_file_lines_are_known_a_delay_after_the_event_unless_they_say() -> None:
    lines = [
        b'{"event_id": "e1", "campaign_id": "c", "typology": "ato", "stage": "cashout"}\n',
        b'{"event_id": "e2", "known_at": "1970-01-01T00:10:00Z"}\n',
        b'{"event_id": "unknown"}\n',
        b"\n",
    ]
    labels = read_labels_file(lines, {"e1": 10.0, "e2": 20.0}, delay_seconds=5.0)
    assert [(x.event_id, x.known_ts, x.fraud) for x in labels] == [
        ("e1", 15.0, True),
        ("e2", 600.0, True),
    ]


def test_a_bad_labels_line_is_named() -> None:
    with pytest.raises(InvalidLabels, match="line 2"):
        read_labels_file([b'{"event_id": "e1"}', b"[1]"], {}, 0.0)
