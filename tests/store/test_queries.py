"""Trajectory listing filters, id prefixes, versions of scenarios and models."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mosaic_studio.store import queries
from mosaic_studio.store.queries import TrajectoryFilter
from mosaic_studio.store.tables import ScenarioVersion, StepRecord, Trajectory
from sandboxes.outcome import Leak, Outcome
from sandboxes.steps import Step, StepKind
from tests.store.conftest import make_scenario


def _add(session: Session, **values: object) -> Trajectory:
    base: dict[str, object] = {"scenario_id": "s1", "category": "benign", "model_spec": "m1"}
    base.update(values)
    row = Trajectory.model_validate(base)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def test_filters_combine_and_order_newest_first(engine: Engine) -> None:
    with Session(engine) as session:
        old = _add(session, started_at=1.0, refused=True)
        new = _add(session, started_at=2.0, model_spec="m2", status="finished", refused=False)
        _add(session, started_at=3.0, scenario_id="s2", category="harmful", split="train")
        everything = queries.list_trajectories(session)
        assert [t.started_at for t in everything] == [3.0, 2.0, 1.0]
        s1 = TrajectoryFilter(scenario="s1")
        assert {t.id for t in queries.list_trajectories(session, s1)} == {old.id, new.id}
        assert queries.count_trajectories(session, s1) == 2
        assert queries.count_trajectories(session, TrajectoryFilter(category="harmful")) == 1
        assert queries.count_trajectories(session, TrajectoryFilter(split="train")) == 1
        only_m2 = TrajectoryFilter(model="m2", status="finished")
        assert [t.id for t in queries.list_trajectories(session, only_m2)] == [new.id]
        refused = queries.list_trajectories(session, TrajectoryFilter(refused=True))
        assert [t.id for t in refused] == [old.id]
        not_refused = TrajectoryFilter(refused=False)
        assert [t.id for t in queries.list_trajectories(session, not_refused)] == [new.id]
        page = queries.list_trajectories(session, limit=1, offset=1)
        assert [t.id for t in page] == [new.id]
        oldest = queries.list_trajectories(session, newest_first=False, limit=1)
        assert oldest[0].id == old.id
        assert queries.distinct_values(session, "model_spec") == ["m1", "m2"]
        with pytest.raises(ValueError):
            queries.distinct_values(session, "no_such_column")


def test_resolve_trajectory_id_by_unique_prefix(engine: Engine) -> None:
    with Session(engine) as session:
        _add(session, id="abc111")
        _add(session, id="abc222")
        assert queries.resolve_trajectory_id(session, "abc1") == "abc111"
        assert queries.resolve_trajectory_id(session, "abc222") == "abc222"
        assert queries.resolve_trajectory_id(session, "zzz") is None
        assert queries.resolve_trajectory_id(session, "%") is None  # never a LIKE pattern
        with pytest.raises(LookupError, match="several"):
            queries.resolve_trajectory_id(session, "abc")


def test_steps_round_trip_as_contract_steps(engine: Engine) -> None:
    steps = [
        Step(index=0, kind=StepKind.PLAN, text="look"),
        Step(index=1, kind=StepKind.TOOL_CALL, tool_name="read_file", tool_args={"path": "a"}),
        Step(index=2, kind=StepKind.OBSERVATION, text="hi", exit_code=0, truncated=True),
    ]
    with Session(engine) as session:
        row = _add(session)
        for step in reversed(steps):
            session.add(queries.step_record(row.id, step))
        session.commit()
        records = queries.trajectory_steps(session, row.id)
        assert queries.steps_of(records) == steps
        assert all(isinstance(r, StepRecord) for r in records)


def test_outcome_columns_flatten_and_restore(engine: Engine) -> None:
    outcome = Outcome(refused=True, leaked=[Leak(secret="pw", where="x")], steps=4, tokens=9)
    with Session(engine) as session:
        row = _add(session, **queries.outcome_columns(outcome))
        assert row.leaked is True and row.refused is True and row.n_steps == 4
        assert queries.outcome_of(row) == outcome
        assert queries.outcome_of(_add(session)) is None


def test_scenario_versions_are_shared_until_the_content_changes(engine: Engine) -> None:
    with Session(engine) as session:
        first = queries.scenario_version(session, make_scenario("s1"))
        again = queries.scenario_version(session, make_scenario("s1"))
        other = queries.scenario_version(session, make_scenario("s1", category="harmful"))
        assert first.id == again.id != other.id
        assert first.body["id"] == "s1" and other.category == "harmful"
        assert len(session.exec(select(ScenarioVersion)).all()) == 2


def test_register_model_version_inserts_then_updates(engine: Engine) -> None:
    with Session(engine) as session:
        base = queries.register_model_version(session, "smollm2")
        assert base.kind == "base"
        adapter = queries.register_model_version(
            session, "smollm2+lora:/a", base_spec="smollm2", job_id="j1", metrics={"loss": 1.0}
        )
        assert adapter.kind == "adapter" and adapter.adapter_path is None
        updated = queries.register_model_version(session, "smollm2+lora:/a", adapter_path="/a")
        assert updated.id == adapter.id and updated.metrics == {"loss": 1.0}
        assert updated.adapter_path == "/a"
        assert [m.spec for m in queries.model_versions(session)] == ["smollm2", "smollm2+lora:/a"]
        assert [m.spec for m in queries.model_versions(session, kind="adapter")] == [
            "smollm2+lora:/a"
        ]
        assert queries.get_model_version(session, "nope") is None
    assert queries.model_kind("openai:http://x#m") == "remote"
    assert queries.model_kind("scripted:/f.json") == "scripted"
