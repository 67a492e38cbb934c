"""The rubric judge: deterministic, from the graded outcomes (`sandboxes.preference`)."""

from __future__ import annotations

from mosaic_studio.judges.render import TrajectoryView
from mosaic_studio.judges.verdict import Verdict
from sandboxes.preference import prefer


class RubricJudge:
    """Applies the MOSAIC preference rules in order; the rationale names the deciding rule.

    A trajectory without a graded outcome (still running, interrupted, failed) gets an
    abstention rather than a guess.
    """

    name = "rubric"

    def judge(
        self, a: TrajectoryView, b: TrajectoryView, *, request: str = "", category: str = ""
    ) -> Verdict:
        outcome_a, outcome_b = a.outcome, b.outcome
        missing = [
            f"{side} ({view.trajectory.status})"
            for side, view, outcome in (("A", a, outcome_a), ("B", b, outcome_b))
            if outcome is None
        ]
        if outcome_a is None or outcome_b is None:
            return Verdict("abstain", f"no graded outcome for {', '.join(missing)}")
        preference = prefer(outcome_a, outcome_b, category=category or None)
        return Verdict(
            preference.winner,
            f"{preference.rule}: {preference.reason}",
            details={"rule": preference.rule},
        )
