"""The Markdown form of a bundle, and the token arithmetic that keeps what it prints inside the budget.

The printed text is a header and one block per item. Every piece starts with ``#`` and ends with a
blank line, so no piece the counter sees spans two of them: the count of the whole is exactly the
sum of the pieces' counts. ``tokens.used`` is that sum, header included; the evidence table is
printed only on request (``--evidence``), after everything ``used`` counts.
"""

from __future__ import annotations

from typing import get_args

from .models import AssembleResponse, BundleItem
from .tokens import COUNTER, count_tokens

_STOP_REASONS = get_args(AssembleResponse.model_fields["stop_reason"].annotation)


def item_block(item: BundleItem) -> str:
    """Return the Markdown block of one item: the exact text its ``tokens`` measures."""
    title = f"### {item.path}:{item.start_line}-{item.end_line}"
    if item.symbol:
        title += f" `{item.symbol}`"
    return f"{title} ({item.mode})\n\n```{item.lang}\n{item.text}\n```\n\n_{item.reason}_\n\n"


def _header(query: str, generation: str, items: int, used: int, budget: int, stop: str, title: bool) -> str:
    stats = f"generation `{generation}` · {items} items · {used}/{budget} tokens ({COUNTER}) · stop: {stop}\n\n"
    return (f"# Context bundle: {_one_line(query)}\n\n" if title else "") + stats


def header_room(query: str, generation: str, budget: int, max_items: int) -> int:
    """Return the tokens to keep free for the header: the longest the richest header that fits can be.

    The header names the item count, the tokens used and the stop reason, unknown before packing,
    so it is measured at their longest: ``max_items`` items, ``budget`` used, the longest reason.
    Zero when not even the title-less header fits (then none is printed).
    """
    for title in (True, False):
        longest = max(count_tokens(_header(query, generation, max_items, budget, budget, stop, title))
                      for stop in _STOP_REASONS)
        if longest <= budget:
            return longest
    return 0


def header(query: str, generation: str, items: list[BundleItem], budget: int, stop: str) -> tuple[str, int]:
    """Return (header, used): the richest header that fits beside ``items``, and what both print together.

    The header shows ``used``, which counts the header: the fixed point is found from ``budget``
    down (the count only falls as the number it shows shrinks). Items packed into the room that
    ``header_room`` left always get a header at least as rich as the one reserved.
    """
    packed = sum(item.tokens for item in items)
    for title in (True, False):
        used = budget
        while (total := packed + count_tokens(_header(query, generation, len(items), used, budget, stop, title))) < used:
            used = total
        if total <= budget:
            return _header(query, generation, len(items), used, budget, stop, title), used
    return "", packed


def to_markdown(bundle: AssembleResponse, evidence: bool = False) -> str:
    """Return the bundle as Markdown, ``tokens.used`` tokens long; with ``evidence``, the evidence table after it.

    Byte-identical for equal bundles.
    """
    text, _ = header(bundle.query, bundle.generation, bundle.items, bundle.tokens.budget, bundle.stop_reason)
    out = [text, *(item_block(item) for item in bundle.items)]
    if evidence:
        out += ["## Evidence\n\n| # | path | line | symbol | role | via | edge | score | decision |\n"
                "|---|---|---|---|---|---|---|---|---|\n"]
        out += [f"| {n} | {e.path} | {e.start_line} | {e.symbol or ''} | {e.role} | {e.via or ''} | "
                f"{e.edge or ''} | {e.score} | {e.decision} |\n" for n, e in enumerate(bundle.evidence, start=1)]
    return "".join(out)


def _one_line(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
