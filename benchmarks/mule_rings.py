"""How well `walletguard graph scan` finds the simulator's mule rings.

    .venv/bin/python benchmarks/mule_rings.py [--users 3000] [--days 14] [--seed 7]
        [--rate 20] [--out /tmp/wg-rings]

Simulates a population with mule-ring campaigns (`--rate` per day per 10,000 users,
other typologies at their defaults), replays it through the engine (default rules and
policy) into a scratch database, runs the scan over the whole window and compares the
wallets in the rings found with the simulator's campaigns:

- found: share of mule-ring mules that are members of a found ring;
- rings found: share of mule-ring campaigns with at least one mule in a found ring;
- flagged not mules: members of found rings that are not a mule-ring mule, split into
  accounts of other campaigns and ordinary customers (false accounts).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "walletguard.cli.main", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/wg-rings"))
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    db = out / "rings.db"
    for stale in out.glob("rings.db*"):
        stale.unlink()
    started = time.perf_counter()
    run(
        "simulate",
        "--out",
        str(out / "sim"),
        "--seed",
        str(args.seed),
        "--users",
        str(args.users),
        "--days",
        str(args.days),
        "--rate",
        f"mule_ring={args.rate}",
        "--no-progress",
    )
    run(
        "replay",
        str(out / "sim" / "events.jsonl"),
        "--out",
        str(out / "decisions.jsonl"),
        "--db",
        f"sqlite:///{db}",
    )
    scanned = time.perf_counter()
    rings = json.loads(
        run(
            "graph",
            "scan",
            "--db",
            f"sqlite:///{db}",
            "--days",
            str(args.days + 1),
            "--json",
            "--as",
            "bench:rings",
        )
    )
    scan_seconds = time.perf_counter() - scanned
    campaigns = [
        json.loads(line) for line in (out / "sim" / "campaigns.jsonl").read_text().splitlines()
    ]
    mule_campaigns = [c for c in campaigns if c["typology"] == "mule_ring"]
    mules = {m for c in mule_campaigns for m in c["roles"].get("mule", [])}
    malicious = {
        a
        for c in campaigns
        for role, accounts in c["roles"].items()
        if role in ("mule", "attacker")
        for a in accounts
    }
    victims = {a for c in campaigns for a in c["roles"].get("victim", [])}
    flagged = {m for r in rings for m in r["members"]}
    found = mules & flagged
    campaigns_found = sum(1 for c in mule_campaigns if set(c["roles"].get("mule", [])) & flagged)
    others = flagged - mules
    result = {
        "users": args.users,
        "days": args.days,
        "seed": args.seed,
        "mule_ring_campaigns": len(mule_campaigns),
        "mules": len(mules),
        "rings_found": len(rings),
        "mules_found": len(found),
        "share_of_mules_found": round(len(found) / len(mules), 3) if mules else None,
        "share_of_campaigns_found": (
            round(campaigns_found / len(mule_campaigns), 3) if mule_campaigns else None
        ),
        "flagged_accounts": len(flagged),
        "flagged_other_campaigns_malicious": len(others & malicious),
        "flagged_victims": len(others & victims - malicious),
        "flagged_ordinary": len(others - malicious - victims),
        "scan_seconds": round(scan_seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
