"""The SWE-bench-style relevance runner end to end on a fixture repository laid out as a snapshot."""

import json
import shutil

from benchmarks import swebench
from tests.conftest import FIXTURES


def test_runner_scores_pampax_beside_the_baseline(tmp_path):
    # GIVEN one snapshot and two cases on it, one whose fix is in calc/units.py
    shutil.copytree(FIXTURES / "reports", tmp_path / "repos" / "demo__calc__0001")
    cases = [
        {"id": "demo__calc-1", "repo": "demo/calc", "snapshot": "demo__calc__0001",
         "query": "convert_units gives the wrong factor for km", "gold_files": ["calc/units.py"],
         "gold_lines": {"calc/units.py": [[6, 6]]}},
        {"id": "demo__calc-2", "repo": "demo/calc", "snapshot": "demo__calc__0001",
         "query": "Evaluator.evaluate fails for an unknown operator", "gold_files": ["calc/evaluate.py"],
         "gold_lines": {"calc/evaluate.py": [[19, 19]]}},
    ]
    (tmp_path / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    out = tmp_path / "record.json"
    # WHEN the runner runs twice (the second reuses the index and the cached baseline)
    for _ in range(2):
        assert swebench.main(["--cases", str(tmp_path / "cases.jsonl"), "--repos", str(tmp_path / "repos"),
                              "--indexes", str(tmp_path / "indexes"), "--trials", "1", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    # THEN both systems are scored per repository, and pampax finds both files first
    assert record["n"] == 2 and set(record["bm25"]["by_repo"]) == {"demo/calc"}
    assert record["pampax"]["all"]["recall@1"] == 1.0 and record["pampax"]["all"]["bundle_span_hit"] == 1.0
    assert record["pampax"]["all"]["bundle_within_budget"] == 1.0
    assert record["latency_ms"]["p50"] is not None
    assert len((tmp_path / "indexes" / "bm25.jsonl").read_text().splitlines()) == 2
