"""A channel's settlement statement (CSV, in the channel's own format) read into lines
for reconciliation; every line and column that is wrong is named, and then none is used."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from walletguard.events.timeparse import parse_rfc3339
from walletguard.kernel.clock import in_reach
from walletguard.kernel.errors import FieldProblem, InvalidInput
from walletguard.kernel.money import AmountError, parse_amount, to_units
from walletguard.ledger.settings import StatementFormat

UNITS_PER_MINOR = 100
_CURRENCY = re.compile(r"[A-Z]{3}")
"""Three ASCII letters (a channel may write them in lower case)."""


@dataclass(frozen=True, slots=True)
class StatementEntry:
    line: int
    channel_ref: str
    amount: int
    currency: str
    merchant_no: str | None
    settled_at: datetime


def parse_statement(data: bytes, fmt: StatementFormat) -> list[StatementEntry]:
    """The statement's lines; `InvalidInput` names every line and column that is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput([FieldProblem("statement", "is not UTF-8 text")]) from None
    try:
        return _entries(text, fmt)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise InvalidInput([FieldProblem("statement", f"is not readable CSV: {exc}")]) from None


def _entries(text: str, fmt: StatementFormat) -> list[StatementEntry]:
    # newline="": a lone CR ends a line, as in the files channels write (and as csv expects)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=fmt.delimiter)
    header = reader.fieldnames or []
    missing = [col for field, col in fmt.columns.items() if col not in header]
    if missing:
        raise InvalidInput(
            [FieldProblem("header", f"missing column(s) {', '.join(missing)} (has {header})")]
        )
    cols = fmt.columns
    entries: list[StatementEntry] = []
    problems: list[FieldProblem] = []
    for number, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        where = f"line {number}"
        if None in row or None in row.values():  # csv's markers of extra / missing fields
            problems.append(
                FieldProblem(where, f"does not have the header's {len(header)} columns")
            )
            continue
        ref = (row.get(cols["channel_ref"]) or "").strip()
        if not ref:
            problems.append(FieldProblem(where, f"{cols['channel_ref']} is empty"))
            continue
        try:
            amount = _amount(row.get(cols["amount"]) or "", fmt)
            settled_at = _time(row.get(cols["settled_at"]) or "", fmt)
        except ValueError as exc:
            problems.append(FieldProblem(where, str(exc)))
            continue
        currency = (row.get(cols["currency"]) or "").strip().upper()
        if not _CURRENCY.fullmatch(currency):
            problems.append(FieldProblem(where, f"currency {currency!r} is not a 3-letter code"))
            continue
        merchant = (row.get(cols["merchant_no"]) or "").strip() if "merchant_no" in cols else ""
        entries.append(StatementEntry(number, ref, amount, currency, merchant or None, settled_at))
    if problems:
        raise InvalidInput(problems)
    return entries


def _amount(text: str, fmt: StatementFormat) -> int:
    text = text.strip()
    if fmt.amount_unit == "minor":
        if not (text.isascii() and text.isdigit()):
            raise ValueError(f"amount {text!r} is not a whole number of minor units")
        return int(text) * UNITS_PER_MINOR
    try:
        return to_units(parse_amount(text))
    except AmountError as exc:
        raise ValueError(str(exc)) from None


def _time(text: str, fmt: StatementFormat) -> datetime:
    """A line's settlement time in UTC, far enough from the years 1 and 9999 that the
    matching's drift window around it can be computed."""
    moment = _moment(text.strip(), fmt)
    if not in_reach(moment):
        raise ValueError(f"time {text.strip()!r} is too near the year 1 or 9999")
    return moment.astimezone(UTC)


def _moment(text: str, fmt: StatementFormat) -> datetime:
    if fmt.time_format is None:
        return parse_rfc3339(text)
    try:
        moment = datetime.strptime(text, fmt.time_format)
    except ValueError:
        raise ValueError(f"time {text!r} does not match {fmt.time_format!r}") from None
    if moment.tzinfo is None:
        offset = fmt.timezone or "+00:00"
        sign = -1 if offset.startswith("-") else 1
        hours, _, minutes = offset.lstrip("+-").partition(":")
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        moment = moment.replace(tzinfo=timezone(sign * delta))
    return moment
