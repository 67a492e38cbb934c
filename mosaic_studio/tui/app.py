"""The app: six modes (one per area) switched by F1–F6, and the `make_app` factory."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from random import Random
from typing import Any, ClassVar

from sqlalchemy.engine import Engine
from textual.app import App
from textual.binding import Binding, BindingType

from mosaic_studio.tui.eval.screen import EvalScreen
from mosaic_studio.tui.judge.screen import JudgeScreen
from mosaic_studio.tui.label.screen import LabelScreen
from mosaic_studio.tui.run.screen import RunScreen
from mosaic_studio.tui.services import (
    RunService,
    Services,
    default_docker_check,
    default_engine,
    default_run_service,
    default_scenarios,
)
from mosaic_studio.tui.settings import default_settings_path
from mosaic_studio.tui.train.screen import TrainScreen
from mosaic_studio.tui.trajectories.screen import TrajectoriesScreen
from sandboxes.scenario import Scenario


class MosaicApp(App[int]):
    """MOSAIC Studio: run, browse, label, judge, train, evaluate."""

    TITLE = "MOSAIC Studio"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, Any]] = {
        "run": RunScreen,
        "trajectories": TrajectoriesScreen,
        "label": LabelScreen,
        "judge": JudgeScreen,
        "train": TrainScreen,
        "eval": EvalScreen,
    }
    DEFAULT_MODE = "run"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "switch_mode('run')", "Run", priority=True),
        Binding("f2", "switch_mode('trajectories')", "Trajectories", priority=True),
        Binding("f3", "switch_mode('label')", "Label", priority=True),
        Binding("f4", "switch_mode('judge')", "Judge", priority=True),
        Binding("f5", "switch_mode('train')", "Train", priority=True),
        Binding("f6", "switch_mode('eval')", "Eval", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, services: Services, *, start_mode: str = "run") -> None:
        super().__init__()
        self.services = services
        self._start_mode = start_mode
        self.startup_notes: list[str] = []
        """Shown as notices once the app is up (e.g. what the startup sweep removed)."""

    def on_mount(self) -> None:
        for note in self.startup_notes:
            self.notify(note, title="Startup")
        if self._start_mode != self.DEFAULT_MODE:
            self.switch_mode(self._start_mode)


def make_app(
    *,
    engine: Engine | None = None,
    backend_loader: Callable[[str], Any] | None = None,
    clock: Callable[[], float] | None = None,
    docker_check: Callable[[], str | None] | None = None,
    scenarios: Callable[[], list[Scenario]] | None = None,
    run_service: Callable[[], RunService] | None = None,
    settings_path: Path | None = None,
    seed: int | None = None,
    start_mode: str = "run",
) -> MosaicApp:
    """Build the app; every part defaults to the real one and can be injected by tests."""
    services = Services(
        engine=engine if engine is not None else default_engine(),
        clock=clock or time.time,
        docker_check=docker_check or default_docker_check,
        scenarios=scenarios or default_scenarios,
        run_service=run_service or default_run_service,
        backend_loader=backend_loader,
        settings_path=settings_path or default_settings_path(),
        rng=Random(seed),
    )
    return MosaicApp(services, start_mode=start_mode)
