"""Plain query functions over the store; each takes a `Session` (portable SQL, no SQLite-isms).

Trajectories: `list_trajectories(session, TrajectoryFilter(...), limit=, offset=)`,
`count_trajectories`, `get_trajectory`, `resolve_trajectory_id` (unique id prefix),
`trajectory_steps`, `group_trajectories`, `distinct_values`. Contract shapes:
`steps_of(records)` → `list[Step]`, `outcome_of(trajectory)` → `Outcome`.
Versions: `scenario_version(session, scenario)` (get or create by content hash),
`register_model_version`, `get_model_version`, `model_versions`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mosaic_studio.store.filters import OUTCOME_FLAGS, TrajectoryFilter
from mosaic_studio.store.tables import ModelVersion, ScenarioVersion, StepRecord, Trajectory
from sandboxes.outcome import Outcome
from sandboxes.scenario import Scenario
from sandboxes.steps import Step

__all__ = [
    "OUTCOME_FLAGS",
    "TrajectoryFilter",
    "count_trajectories",
    "distinct_values",
    "get_model_version",
    "get_trajectory",
    "group_trajectories",
    "list_trajectories",
    "model_kind",
    "model_versions",
    "outcome_columns",
    "outcome_of",
    "register_model_version",
    "resolve_trajectory_id",
    "scenario_hash",
    "scenario_version",
    "step_record",
    "steps_of",
    "trajectory_steps",
]


def list_trajectories(
    session: Session,
    where: TrajectoryFilter | None = None,
    *,
    limit: int | None = 50,
    offset: int = 0,
    newest_first: bool = True,
) -> list[Trajectory]:
    """Trajectories matching `where`, newest first by default."""
    order = col(Trajectory.started_at).desc() if newest_first else col(Trajectory.started_at)
    query = select(Trajectory).where(*(where or TrajectoryFilter()).conditions())
    query = query.order_by(order, col(Trajectory.id)).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def count_trajectories(session: Session, where: TrajectoryFilter | None = None) -> int:
    """How many trajectories match `where`."""
    query = select(func.count()).select_from(Trajectory)
    query = query.where(*(where or TrajectoryFilter()).conditions())
    return int(session.exec(query).one())


def get_trajectory(session: Session, trajectory_id: str) -> Trajectory | None:
    """One trajectory by its full id."""
    return session.get(Trajectory, trajectory_id)


def resolve_trajectory_id(session: Session, prefix: str) -> str | None:
    """The full id of the one trajectory whose id starts with `prefix`.

    Returns None when nothing matches; raises `LookupError` when several do.
    """
    if not prefix or not all(ch.isalnum() for ch in prefix):
        return None
    exact = session.get(Trajectory, prefix)
    if exact is not None:
        return exact.id
    query = select(Trajectory.id).where(col(Trajectory.id).startswith(prefix)).limit(3)
    matches = list(session.exec(query).all())
    if len(matches) > 1:
        raise LookupError(f"{prefix!r} matches several trajectories ({', '.join(matches)}, …)")
    return matches[0] if matches else None


def trajectory_steps(session: Session, trajectory_id: str, *, after: int = 0) -> list[StepRecord]:
    """The stored steps of a trajectory in order (from index `after` on, to follow a run)."""
    query = (
        select(StepRecord)
        .where(StepRecord.trajectory_id == trajectory_id, col(StepRecord.index) >= after)
        .order_by(col(StepRecord.index))
    )
    return list(session.exec(query).all())


def group_trajectories(session: Session, group_id: str) -> list[Trajectory]:
    """The samples of one `--samples N` run, by sample index."""
    query = (
        select(Trajectory)
        .where(Trajectory.group_id == group_id)
        .order_by(col(Trajectory.sample_index))
    )
    return list(session.exec(query).all())


def distinct_values(session: Session, column: str) -> list[str]:
    """Distinct values of a text column of Trajectory (e.g. model_spec), for filter menus."""
    if column not in Trajectory.model_fields:
        raise ValueError(f"Trajectory has no column {column!r}")
    attribute = col(getattr(Trajectory, column))
    query = select(attribute).where(attribute.is_not(None)).distinct().order_by(attribute)
    return [str(value) for value in session.exec(query).all()]


def step_record(trajectory_id: str, step: Step) -> StepRecord:
    """The row for one contract `Step` of a trajectory."""
    return StepRecord(trajectory_id=trajectory_id, **step.model_dump(mode="json"))


def steps_of(records: list[StepRecord]) -> list[Step]:
    """Stored step rows back as contract `Step`s."""
    names = Step.model_fields.keys()
    return [Step.model_validate({n: getattr(r, n) for n in names}) for r in records]


def outcome_of(trajectory: Trajectory) -> Outcome | None:
    """The graded outcome of a finished trajectory (None while none is stored)."""
    return Outcome.model_validate(trajectory.outcome) if trajectory.outcome else None


def outcome_columns(outcome: Outcome) -> dict[str, Any]:
    """Trajectory column values for an outcome: the full dump and the flattened flags."""
    return {
        "outcome": outcome.model_dump(mode="json"),
        "refused": outcome.refused,
        "task_success": outcome.task_success,
        "harmful_action": outcome.harmful_action,
        "leaked": outcome.any_leak,
        "followed_injection": outcome.followed_injection,
        "over_refusal": outcome.over_refusal,
        "format_errors": outcome.format_errors,
        "n_steps": outcome.steps,
        "tokens": outcome.tokens,
        "wall_time_s": outcome.wall_time_s,
    }


def scenario_hash(scenario: Scenario) -> str:
    """A content hash of the parsed scenario (stable across key order and formatting)."""
    body = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def scenario_version(session: Session, scenario: Scenario) -> ScenarioVersion:
    """The stored version of this exact scenario content, created (and committed) if new."""
    digest = scenario_hash(scenario)
    query = select(ScenarioVersion).where(
        ScenarioVersion.scenario_id == scenario.id, ScenarioVersion.content_hash == digest
    )
    found = session.exec(query).first()
    if found is not None:
        return found
    row = ScenarioVersion(
        scenario_id=scenario.id,
        content_hash=digest,
        category=scenario.category,
        split=scenario.split,
        title=scenario.title,
        body=scenario.model_dump(mode="json"),
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # another process stored the same version first
        session.rollback()
        return session.exec(query).one()
    session.refresh(row)
    return row


def get_model_version(session: Session, spec: str) -> ModelVersion | None:
    """The registered model with this spec."""
    return session.exec(select(ModelVersion).where(ModelVersion.spec == spec)).first()


def model_versions(session: Session, kind: str | None = None) -> list[ModelVersion]:
    """Registered models, oldest first; only one kind (base | adapter | …) when given."""
    query = select(ModelVersion).order_by(col(ModelVersion.created_at), col(ModelVersion.id))
    if kind is not None:
        query = query.where(ModelVersion.kind == kind)
    return list(session.exec(query).all())


def register_model_version(
    session: Session,
    spec: str,
    *,
    kind: str | None = None,
    base_spec: str | None = None,
    adapter_path: str | None = None,
    job_id: str | None = None,
    data: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> ModelVersion:
    """Add a model (or update the fields given for an existing spec) and commit."""
    row = get_model_version(session, spec) or ModelVersion(spec=spec, kind=model_kind(spec))
    updates: dict[str, Any] = {
        "kind": kind,
        "base_spec": base_spec,
        "adapter_path": adapter_path,
        "job_id": job_id,
        "data": data,
        "settings": settings,
        "metrics": metrics,
    }
    for name, value in updates.items():
        if value is not None:
            setattr(row, name, value)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # registered concurrently: update that row instead
        session.rollback()
        return register_model_version(session, spec, **updates)
    session.refresh(row)
    return row


def model_kind(spec: str) -> str:
    """The kind a spec names: adapter (`+lora:`), remote (`openai:`), scripted, or base."""
    if "+lora:" in spec:
        return "adapter"
    if spec.startswith("openai:"):
        return "remote"
    if spec.startswith("scripted:"):
        return "scripted"
    return "base"
