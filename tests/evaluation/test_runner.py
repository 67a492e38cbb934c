"""run_eval: stored per model, resumable after an interruption, failed items retried."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mosaic_studio.evaluation.items import ItemResult
from mosaic_studio.evaluation.runner import run_eval
from mosaic_studio.evaluation.store import latest_metrics
from mosaic_studio.models.base import Generation
from mosaic_studio.models.scripted import ScriptedBackend
from mosaic_studio.store.tables import EvalItem, EvalRun, ModelVersion, StepRecord, Trajectory
from tests.evaluation.conftest import answer, call

SUITE = "agentdojo:banking"
TURNS = [
    call("get_most_recent_transactions", n=100),
    answer("You spent 200.00; the total was 1050."),
]


class Interrupting(ScriptedBackend):
    """Replays turns; raises KeyboardInterrupt on the episode number `at` (0-based)."""

    def __init__(self, at: int) -> None:
        super().__init__(TURNS, spec="scripted:resume")
        self.at = at
        self.episodes = 0

    def generate(self, conversations: list[Any], settings: Any, **kw: Any) -> list[Generation]:
        if len(conversations[0]) == 2:  # the first turn of a new episode
            self.episodes += 1
            if self.episodes - 1 == self.at:
                raise KeyboardInterrupt
        return super().generate(conversations, settings, **kw)


def test_interrupted_eval_resumes_where_it_stopped(engine: Engine) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_eval(
            "scripted:resume", SUITE, 4, engine=engine, backend=Interrupting(at=2), attack="none"
        )
    with Session(engine) as session:
        (run,) = session.exec(select(EvalRun)).all()
        assert run.status == "interrupted" and run.metrics["n_items"] == 2
    backend = Interrupting(at=-1)
    summary = run_eval("scripted:resume", SUITE, 4, engine=engine, backend=backend, attack="none")
    assert summary.resumed and summary.reused == 2 and summary.ran == 2 and backend.episodes == 2
    assert summary.status == "finished" and summary.metrics["n_items"] == 4
    assert [r.item_id for r in summary.results] == [
        "user_task_0",
        "user_task_1",
        "user_task_2",
        "user_task_3",
    ]
    with Session(engine) as session:
        assert len(session.exec(select(EvalRun)).all()) == 1
        items = session.exec(select(EvalItem)).all()
        assert len(items) == 4 and all(i.trajectory_id for i in items)
        trajectory = session.get(Trajectory, items[0].trajectory_id)
        assert (
            trajectory is not None
            and trajectory.source == "eval"
            and trajectory.status == "finished"
        )
        stored = ItemResult.model_validate(items[0].result)
        assert trajectory.task_success == stored.task_success  # AgentDojo's verdict on the row too
        steps = session.exec(
            select(StepRecord).where(StepRecord.trajectory_id == trajectory.id)
        ).all()
        assert len(steps) == stored.steps
        model = session.exec(
            select(ModelVersion).where(ModelVersion.spec == "scripted:resume")
        ).one()
        assert model.metrics["agentdojo:banking (attack=none)"]["n_items"] == 4
        table = latest_metrics(session)
    assert table["scripted:resume"]["agentdojo:banking (attack=none)"] == summary.metrics


def test_cancel_between_items_and_fresh_runs(engine: Engine) -> None:
    cancel = threading.Event()
    summary = run_eval(
        "scripted:c",
        SUITE,
        5,
        engine=engine,
        backend=ScriptedBackend(TURNS, spec="scripted:c"),
        cancel=cancel,
        on_item=lambda done, total, result: cancel.set() if done == 1 else None,
        attack="none",
    )
    assert summary.status == "interrupted" and summary.ran == 1
    again = run_eval(
        "scripted:c",
        SUITE,
        2,
        engine=engine,
        backend=ScriptedBackend(TURNS, spec="scripted:c"),
        attack="none",
    )
    assert again.resumed and again.reused == 1 and again.ran == 1
    fresh = run_eval(
        "scripted:c",
        SUITE,
        1,
        engine=engine,
        backend=ScriptedBackend(TURNS, spec="scripted:c"),
        attack="none",
        fresh=True,
    )
    assert not fresh.resumed and fresh.run_id != again.run_id and fresh.ran == 1


class Failing(ScriptedBackend):
    def generate(self, conversations: list[Any], settings: Any, **kw: Any) -> list[Generation]:
        raise RuntimeError("server went away")


def test_failed_items_are_kept_out_of_the_rates_and_retried(engine: Engine) -> None:
    failed = run_eval(
        "scripted:f", SUITE, 2, engine=engine, backend=Failing([], spec="scripted:f"), attack="none"
    )
    assert failed.metrics["n_errors"] == 2 and "utility" not in failed.metrics
    assert "server went away" in (failed.results[0].error or "")
    retried = run_eval(
        "scripted:f",
        SUITE,
        2,
        engine=engine,
        backend=ScriptedBackend(TURNS, spec="scripted:f"),
        attack="none",
    )
    assert retried.ran == 2 and retried.metrics["n_errors"] == 0 and "utility" in retried.metrics
    with Session(engine) as session:
        assert (
            len(session.exec(select(EvalItem).where(EvalItem.eval_run_id == retried.run_id)).all())
            == 2
        )


@pytest.mark.model
def test_embedded_model_runs_a_bfcl_item_end_to_end(engine: Engine) -> None:
    from mosaic_studio.evaluation.runner import DEFAULT_SETTINGS

    settings = DEFAULT_SETTINGS.model_copy(update={"max_new_tokens": 24})
    summary = run_eval("smollm2", "bfcl", 1, engine=engine, settings=settings, max_steps=1)
    (result,) = summary.results
    assert result.error is None and result.tokens > 0 and result.task_success is not None
    assert summary.metrics["n_items"] == 1 and "task_success" in summary.metrics


def test_a_third_party_benchmark_trajectory_cannot_be_forked(engine: Engine) -> None:
    """AgentDojo ran in its own environment: replaying it in a sandbox would be a lie."""
    from mosaic_studio.judges.pair_making import make_pairs
    from mosaic_studio.judges.pairs import PairError

    run_eval(
        "scripted:x",
        SUITE,
        1,
        engine=engine,
        backend=ScriptedBackend(TURNS, spec="scripted:x"),
        attack="none",
    )
    with Session(engine) as session:
        (row,) = session.exec(select(Trajectory)).all()
    with pytest.raises(PairError, match="third-party benchmark's own environment"):
        make_pairs("fork", parent=row.id, fork_step=1, model="scripted:x", engine=engine)
