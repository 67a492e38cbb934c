"""Which trajectories to list: `TrajectoryFilter` and the outcome flags (light to import)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# Outcome flags stored as nullable booleans on Trajectory, filterable by `TrajectoryFilter`.
OUTCOME_FLAGS: tuple[str, ...] = (
    "refused",
    "task_success",
    "harmful_action",
    "leaked",
    "followed_injection",
    "over_refusal",
)


@dataclass(frozen=True)
class TrajectoryFilter:
    """Which trajectories to list; every field left as None does not filter."""

    scenario: str | None = None
    category: str | None = None
    split: str | None = None
    model: str | None = None
    status: str | None = None
    source: str | None = None
    group_id: str | None = None
    refused: bool | None = None
    task_success: bool | None = None
    harmful_action: bool | None = None
    leaked: bool | None = None
    followed_injection: bool | None = None
    over_refusal: bool | None = None

    def conditions(self) -> list[Any]:
        """SQL conditions for the fields that are set."""
        from sqlmodel import col

        from mosaic_studio.store.tables import Trajectory

        columns = {
            "scenario": Trajectory.scenario_id,
            "category": Trajectory.category,
            "split": Trajectory.split,
            "model": Trajectory.model_spec,
            "status": Trajectory.status,
            "source": Trajectory.source,
            "group_id": Trajectory.group_id,
        }
        conditions: list[Any] = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None:
                continue
            column = columns.get(field.name) or getattr(Trajectory, field.name)
            conditions.append(col(column) == value)
        return conditions
