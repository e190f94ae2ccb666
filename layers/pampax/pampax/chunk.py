"""Cut a file into search chunks along its symbols: one chunk per function or method, class headers
on their own, small neighbours merged, long spans split into windows.

A chunk is the unit FTS5 ranks and a bundle packs, so its size trades precision (small chunks
point at the right lines) against context (a chunk should read on its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .parse import Symbol

# Sizes in lines. A Django method has a median of ~12 lines and a p95 of ~70 (measured on 5.2.8), so
# 150 keeps nearly every function whole; windows of 80 cut the rest into readable pieces.
MAX_LINES = 150
WINDOW_LINES = 80
# Units shorter than SMALL_LINES merge with a neighbour while the merged chunk stays within MERGE_LINES.
SMALL_LINES = 8
MERGE_LINES = 40
# Function-like symbols own their nested definitions: a closure is read with its parent.
_LEAF_KINDS = frozenset({"function", "method"})


@dataclass(frozen=True, slots=True)
class Chunk:
    start_line: int  # 1-based, inclusive
    end_line: int
    symbol: Symbol | None  # the symbol owning most of the chunk's lines; None for module-level code
    names: tuple[str, ...]  # qualnames of the symbols defined (starting) in the chunk, in order


@dataclass(slots=True)
class _Unit:
    start: int
    end: int
    owners: list[Symbol | None]  # one per line


def chunk_file(line_count: int, symbols: Sequence[Symbol]) -> list[Chunk]:
    """Return the chunks of a file with ``line_count`` lines and the given symbols, in line order."""
    if line_count == 0:
        return []
    owners = _line_owners(line_count, symbols)
    units = _split_long(_runs(owners))
    return [_to_chunk(u) for u in _merge_small(units)]


def _line_owners(line_count: int, symbols: Sequence[Symbol]) -> list[Symbol | None]:
    """Return, for each line, the innermost symbol that owns it (None for module-level lines)."""
    owners: list[Symbol | None] = [None] * line_count
    leaf_end = 0  # lines up to here belong to a function-like symbol and its nested definitions
    for symbol in sorted(symbols, key=lambda s: (s.start_line, -s.end_line)):
        if symbol.start_line <= leaf_end:
            continue
        start, end = max(symbol.start_line, 1), min(symbol.end_line, line_count)
        owners[start - 1:end] = [symbol] * (end - start + 1)
        if symbol.kind in _LEAF_KINDS:
            leaf_end = symbol.end_line
    return owners


def _runs(owners: list[Symbol | None]) -> list[_Unit]:
    units: list[_Unit] = []
    for line, owner in enumerate(owners, start=1):
        if units and units[-1].owners[-1] is owner:
            units[-1].end = line
            units[-1].owners.append(owner)
        else:
            units.append(_Unit(line, line, [owner]))
    return units


def _split_long(units: list[_Unit]) -> list[_Unit]:
    result: list[_Unit] = []
    for unit in units:
        length = unit.end - unit.start + 1
        if length <= MAX_LINES:
            result.append(unit)
            continue
        for offset in range(0, length, WINDOW_LINES):
            piece = unit.owners[offset:offset + WINDOW_LINES]
            result.append(_Unit(unit.start + offset, unit.start + offset + len(piece) - 1, piece))
    return result


def _merge_small(units: list[_Unit]) -> list[_Unit]:
    merged: list[_Unit] = []
    for unit in units:
        if merged:
            last = merged[-1]
            small = min(last.end - last.start, unit.end - unit.start) + 1 < SMALL_LINES
            if small and unit.end - last.start + 1 <= MERGE_LINES:
                last.end = unit.end
                last.owners.extend(unit.owners)
                continue
        merged.append(_Unit(unit.start, unit.end, list(unit.owners)))
    return merged


def _to_chunk(unit: _Unit) -> Chunk:
    counts: dict[Symbol | None, int] = {}
    for owner in unit.owners:
        counts[owner] = counts.get(owner, 0) + 1
    named = [s for s in counts if s is not None]
    # The chunk speaks for its largest named owner; ties go to the earliest.
    symbol = max(named, key=lambda s: counts[s]) if named else None
    # Only definitions name a chunk: a method chunk must not answer to its class's name.
    defined = tuple(s.qualname for s in named if unit.start <= s.start_line <= unit.end)
    return Chunk(unit.start, unit.end, symbol, defined)
