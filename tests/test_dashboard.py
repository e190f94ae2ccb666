import json

from pampax.dashboard import percentile, render_text, summarize


def _emf(stamp, **values):
    name = next(iter(values))
    return json.dumps({"_aws": {"Timestamp": stamp, "CloudWatchMetrics": [
        {"Namespace": "P", "Dimensions": [["service"]], "Metrics": [{"Name": n, "Unit": "Milliseconds"} for n in values]}]},
        "service": "pampax", **{n: [v] for n, v in values.items()}, **({"kind": "index_missing"} if name == "errors_total" else {})})


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile([7.0], 0.95)) == (50.0, 95.0, 7.0)


def test_summary_of_documents_in_a_window():
    lines = [_emf(1000, search_latency_ms=v) for v in (1.0, 2.0, 3.0, 4.0)]
    lines += [_emf(500, search_latency_ms=99.0), "not json", '{"no": "emf"}']
    lines += [_emf(1000, cache_hit_ratio=100.0), _emf(1000, cache_hit_ratio=0.0), _emf(1000, cache_hit_ratio=100.0)]
    lines += [_emf(1000, errors_total=1), _emf(1001, errors_total=1)]
    summary = summarize(lines, since_ms=1000)
    (figure,) = summary.figures
    assert (figure.metric, figure.count, figure.p50, figure.p95, figure.max) == ("search_latency_ms", 4, 2.0, 4.0, 4.0)
    assert summary.cache_hit_ratio == round(200 / 3, 2)  # percent, the metric's own scale
    assert "cache hit ratio: 66.7%" in render_text(summary)
    assert summary.errors_by_kind == {"index_missing": 2}
    assert (summary.skipped_lines, summary.documents, summary.window_start_ms, summary.window_end_ms) == (2, 9, 1000, 1001)


def test_text_dashboard_is_deterministic():
    lines = [_emf(1, search_latency_ms=1.5), _emf(2, assemble_latency_ms=9.0)]
    text = render_text(summarize(lines))
    assert text == render_text(summarize(lines))
    assert text.splitlines()[3].startswith("assemble_latency_ms") and "cache hit ratio: n/a" in text
