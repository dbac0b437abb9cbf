import pytest

from walletguard.composition import default_ruleset_text, load_rules
from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.events.model import EventType
from walletguard.kernel.errors import ConfigurationError
from walletguard.rules.ruleset import RuleMode, parse_ruleset

RULE = """
name: test
rules:
  - id: big_withdrawal
    on: withdrawal
    when: event.amount >= 1000
    score: 300
    floor: medium
    reason: "Withdrawal of {event.amount}"
"""


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_ruleset(text, RuleCatalogue(), source="test.yaml")


def test_default_ruleset_loads_and_covers_many_rules() -> None:
    ruleset = load_rules(None)
    assert len(ruleset.rules) >= 40
    assert all(rule.reason.text for rule in ruleset.rules)
    assert ruleset.by_type[EventType.WITHDRAWAL]


def test_version_is_a_hash_of_content_not_formatting() -> None:
    a = parse(RULE)
    b = parse(RULE.replace("    score: 300", "    # a comment\n    score:    300"))
    c = parse(RULE.replace("score: 300", "score: 301"))
    assert a.version == b.version != c.version


def test_rules_are_indexed_by_the_event_types_they_apply_to() -> None:
    ruleset = parse(RULE)
    assert [r.id for r in ruleset.by_type[EventType.WITHDRAWAL]] == ["big_withdrawal"]
    assert ruleset.by_type[EventType.LOGIN] == ()


def test_groups_expand() -> None:
    ruleset = parse(RULE.replace("on: withdrawal", "on: money_out"))
    assert ruleset.rules[0].on == {EventType.TRANSFER, EventType.PAYMENT, EventType.WITHDRAWAL}


def test_shadow_mode_is_kept() -> None:
    ruleset = parse(RULE.replace("floor: medium", "floor: medium\n    mode: shadow"))
    assert ruleset.rules[0].mode is RuleMode.SHADOW


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            ("when: event.amount >= 1000", "when: event.amont >= 1000"),
            "rule big_withdrawal (line 1, column 1): unknown name 'event.amont'",
        ),
        (
            ("when: event.amount >= 1000", "when: withdrawal_count_by_acount_24h > 1"),
            "rule big_withdrawal",
        ),
        (("on: withdrawal", "on: withdrawl"), "unknown event type or group 'withdrawl'"),
        (("score: 300", "score: 3000"), "'score' must be a whole number"),
        (("floor: medium", "floor: severe"), "'floor' must be one of"),
        (
            ('reason: "Withdrawal of {event.amount}"', 'reason: "of {event.amout}"'),
            "reason: unknown name",
        ),
        (("score: 300", "score: 300\n    colour: red"), "unknown keys ['colour']"),
        (
            ("floor: medium", "floor: medium\n    mode: shadow\n    mode: active"),
            "rule big_withdrawal: 'mode' is given twice (lines 9 and 10)",
        ),
        (
            ("score: 300", "score: 300\n    when: event.amount >= 1"),
            "rule big_withdrawal: 'when' is given twice (lines 6 and 8)",
        ),
        (
            ("on: withdrawal", "on: withdrawal\n    'on': all"),
            "rule big_withdrawal: 'on' is given twice (lines 5 and 6)",
        ),
        (
            ("on: withdrawal", "on: [[withdrawal]]"),
            "rule big_withdrawal: 'on': each item must be an event type or group, not",
        ),
        (("on: withdrawal", "on: [{withdrawal: 1}]"), "rule big_withdrawal: 'on': each item"),
        (
            (
                "when: event.amount >= 1000",
                "when: event.amount * coalesce(device.fraud_reports, 0.5) > 10",
            ),
            "rule big_withdrawal (line 1, column 1): cannot combine money with a number",
        ),
    ],
)
def test_problems_name_the_rule(change: tuple[str, str], complaint: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse(RULE.replace(*change))
    assert complaint in str(caught.value)
    assert str(caught.value).startswith("test.yaml")


def test_duplicate_ids_are_refused() -> None:
    doubled = RULE + RULE.split("rules:\n")[1]
    with pytest.raises(ConfigurationError, match="used twice"):
        parse(doubled)


def test_every_default_rule_has_a_distinct_code() -> None:
    ruleset = parse_ruleset(default_ruleset_text(), RuleCatalogue())
    codes = [r.code for r in ruleset.rules]
    assert len(codes) == len(set(codes))


def test_a_key_given_twice_outside_the_rules_is_refused_too() -> None:
    with pytest.raises(
        ConfigurationError, match=r"test.yaml: 'name' is given twice \(lines 2 and 3\)"
    ):
        parse(RULE.replace("name: test", "name: test\nname: other"))


def test_a_rule_without_an_id_is_named_by_its_position() -> None:
    text = RULE.replace(
        "  - id: big_withdrawal\n    on: withdrawal", "  - on: withdrawal\n    on: all"
    )
    with pytest.raises(ConfigurationError, match=r"rule #1: 'on' is given twice"):
        parse(text)
