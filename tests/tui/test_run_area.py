"""The Run area: live steps and outcomes of real sandboxed runs, cancel, and the no-Docker state."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from textual.widgets import Button, Input, SelectionList, Static

from mosaic_studio.cli.errors import UserError
from mosaic_studio.store.tables import Trajectory
from mosaic_studio.tui.app import MosaicApp
from mosaic_studio.tui.run.column import RunColumn
from mosaic_studio.tui.run.panel import StepBlock, TrajectoryPanel
from mosaic_studio.tui.run.screen import RunScreen
from mosaic_studio.tui.trajectories.screen import TrajectoriesScreen
from sandboxes.library import get_scenario
from sandboxes.steps import Step, StepKind

SIZE = (140, 44)
SCENARIO = "harm-exfiltrate-company-keys"


def _script(tmp_path: Path, which: str) -> str:
    reference = get_scenario(SCENARIO).reference
    path = tmp_path / f"{which}.json"
    path.write_text(json.dumps(reference.good if which == "good" else reference.bad))
    return f"scripted:{path}"


async def _settle(app: MosaicApp, pilot: Any) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def _start(app: MosaicApp, pilot: Any, spec: str, scenario: str = SCENARIO) -> None:
    screen = app.screen
    picks = screen.query_one("#scenario-list", SelectionList)
    if scenario not in picks.selected:
        picks.select(scenario)
    screen.query_one("#model-spec", Input).value = spec
    await pilot.press("ctrl+s")
    await pilot.pause()


def _sandboxes_of_this_process() -> list[Any]:
    import docker

    client = docker.from_env()
    try:
        return list(
            client.containers.list(all=True, filters={"label": [f"mosaic.owner_pid={os.getpid()}"]})
        )
    finally:
        client.close()


@pytest.mark.docker
async def test_two_scripted_runs_side_by_side_show_steps_and_outcomes(
    app_factory: Callable[..., MosaicApp], engine: Engine, tmp_path: Path
) -> None:
    app = app_factory(docker_check=None)  # the real Docker check
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        assert app.screen.query_one("#start", Button).disabled is False
        await _start(app, pilot, _script(tmp_path, "good"))
        await _start(app, pilot, _script(tmp_path, "bad"))
        await _settle(app, pilot)
        columns = list(app.screen.query(RunColumn))
        assert [c.run_id for c in columns] == [1, 2]
        assert all(c.has_class("ended") for c in columns)
        good, bad = (c.query_one(TrajectoryPanel) for c in columns)
        good_kinds = [b.step.kind for b in good.query(StepBlock)]
        bad_kinds = [b.step.kind for b in bad.query(StepBlock)]
        assert good_kinds[-1] == StepKind.REFUSAL
        assert StepKind.TOOL_CALL in bad_kinds and StepKind.OBSERVATION in bad_kinds
        good_outcome = str(good.query_one(".outcome", Static).render())
        bad_outcome = str(bad.query_one(".outcome", Static).render())
        assert "REFUSED" in good_outcome and "HARM" not in good_outcome
        assert "HARM" in bad_outcome or "LEAK" in bad_outcome
        app.save_screenshot("run.svg", str(tmp_path))
    with Session(engine) as session:
        rows = session.exec(select(Trajectory)).all()
    assert sorted(r.status for r in rows) == ["finished", "finished"]
    assert {r.refused for r in rows} == {True, False}
    assert _sandboxes_of_this_process() == []


async def test_no_docker_says_how_to_fix_and_other_areas_work(
    app_factory: Callable[..., MosaicApp], seeded: object
) -> None:
    reason = "Docker is not running: start it with `sudo systemctl start docker`"
    app = app_factory(docker_check=lambda: reason)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        banner = app.screen.query_one("#docker-banner", Static)
        assert banner.display and "sudo systemctl start docker" in str(banner.render())
        assert app.screen.query_one("#start", Button).disabled
        await pilot.press("f2")
        await _settle(app, pilot)
        assert isinstance(app.screen, TrajectoriesScreen)
        assert app.screen.query_one("#trajectory-table").row_count == 4  # type: ignore[attr-defined]


class BlockingRun:
    """A run service that streams one turn, records a step, then waits to be cancelled."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def __call__(self, ids: list[str], spec: str, **kwargs: Any) -> list[Any]:
        listener, cancel = kwargs["listener"], kwargs["cancel"]
        scenario = get_scenario(ids[0])

        class Recorder:
            def trajectory_id(self, episode: int) -> str:
                return f"t{episode}"

        listener.scenario_started(0, 1, scenario, Recorder())
        listener.episode_started(0, None)
        listener.step_started(0, 0)
        for piece in ("<think>", " reading", " the vault", "</think>"):
            listener.token(0, piece)
        listener.step_finished(0, Step(index=0, kind=StepKind.PLAN, text="reading the vault"))
        listener.step_started(0, 1)
        listener.token(0, "<tool_call>{")
        if cancel.wait(10):
            self.cancelled.set()
        return []


async def test_cancel_stops_a_run_and_tokens_stream_into_the_current_step(
    app_factory: Callable[..., MosaicApp],
) -> None:
    service = BlockingRun()
    app = app_factory(run_service=lambda: service)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await _start(app, pilot, "scripted:unused.json")
        for _ in range(50):
            await pilot.pause(0.02)
            panels = list(app.screen.query(TrajectoryPanel))
            if panels and "<tool_call>{" in str(panels[0].query_one(".streaming").render()):
                break
        panel = app.screen.query_one(TrajectoryPanel)
        assert [b.step.kind for b in panel.query(StepBlock)] == [StepKind.PLAN]
        app.screen.query_one("#cancel-1", Button).press()
        await _settle(app, pilot)
        assert service.cancelled.is_set()
        column = app.screen.query_one(RunColumn)
        assert "cancelled" in str(column.query_one(".run-title").render())


async def test_a_failing_run_becomes_a_notice_not_a_crash(
    app_factory: Callable[..., MosaicApp],
) -> None:
    def failing(*args: Any, **kwargs: Any) -> None:
        raise UserError("bad model spec 'nope': expected smollm2, hf:…, scripted:FILE")

    app = app_factory(run_service=lambda: failing)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await _start(app, pilot, "nope")
        await _settle(app, pilot)
        assert isinstance(app.screen, RunScreen)
        notices = [n.message for n in app._notifications]
        assert any("bad model spec 'nope'" in message for message in notices)
        assert "failed" in str(app.screen.query_one(RunColumn).query_one(".run-title").render())


async def test_the_form_explains_what_is_missing(app_factory: Callable[..., MosaicApp]) -> None:
    app = app_factory(run_service=lambda: pytest.fail)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert any("pick at least one scenario" in n.message for n in app._notifications)
        app.screen.query_one("#scenario-list", SelectionList).select(SCENARIO)
        app.screen.query_one("#temperature", Input).value = "9"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert any("temperature must be between 0 and 5" in n.message for n in app._notifications)
        assert not list(app.screen.query(RunColumn))
