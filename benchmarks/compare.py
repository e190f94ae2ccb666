"""Regression guard: compare a results file with a baseline; exit 1 when any p95 regressed by more than 10 %.

Every figure both files measured with a p95 is compared. A figure counts as regressed when its p95
is more than 10 % above the baseline's *and* at least 1 ms above it: below a millisecond, timer
resolution, scheduling and a cold CPU cache move p95s by tens of percent, so a relative threshold
alone would flag noise (a 0.5 ms p95 becoming 0.6 ms is +20 % and means nothing). The reference
figures (ripgrep, bare interpreter start) are not pampax: they are shown, since a change there says
the machine changed, but never fail the guard.

    python -m benchmarks.compare benchmarks/results/medium.json /tmp/new/medium.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .report import table
from .targets import ms

THRESHOLD = 0.10
NOISE_FLOOR_MS = 1.0
REFERENCE = ("rg.", "cli.python_start")


def compare(baseline: dict, current: dict) -> list[dict]:
    """Return one row per figure with a p95 in both files, in the baseline's order."""
    rows = []
    for key, old in baseline["figures"].items():
        new = current["figures"].get(key, {})
        if "p95_ms" not in old or "p95_ms" not in new:
            continue
        change = (new["p95_ms"] - old["p95_ms"]) / old["p95_ms"] if old["p95_ms"] else 0.0
        regressed = (change > THRESHOLD and new["p95_ms"] - old["p95_ms"] >= NOISE_FLOOR_MS
                     and not key.startswith(REFERENCE))
        rows.append({"figure": key, "baseline_p95_ms": old["p95_ms"], "p95_ms": new["p95_ms"],
                     "change": change, "regressed": regressed})
    return rows


def render(rows: list[dict], baseline: dict, current: dict) -> str:
    """Return the comparison as text: which cores were compared, then one line per figure."""
    lines = [f"baseline: {baseline['environment']['core']} {baseline['environment']['timestamp']}",
             f"current:  {current['environment']['core']} {current['environment']['timestamp']}"]
    if baseline["corpus"]["requirement"] != current["corpus"]["requirement"]:
        lines.append(f"warning: corpora differ ({baseline['corpus']['requirement']} vs {current['corpus']['requirement']})")
    body = [[r["figure"], ms(r["baseline_p95_ms"]), ms(r["p95_ms"]), f"{r['change']:+.1%}",
             "REGRESSED" if r["regressed"] else "reference" if r["figure"].startswith(REFERENCE) else ""]
            for r in rows]
    lines.append(table(["figure", "baseline p95", "p95", "change", ""], body))
    regressed = sum(r["regressed"] for r in rows)
    lines.append(f"{regressed} of {len(rows)} figures regressed (p95 > +{THRESHOLD:.0%} and > +{NOISE_FLOOR_MS:g} ms)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__.split("\n")[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("current", type=Path)
    args = parser.parse_args(argv)
    baseline, current = (json.loads(p.read_text()) for p in (args.baseline, args.current))
    rows = compare(baseline, current)
    sys.stdout.write(render(rows, baseline, current))
    return 1 if any(r["regressed"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
