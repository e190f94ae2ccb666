"""CI smoke run of the benchmark harness: the quick Small-corpus pipeline, in-process, no timing assertions.

It checks the harness, not pampax's speed: every acceptance figure is present (measured, or skipped
with a reason), relevance is computed, the files are written and the report renders. It is skipped
only when pip cannot download the pinned corpus (no PyPI access), and says so.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level directory of the repository, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import compare, corpora, relevance, run
from benchmarks.report import render
from benchmarks.stats import percentile
from benchmarks.targets import TARGETS

FIGURES = {
    "index.build", "index.size", "index.reindex_one_file",
    "search.identifier", "search.error", "search.natural", "search.bug_report", "search.short",
    "assemble.2000", "assemble.8000", "assemble.32000", "cli.cold_search", "cli.python_start",
    "rg.identifier", "rg.error", "handler.search", "cache.hit", "cache.hit_ratio", "handler.cold_start_s3", "soak",
    "cli.cold_vs_rg",
}
LATENCY_KEYS = {"p50_ms", "p95_ms", "max_ms", "trials"}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[dict, Path]:
    try:
        corpora.fetch(corpora.CORPORA["small"])
    except corpora.FetchFailed as exc:
        pytest.skip(f"Small corpus not downloadable here, so the benchmark smoke run cannot run: {exc}")
    # A private copy of the tree and index: a benchmark run going on meanwhile is left alone.
    results = run.run_benchmarks("small", run.Trials.plan(search=2, builds=1, quick=True), quick=True,
                                 private=tmp_path_factory.mktemp("small"))
    # CI keeps the record as an artifact (.ci/run sets SMOKE_RESULTS_DIR); elsewhere it is scratch.
    out = Path(os.environ.get("SMOKE_RESULTS_DIR") or tmp_path_factory.mktemp("results"))
    run.write(results, out)
    return results, out


def test_every_figure_is_measured_or_skipped_with_a_reason(small):
    results, _ = small
    # THEN every figure of the acceptance table is there, and each is a latency, a value or a reasoned skip
    assert FIGURES <= results["figures"].keys()
    for key, figure in results["figures"].items():
        if "status" in figure:
            assert figure["status"] in ("skipped", "failed") and figure["reason"], key
        elif key == "cli.cold_vs_rg":  # ratios of paired runs, with rg's own latencies
            assert figure["ratio_p50"] > 0 and LATENCY_KEYS <= figure["rg"].keys()
        elif key not in ("index.size", "cache.hit_ratio", "soak"):
            assert LATENCY_KEYS <= figure.keys(), key
    for key in ("index.build", "search.short", "assemble.8000", "cli.cold_search"):
        assert "status" not in results["figures"][key]  # the core's own figures never skip


def test_relevance_is_computed_per_type_and_overall(small):
    results, _ = small
    by_type = results["relevance"]["by_type"]
    assert set(by_type) == {"identifier", "error", "natural", "bug_report", "overall"}
    for summary in by_type.values():
        assert 0 <= summary["recall_at_10"] <= 1 and 0 <= summary["mrr"] <= 1
    assert by_type["overall"]["queries"] == len(results["relevance"]["queries"]) > 0


def test_results_are_written_and_the_report_names_every_target(small):
    results, out = small
    # WHEN the written JSON is read back THEN it is the record, and its report is the .txt file
    assert json.loads((out / "small.json").read_text()) == results
    text = (out / "small.txt").read_text()
    assert text == render(results)
    assert all(target.figure in text for target in TARGETS)
    assert {"machine", "python", "sqlite", "pampax_version", "timestamp", "core"} <= results["environment"].keys()


def test_percentile_is_nearest_rank():
    assert percentile([3.0, 1.0, 2.0, 4.0], 0.5) == 2.0
    assert percentile(list(map(float, range(1, 101))), 0.95) == 95.0
    assert percentile([7.0], 0.95) == 7.0


def test_relevance_judges_distinct_paths():
    ranked = relevance.distinct_paths(["a.py", "a.py", "b.py", "c.py"])
    assert relevance.judge(ranked, ("c.py", "z.py")) == {"rank": 3, "recall": 0.5, "first": "a.py"}
    assert relevance.judge(ranked, ("z.py",))["rank"] is None


def test_compare_flags_p95_regressions_above_ten_percent_and_one_ms():
    def results(**p95):
        return {"figures": {k.replace("_", "."): {"p95_ms": v} for k, v in p95.items()}}

    rows = compare.compare(results(search_a=10.0, search_b=0.5, rg_x=10.0), results(search_a=11.5, search_b=0.9, rg_x=20.0))
    assert [r["regressed"] for r in rows] == [True, False, False]  # +15 %; +80 % but under 1 ms; reference


def _table(markdown: str, heading: str) -> list[list[str]]:
    """Return the body rows of the first table under ``heading``, as cells."""
    section = markdown.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[1:]]


def test_targets_md_pins_and_rows_are_the_harness_own():
    # GIVEN the repository's targets page, the one place the benchmark README cites
    page = (ROOT / "benchmarks" / "targets.md").read_text(encoding="utf-8")
    # THEN its corpora are the pins corpora.fetch verifies, and its rows are the ones the report judges
    pins = {name: (package, sha) for name, package, sha, _ in _table(page, "Corpora")}
    assert pins == {c.name: (c.requirement, c.sha256) for c in corpora.CORPORA.values()}
    rows = [tuple(row[:3]) for row in _table(page, "Targets on medium")]
    assert rows == [(t.figure, t.gate, t.goal) for t in TARGETS]
