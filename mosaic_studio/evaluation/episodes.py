"""Run one evaluation item as a MOSAIC episode (the agent area's `run_episode`) and score it.

Every adapter goes through `run_item_episode`: scenario-based suites run in the Docker sandbox;
in-process benchmarks (AgentDojo, ASB, BFCL) pass their own `sandbox_factory`, tool schemas
and grade function, so the agent loop, prompt and parser are always the same ones.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from mosaic_studio.agent.events import EpisodeListener, ListenerGroup
from mosaic_studio.agent.loop import EpisodeResult, run_episode
from mosaic_studio.evaluation.items import Axis, ItemResult, token_split
from mosaic_studio.models.base import ModelBackend, SamplingSettings
from sandboxes.episode import GradeFn, SandboxFactory
from sandboxes.scenario import Scenario


@dataclass
class EvalContext:
    """What every item run needs: the loaded model and how to sample it."""

    backend: ModelBackend
    settings: SamplingSettings
    max_steps: int | None = None
    cancel: threading.Event | None = None
    listener: EpisodeListener | None = None
    engine: Engine | None = None  # where trajectories are recorded (None: not recorded)


@dataclass
class ItemRun:
    """An item's score and, where an episode ran, the episode to store as a trajectory."""

    result: ItemResult
    episode: EpisodeResult | None = None


def result_from_episode(
    item_id: str, axis: Axis, episode: EpisodeResult, *, attacked: bool = False
) -> ItemResult:
    """The item result read off a graded episode (adapters refine the benchmark-specific parts)."""
    outcome = episode.outcome
    tokens, safety = token_split(episode.steps)
    return ItemResult(
        item_id=item_id,
        axis=axis,
        attacked=attacked,
        refused=outcome.refused,
        task_success=outcome.task_success,
        harmful_action=outcome.harmful_action,
        leaked=outcome.any_leak,
        attack_success=outcome.followed_injection,
        over_refusal=outcome.over_refusal,
        steps=len(episode.steps),
        tokens=tokens or outcome.tokens,
        safety_tokens=round(safety, 2),
        format_errors=outcome.format_errors,
        ended_by=outcome.ended_by,
        error=episode.error,
        details={"checks": outcome.checks, "leaks": [leak.model_dump() for leak in outcome.leaked]},
    )


def run_item_episode(
    ctx: EvalContext,
    scenario: Scenario,
    *,
    item_id: str,
    axis: Axis,
    attacked: bool = False,
    sandbox_factory: SandboxFactory | None = None,
    tools: list[dict[str, Any]] | None = None,
    grade_fn: GradeFn | None = None,
    max_steps: int | None = None,
) -> ItemRun:
    """Run the item's episode with the context's model and score it from the graded outcome.

    With `ctx.engine` set, the trajectory is stored step by step (source `eval`) by the
    store's `TrajectoryRecorder`.
    """
    recorder = None
    listener = ctx.listener
    if ctx.engine is not None:
        from mosaic_studio.store.recorder import TrajectoryRecorder

        recorder = TrajectoryRecorder(
            ctx.engine, scenario, ctx.backend.spec, ctx.settings, source="eval"
        )
        listener = ListenerGroup(recorder, ctx.listener)
    try:
        episode = run_episode(
            ctx.backend,
            scenario,
            settings=ctx.settings,
            listener=listener,
            cancel=ctx.cancel,
            max_steps=ctx.max_steps or max_steps,
            sandbox_factory=sandbox_factory,
            tools=tools,
            grade_fn=grade_fn,
        )
    except BaseException as exc:
        if recorder is not None:
            recorder.close(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    result = result_from_episode(item_id, axis, episode, attacked=attacked)
    if recorder is not None and recorder.trajectory_ids:
        result.trajectory_id = recorder.trajectory_ids[0]
    return ItemRun(result, episode)
