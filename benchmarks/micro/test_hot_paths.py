"""Micro-benchmarks of the hot paths, with pytest-benchmark; not part of CI's unit tests.

    pip install -e '.[bench]' && python -m pytest benchmarks/micro --benchmark-only

The corpus is pampax's own core package, indexed once per session: small enough to build in a
second, real code all the same. The figures that gate a release are the harness's (targets.md);
these are for comparing one change to the next (``--benchmark-autosave``, ``--benchmark-compare``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pampax.assemble import assemble
from pampax.build import build_index
from pampax.index import open_index
from pampax.markdown import to_markdown
from pampax.models import AssembleRequest, SearchRequest
from pampax.search import search
from pampax.tokens import count_tokens

CORE = Path(__file__).resolve().parents[2] / "layers" / "pampax" / "pampax"
QUESTION = "how does the read-through cache build its key"


@pytest.fixture(scope="session")
def index(tmp_path_factory):
    built = build_index(CORE, tmp_path_factory.mktemp("core") / "index.db")
    with open_index(built.index) as opened:
        yield opened


@pytest.mark.parametrize("query", ["build_index", QUESTION])
def test_search(benchmark, index, query):
    response = benchmark(search, index, SearchRequest(query=query))
    assert response.results


def test_assemble_8k(benchmark, index):
    bundle = benchmark(assemble, index, AssembleRequest(query=QUESTION, budget=8000))
    assert bundle.tokens.used <= 8000


def test_count_tokens_of_an_8k_bundle(benchmark, index):
    text = to_markdown(assemble(index, AssembleRequest(query=QUESTION, budget=8000)))
    assert benchmark(count_tokens, text) <= 8000
