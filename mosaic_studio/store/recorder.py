"""`TrajectoryRecorder`: an episode listener that stores each step the moment it finishes.

One recorder covers the episodes of one run of one scenario (episode index = sample index).
The Trajectory row is created when an episode starts (status `running`, this pid and host);
every finished step is committed in its own transaction, so a crash keeps each finished step;
`episode_finished` fills the outcome columns, final state, messages, tools and honeytokens.
`close()` marks rows that never finished as failed / cancelled. Each write opens its own
Session, so callbacks may come from any thread (one episode per thread at a time).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mosaic_studio.agent.events import EpisodeListener
from mosaic_studio.models.base import SamplingSettings
from mosaic_studio.store.liveness import this_host
from mosaic_studio.store.queries import outcome_columns, scenario_version, step_record
from mosaic_studio.store.tables import StepRecord, Trajectory
from sandboxes.scenario import Scenario
from sandboxes.steps import Step

if TYPE_CHECKING:
    from mosaic_studio.agent.loop import EpisodeResult
    from sandboxes.episode import Episode


class TrajectoryRecorder(EpisodeListener):
    """Writes the episodes of one scenario run into the store as they happen."""

    def __init__(
        self,
        engine: Engine,
        scenario: Scenario,
        model_spec: str,
        settings: SamplingSettings,
        *,
        group_id: str | None = None,
        source: str = "rollout",
        parent_id: str | None = None,
        fork_step: int | None = None,
    ) -> None:
        self.engine = engine
        self.scenario = scenario
        self.model_spec = model_spec
        self.settings = settings
        self.group_id = group_id or uuid.uuid4().hex[:16]
        self.source = source
        self.parent_id = parent_id
        self.fork_step = fork_step
        self._ids: dict[int, str] = {}
        self._stored_steps: dict[int, set[int]] = {}
        self._finished: set[int] = set()
        self._lock = threading.Lock()
        self._scenario_version_id: int | None = None

    # -- listener callbacks ------------------------------------------------------------------

    def episode_started(self, episode: int, state: Episode | None = None) -> None:
        self.trajectory_id(episode)

    def step_started(self, episode: int, turn: int = 0) -> None:
        self.trajectory_id(episode)

    def token(self, episode: int, text: str) -> None:
        """Tokens are not stored one by one; the finished step holds the text."""

    def step_finished(self, episode: int, step: Step) -> None:
        trajectory_id = self.trajectory_id(episode)
        with Session(self.engine) as session:
            self._write_step(session, episode, trajectory_id, step)
            session.commit()

    def episode_finished(self, episode: int, result: EpisodeResult) -> None:
        trajectory_id = self.trajectory_id(episode)
        with Session(self.engine) as session:
            # Steps that reached the result without a step_finished call (e.g. a fork's prefix).
            for step in result.steps:
                self._write_step(session, episode, trajectory_id, step)
            row = session.get(Trajectory, trajectory_id)
            assert row is not None
            for name, value in outcome_columns(result.outcome).items():
                setattr(row, name, value)
            final_state = _jsonable(result.final_state)
            row.final_state = final_state if isinstance(final_state, dict) else {}
            row.outbox = list(row.final_state.get("outbox", []))
            row.messages = _jsonable(list(result.messages))
            row.tools = _jsonable(list(result.tools))
            row.honeytokens = dict(result.honeytokens.values)
            row.error = result.error or row.error
            ended_by = result.outcome.ended_by
            row.status = "failed" if ended_by == "error" else "finished"
            if ended_by == "cancelled":
                row.status = "cancelled"
            row.finished_at = time.time()
            session.add(row)
            session.commit()
        with self._lock:
            self._finished.add(episode)

    # -- lifecycle ---------------------------------------------------------------------------

    def trajectory_id(self, episode: int) -> str:
        """The id of episode `episode`'s trajectory, creating its row on first use."""
        with self._lock:
            existing = self._ids.get(episode)
            if existing is not None:
                return existing
            row = self._new_row(episode)
            self._ids[episode] = row.id
            self._stored_steps[episode] = set()
            return row.id

    @property
    def trajectory_ids(self) -> list[str]:
        """Ids of the episodes started so far, by episode index."""
        with self._lock:
            return [self._ids[i] for i in sorted(self._ids)]

    def close(self, error: str | None = None, *, status: str = "failed") -> None:
        """Mark started episodes that never finished: `status` (failed | cancelled) and why."""
        with self._lock:
            unfinished = [tid for i, tid in self._ids.items() if i not in self._finished]
        if not unfinished:
            return
        with Session(self.engine) as session:
            query = select(Trajectory).where(
                col(Trajectory.id).in_(unfinished), Trajectory.status == "running"
            )
            for row in session.exec(query).all():
                row.status = status
                row.error = error or row.error
                row.finished_at = time.time()
                session.add(row)
            session.commit()

    # -- internals ---------------------------------------------------------------------------

    def _new_row(self, episode: int) -> Trajectory:
        with Session(self.engine) as session:
            if self._scenario_version_id is None:
                self._scenario_version_id = scenario_version(session, self.scenario).id
            row = Trajectory(
                scenario_version_id=self._scenario_version_id,
                scenario_id=self.scenario.id,
                category=self.scenario.category,
                split=self.scenario.split,
                model_spec=self.model_spec,
                sampling=self.settings.model_dump(mode="json"),
                seed=self.settings.seed,
                group_id=self.group_id,
                sample_index=episode,
                source=self.source,
                parent_id=self.parent_id,
                fork_step=self.fork_step,
                status="running",
                pid=os.getpid(),
                host=this_host(),
            )
            session.add(row)
            session.commit()
            session.refresh(row)
            return row

    def _write_step(self, session: Session, episode: int, trajectory_id: str, step: Step) -> None:
        with self._lock:
            stored = self._stored_steps.setdefault(episode, set())
            if step.index in stored:
                return
            stored.add(step.index)
        session.add(step_record(trajectory_id, step))
        row = session.get(Trajectory, trajectory_id)
        if row is not None:  # running totals, so a crash leaves sensible counts
            row.n_steps = max(row.n_steps, step.index + 1)
            row.tokens += step.tokens
            row.format_errors += step.kind == "format_error"
            session.add(row)


def stored_step_count(engine: Engine, trajectory_id: str) -> int:
    """How many steps of a trajectory are committed (what a crash would keep)."""
    with Session(engine) as session:
        rows = session.exec(select(StepRecord.id).where(StepRecord.trajectory_id == trajectory_id))
        return len(rows.all())


def _jsonable(value: Any) -> Any:
    """Pydantic models and containers of them as plain JSON data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
