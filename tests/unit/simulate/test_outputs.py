"""The run's files: determinism, contract validity, order, labels, campaigns, statements."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime
from pathlib import Path

import jsonschema

from tests.unit.simulate.conftest import SMALL, Run
from walletguard.events import decode_event
from walletguard.events.decode import event_schema
from walletguard.simulate import TYPOLOGIES, SimConfig, write_run

AMOUNT = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,4})?$")
CONTRACT = Path(__file__).resolve().parents[4] / "shared" / "contract" / "wallet-event.schema.json"
FILES = (
    "events.jsonl",
    "labels.jsonl",
    "campaigns.jsonl",
    "population.json",
    "statements/unionpay.csv",
    "statements/bank_direct.csv",
    "statements/card_acquirer.csv",
    "statements/agent_cash.csv",
    "statements/expected.jsonl",
)


def test_same_seed_same_bytes_other_seed_other_events(tmp_path: Path, small_run: Run) -> None:
    write_run(SMALL, tmp_path / "again")
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (small_run.path / name).read_bytes(), (
            name
        )
    other = SimConfig(**{**SMALL.to_dict(), "seed": SMALL.seed + 1})
    write_run(other, tmp_path / "other")
    assert (tmp_path / "other" / "events.jsonl").read_bytes() != (
        small_run.path / "events.jsonl"
    ).read_bytes()


def test_every_event_is_valid_under_the_contract(small_run: Run) -> None:
    schema = json.loads(CONTRACT.read_text()) if CONTRACT.exists() else event_schema()
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for line, event in zip(small_run.lines, small_run.events, strict=True):
        decode_event(line)
        errors = [e.message for e in validator.iter_errors(event)]
        assert not errors, (event["event_id"], errors)
    assert len({e["event_id"] for e in small_run.events}) == len(small_run.events)


def test_events_come_in_time_order(small_run: Run) -> None:
    instants = [datetime.fromisoformat(e["occurred_at"]) for e in small_run.events]
    assert all(a <= b for a, b in itertools.pairwise(instants))
    start = datetime.fromisoformat(SMALL.start.replace("Z", "+00:00"))
    in_window = [t for t in instants if t >= start]
    assert in_window, "normal life happens inside the window"
    assert max(instants).timestamp() < SMALL.end_ts


def test_amounts_are_decimal_strings_never_floats(small_run: Run) -> None:
    money = {"topup", "topup_confirmation", "transfer", "payment", "withdrawal"}
    for event in small_run.events:
        if event["type"] in money:
            assert isinstance(event["amount"], str), event
            assert AMOUNT.match(event["amount"]), event
            assert re.fullmatch(r"[A-Z]{3}", event["currency"])
        else:
            assert "amount" not in event
    for campaign in small_run.campaigns:
        assert isinstance(campaign["money_at_risk"], str)
        assert AMOUNT.match(campaign["money_at_risk"])
    for channel in ("unionpay", "bank_direct", "card_acquirer", "agent_cash"):
        for row in small_run.statement(channel):
            assert AMOUNT.match(row["amount"]), row
            datetime.fromisoformat(row["settled_at"].replace("Z", "+00:00"))


def test_every_typology_appears_and_labels_match_campaigns(small_run: Run) -> None:
    campaigns = {c["campaign_id"]: c for c in small_run.campaigns}
    assert len(campaigns) == len(small_run.campaigns)
    assert {c["typology"] for c in small_run.campaigns} == set(TYPOLOGIES)
    labelled_by_campaign: dict[str, int] = {}
    for label in small_run.labels:
        event = small_run.by_id[label["event_id"]]  # every labelled event exists
        campaign = campaigns[label["campaign_id"]]
        assert label["typology"] == campaign["typology"]
        assert label["stage"]
        assert event["account_id"] in campaign["accounts"], (label, campaign)
        labelled_by_campaign[campaign["campaign_id"]] = (
            labelled_by_campaign.get(campaign["campaign_id"], 0) + 1
        )
    assert set(labelled_by_campaign) == set(campaigns), "every campaign has a labelled event"
    for campaign in small_run.campaigns:
        first = min(
            datetime.fromisoformat(small_run.by_id[x["event_id"]]["occurred_at"])
            for x in small_run.labels
            if x["campaign_id"] == campaign["campaign_id"]
        )
        assert datetime.fromisoformat(campaign["started_at"].replace("Z", "+00:00")) == first


def test_fake_topups_are_absent_from_statements_real_ones_present(small_run: Run) -> None:
    settled = {}
    for channel in ("unionpay", "bank_direct", "card_acquirer", "agent_cash"):
        for row in small_run.statement(channel):
            settled[(channel, row["channel_ref"])] = row["amount"]
    expected = {(x["channel"], x["channel_ref"]): x for x in small_run.expected}
    kinds = {x["kind"] for x in small_run.expected}
    assert kinds == {"missing_credit", "amount_mismatch", "not_settled"}
    forged = 0
    for event in small_run.events:
        if event["type"] != "topup_confirmation":
            continue
        key = (event["topup"]["channel"], event["topup"]["channel_ref"])
        label = small_run.label_of.get(event["event_id"])
        if label is not None and label["stage"] == "forged_confirmation":
            forged += 1
            assert key not in settled
            assert expected[key]["kind"] == "not_settled"
        elif key in expected:
            assert expected[key]["kind"] == "amount_mismatch"
            assert settled[key] == expected[key]["statement_amount"] != event["amount"]
        else:
            assert settled[key] == event["amount"], key
    assert forged
    reported = {
        (e["topup"]["channel"], e["topup"]["channel_ref"])
        for e in small_run.events
        if e["type"] in ("topup", "topup_confirmation")
    }
    for key in settled:
        if key not in reported:
            assert expected[key]["kind"] == "missing_credit"


def test_population_summary(small_run: Run) -> None:
    population = small_run.population
    assert population["seed"] == SMALL.seed
    assert population["users"] == SMALL.users
    assert population["config"]["rates"]["mule_ring"] == 100.0
    assert sum(population["users_by_country"].values()) == SMALL.users
