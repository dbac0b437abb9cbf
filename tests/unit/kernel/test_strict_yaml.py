import pytest

from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.decisions.policy import parse_policy
from walletguard.kernel.errors import ConfigurationError
from walletguard.kernel.strict_yaml import load_yaml
from walletguard.ledger.settings import parse_ledger_settings


def test_a_key_given_twice_is_named_with_both_lines() -> None:
    text = (
        "approvals:\n  withdrawal:\n    one_approver_above: '5000'\n    one_approver_above: '50'\n"
    )
    with pytest.raises(
        ConfigurationError,
        match=r"ledger\.yaml: 'one_approver_above' is given twice \(lines 3 and 4\)",
    ):
        load_yaml(text, "ledger.yaml")
    assert load_yaml("a: 1\nb: {a: 2}\n", "x") == {"a": 1, "b": {"a": 2}}


def test_yaml_booleans_clash_whatever_their_spelling() -> None:
    with pytest.raises(ConfigurationError, match="given twice"):
        load_yaml("on: 1\nyes: 2\n", "x")


def test_not_yaml_is_named_with_its_source() -> None:
    for broken in ("a: [1\n", "l\u001d", "\u0006"):  # a control character fails on reading
        with pytest.raises(ConfigurationError, match=r"^x: not valid YAML"):
            load_yaml(broken, "x")


def test_the_ledger_settings_and_the_policy_refuse_a_key_given_twice() -> None:
    """A second `two_approvers_above` used to replace the first silently."""
    ledger = (
        "approvals:\n  withdrawal:\n"
        "    two_approvers_above: '20000'\n    two_approvers_above: '2'\n"
    )
    with pytest.raises(ConfigurationError, match="'two_approvers_above' is given twice"):
        parse_ledger_settings(ledger, "ledger.yaml")
    with pytest.raises(ConfigurationError, match="'thresholds' is given twice"):
        parse_policy("thresholds: {}\nthresholds: {}\n", RuleCatalogue(), source="policy.yaml")
