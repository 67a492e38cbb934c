"""Step-by-step alignment of two trajectories and where they first diverge (pure)."""

from __future__ import annotations

from itertools import zip_longest

from sandboxes.steps import Step

AlignedRow = tuple[Step | None, Step | None]


def same_step(a: Step | None, b: Step | None) -> bool:
    """Two steps say the same thing (timing and token counts aside)."""
    if a is None or b is None:
        return a is b
    return (a.kind, a.text.strip(), a.tool_name, a.tool_args) == (
        b.kind,
        b.text.strip(),
        b.tool_name,
        b.tool_args,
    )


def align(left: list[Step], right: list[Step]) -> list[AlignedRow]:
    """Rows of (left step, right step) by position; the shorter side is padded with None."""
    return list(zip_longest(left, right))


def first_divergence(rows: list[AlignedRow]) -> int | None:
    """The index of the first row whose steps differ; None when the two are identical."""
    for index, (a, b) in enumerate(rows):
        if not same_step(a, b):
            return index
    return None


SHARED_CONTEXT = 3
"""Identical steps kept in view before the first divergence."""
MAX_ROWS = 150
"""Rows rendered at most; long pairs say how many more there are."""


def visible_window(n_rows: int, divergence: int | None) -> tuple[int, int]:
    """The [start, end) rows to render: a long shared prefix is folded, a long tail cut."""
    start = 0
    if divergence is not None and divergence > SHARED_CONTEXT:
        start = divergence - SHARED_CONTEXT
    return start, min(n_rows, start + MAX_ROWS)
