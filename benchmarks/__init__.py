"""pampax's benchmark harness: pinned corpora, latency and relevance figures, baseline comparison, soak.

Targets live in ``benchmarks/targets.md``; ``benchmarks/README.md`` is the methodology.
"""
