"""The model and graph commands as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.e2e.test_cli_replay import run
from tests.support import EventFactory, write_jsonl
from tests.unit.graph.ring_scenario import MULES, ring_events


def handbook_like(path: Path) -> Path:
    """A small file in the handbook's format: 80 customers, 40 terminals, 2018-07-10 to
    08-15; payments over 220 are fraud (the handbook's scenario 1), as is everything at
    terminal 7 from 07-20 (scenario 2)."""
    rng = random.Random(11)
    rows: dict[str, list] = {
        k: []
        for k in (
            "TRANSACTION_ID",
            "TX_DATETIME",
            "CUSTOMER_ID",
            "TERMINAL_ID",
            "TX_AMOUNT",
            "TX_FRAUD",
            "TX_FRAUD_SCENARIO",
        )
    }
    at = datetime(2018, 7, 10)
    tx = 0
    while at < datetime(2018, 8, 15):
        at += timedelta(seconds=rng.randint(120, 900))
        terminal = rng.randrange(40)
        amount = (
            round(rng.uniform(5, 120), 2)
            if rng.random() > 0.03
            else round(rng.uniform(221, 400), 2)
        )
        fraud = int(amount > 220 or (terminal == 7 and at >= datetime(2018, 7, 20)))
        for key, value in zip(
            rows, (tx, at, rng.randrange(80), terminal, amount, fraud, fraud), strict=True
        ):
            rows[key].append(value)
        tx += 1
    table = pa.table(rows).cast(
        pa.schema(
            [
                ("TRANSACTION_ID", pa.int64()),
                ("TX_DATETIME", pa.timestamp("ns")),
                ("CUSTOMER_ID", pa.int32()),
                ("TERMINAL_ID", pa.int32()),
                ("TX_AMOUNT", pa.float64()),
                ("TX_FRAUD", pa.int64()),
                ("TX_FRAUD_SCENARIO", pa.int64()),
            ]
        )
    )
    pq.write_table(table, path)
    return path


def test_bench_handbook_prints_the_three_figures(tmp_path: Path) -> None:
    data = handbook_like(tmp_path / "transactions.parquet")
    result = run(
        "bench", "handbook", str(tmp_path), "--since", "2018-07-10", "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr.decode()
    figures = json.loads(result.stdout)
    assert set(figures) == {"auc_roc", "average_precision", "card_precision_at_100"}
    assert figures["auc_roc"] > 0.9
    assert figures["average_precision"] > 0.7
    assert 0 < figures["card_precision_at_100"] <= 1
    table = run("bench", "handbook", str(data), "--since", "2018-07-10", cwd=tmp_path)
    assert table.returncode == 0, table.stderr.decode()
    assert "XGBoost, tuned" in table.stdout.decode()
    assert "walletguard gbm-" in table.stdout.decode()


def test_train_promote_and_decide_with_the_model(tmp_path: Path) -> None:
    f = EventFactory()
    rng = random.Random(3)
    docs = []
    names = [f"u{i}" for i in range(25)]
    for name in names:
        docs += f.funded(name, "50000.00")
    labels = []
    for _ in range(700):
        f.advance(minutes=20)
        who = rng.choice(names)
        if rng.random() < 0.08:
            docs.append(
                f.payment(
                    who,
                    merchant="fence",
                    amount=f"{rng.randint(700, 900)}.00",
                    device={"id": f"burner-{rng.randint(0, 99)}"},
                )
            )
            labels.append({"event_id": docs[-1]["event_id"], "typology": "test"})
        else:
            docs.append(
                f.payment(
                    who, merchant=f"shop{rng.randint(0, 4)}", amount=f"{rng.randint(10, 80)}.00"
                )
            )
    events = write_jsonl(tmp_path / "events.jsonl", docs)
    label_file = write_jsonl(tmp_path / "labels.jsonl", labels)
    db = f"sqlite:///{tmp_path / 'wallet.db'}"
    train = (
        "train", "--events", str(events), "--labels", str(label_file), "--db", db,
        "--types", "payment", "--maturity-days", "0.5", "--labels-delay-days", "0",
        "--as", "analyst:ann",
    )  # fmt: skip
    trained = run(*train, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr.decode()
    version = trained.stderr.decode().split("models promote ")[1].split()[0]
    listed = run("models", "list", "--db", db, cwd=tmp_path)
    assert version in listed.stdout.decode()
    assert "candidate" in listed.stdout.decode()
    promoted = run("models", "promote", version, "--db", db, "--as", "analyst:bob", cwd=tmp_path)
    assert promoted.returncode == 0, promoted.stderr.decode()
    shown = run("models", "show", version, "--db", db, cwd=tmp_path).stdout.decode()
    assert "champion" in shown
    assert "analyst:bob" in shown
    assert "fingerprint" in shown
    again = run(*train, cwd=tmp_path).stderr.decode()  # the same data: the same version
    assert f"already registered {version}, champion" in again
    assert "promote" not in again

    f.advance(hours=2)
    later = write_jsonl(
        tmp_path / "later.jsonl",
        [
            f.payment("u1", merchant="shop1", amount="30.00"),
            f.payment("u2", merchant="fence", amount="850.00", device={"id": "burner-new"}),
        ],
    )
    out = tmp_path / "decisions.jsonl"
    replayed = run("replay", str(later), "--out", str(out), "--db", db, cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr.decode()
    usual, odd = (json.loads(line) for line in out.read_text().splitlines())
    assert usual["model_version"] == odd["model_version"] == version
    assert any(r["code"].startswith("MODEL_") for r in odd["reasons"])
    assert odd["decision"] != "allow"


def test_graph_scan_opens_a_case_and_writes_its_picture(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "events.jsonl", ring_events(EventFactory()))
    db = f"sqlite:///{tmp_path / 'wallet.db'}"
    assert (
        run(
            "replay", str(events), "--out", str(tmp_path / "d.jsonl"), "--db", db, cwd=tmp_path
        ).returncode
        == 0
    )
    scanned = run("graph", "scan", "--db", db, "--json", "--as", "analyst:ann", cwd=tmp_path)
    assert scanned.returncode == 0, scanned.stderr.decode()
    rings = json.loads(scanned.stdout)
    assert [sorted(r["members"]) for r in rings] == [sorted(MULES)]
    svg = tmp_path / "ring.svg"
    drawn = run(
        "graph", "picture", rings[0]["case_id"], "--out", str(svg), "--db", db, cwd=tmp_path
    )
    assert drawn.returncode == 0, drawn.stderr.decode()
    assert svg.read_text().startswith("<svg")
    again = run("graph", "scan", "--db", db, "--json", "--as", "analyst:ann", cwd=tmp_path)
    assert json.loads(again.stdout) == []
