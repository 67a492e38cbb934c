"""Trajectories (table, filters, detail), Judge, Train and Eval areas on a seeded store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from textual.widgets import Button, DataTable, Input, Log, OptionList, Select, Static

from mosaic_studio.store.tables import Annotator, Judgment
from mosaic_studio.tui.app import MosaicApp
from mosaic_studio.tui.train.chart import TrainingChart
from mosaic_studio.tui.trajectories.detail import TrajectoryDetailScreen
from tests.tui import seed
from tests.tui.seed import Seeded

SIZE = (140, 44)


async def _settle(app: MosaicApp, pilot: Any) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def _notice(app: MosaicApp, pilot: Any, text: str) -> bool:
    """Wait (a few seconds at most) for a notice containing `text`."""
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if any(text in n.message for n in app._notifications):
            return True
    return False


async def test_trajectory_table_filters_and_opens_a_trajectory(
    app_factory: Callable[..., MosaicApp], seeded: Seeded
) -> None:
    app = app_factory(start_mode="trajectories")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        table = app.screen.query_one("#trajectory-table", DataTable)
        assert table.row_count == 4
        app.screen.query_one("#f-outcome", Select).value = "harm"
        await _settle(app, pilot)
        assert table.row_count == 1
        assert table.get_row_at(0)[1] == "harm-exfiltrate-company-keys"
        app.screen.query_one("#f-outcome", Select).clear()
        app.screen.query_one("#f-category", Select).value = "benign"
        await _settle(app, pilot)
        assert table.row_count == 2
        app.screen.query_one("#f-category", Select).clear()
        app.screen.query_one("#f-scenario", Select).value = "harm-exfiltrate-company-keys"
        await _settle(app, pilot)
        assert table.row_count == 2
        table.focus()
        table.move_cursor(row=0)  # newest first: the leaking one
        await pilot.press("enter")
        await _settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, TrajectoryDetailScreen)
        assert detail.trajectory_id == "aaaa000000000002"
        steps = detail.query_one("#detail-steps", OptionList)
        assert steps.option_count == 6
        steps.highlighted = 3
        await pilot.pause()
        shown = str(detail.query_one("#detail-step", Static).render())
        assert "send_email" in shown and "eve@evil.test" in shown
        outbox = str(detail.query_one("#detail-outbox", Static).render())
        assert "send_email → eve@evil.test" in outbox
        verdict = str(detail.query_one("#detail-verdict", Static).render())
        assert "leaked AWS_KEY → send_email.to=eve@evil.test" in verdict
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TrajectoryDetailScreen)


async def test_rubric_judge_verdicts_arrive_and_agreement_is_shown(
    app_factory: Callable[..., MosaicApp], seeded: Seeded, engine: Engine
) -> None:
    app = app_factory(start_mode="judge")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        verdicts = app.screen.query_one("#verdicts", DataTable)
        assert verdicts.row_count == 2
        # pair 1: A refused, B leaked -> A; pair 2: A succeeded, B failed -> A
        assert [str(verdicts.get_row_at(i)[3]) for i in range(2)] == ["A", "A"]
        agreement = str(app.screen.query_one("#agreement", Static).render())
        assert "rubric" in agreement and "Position bias" in agreement
    with Session(engine) as session:
        judge = session.exec(select(Annotator).where(Annotator.name == "rubric")).one()
        assert judge.kind == "judge"
        rows = session.exec(select(Judgment).where(Judgment.annotator_id == judge.id)).all()
        assert sorted(r.pair_id for r in rows) == sorted(seeded.pair_ids)


async def test_training_progress_draws_the_chart_and_log(
    app_factory: Callable[..., MosaicApp], seeded: Seeded, engine: Engine, tmp_path: Path
) -> None:
    job_id = seed.add_job_with_progress(engine, tmp_path / "progress.jsonl", steps=3)
    app = app_factory(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        jobs = app.screen.query_one("#jobs", DataTable)
        assert jobs.row_count == 2
        adapters = app.screen.query_one("#adapters", DataTable)
        assert adapters.get_row_at(0)[0] == "smollm2+lora:/adapters/dpo-1"
        app.screen.show_job(job_id)  # type: ignore[attr-defined]
        await _settle(app, pilot)
        lines = list(app.screen.query_one(Log).lines)
        assert lines[0].startswith("step 1: loss=0.5865")
        assert lines[-1].startswith("event=done")
        chart = app.screen.query_one(TrainingChart)
        assert chart.plotted_points == {"loss": 3, "rewards/margins": 3, "rewards/accuracies": 3}


async def test_eval_shows_models_side_by_side(
    app_factory: Callable[..., MosaicApp], seeded: Seeded
) -> None:
    app = app_factory(start_mode="eval")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        assert app.screen.query_one("#suite", Select).value == "builtin:test"
        table = app.screen.query_one("#metrics-table", DataTable)
        headers = [str(c.label) for c in table.columns.values()]
        assert headers == ["metric", "smollm2", "smollm2+lora:/adapters/dpo-1"]
        harm = table.get_row("harm_score")
        assert [str(cell) for cell in harm[1:]] == ["60%", "20%"]
        assert "#8be3a5" in str(harm[2].style)  # lower harm than the base: green


async def test_a_long_trajectory_opens_with_every_step_listed(
    app_factory: Callable[..., MosaicApp], engine: Engine
) -> None:
    seed.add_long_fork_pair(engine, shared=900, tail=100)
    app = app_factory(start_mode="trajectories")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        app.push_screen(TrajectoryDetailScreen("long00000000left"))
        await _settle(app, pilot)
        steps = app.screen.query_one("#detail-steps", OptionList)
        assert steps.option_count == 1000
        steps.highlighted = 999
        await pilot.pause()
        assert "left step 99" in str(app.screen.query_one("#detail-step", Static).render())


async def test_a_job_that_cannot_start_says_why(
    app_factory: Callable[..., MosaicApp], seeded: Seeded, tmp_path: Path
) -> None:
    app = app_factory(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        app.screen.query_one("#job-start", Button).press()
        await _settle(app, pilot)
        assert any("DPO needs preference data" in n.message for n in app._notifications)
        app.screen.query_one("#job-data", Input).value = str(tmp_path / "missing.jsonl")
        app.screen.query_one("#job-start", Button).press()
        assert await _notice(app, pilot, "Starting the job failed: no preference data at")
        assert app.screen.query_one("#jobs", DataTable).row_count == 1  # nothing recorded
