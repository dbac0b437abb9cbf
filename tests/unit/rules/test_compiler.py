"""The rule language: parsing, checking and the meaning of compiled conditions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from walletguard.rules.compiler import RuleError, compile_condition, compile_value
from walletguard.rules.types import NameSpec, ValueType


@dataclass
class Ctx:
    values: dict[str, Any]


class FakeCatalogue:
    """A catalogue of a few typed names read from a dict."""

    TYPES: ClassVar[dict[str, ValueType]] = {
        "amount": ValueType.MONEY,
        "mean": ValueType.MONEY,
        "count": ValueType.INT,
        "ratio": ValueType.NUMBER,
        "flag": ValueType.BOOL,
        "method": ValueType.STRING,
    }

    def resolve(self, name: str) -> NameSpec | None:
        kind = self.TYPES.get(name)
        if kind is None:
            return None
        return NameSpec(name, kind, lambda c, n=name: c.values.get(n), name)

    def why_unknown(self, name: str) -> str:
        return f"unknown name {name!r}"


def run(condition: str, **values: Any) -> bool:
    compiled = compile_condition(condition, FakeCatalogue(), where="rule r1")
    return bool(compiled.fn(Ctx(values)))


def test_comparisons_arithmetic_and_logic() -> None:
    assert run("count >= 3 and (ratio > 0.5 or flag)", count=3, ratio=0.2, flag=True)
    assert not run("count >= 3 and (ratio > 0.5 or flag)", count=2, ratio=0.9, flag=True)
    assert run("count * 2 + 1 == 7", count=3)
    assert run("-count < 0", count=1)
    assert run("method in ['sms_otp', 'password']", method="sms_otp")
    assert run("method not in ['face']", method="sms_otp")
    assert run("not flag", flag=False)


def test_money_stays_exact() -> None:
    assert run("amount >= 5 * mean", amount=Decimal("50.00"), mean=Decimal("10.00"))
    assert run("amount == 0.3", amount=Decimal("0.1") + Decimal("0.2"))
    assert run("amount / mean > 4.99", amount=Decimal("50"), mean=Decimal("10"))
    assert run("amount - mean == 40", amount=Decimal("50"), mean=Decimal("10"))


def test_missing_values_never_fire() -> None:
    assert not run("amount > 5 * mean", amount=Decimal("50"), mean=None)
    assert not run("count != 3", count=None)
    assert not run("not flag", flag=None)
    assert not run("method in ['x']", method=None)
    assert run("missing(mean)", mean=None)
    assert run("coalesce(count, 0) == 0", count=None)
    assert not run("amount / mean > 1", amount=Decimal("1"), mean=Decimal("0"))


def test_functions() -> None:
    assert run("max(count, 10) == 10", count=3)
    assert run("min(amount, mean) == mean", amount=Decimal("5"), mean=Decimal("2"))
    assert run("abs(-count) == 4", count=4)
    assert run("present(count)", count=0)


@pytest.mark.parametrize(
    ("condition", "complaint"),
    [
        ("count >=", "ends too early"),
        ("count >= 3 &", "unexpected character '&'"),
        ("cuont > 3", "unknown name 'cuont'"),
        ("count", "must be true or false"),
        ("amount > ratio", "cannot compare money with a number"),
        ("amount + 5", "cannot add a plain number and money"),
        ("amount * mean > 1", "cannot multiply money by money"),
        ("method > 'a'", "only be compared with == or !="),
        ("flag and count", "expected true/false"),
        ("frobnicate(count)", "unknown function"),
        ("min(count, amount) > 1", "all be numbers or all be money"),
        ("method == 3", "cannot compare string with int"),
    ],
)
def test_problems_are_reported_with_the_rule_and_position(condition: str, complaint: str) -> None:
    with pytest.raises(RuleError) as caught:
        compile_condition(condition, FakeCatalogue(), where="rule r1")
    message = str(caught.value)
    assert message.startswith("rule r1")
    assert complaint in message


def test_position_points_at_the_problem() -> None:
    with pytest.raises(RuleError) as caught:
        compile_condition("count > 1 and\n  cuont > 3", FakeCatalogue(), where="rule r1")
    assert (caught.value.line, caught.value.column) == (2, 3)


def test_nothing_outside_the_catalogue_is_reachable() -> None:
    for attempt in ("__import__('os')", "count.__class__", "ctx.values", "().__class__"):
        with pytest.raises(RuleError):
            compile_condition(attempt, FakeCatalogue(), where="rule r1")


def test_reports_the_names_a_condition_reads() -> None:
    compiled = compile_condition("count > 1 and amount > mean", FakeCatalogue(), where="r")
    assert sorted(s.name for s in compiled.names) == ["amount", "count", "mean"]


# -- coalesce never hands money a float ---------------------------------------


@pytest.mark.parametrize(
    ("condition", "complaint"),
    [
        ("amount * coalesce(count, 0.5) > 10", "cannot combine money with a number"),
        ("amount > coalesce(count, 0.5)", "cannot compare money with a number"),
        ("amount > coalesce(ratio, 2)", "cannot compare money with a number"),
        ("coalesce(amount, ratio) > 1", "default of type number for a money"),
    ],
)
def test_coalesce_with_a_fractional_default_is_a_number_so_money_refuses_it(
    condition: str, complaint: str
) -> None:
    with pytest.raises(RuleError, match=complaint):
        compile_condition(condition, FakeCatalogue(), where="rule r1")


def test_coalesce_is_the_wider_of_its_arguments() -> None:
    assert run("coalesce(count, 0.5) > 0.4", count=None)
    assert not run("coalesce(count, 0.5) > 0.4", count=0)
    assert run("amount * coalesce(count, 3) == 30", amount=Decimal("10"), count=None)
    assert run("amount * coalesce(count, 3) == 20", amount=Decimal("10"), count=2)
    assert run("coalesce(amount, 0.1) + coalesce(mean, 0.2) == 0.3", amount=None, mean=None)


# -- three-valued logic: a rule never fires on what it could not see ----------


@pytest.mark.parametrize(
    ("condition", "values"),
    [
        ("not (count > 10)", {"count": None}),
        ("not (amount > 10)", {"amount": None}),
        ("not (amount > 5 * mean)", {"amount": Decimal("1"), "mean": None}),
        ("not (count != 3)", {"count": None}),
        ("not (method in ['x'])", {"method": None}),
        ("not (method not in ['x'])", {"method": None}),
        ("not (count > 1 and flag)", {"count": None, "flag": True}),
        ("not (count > 1 or flag)", {"count": None, "flag": False}),
        ("not not (count > 1)", {"count": None}),
        ("not (count > 1) and flag", {"count": None, "flag": True}),
        ("not (count > 1) or not flag", {"count": None, "flag": True}),
        ("not (amount / mean > 1)", {"amount": Decimal("1"), "mean": Decimal("0")}),
    ],
)
def test_negation_of_something_unknown_does_not_fire(condition: str, values: Any) -> None:
    compiled = compile_condition(condition, FakeCatalogue(), where="rule r1")
    assert compiled.fn(Ctx(values)) is False


def test_and_or_not_follow_three_valued_logic() -> None:
    # false and unknown is false, so its negation is known: true
    assert run("not (count > 1 and flag)", count=None, flag=False)
    # true or unknown is true
    assert run("count > 1 or flag", count=None, flag=True)
    assert not run("not (count > 1 or flag)", count=None, flag=True)
    # known values negate as before
    assert run("not (count > 10)", count=3)
    assert not run("not (count > 10)", count=30)
    assert run("not (method in ['x'])", method="y")


def test_a_condition_is_always_true_or_false() -> None:
    for condition in ("flag", "flag and count > 1", "flag or flag", "coalesce(flag, true)"):
        compiled = compile_condition(condition, FakeCatalogue(), where="rule r1")
        for flag in (True, False, None):
            assert compiled.fn(Ctx({"flag": flag, "count": None})) in (True, False)


def test_a_true_false_value_may_be_unknown() -> None:
    compiled, kind = compile_value("not (count > 3)", FakeCatalogue(), where="feature")
    assert kind is ValueType.BOOL
    assert compiled.fn(Ctx({"count": None})) is None
    assert compiled.fn(Ctx({"count": 1})) is True


# -- literals next to money ------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "values"),
    [
        ("amount > -0.5", {"amount": Decimal("0")}),
        ("-0.5 < amount", {"amount": Decimal("0")}),
        ("amount * abs(-0.5) == 1.5", {"amount": Decimal("3")}),
        ("amount * (1 - 0.2) == 8", {"amount": Decimal("10")}),
        ("amount == 0.1 * 3", {"amount": Decimal("0.3")}),
        ("amount >= max(0.5, 0.25) * mean", {"amount": Decimal("5"), "mean": Decimal("10")}),
        ("amount / 4 == 2.5", {"amount": Decimal("10")}),
        ("amount in [-0.5, 1]", {"amount": Decimal("-0.5")}),
        ("coalesce(amount, -0.5) < 0", {"amount": None}),
    ],
)
def test_negative_and_computed_literals_next_to_money_are_exact(
    condition: str, values: Any
) -> None:
    assert run(condition, **values)


@pytest.mark.parametrize("condition", ["amount > 1 / 3", "amount * (2 / 3) > 1"])
def test_a_literal_that_is_not_exact_is_refused_next_to_money(condition: str) -> None:
    with pytest.raises(RuleError, match="money"):
        compile_condition(condition, FakeCatalogue(), where="rule r1")
