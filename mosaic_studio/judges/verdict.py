"""What every judge returns, and the interface the judging service drives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from mosaic_studio.judges.render import TrajectoryView


@dataclass
class Verdict:
    """A judge's choice on a pair (A, B, tie, both_bad or abstain) and why."""

    choice: str
    rationale: str
    left: str = "A"  # the side the judge saw first
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class Judge(Protocol):
    """Compares the two trajectories of a pair of the same scenario."""

    name: str  # stored as the Annotator name (kind "judge")

    def judge(
        self, a: TrajectoryView, b: TrajectoryView, *, request: str, category: str
    ) -> Verdict:
        """The verdict on (a, b); `request` is the user's task, `category` the scenario's."""
        ...
