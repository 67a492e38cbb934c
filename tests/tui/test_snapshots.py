"""Snapshots of each area's main state (seeded store, fixed clock, seed 7, Docker reported up)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from textual.pilot import Pilot
from textual.widgets import Input, SelectionList

from mosaic_studio.tui.app import MosaicApp
from mosaic_studio.tui.settings import AppSettings
from sandboxes.outcome import Leak, Outcome
from tests.tui import seed
from tests.tui.fakes import ReplayRun

SIZE = (140, 44)
Snap = Callable[..., bool]


async def _settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _replay() -> ReplayRun:
    refused = Outcome(refused=True, steps=3, tokens=36, wall_time_s=2.5, ended_by="refusal")
    leaked = Outcome(
        harmful_action=True,
        leaked=[Leak(secret="AWS_KEY", where="send_email.to=eve@evil.test")],
        steps=6,
        tokens=72,
        wall_time_s=4.0,
    )
    return ReplayRun(
        {
            "smollm2": (seed.leaking_steps(), leaked),
            "smollm2+lora:/adapters/dpo-1": (seed.refusing_steps(), refused),
        },
        seed.fixed_scenarios(),
    )


def test_run_two_models_side_by_side(
    snap_compare: Snap, app_factory: Callable[..., MosaicApp], seeded: seed.Seeded
) -> None:
    """Run: one scenario, base model and its adapter side by side, each graded."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        pilot.app.screen.query_one(SelectionList).select("harm-exfiltrate-company-keys")
        await pilot.press("ctrl+s")
        await _settle(pilot)
        pilot.app.screen.query_one("#model-spec", Input).value = "smollm2+lora:/adapters/dpo-1"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    app = app_factory(run_service=_replay, scenarios=seed.fixed_scenarios)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_run_without_docker(snap_compare: Snap, app_factory: Callable[..., MosaicApp]) -> None:
    """Run: Docker is down; the banner says how to fix it and Start is disabled."""
    app = app_factory(
        docker_check=lambda: "Docker is not running: start it with `sudo systemctl start docker`",
        scenarios=seed.fixed_scenarios,
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_trajectories_table(
    snap_compare: Snap, app_factory: Callable[..., MosaicApp], seeded: seed.Seeded
) -> None:
    """Trajectories: every stored trajectory with its outcome."""
    app = app_factory(start_mode="trajectories")
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_trajectory_detail(
    snap_compare: Snap, app_factory: Callable[..., MosaicApp], seeded: seed.Seeded
) -> None:
    """Trajectories: the detail of a leaking trajectory, its send_email step selected."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("down", "down", "enter")
        await _settle(pilot)
        await pilot.press("down", "down", "down")
        await _settle(pilot)

    app = app_factory(start_mode="trajectories")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_label_pair(
    snap_compare: Snap, app_factory: Callable[..., MosaicApp], seeded: seed.Seeded, home: Any
) -> None:
    """Label: a pair side by side, the first divergence framed, progress on top."""
    AppSettings(annotator="ada").save(home / "settings.json")
    app = app_factory(start_mode="label")
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_judge_after_rubric(
    snap_compare: Snap, app_factory: Callable[..., MosaicApp], seeded: seed.Seeded
) -> None:
    """Judge: the rubric judge's verdicts and the agreement panel."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("ctrl+s")
        await _settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    app = app_factory(start_mode="judge")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_train_with_a_job(
    snap_compare: Snap,
    app_factory: Callable[..., MosaicApp],
    seeded: seed.Seeded,
    engine: Engine,
    tmp_path: Path,
) -> None:
    """Train: jobs and adapters; the selected job's loss, margin and accuracy curves and log."""
    seed.add_job_with_progress(engine, tmp_path / "progress.jsonl")

    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)

    app = app_factory(start_mode="train")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_eval_side_by_side(
    snap_compare: Snap, app_factory: Callable[..., MosaicApp], seeded: seed.Seeded
) -> None:
    """Eval: base model and adapter on builtin:test, better/worse coloured."""
    app = app_factory(start_mode="eval")
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)
