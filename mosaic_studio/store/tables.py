"""Every table of the store, designed once for all areas (runs, labels, judges, jobs, evals)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _now() -> float:
    return time.time()


def _uuid() -> str:
    return uuid.uuid4().hex[:16]


class ScenarioVersion(SQLModel, table=True):
    """The exact version of a scenario that ran (its file's text, hashed)."""

    __table_args__ = (UniqueConstraint("scenario_id", "content_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    scenario_id: str = Field(index=True)
    content_hash: str
    category: str = Field(index=True)
    split: str
    title: str = ""
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the parsed scenario
    created_at: float = Field(default_factory=_now)


class ModelVersion(SQLModel, table=True):
    """A model an agent can run: a base spec or a trained adapter on top of one."""

    id: int | None = Field(default=None, primary_key=True)
    spec: str = Field(unique=True, index=True)
    base_spec: str | None = None
    kind: str = "base"  # base | adapter | remote | scripted
    adapter_path: str | None = None
    job_id: str | None = Field(default=None, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # training data summary
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: float = Field(default_factory=_now)


class Trajectory(SQLModel, table=True):
    """One episode of one model on one scenario, with its graded outcome."""

    __table_args__ = (Index("ix_traj_scenario_model", "scenario_id", "model_spec"),)
    id: str = Field(default_factory=_uuid, primary_key=True)
    scenario_version_id: int | None = Field(default=None, foreign_key="scenarioversion.id")
    scenario_id: str = Field(index=True)
    category: str = Field(index=True)
    split: str = "test"
    model_spec: str = Field(index=True)
    sampling: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    seed: int | None = None
    group_id: str | None = Field(default=None, index=True)  # samples of one `--samples N` run
    sample_index: int = 0
    source: str = "rollout"  # rollout | reference_good | reference_bad | fork | eval
    parent_id: str | None = Field(default=None, index=True)  # the trajectory a fork came from
    fork_step: int | None = None  # steps copied from the parent before the model continued
    status: str = Field(default="running", index=True)  # running|finished|interrupted|failed
    error: str | None = Field(default=None, sa_type=Text)
    pid: int | None = None  # the process writing it, to find interrupted runs
    host: str | None = None  # the machine of that process (a shared database has several)
    # outcome, flattened for filtering; the full Outcome is in `outcome`
    outcome: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    refused: bool | None = None
    task_success: bool | None = None
    harmful_action: bool | None = None
    leaked: bool | None = None
    followed_injection: bool | None = None
    over_refusal: bool | None = None
    format_errors: int = 0
    n_steps: int = 0
    tokens: int = 0
    wall_time_s: float = 0.0
    outbox: list[Any] = Field(default_factory=list, sa_type=JSON)
    final_state: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    messages: list[Any] = Field(default_factory=list, sa_type=JSON)  # what the model saw
    tools: list[Any] = Field(default_factory=list, sa_type=JSON)  # the tool schemas it was given
    # this episode's honeytoken values by secret name (fresh fakes), to highlight and re-grade leaks
    honeytokens: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    started_at: float = Field(default_factory=_now, index=True)
    finished_at: float | None = None


class StepRecord(SQLModel, table=True):
    """One step of a trajectory, written as soon as it finishes."""

    __tablename__ = "step"
    __table_args__ = (UniqueConstraint("trajectory_id", "index"),)
    id: int | None = Field(default=None, primary_key=True)
    trajectory_id: str = Field(foreign_key="trajectory.id", index=True)
    index: int
    turn: int = 0
    kind: str
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tool_name: str | None = None
    tool_args: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    tool_call_id: str | None = None
    exit_code: int | None = None
    is_error: bool = False
    truncated: bool = False
    tokens: int = 0
    started_at: float = 0.0
    duration_s: float = 0.0


class Annotator(SQLModel, table=True):
    """Who gives labels: a person, or a judge (named by its spec)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    kind: str = "human"  # human | judge
    created_at: float = Field(default_factory=_now)


class Pair(SQLModel, table=True):
    """Two trajectories of the same scenario to compare."""

    __table_args__ = (UniqueConstraint("trajectory_a_id", "trajectory_b_id"),)
    id: int | None = Field(default=None, primary_key=True)
    scenario_id: str = Field(index=True)
    category: str = Field(index=True)
    split: str = "train"
    trajectory_a_id: str = Field(foreign_key="trajectory.id")
    trajectory_b_id: str = Field(foreign_key="trajectory.id")
    strategy: str = "samples"  # samples | models | fork | reference
    shared_prefix_steps: int = 0
    created_at: float = Field(default_factory=_now)


class Judgment(SQLModel, table=True):
    """A choice between the two trajectories of a pair, by a person or a judge."""

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int = Field(foreign_key="pair.id", index=True)
    annotator_id: int = Field(foreign_key="annotator.id", index=True)
    choice: str  # A | B | tie | both_bad | abstain | skip
    left: str = "A"  # which trajectory was shown on the left (A or B)
    rationale: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    seconds_spent: float = 0.0
    retracted: bool = Field(default=False, index=True)  # undone; kept for the record
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # e.g. both orders
    created_at: float = Field(default_factory=_now)


class Job(SQLModel, table=True):
    """A training job run as a separate process."""

    id: str = Field(default_factory=_uuid, primary_key=True)
    kind: str  # dpo | grpo
    status: str = Field(default="queued", index=True)  # queued|running|finished|failed|cancelled
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    output_dir: str = ""
    log_path: str = ""
    pid: int | None = None
    host: str | None = None  # where `pid` runs (a team database is shared by several hosts)
    last_progress: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    error: str | None = Field(default=None, sa_type=Text)
    adapter_path: str | None = None
    created_at: float = Field(default_factory=_now)
    started_at: float | None = None
    finished_at: float | None = None


class EvalRun(SQLModel, table=True):
    """One evaluation of a model on a suite; its items make it resumable."""

    id: str = Field(default_factory=_uuid, primary_key=True)
    model_spec: str = Field(index=True)
    suite: str = Field(index=True)
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = "running"  # running | finished | interrupted | failed
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: float = Field(default_factory=_now)
    finished_at: float | None = None


class EvalItem(SQLModel, table=True):
    """One scored item of an evaluation run."""

    __table_args__ = (UniqueConstraint("eval_run_id", "item_id"),)
    id: int | None = Field(default=None, primary_key=True)
    eval_run_id: str = Field(foreign_key="evalrun.id", index=True)
    item_id: str
    trajectory_id: str | None = None
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: float = Field(default_factory=_now)
