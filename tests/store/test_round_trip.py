"""Every table stores and reads back its rows; foreign keys are enforced."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mosaic_studio.store.db import dispose_engines, get_engine
from mosaic_studio.store.tables import (
    Annotator,
    EvalItem,
    EvalRun,
    Job,
    Judgment,
    ModelVersion,
    Pair,
    ScenarioVersion,
    StepRecord,
    Trajectory,
)


def _trajectory(**overrides: object) -> Trajectory:
    values: dict[str, object] = {"scenario_id": "s1", "category": "benign", "model_spec": "m"}
    values.update(overrides)
    return Trajectory.model_validate(values)


def test_every_table_round_trips(engine: Engine) -> None:
    with Session(engine) as session:
        version = ScenarioVersion(
            scenario_id="s1", content_hash="h", category="benign", split="test", body={"a": [1]}
        )
        session.add(version)
        session.add(ModelVersion(spec="smollm2+lora:/x", kind="adapter", metrics={"acc": 0.5}))
        session.commit()
        a = _trajectory(scenario_version_id=version.id, messages=[{"role": "user"}])
        b = _trajectory(outcome={"refused": True}, refused=True, honeytokens={"k": "v"})
        session.add_all([a, b])
        session.commit()
        session.add(StepRecord(trajectory_id=a.id, index=0, kind="plan", text="é ✓ " * 1000))
        session.add(StepRecord(trajectory_id=a.id, index=1, kind="tool_call", tool_args={"p": 1}))
        annotator = Annotator(name="ann")
        pair = Pair(scenario_id="s1", category="benign", trajectory_a_id=a.id, trajectory_b_id=b.id)
        session.add_all([annotator, pair])
        session.commit()
        assert pair.id is not None and annotator.id is not None
        session.add(Judgment(pair_id=pair.id, annotator_id=annotator.id, choice="B"))
        job = Job(kind="dpo", config={"beta": 0.1})
        run = EvalRun(model_spec="m", suite="harmful")
        session.add_all([job, run])
        session.commit()
        session.add(EvalItem(eval_run_id=run.id, item_id="i1", result={"ok": True}))
        session.commit()
        ids = (a.id, b.id, job.id, run.id)

    with Session(engine) as session:
        a_row, b_row = session.get(Trajectory, ids[0]), session.get(Trajectory, ids[1])
        assert a_row is not None and b_row is not None
        assert a_row.messages == [{"role": "user"}] and a_row.status == "running"
        assert b_row.refused is True and b_row.honeytokens == {"k": "v"}
        steps = session.exec(select(StepRecord).order_by(col(StepRecord.index))).all()
        assert [s.kind for s in steps] == ["plan", "tool_call"]
        assert steps[0].text == "é ✓ " * 1000 and steps[1].tool_args == {"p": 1}
        assert session.exec(select(ScenarioVersion)).one().body == {"a": [1]}
        assert session.exec(select(ModelVersion)).one().metrics == {"acc": 0.5}
        assert session.exec(select(Judgment)).one().choice == "B"
        assert session.exec(select(Pair)).one().trajectory_b_id == ids[1]
        assert session.exec(select(Annotator)).one().kind == "human"
        job_row = session.get(Job, ids[2])
        assert job_row is not None and job_row.config == {"beta": 0.1}
        assert session.exec(select(EvalItem)).one().eval_run_id == ids[3]


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(StepRecord(trajectory_id="missing", index=0, kind="plan"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_step_index_is_unique_per_trajectory(engine: Engine) -> None:
    with Session(engine) as session:
        t = _trajectory()
        session.add(t)
        session.commit()
        session.add(StepRecord(trajectory_id=t.id, index=0, kind="plan"))
        session.add(StepRecord(trajectory_id=t.id, index=0, kind="answer"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_an_in_memory_database_is_one_shared_migrated_connection() -> None:
    engine = get_engine("sqlite://")
    with Session(engine) as session:
        session.add(_trajectory(id="mem1"))
        session.commit()
    with Session(engine) as session:  # a second session sees the same database
        assert session.get(Trajectory, "mem1") is not None
    dispose_engines()
