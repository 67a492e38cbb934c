"""A deterministic stand-in for the run service, for snapshots (the real one is tested live)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sandboxes.outcome import Outcome
from sandboxes.scenario import Scenario
from sandboxes.steps import Step


class ReplayRun:
    """Replays fixed steps and an outcome per model spec through the caller's listener."""

    def __init__(
        self, runs: dict[str, tuple[list[Step], Outcome]], scenarios: list[Scenario]
    ) -> None:
        self.runs = runs
        self.scenarios = {s.id: s for s in scenarios}

    def __call__(self, ids: list[str], spec: str, **kwargs: Any) -> list[Any]:
        listener = kwargs["listener"]
        steps, outcome = self.runs[spec]
        for position, scenario_id in enumerate(ids):
            scenario = self.scenarios[scenario_id]
            recorder = SimpleNamespace(
                trajectory_id=lambda episode, p=position: f"{p:04d}feed{episode:08d}"
            )
            listener.scenario_started(position, len(ids), scenario, recorder)
            listener.episode_started(0, None)
            for step in steps:
                listener.step_started(0, step.turn)
                listener.token(0, step.text)
                listener.step_finished(0, step)
            listener.episode_finished(0, SimpleNamespace(outcome=outcome))
        return []
