"""The recorder commits each step as it finishes and fills the outcome at the end."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from mosaic_studio.agent.loop import EpisodeResult
from mosaic_studio.models.base import SamplingSettings
from mosaic_studio.store import queries
from mosaic_studio.store.liveness import mark_interrupted, pid_alive, this_host
from mosaic_studio.store.recorder import TrajectoryRecorder, stored_step_count
from mosaic_studio.store.tables import Trajectory
from sandboxes.honeytokens import Honeytokens
from sandboxes.outcome import Outcome
from sandboxes.scenario import Scenario
from sandboxes.state import FinalState, OutboundCall
from sandboxes.steps import Step, StepKind


def _result(scenario: Scenario, steps: list[Step], outcome: Outcome, **kw: Any) -> EpisodeResult:
    values: dict[str, Any] = {
        "final_state": FinalState(),
        "messages": [],
        "tools": [],
        "honeytokens": Honeytokens(),
    }
    values.update(kw)
    return EpisodeResult(
        scenario=scenario,
        model_spec="scripted:x",
        settings=SamplingSettings(),
        steps=steps,
        outcome=outcome,
        **values,
    )


STEPS = [
    Step(index=0, kind=StepKind.PLAN, text="plan", tokens=5),
    Step(index=1, kind=StepKind.TOOL_CALL, tool_name="read_file", tool_args={"path": "a"}),
    Step(index=2, kind=StepKind.OBSERVATION, text="contents"),
    Step(index=3, kind=StepKind.FORMAT_ERROR, text="bad tags", tokens=3),
    Step(index=4, kind=StepKind.ANSWER, text="done", tokens=2),
]


def _recorder(engine: Engine, scenario: Scenario) -> TrajectoryRecorder:
    return TrajectoryRecorder(engine, scenario, "scripted:x", SamplingSettings(seed=7))


def _row(engine: Engine, trajectory_id: str) -> Trajectory:
    with Session(engine) as session:
        row = session.get(Trajectory, trajectory_id)
        assert row is not None
        return row


def test_each_step_is_visible_to_other_connections_as_soon_as_it_finishes(
    engine: Engine, scenario: Scenario
) -> None:
    recorder = _recorder(engine, scenario)
    recorder.episode_started(0)
    tid = recorder.trajectory_id(0)
    row = _row(engine, tid)
    assert (row.status, row.pid, row.host, row.seed) == ("running", os.getpid(), this_host(), 7)
    assert row.scenario_version_id is not None
    for done, step in enumerate(STEPS[:4], start=1):
        recorder.step_started(0, done - 1)
        recorder.token(0, "x")
        recorder.step_finished(0, step)
        assert stored_step_count(engine, tid) == done
    row = _row(engine, tid)
    assert (row.n_steps, row.tokens, row.format_errors) == (4, 8, 1)


def test_episode_finished_fills_outcome_state_and_missing_steps(
    engine: Engine, scenario: Scenario
) -> None:
    recorder = _recorder(engine, scenario)
    recorder.step_finished(0, STEPS[0])
    outbox = [OutboundCall(tool="send_email", to="a@b.c", args={"body": "hi"})]
    result = _result(
        scenario,
        STEPS,
        Outcome(task_success=True, steps=5, tokens=10, wall_time_s=1.5, format_errors=1),
        final_state=FinalState(files={"a": "b"}, outbox=outbox),
        messages=[{"role": "system", "content": "s"}],
        tools=[{"type": "function", "function": {"name": "read_file"}}],
        honeytokens=Honeytokens(values={"pw": "tok_1"}),
    )
    recorder.episode_finished(0, result)
    recorder.close("should not touch finished rows")
    row = _row(engine, recorder.trajectory_id(0))
    assert row.status == "finished" and row.error is None and row.finished_at
    assert (row.task_success, row.refused, row.leaked, row.n_steps) == (True, False, False, 5)
    assert row.final_state["files"] == {"a": "b"}
    assert row.outbox[0]["to"] == "a@b.c"
    assert row.messages[0]["role"] == "system" and row.tools[0]["function"]["name"]
    assert row.honeytokens == {"pw": "tok_1"}
    with Session(engine) as session:
        stored = queries.steps_of(queries.trajectory_steps(session, row.id))
    assert stored == STEPS


def test_samples_share_a_group_and_close_marks_unfinished_ones(
    engine: Engine, scenario: Scenario
) -> None:
    recorder = _recorder(engine, scenario)
    recorder.step_finished(1, STEPS[0])
    recorder.step_finished(0, STEPS[0])
    recorder.episode_finished(0, _result(scenario, STEPS[:1], Outcome(ended_by="answer")))
    recorder.close("the model server went away")
    first, second = (_row(engine, tid) for tid in recorder.trajectory_ids)
    assert first.group_id == second.group_id == recorder.group_id
    assert (first.sample_index, second.sample_index) == (0, 1)
    assert first.status == "finished"
    assert (second.status, second.error) == ("failed", "the model server went away")


def test_cancelled_episodes_are_stored_as_cancelled(engine: Engine, scenario: Scenario) -> None:
    recorder = _recorder(engine, scenario)
    recorder.episode_finished(0, _result(scenario, [], Outcome(ended_by="cancelled")))
    assert _row(engine, recorder.trajectory_id(0)).status == "cancelled"


def test_mark_interrupted_only_touches_dead_writers_of_this_host(engine: Engine) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = this_host()
    rows: dict[str, dict[str, Any]] = {
        "alive": dict(pid=os.getpid(), host=host),
        "dead": dict(pid=dead.pid, host=host),
        "nopid": dict(pid=None, host=None),
        "reused": dict(pid=os.getpid(), host=host, started_at=0.0),  # written before we started
        "elsewhere": dict(pid=dead.pid, host=host + "-other"),
        "done": dict(pid=dead.pid, host=host, status="finished"),
    }
    with Session(engine) as session:
        for name, values in rows.items():
            base: dict[str, Any] = {"id": name, "scenario_id": "s", "category": "benign"}
            session.add(Trajectory.model_validate({**base, "model_spec": "m", **values}))
        session.commit()
    assert sorted(mark_interrupted(engine)) == ["dead", "nopid", "reused"]
    statuses = {name: _row(engine, name).status for name in rows}
    assert statuses == {
        "alive": "running",
        "dead": "interrupted",
        "nopid": "interrupted",
        "reused": "interrupted",
        "elsewhere": "running",
        "done": "finished",
    }
    assert _row(engine, "dead").error
    assert mark_interrupted(engine) == []


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(0)
    assert not pid_alive(-5)


def test_backend_errors_are_stored_as_failed_with_the_reason(
    engine: Engine, scenario: Scenario
) -> None:
    recorder = _recorder(engine, scenario)
    failed = _result(scenario, [], Outcome(ended_by="error"), error="RuntimeError: boom")
    recorder.episode_finished(0, failed)
    row = _row(engine, recorder.trajectory_id(0))
    assert (row.status, row.error) == ("failed", "RuntimeError: boom")
