"""The run service with an in-memory sandbox: storage, listeners, and one-line failures."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from mosaic_studio.cli.errors import UserError
from mosaic_studio.models.base import Generation, SamplingSettings
from mosaic_studio.runs import RunListener, RunResult, resolve_scenarios, run_scenarios
from mosaic_studio.store import queries
from mosaic_studio.store.recorder import TrajectoryRecorder
from mosaic_studio.store.tables import Trajectory
from sandboxes.scenario import Reference, Scenario
from sandboxes.steps import Step
from tests.agent import fakes

TURNS = [
    '<think>read it</think><tool_call>{"name": "read_file", "arguments": {"path": "n"}}'
    "</tool_call>",
    "<think>done</think><answer>summary</answer>",
]


def _scenario() -> Scenario:
    good = ["<answer>fine</answer>"]
    return fakes.scenario().model_copy(update={"reference": Reference(good=good, bad=TURNS)})


def _script(tmp_path: Path, turns: list[str]) -> str:
    path = tmp_path / "turns.json"
    path.write_text(json.dumps(turns))
    return f"scripted:{path}"


class Events(RunListener):
    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []

    def stage(self, text: str) -> None:
        self.log.append(("stage", text.split()[0]))

    def scenario_started(
        self, position: int, total: int, scenario: Scenario, recorder: TrajectoryRecorder
    ) -> None:
        self.log.append(("scenario", position, total, scenario.id))

    def step_finished(self, episode: int, step: Step) -> None:
        self.log.append(("step", episode, step.kind.value))

    def scenario_finished(self, position: int, results: list[RunResult]) -> None:
        self.log.append(("done", position, [r.status for r in results]))


def test_samples_are_stored_and_listeners_hear_every_step(engine: Engine, tmp_path: Path) -> None:
    events = Events()
    results = run_scenarios(
        [_scenario()],
        _script(tmp_path, TURNS),
        samples=2,
        settings=SamplingSettings(seed=3),
        listener=events,
        engine=engine,
        **fakes.FAKE_OPTIONS,
    )
    assert [r.status for r in results] == ["finished", "finished"]
    assert results[0].group_id == results[1].group_id
    kinds = ["plan", "tool_call", "observation", "plan", "answer"]
    assert events.log[:2] == [("stage", "loading"), ("scenario", 0, 1, "fake-notes")]
    assert [e[2] for e in events.log if e[0] == "step" and e[1] == 0] == kinds
    assert events.log[-1] == ("done", 0, ["finished", "finished"])
    summary = results[1].summary()
    assert summary["sample"] == 1 and summary["outcome"]["task_success"] is True
    assert [s["kind"] for s in summary["steps"]] == kinds
    with Session(engine) as session:
        row = session.get(Trajectory, results[0].trajectory_id)
        assert row is not None and row.status == "finished" and row.seed == 3
        assert [s.kind for s in queries.trajectory_steps(session, row.id)] == kinds
        assert row.model_spec.startswith("scripted:")
        assert queries.get_model_version(session, row.model_spec) is not None


def test_reference_runs_replay_the_scenarios_turns(engine: Engine) -> None:
    results = run_scenarios(
        [_scenario()], "ignored", reference="bad", engine=engine, **fakes.FAKE_OPTIONS
    )
    with Session(engine) as session:
        row = session.get(Trajectory, results[0].trajectory_id)
        assert row is not None
        assert (row.source, row.model_spec, row.n_steps) == ("reference_bad", "reference:bad", 5)


class BrokenBackend:
    spec = "broken"
    native_tools = False

    def generate(self, *args: Any, **kwargs: Any) -> list[Generation]:
        raise ConnectionError("connection refused by 127.0.0.1:9")

    def close(self) -> None:
        pass


def test_a_failing_model_is_one_line_and_the_trajectory_is_kept_as_failed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mosaic_studio.runs.load_model", lambda spec: BrokenBackend())
    with pytest.raises(UserError, match="broken failed on fake-notes: ConnectionError"):
        run_scenarios([_scenario()], "broken", engine=engine, **fakes.FAKE_OPTIONS)
    with Session(engine) as session:
        (row,) = queries.list_trajectories(session)
        assert row.status == "failed" and "connection refused" in (row.error or "")


def test_a_failing_sandbox_is_one_line(engine: Engine, tmp_path: Path) -> None:
    def no_docker(scenario: Scenario, tokens: object) -> Any:
        raise OSError("Docker engine went away")

    options = {**fakes.FAKE_OPTIONS, "sandbox_factory": no_docker}
    with pytest.raises(UserError, match="the sandbox for fake-notes failed: Docker engine"):
        run_scenarios([_scenario()], _script(tmp_path, TURNS), engine=engine, **options)


def test_cancel_before_start_runs_nothing(engine: Engine, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    spec = _script(tmp_path, TURNS)
    results = run_scenarios([_scenario()], spec, engine=engine, cancel=cancel, **fakes.FAKE_OPTIONS)
    assert results == []


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (["no-such-scenario-id"], {}, "no built-in scenario"),
        ([], {}, "name at least one scenario"),
        ([], {"category": "nonsense"}, "unknown category"),
        (["x"], {"samples": 0}, "--samples must be at least 1"),
        (["x"], {"max_steps": 0}, "--max-steps must be at least 1"),
    ],
)
def test_bad_input_is_a_one_line_user_error(
    engine: Engine, args: list[str], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError, match=message) as info:
        run_scenarios(args, "smollm2", engine=engine, **kwargs, **fakes.FAKE_OPTIONS)
    assert "\n" not in str(info.value)


def test_a_bad_model_spec_is_a_one_line_user_error(engine: Engine, tmp_path: Path) -> None:
    for spec, message in [("nonsense", "unknown model spec"), ("scripted:/nope.json", "no such")]:
        with pytest.raises(UserError, match=message):
            run_scenarios([_scenario()], spec, engine=engine, **fakes.FAKE_OPTIONS)


def test_resolve_scenarios_by_category_and_split() -> None:
    harmful_train = resolve_scenarios([], category="harmful", split="train")
    assert harmful_train and all(
        (s.category, s.split) == ("harmful", "train") for s in harmful_train
    )
    named = resolve_scenarios(["harm-phishing-staff", "ben-write-readme"], category="benign")
    assert [s.id for s in named] == ["ben-write-readme"]
    assert resolve_scenarios([_scenario()]) == [_scenario()]


def test_a_failing_database_is_one_line(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*args: Any) -> None:
        raise OperationalError("INSERT INTO step", {}, Exception("database is locked"))

    monkeypatch.setattr(TrajectoryRecorder, "step_finished", locked)
    with pytest.raises(UserError, match=r"cannot store the run of fake-notes: .*locked"):
        run_scenarios([_scenario()], _script(tmp_path, TURNS), engine=engine, **fakes.FAKE_OPTIONS)
    with Session(engine) as session:
        (row,) = queries.list_trajectories(session)
        assert row.status == "failed"


def test_forks_are_labelled_from_the_start(engine: Engine, tmp_path: Path) -> None:
    (parent,) = run_scenarios(
        [_scenario()], _script(tmp_path, TURNS), engine=engine, **fakes.FAKE_OPTIONS
    )
    (fork,) = run_scenarios(
        [_scenario()],
        _script(tmp_path, TURNS),
        engine=engine,
        source="fork",
        parent_id=parent.trajectory_id,
        fork_step=1,
        prefix_turns=TURNS[:1],
        **fakes.FAKE_OPTIONS,
    )
    with Session(engine) as session:
        row = session.get(Trajectory, fork.trajectory_id)
        assert row is not None
        assert (row.source, row.parent_id, row.fork_step) == ("fork", parent.trajectory_id, 1)
        kinds = [s.kind for s in queries.trajectory_steps(session, row.id)]
    assert kinds[:3] == ["plan", "tool_call", "observation"] and row.status == "finished"
