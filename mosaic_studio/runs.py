"""The headless run service of the CLI and the TUI: scenarios + a model → stored trajectories.

`run_scenarios(scenario_ids_or_paths, model_spec, *, samples=1, settings=None, max_steps=None,
listener=None, cancel=None, engine=None, category=None, split=None, reference=None,
**run_options) -> list[RunResult]` resolves the scenarios (ids, files, `Scenario` objects, or
every built-in of a category / split), checks Docker, removes containers a crashed run left
(`sweep`), marks dead runs `interrupted`, loads the backend once, runs each scenario's
`samples` episodes as one batched group, and records every step through `TrajectoryRecorder`
as it finishes.

`listener` gets every episode event (episode index = sample index within the scenario); a
`RunListener` also hears `scenario_started` / `scenario_finished`. `cancel` (a threading.Event)
stops the run between steps; cancelled episodes are stored as `cancelled`. `reference="good"` or
`"bad"` replays the scenarios' own reference turns instead of a model (`source` reference_good
/ reference_bad, model spec `reference:good|bad`). `source`, `parent_id`, `fork_step` label the
rows from the start (a fork: `source="fork"`, with `prefix_turns` and the parent's `tokens` in
`run_options`). `run_options` go to `agent.loop.run_group` (`prefix_turns`, `tokens`,
`token_budget`, `batch`, and for tests `sandbox_factory` / `grade_fn`).

Every expected failure (unknown scenario, bad model spec, Docker down, a model or sandbox that
fails mid-run) raises `mosaic_studio.cli.errors.UserError` with one line; the trajectories of
a failed scenario are stored with status `failed` and the reason first.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from mosaic_studio.agent.events import EpisodeListener, ListenerGroup
from mosaic_studio.agent.loop import EpisodeResult, run_group
from mosaic_studio.cli.errors import UserError
from mosaic_studio.models.base import ModelBackend, SamplingSettings
from mosaic_studio.store.db import get_engine
from mosaic_studio.store.liveness import mark_interrupted
from mosaic_studio.store.queries import register_model_version
from mosaic_studio.store.recorder import TrajectoryRecorder
from sandboxes.scenario import Scenario

Reference = Literal["good", "bad"]


class RunListener(EpisodeListener):
    """An episode listener that also hears the run's stages and each scenario's start and end."""

    def stage(self, text: str) -> None:
        """A slow preparation step begins, e.g. `loading model smollm2`."""

    def scenario_started(
        self, position: int, total: int, scenario: Scenario, recorder: TrajectoryRecorder
    ) -> None:
        """Scenario `position` (0-based) of `total` is about to start its episodes."""

    def scenario_finished(self, position: int, results: list[RunResult]) -> None:
        """Its episodes are finished and stored."""


@dataclass
class RunResult:
    """One stored trajectory of a run and the episode that produced it."""

    trajectory_id: str
    group_id: str
    status: str
    episode: EpisodeResult

    def summary(self) -> dict[str, Any]:
        """The JSON shape `mosaic run --json` prints: id, scenario, model, outcome, steps…"""
        ep = self.episode
        return {
            "id": self.trajectory_id,
            "group": self.group_id,
            "sample": ep.index,
            "scenario": ep.scenario.id,
            "category": ep.scenario.category,
            "split": ep.scenario.split,
            "model": ep.model_spec,
            "status": self.status,
            "error": ep.error,
            "outcome": ep.outcome.model_dump(mode="json"),
            "steps": [step.model_dump(mode="json") for step in ep.steps],
            "tokens": ep.outcome.tokens,
            "wall_time_s": ep.outcome.wall_time_s,
        }


def resolve_scenarios(
    ids_or_paths: Sequence[str | Path | Scenario],
    *,
    category: str | None = None,
    split: str | None = None,
) -> list[Scenario]:
    """Scenarios by id, file or object, or (none named) the built-ins of a category / split."""
    from sandboxes.library import ScenarioError, builtin_scenarios, get_scenario

    try:
        if ids_or_paths:
            chosen = [
                item if isinstance(item, Scenario) else get_scenario(item) for item in ids_or_paths
            ]
            return [
                s
                for s in chosen
                if (category is None or s.category == category)
                and (split is None or s.split == split)
            ]
        if category is None and split is None:
            raise UserError("name at least one scenario (id or file), or pick --category/--split")
        found = builtin_scenarios(category=category, split=split)
    except (ScenarioError, ValueError) as exc:
        raise UserError(str(exc)) from None
    if not found:
        raise UserError(f"no built-in scenario has category={category} split={split}")
    return found


def prepare_sandboxes() -> None:
    """Check the Docker engine and remove containers that a crashed run left behind."""
    from sandboxes.sandbox import docker_available, sweep

    problem = docker_available()
    if problem is not None:
        raise UserError(problem)
    try:
        sweep()
    except Exception as exc:  # the engine went away between the check and the sweep
        raise UserError(f"cannot clean up old sandboxes: {_one_line(exc)}") from None


def load_model(model_spec: str) -> ModelBackend:
    """The backend for a spec; bad specs and unloadable models become one-line UserErrors."""
    from mosaic_studio.models.spec import ModelSpecError, load_backend

    try:
        return load_backend(model_spec)
    except ModelSpecError as exc:
        raise UserError(str(exc)) from None


def run_scenarios(
    scenario_ids_or_paths: Sequence[str | Path | Scenario],
    model_spec: str = "smollm2",
    *,
    samples: int = 1,
    settings: SamplingSettings | None = None,
    max_steps: int | None = None,
    listener: EpisodeListener | None = None,
    cancel: threading.Event | None = None,
    engine: Engine | None = None,
    category: str | None = None,
    split: str | None = None,
    reference: Reference | None = None,
    source: str | None = None,
    parent_id: str | None = None,
    fork_step: int | None = None,
    **run_options: Any,
) -> list[RunResult]:
    """Run each scenario `samples` times with one model and store every trajectory."""
    if samples < 1:
        raise UserError(f"--samples must be at least 1 (got {samples})")
    if max_steps is not None and max_steps < 1:
        raise UserError(f"--max-steps must be at least 1 (got {max_steps})")
    settings = settings or SamplingSettings()
    scenarios = resolve_scenarios(scenario_ids_or_paths, category=category, split=split)
    if not scenarios:
        raise UserError("none of the named scenarios matches --category/--split")
    engine = engine or get_engine()
    stage = listener.stage if isinstance(listener, RunListener) else (lambda text: None)
    if run_options.get("sandbox_factory") is None:
        stage("checking Docker and removing sandboxes left by crashed runs")
        prepare_sandboxes()
    mark_interrupted(engine)
    if reference is None:
        stage(f"loading model {model_spec}")
    backend = None if reference else load_model(model_spec)
    if backend is not None:
        with Session(engine) as session:
            register_model_version(session, backend.spec)
    results: list[RunResult] = []
    for position, scenario in enumerate(scenarios):
        if cancel is not None and cancel.is_set():
            break
        if reference is not None:
            backend = _reference_backend(scenario, reference)
        assert backend is not None
        recorder = TrajectoryRecorder(
            engine,
            scenario,
            backend.spec,
            settings,
            source=source or ("rollout" if reference is None else f"reference_{reference}"),
            parent_id=parent_id,
            fork_step=fork_step,
        )
        if isinstance(listener, RunListener):
            listener.scenario_started(position, len(scenarios), scenario, recorder)
        group = _run_group(
            backend, scenario, samples, settings, max_steps, recorder, listener, cancel, run_options
        )
        batch = [
            RunResult(recorder.trajectory_id(r.index), recorder.group_id, _status(r), r)
            for r in group
        ]
        results.extend(batch)
        if isinstance(listener, RunListener):
            listener.scenario_finished(position, batch)
        failed = next((r for r in batch if r.status == "failed"), None)
        if failed is not None:
            raise UserError(
                f"{backend.spec} failed on {scenario.id}: {failed.episode.error or 'unknown'}"
                f" (trajectory {failed.trajectory_id} kept as failed)"
            )
    return results


def _run_group(
    backend: ModelBackend,
    scenario: Scenario,
    samples: int,
    settings: SamplingSettings,
    max_steps: int | None,
    recorder: TrajectoryRecorder,
    listener: EpisodeListener | None,
    cancel: threading.Event | None,
    run_options: dict[str, Any],
) -> list[EpisodeResult]:
    try:
        return run_group(
            backend,
            scenario,
            samples,
            settings=settings,
            listener=ListenerGroup(recorder, listener),
            cancel=cancel,
            max_steps=max_steps,
            **run_options,
        )
    except KeyboardInterrupt:
        _close_quietly(recorder, "interrupted by the user", status="interrupted")
        raise
    except Exception as exc:
        reason = _one_line(exc)
        _close_quietly(recorder, reason)
        if isinstance(exc, SQLAlchemyError):
            raise UserError(f"cannot store the run of {scenario.id}: {reason}") from exc
        if _is_sandbox_failure(exc):
            raise UserError(f"the sandbox for {scenario.id} failed: {reason}") from exc
        raise


def _close_quietly(recorder: TrajectoryRecorder, reason: str, status: str = "failed") -> None:
    """Mark unfinished trajectories; a database that fails here must not hide the first error."""
    with contextlib.suppress(SQLAlchemyError):
        recorder.close(reason, status=status)


def _is_sandbox_failure(exc: Exception) -> bool:
    """Sandbox and Docker failures are expected (told in one line); anything else is a bug."""
    from sandboxes.image import ImageError

    expected: tuple[type[BaseException], ...] = (ImageError, OSError)
    try:
        import docker.errors

        expected += (docker.errors.DockerException,)
    except ImportError:
        pass
    return isinstance(exc, expected) or type(exc).__module__.startswith("sandboxes.")


def _reference_backend(scenario: Scenario, which: Reference) -> ModelBackend:
    from mosaic_studio.models.scripted import ScriptedBackend

    turns = scenario.reference.good if which == "good" else scenario.reference.bad
    return ScriptedBackend(turns, spec=f"reference:{which}")


def _status(result: EpisodeResult) -> str:
    if result.error is not None or result.ended_by == "error":
        return "failed"
    return "cancelled" if result.ended_by == "cancelled" else "finished"


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
