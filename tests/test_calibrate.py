"""Calibration: the candidate grid, the held-back fold, coordinate ascent on a real index, the written section."""

from pampax.config import SearchSettings, load_config
from pampax.models import SearchRequest
from pampax.search import search

from benchmarks.calibrate import Evaluator, Golden, ascend, candidates, held_out, table, toml_section


def test_candidates_stay_inside_each_settings_bounds():
    settings = SearchSettings()
    assert candidates(settings, "chunk_test_factor") == [0.3, 0.48, 0.75, 1.0, 0.0]  # 1.2 is capped at le=1
    assert candidates(settings, "import_weight") == [0.25, 0.5]  # an off signal is tried on
    assert candidates(settings, "seed_spans") == [4, 6, 9, 14, 0]
    assert candidates(settings, "prefix_boost") == [1, 1.2, 1.875, 3.0]  # ge=1: a boost never penalises


def test_the_held_back_fold_is_fixed_by_case_id():
    ids = [f"case-{n}" for n in range(400)]
    held = [i for i in ids if held_out(i, 4)]
    assert held == [i for i in ids if held_out(i, 4)]
    assert 70 < len(held) < 130


def _first_test_file(query):
    def judge(index, settings):
        paths = list(dict.fromkeys(h.path for h in search(index, SearchRequest(query=query, limit=20), settings).results))
        rank = next((n for n, p in enumerate(paths, start=1) if p.startswith("tests/")), None)
        return 1 / rank if rank else 0.0
    return judge


def test_ascent_moves_a_setting_only_when_the_train_cases_gain(shop_index_path):
    # GIVEN cases whose right answer is a test file, which the test prior holds down
    cases = [Golden(f"c{n}", "shop", shop_index_path, q, _first_test_file(q))
             for n, q in enumerate(["get_user_by_id", "count_users"])]
    evaluator = Evaluator(frozen=False)
    try:
        start = evaluator.scores(cases, SearchSettings())
        # WHEN the test prior is tuned, THEN it rises and the cases gain
        tuned = ascend(evaluator, cases, ["chunk_test_factor"], rounds=2, min_gain=0.0, start=SearchSettings(),
                       log=lambda line: None)
        assert tuned.chunk_test_factor > SearchSettings().chunk_test_factor
        after = evaluator.scores(cases, tuned)
        assert sum(after.values()) > sum(start.values())
        # AND a setting that cannot help stays as it was
        assert ascend(evaluator, cases, ["callee_factor"], 1, 0.0, SearchSettings(), lambda line: None) == SearchSettings()
    finally:
        evaluator.close()
    assert table(cases, 2, start, after, None).splitlines()[0].split()[:3] == ["set", "n", "train"]


def test_the_written_section_is_a_config_file(tmp_path):
    tuned = SearchSettings(exact_boost=2.4, seed_spans=4)
    path = tmp_path / "pampax.toml"
    path.write_text(toml_section(tuned, ["exact_boost", "seed_spans"], "held-out MRR 0.5 -> 0.6"))
    resolved = load_config(path, env={})
    assert (resolved.config.search.exact_boost, resolved.config.search.seed_spans) == (2.4, 4)
    assert resolved.sources["search.exact_boost"] == f"file:{path}"
