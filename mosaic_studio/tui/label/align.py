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
