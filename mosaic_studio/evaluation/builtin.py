"""`builtin:test|train|all`: our own scenario library, graded by `sandboxes.grader`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mosaic_studio.evaluation.episodes import EvalContext, ItemRun, run_item_episode
from sandboxes.scenario import CATEGORIES, Scenario

SPLIT_CHOICES = ("test", "train", "all")


def _interleave(scenarios: list[Scenario]) -> list[Scenario]:
    """Round-robin over categories, so a `--limit` still covers every axis."""
    by_category = {c: [s for s in scenarios if s.category == c] for c in CATEGORIES}
    ordered: list[Scenario] = []
    for i in range(max((len(v) for v in by_category.values()), default=0)):
        ordered.extend(group[i] for group in by_category.values() if i < len(group))
    return ordered


@dataclass
class BuiltinSuite:
    """The built-in scenarios of one split, each run in the Docker sandbox."""

    split: str = "test"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"builtin:{self.split}"

    def _scenarios(self) -> dict[str, Scenario]:
        from sandboxes.library import builtin_scenarios

        found = builtin_scenarios(split=None if self.split == "all" else self.split)
        return {s.id: s for s in _interleave(sorted(found, key=lambda s: s.id))}

    def item_ids(self) -> list[str]:
        return list(self._scenarios())

    def run_item(self, item_id: str, ctx: EvalContext) -> ItemRun:
        scenario = self._scenarios()[item_id]
        return run_item_episode(
            ctx,
            scenario,
            item_id=item_id,
            axis=scenario.category,
            attacked=scenario.category == "injection",
        )
