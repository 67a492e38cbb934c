"""The Run area: the form on the left, one column per running model on the right."""

from __future__ import annotations

import inspect
import itertools
import threading
from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import Button, Footer, Header, Static

from mosaic_studio.store import queries
from mosaic_studio.tui.base import AreaScreen
from mosaic_studio.tui.messages import (
    EpisodeBegan,
    EpisodeEnded,
    RunEnded,
    StepRecorded,
    TokensStreamed,
)
from mosaic_studio.tui.run.column import RunColumn, panel_id
from mosaic_studio.tui.run.form import RunForm, RunRequest
from mosaic_studio.tui.run.listener import PanelListener
from mosaic_studio.tui.run.panel import TrajectoryPanel


class RunScreen(AreaScreen):
    """Start runs and watch every step of every trajectory as it happens."""

    SUB_TITLE = "Run · act or refuse, live"
    AUTO_FOCUS = "#scenario-list"

    BINDINGS: ClassVar[list[BindingType]] = [
        ("ctrl+s", "start", "Start run"),
        ("x", "cancel_all", "Cancel runs"),
        ("c", "clear_ended", "Clear ended runs"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._run_ids = itertools.count(1)
        self._cancels: dict[int, threading.Event] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="docker-banner")
        with Horizontal():
            yield RunForm(id="run-form")
            with Horizontal(id="runs"):
                yield Static(
                    Text(
                        "Pick scenarios and a model on the left, then Start run (ctrl+s).\n"
                        "Each run gets a column; two models run side by side.",
                        style="dim",
                    ),
                    id="runs-hint",
                )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#docker-banner", Static).display = False
        self.load_choices()

    def on_screen_resume(self) -> None:
        self.load_models()  # adapters trained meanwhile appear in the model lists

    @work(thread=True, exit_on_error=False, group="run-setup", description="Loading scenarios")
    def load_choices(self) -> None:
        """Docker state and the scenario library (blocking: Docker, files)."""
        reason = self.services.docker_check()
        self.app.call_from_thread(self._show_docker, reason)
        scenarios = self.services.scenarios()
        self.app.call_from_thread(lambda: self.query_one(RunForm).set_scenarios(scenarios))

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="run-models",
        description="Loading models",
    )
    def load_models(self) -> None:
        """The embedded model and every finished adapter."""
        with Session(self.services.engine) as session:
            adapters = [m.spec for m in queries.model_versions(session, kind="adapter")]
        specs = ["smollm2", *sorted(adapters)]
        self.app.call_from_thread(lambda: self.query_one(RunForm).set_models(specs))

    def _show_docker(self, reason: str | None) -> None:
        banner = self.query_one("#docker-banner", Static)
        banner.display = reason is not None
        self.query_one("#start", Button).disabled = reason is not None
        if reason is not None:
            banner.update(
                Text.assemble(
                    (" DOCKER NOT AVAILABLE ", "bold white on #c0392b"),
                    "  ",
                    (reason, "#ff8a80"),
                    ("\nRuns need the sandbox; every other area still works.", "dim"),
                )
            )

    def action_start(self) -> None:
        self.query_one("#start", Button).press()

    def action_cancel_all(self) -> None:
        for event in self._cancels.values():
            event.set()

    def action_clear_ended(self) -> None:
        for column in self.query(RunColumn):
            if column.has_class("ended"):
                column.remove()

    @on(RunForm.Submitted)
    async def start_runs(self, event: RunForm.Submitted) -> None:
        request = event.request
        self.query_one("#runs-hint").display = False
        for spec in request.model_specs:
            run_id = next(self._run_ids)
            cancel = threading.Event()
            self._cancels[run_id] = cancel
            column = RunColumn(run_id, spec, len(request.scenario_ids), request.samples)
            await self.query_one("#runs", Horizontal).mount(column)
            self.execute_run(run_id, spec, request, cancel)

    @on(RunColumn.CancelRequested)
    def cancel_run(self, event: RunColumn.CancelRequested) -> None:
        cancel = self._cancels.get(event.run_id)
        if cancel is not None:
            cancel.set()

    @work(thread=True, exit_on_error=False, group="runs", description="Run")
    def execute_run(
        self, run_id: int, spec: str, request: RunRequest, cancel: threading.Event
    ) -> None:
        """Run the picked scenarios with one model; a `PanelListener` reports each event."""
        service = self.services.run_service()
        extra = _supported_kwargs(service, backend_loader=self.services.backend_loader)
        try:
            service(
                request.scenario_ids,
                spec,
                samples=request.samples,
                settings=request.settings,
                max_steps=request.max_steps,
                listener=PanelListener(self, run_id, spec),
                cancel=cancel,
                engine=self.services.engine,
                **extra,
            )
        except Exception as exc:
            self.post_message(RunEnded(run_id, "failed", str(exc)))
            raise
        self.post_message(RunEnded(run_id, "cancelled" if cancel.is_set() else "finished"))

    def _panel(self, key: str) -> TrajectoryPanel | None:
        try:
            return self.query_one(f"#{panel_id(key)}", TrajectoryPanel)
        except NoMatches:
            return None

    async def on_episode_began(self, event: EpisodeBegan) -> None:
        # awaited, so the messages that follow find the panel mounted
        if self._panel(event.key) is not None:
            return
        column = self.query_one(f"#run-{event.run_id}", RunColumn)
        await column.add_panel(event.key, f"{event.scenario_id} · sample {event.sample + 1}")

    def on_tokens_streamed(self, event: TokensStreamed) -> None:
        panel = self._panel(event.key)
        if panel is not None:
            panel.stream(event.text)

    def on_step_recorded(self, event: StepRecorded) -> None:
        panel = self._panel(event.key)
        if panel is not None:
            panel.add_step(event.step)

    def on_episode_ended(self, event: EpisodeEnded) -> None:
        panel = self._panel(event.key)
        if panel is not None:
            panel.finish(event.outcome, event.trajectory_id)

    def on_run_ended(self, event: RunEnded) -> None:
        self._cancels.pop(event.run_id, None)
        try:
            column = self.query_one(f"#run-{event.run_id}", RunColumn)
        except NoMatches:
            return
        column.set_status(event.status)
        if event.status == "finished":
            self.notify(f"Run #{event.run_id} ({column.model_spec}) finished.")


def _supported_kwargs(service: Any, **candidates: Any) -> dict[str, Any]:
    """The optional arguments the run service accepts (e.g. an injected backend loader)."""
    try:
        params = inspect.signature(service).parameters
    except (TypeError, ValueError):
        return {}
    return {k: v for k, v in candidates.items() if v is not None and k in params}
